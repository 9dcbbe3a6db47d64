"""Behaviour every weighter shares, and each one's agreement with the true ratio."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from sktransfer import make_da_pipeline
from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import (
    KLIEP,
    KMM,
    RULSIF,
    ULSIF,
    DiscriminativeWeighter,
    KDEWeighter,
    NearestNeighborWeighter,
    effective_sample_size,
)

WEIGHTERS = [
    KMM(),
    KLIEP(random_state=0),
    ULSIF(random_state=0),
    RULSIF(random_state=0),
    DiscriminativeWeighter(),
    KDEWeighter(),
    NearestNeighborWeighter(n_neighbors=10),
]
IDS = [type(w).__name__ for w in WEIGHTERS]


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
@pytest.mark.parametrize("seed, n_features", [(0, 2), (1, 3)])
def test_weights_rank_rows_like_the_true_density_ratio(weighter, seed, n_features):
    """Covariate shift with Gaussian densities: the true ratio is
    exp(s u.x - s^2/2) (make_domain_shift's Notes). Spearman >= 0.8 is the
    issue's bar; with ``n_neighbors=10`` the nearest-neighbour counts are
    smooth enough to meet it at this size (1-NN cells are too noisy). Over 8
    seeds x {2, 3} features the smallest correlation was 0.81 (KMM) to 0.97
    (DiscriminativeWeighter); at 150 rows per domain it dipped to 0.73."""
    X, y, sd, ratio = make_domain_shift(
        n_samples=300, n_features=n_features, return_density_ratio=True, random_state=seed
    )
    w = clone(weighter).fit(X, y, sample_domain=sd).weights_
    rho = spearmanr(w[sd > 0], ratio[sd > 0])[0]
    assert rho >= 0.8, f"{type(weighter).__name__}: Spearman {rho:.3f}"


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_weights_are_zero_on_target_rows_and_average_near_one(weighter):
    X, y, sd = make_domain_shift(n_samples=80, random_state=0)
    fitted = clone(weighter).fit(X, y, sample_domain=sd)
    assert fitted.weights_.shape == (160,)
    np.testing.assert_array_equal(fitted.weights_[sd < 0], 0.0)
    assert np.all(np.isfinite(fitted.weights_)) and np.all(fitted.weights_ >= 0)
    # Each estimates p_t / p_s, whose mean under the source is 1.
    assert 0.5 < fitted.weights_[sd > 0].mean() < 1.5
    assert fitted.effective_sample_size_ == pytest.approx(
        effective_sample_size(fitted.weights_[sd > 0])
    )


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_compute_weights_zeroes_target_rows_and_scores_new_rows(weighter):
    X, y, sd = make_domain_shift(n_samples=60, random_state=1)
    fitted = clone(weighter).fit(X, y, sample_domain=sd)
    as_source = fitted.compute_weights(X)
    marked = fitted.compute_weights(X, sample_domain=sd)
    np.testing.assert_array_equal(marked[sd < 0], 0.0)
    np.testing.assert_array_equal(marked[sd > 0], as_source[sd > 0])
    np.testing.assert_array_equal(fitted.compute_weights(X[:5], sample_domain=-1), 0.0)
    assert np.all(as_source >= 0) and np.all(np.isfinite(as_source))


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_transform_returns_the_rows_unchanged(weighter):
    X, y, sd = make_domain_shift(n_samples=30, random_state=2)
    fitted = clone(weighter)
    np.testing.assert_array_equal(fitted.fit_transform(X, y, sample_domain=sd), X)
    np.testing.assert_array_equal(fitted.transform(X[:4]), X[:4])


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_weights_reach_the_final_estimator_in_a_pipeline(weighter):
    X, y, sd = make_domain_shift(n_samples=60, random_state=3)
    pipe = make_da_pipeline(clone(weighter), LogisticRegression()).fit(X, y, sample_domain=sd)
    step = pipe.steps[0][1]
    np.testing.assert_allclose(pipe.sample_weight_, step.weights_[sd > 0])
    reference = LogisticRegression().fit(X[sd > 0], y[sd > 0], sample_weight=pipe.sample_weight_)
    np.testing.assert_allclose(pipe.steps[-1][1].coef_, reference.coef_)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_source=st.integers(3, 25),
    n_target=st.integers(3, 25),
    n_features=st.integers(1, 4),
    which=st.sampled_from(range(len(WEIGHTERS))),
)
def test_weights_are_finite_non_negative_and_zero_on_target(seed, n_source, n_target, n_features, which):
    rng = np.random.default_rng(seed)
    X = np.vstack([
        rng.normal(size=(n_source, n_features)),
        rng.normal(loc=rng.uniform(-2, 2), size=(n_target, n_features)),
    ])
    sd = np.r_[np.ones(n_source, dtype=int), -np.ones(n_target, dtype=int)]
    weighter = clone(WEIGHTERS[which])
    if isinstance(weighter, (KLIEP, ULSIF, RULSIF)):
        weighter.set_params(cv=2)
    w = weighter.fit(X, None, sample_domain=sd).weights_
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    np.testing.assert_array_equal(w[sd < 0], 0.0)


@pytest.mark.parametrize(
    "weighter, param, value",
    [
        (KLIEP(), "gamma", [1.0, -2.0]),
        (ULSIF(), "gamma", [[1.0]]),
        (RULSIF(), "reg", [0.0]),
    ],
    ids=["kliep-negative-gamma", "ulsif-2d-gamma", "rulsif-zero-reg"],
)
def test_bad_candidate_lists_are_refused(weighter, param, value):
    X, y, sd = make_domain_shift(n_samples=20, random_state=0)
    with pytest.raises(ValueError, match=f"{param} must be None"):
        clone(weighter).set_params(**{param: value}).fit(X, y, sample_domain=sd)
