"""NeighborhoodConsistencyScorer: Cohen's kappa of the target predictions over the target rows' neighbour graph."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from benchmarks.advisor import affine_shift
from sktransfer import make_da_pipeline
from sktransfer.alignment import CORAL
from sktransfer.domain import mask_target_labels
from sktransfer.model_selection import NeighborhoodConsistencyScorer
from sktransfer.model_selection._neighbor_consistency import neighbor_kappa, target_neighbors


def test_kappa_by_hand():
    # rows 0-3, each with two neighbours; labels a a b b
    neighbors = np.array([[1, 2], [0, 3], [3, 0], [2, 1]])
    pred = np.array(["a", "a", "b", "b"])
    # agreeing pairs: (0,1), (1,0), (2,3), (3,2) -> 4 of 8; chance 0.5^2 + 0.5^2 = 0.5
    assert neighbor_kappa(pred, neighbors) == pytest.approx((0.5 - 0.5) / 0.5)
    pred = np.array([0, 0, 0, 1])
    # agreeing: (0,1), (0,2), (1,0), (2,0) -> 4 of 8; chance 0.75^2 + 0.25^2 = 0.625
    assert neighbor_kappa(pred, neighbors) == pytest.approx((4 / 8 - 0.625) / (1 - 0.625))


def test_kappa_is_one_on_the_clusters_zero_for_one_class_and_near_zero_at_random():
    rng = np.random.RandomState(0)
    centres = 10 * rng.normal(size=(3, 4))
    labels = np.repeat(np.arange(3), 100)
    X = centres[labels] + rng.normal(size=(300, 4))
    rows, neighbors = target_neighbors(X)
    np.testing.assert_array_equal(rows, np.arange(300))
    assert neighbor_kappa(labels, neighbors) == pytest.approx(1.0)
    assert neighbor_kappa(np.zeros(300), neighbors) == 0.0
    assert abs(neighbor_kappa(rng.randint(0, 3, 300), neighbors)) < 0.05


def test_neighbors_exclude_the_row_and_match_scikit_learn_on_standardised_rows():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3)) * [1.0, 100.0, 0.01]  # the scales must not matter
    _, neighbors = target_neighbors(X, n_neighbors=4)
    assert neighbors.shape == (60, 4)
    assert not np.any(neighbors == np.arange(60)[:, None])
    Z = StandardScaler().fit_transform(X)
    expected = NearestNeighbors(n_neighbors=5).fit(Z).kneighbors(Z, return_distance=False)[:, 1:]
    np.testing.assert_array_equal(np.sort(neighbors, axis=1), np.sort(expected, axis=1))


def test_neighbors_with_duplicates_constant_columns_few_rows_and_many_features():
    X = np.vstack([np.zeros((4, 3)), np.ones((4, 3))])
    X[:, 2] = 7.0  # constant: left at 0, not divided by 0
    _, neighbors = target_neighbors(X, n_neighbors=3)
    assert neighbors.shape == (8, 3) and not np.any(neighbors == np.arange(8)[:, None])
    # each row's neighbours are its duplicates
    assert np.all((neighbors < 4) == (np.arange(8) < 4)[:, None])
    assert target_neighbors(np.arange(6.0).reshape(3, 2), n_neighbors=5)[1].shape == (3, 2)
    wide = np.random.RandomState(0).normal(size=(80, 200))  # past 50 columns: 50 principal components
    assert target_neighbors(wide)[1].shape == (80, 5)


def test_past_max_rows_the_graph_joins_a_random_subset():
    rng = np.random.RandomState(0)
    labels = np.repeat([0, 1], 300)
    X = 10 * labels[:, None] + rng.normal(size=(600, 3))
    rows, neighbors = target_neighbors(X, max_rows=100, random_state=0)
    assert rows.shape == (100,) and np.all(np.diff(rows) > 0) and neighbors.max() < 100
    np.testing.assert_array_equal(rows, target_neighbors(X, max_rows=100, random_state=0)[0])
    assert neighbor_kappa(labels[rows], neighbors) == pytest.approx(1.0)


def test_scorer_prefers_coral_under_a_gain_and_offset_shift():
    """benchmarks/advisor.affine_shift (seed 1): CORAL gains 17 points; its predictions follow the target's
    neighbourhoods more than the unadapted model's."""
    X, y, sd = affine_shift(300, 10, 1)
    y_fit = mask_target_labels(y, sd)
    scorer = NeighborhoodConsistencyScorer()
    plain = make_da_pipeline(StandardScaler(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    coral = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    assert scorer(coral, X, y_fit, sample_domain=sd) > scorer(plain, X, y_fit, sample_domain=sd) + 0.05


def test_scorer_params_clone_and_errors():
    scorer = NeighborhoodConsistencyScorer(n_neighbors=3)
    assert clone(scorer).get_params() == {"n_neighbors": 3, "n_components": 50}
    assert repr(scorer) == "NeighborhoodConsistencyScorer(n_neighbors=3, n_components=50)"
    X, y, sd = affine_shift(60, 4, 0)
    y_fit = mask_target_labels(y, sd)
    pipe = make_da_pipeline(LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    with pytest.raises(ValueError, match="n_neighbors must be a positive integer"):
        NeighborhoodConsistencyScorer(n_neighbors=0)(pipe, X, y_fit, sample_domain=sd)
    with pytest.raises(ValueError, match="at least two target rows"):
        NeighborhoodConsistencyScorer()(pipe, X[:61], y_fit[:61], sample_domain=sd[:61])
    regressor = make_da_pipeline(LinearRegression()).fit(X[sd > 0], y[sd > 0].astype(float))
    with pytest.raises(ValueError, match="is a regressor"):
        NeighborhoodConsistencyScorer()(regressor, X, y_fit, sample_domain=sd)
