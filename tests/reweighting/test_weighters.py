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


# --------------------------------------------- results that cannot be weights
@pytest.mark.parametrize(
    "weighter, match",
    [
        # A density far narrower than the distances underflows to 0: the ratio
        # was inf (1e-3) or a ZeroDivisionError (1e-200, h^2 underflows).
        (KDEWeighter(bandwidth=1e-3), r"non-finite.*bandwidths 0\.001 \(source\).*too small"),
        (KDEWeighter(bandwidth=1e-200), r"non-finite.*bandwidths 1e-200 \(source\)"),
        # The kernel vanishes at every source row: mean_source w = 1 divided by 0 (NaN).
        (KLIEP(gamma=1e6, random_state=0), r"non-finite.*too narrow.*gamma_=1e\+06"),
        # The same kernel made every uLSIF weight 0, silently.
        (ULSIF(gamma=1e6, random_state=0), r"every importance weight.*came out 0.*gamma_=1e\+06"),
        (RULSIF(gamma=1e6, random_state=0), r"every importance weight.*came out 0.*gamma_=1e\+06"),
    ],
    ids=["kde-narrow", "kde-underflow", "kliep-narrow", "ulsif-narrow", "rulsif-narrow"],
)
def test_degenerate_weights_raise_naming_the_likely_cause(weighter, match):
    X, y, sd = make_domain_shift(n_samples=50, random_state=0)
    with pytest.raises(ValueError, match=f"{type(weighter).__name__}: .*{match}"):
        clone(weighter).fit(X, y, sample_domain=sd)


def test_kliep_cv_does_not_choose_a_candidate_whose_weights_are_nan():
    """np.argmax picks a NaN score: a candidate too narrow to normalise used
    to win the likelihood cross-validation."""
    X, y, sd = make_domain_shift(n_samples=50, random_state=0)
    kliep = KLIEP(gamma=[1e6, 1.0], random_state=0).fit(X, y, sample_domain=sd)
    assert kliep.gamma_ == 1.0
    assert kliep.cv_scores_[0] == -np.inf and np.isfinite(kliep.cv_scores_[1])


def test_infinite_weights_of_new_rows_raise_naming_the_cause():
    """With clip=0 a row the classifier is sure of gets p = 1: an infinite weight."""
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(40, 1)), rng.normal(loc=4, size=(40, 1))]
    sd = np.r_[np.ones(40, int), -np.ones(40, int)]
    weighter = DiscriminativeWeighter(clip=0.0).fit(X, None, sample_domain=sd)
    with pytest.raises(ValueError, match=r"DiscriminativeWeighter: the weights came out non-finite.*clip=0\.0"):
        weighter.compute_weights([[1e3]])
    assert np.isfinite(DiscriminativeWeighter().fit(X, None, sample_domain=sd).compute_weights([[1e3]])).all()


# ------------------------------------------- cross-validation needs enough rows
@pytest.mark.parametrize(
    "weighter, n_source, n_target, match",
    [
        (KLIEP(cv=5, random_state=0), 20, 4, r"KLIEP .*cv=5 folds of the target rows, but there are only 4 target rows\. Pass cv=4 or fewer folds, or a single gamma"),
        (ULSIF(cv=5, random_state=0), 20, 3, r"ULSIF .*cv=5 folds of the target rows, but there are only 3 target rows\. Pass cv=3 or fewer folds, or a single gamma and reg"),
        (RULSIF(cv=4, random_state=0), 3, 20, r"RULSIF .*cv=4 folds of the source rows, but there are only 3 source rows"),
    ],
    ids=["kliep", "ulsif", "rulsif-source"],
)
def test_fewer_rows_than_cv_folds_raise(weighter, n_source, n_target, match):
    """They used to shrink the folds silently to the number of rows."""
    rng = np.random.RandomState(0)
    X = np.r_[rng.normal(size=(n_source, 2)), rng.normal(loc=0.5, size=(n_target, 2))]
    sd = np.r_[np.ones(n_source, int), -np.ones(n_target, int)]
    with pytest.raises(ValueError, match=match):
        clone(weighter).fit(X, None, sample_domain=sd)
    # A fixed bandwidth (and ridge) needs no cross-validation, so no folds.
    fixed = clone(weighter).set_params(gamma=1.0, **({} if isinstance(weighter, KLIEP) else {"reg": 0.1}))
    assert np.isfinite(fixed.fit(X, None, sample_domain=sd).weights_).all()


def test_stacked_rows_are_a_view_only_when_the_target_block_follows_the_source_block():
    """DiscriminativeWeighter trains on [source; target] rows: the caller's array itself (no
    copy) in stack_domains' layout, a stacked copy otherwise; the weights are the same."""
    from sktransfer.reweighting._base import _rows, _stacked

    X = np.random.default_rng(0).normal(size=(12, 3))
    source = np.r_[np.ones(7, bool), np.zeros(5, bool)]
    blocked = _stacked(_rows(X, source), _rows(X, ~source))
    assert np.shares_memory(blocked, X) and not blocked.flags.writeable
    np.testing.assert_array_equal(blocked, X)
    swapped = _stacked(_rows(X, ~source), _rows(X, source))  # target rows first: not adjacent in order
    assert not np.shares_memory(swapped, X)
    np.testing.assert_array_equal(swapped, np.vstack([X[~source], X[source]]))
    fortran = np.asfortranarray(X)
    assert not np.shares_memory(_stacked(_rows(fortran, source), _rows(fortran, ~source)), fortran)

    X, _, sd = make_domain_shift(n_samples=60, random_state=0)
    order = np.argsort(-sd, kind="stable")  # source rows first
    interleaved = np.random.default_rng(1).permutation(len(sd))
    w_blocked = DiscriminativeWeighter().fit(X[order], None, sample_domain=sd[order]).weights_
    w_mixed = DiscriminativeWeighter().fit(X[interleaved], None, sample_domain=sd[interleaved]).weights_
    back = np.empty_like(w_mixed)
    back[interleaved] = w_mixed
    np.testing.assert_allclose(w_blocked[np.argsort(order)], back, rtol=1e-6)
