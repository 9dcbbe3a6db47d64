"""KDEWeighter's subsampled supports (``max_samples``, issue 21): exact below
the cap, the leave-one-out rule for rows in and out of the subsample, and
agreement with the exact weights."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone

from sktransfer._kernels import kernel, log_mean_gaussian, log_mean_gaussian_by_rows
from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import KDEWeighter


def _fit(X, sd, **params):
    return KDEWeighter(**params).fit(X, None, sample_domain=sd)


@pytest.mark.parametrize("bandwidth", ["median", "scott", 0.7])
def test_at_most_max_samples_rows_keeps_the_exact_densities(bandwidth):
    """300 rows per domain: "auto", None and max_samples=300 are the same fit, bit for bit."""
    X, _, sd = make_domain_shift(n_samples=300, n_features=3, random_state=0)
    exact = _fit(X, sd, bandwidth=bandwidth, max_samples=None, random_state=0)
    for max_samples in ("auto", 300):
        fitted = _fit(X, sd, bandwidth=bandwidth, max_samples=max_samples, random_state=0)
        np.testing.assert_array_equal(fitted.weights_, exact.weights_)
        np.testing.assert_array_equal(fitted.X_source_, X[sd > 0])
        np.testing.assert_array_equal(fitted.compute_weights(X[:20] + 0.1), exact.compute_weights(X[:20] + 0.1))


def test_subsampled_weights_leave_out_only_a_row_in_the_support():
    """h fixed, 40 of 120 rows per domain: a training source row in the source
    subsample leaves its own kernel out (mean over 39 others), a row outside
    it averages all 40; the target density always averages its 40 rows."""
    X, _, sd = make_domain_shift(n_samples=120, random_state=1)
    h, gamma = 0.8, 1.0 / (2 * 0.8**2)
    kde = _fit(X, sd, bandwidth=h, max_samples=40, random_state=0)
    Xs, Xt = X[sd > 0], X[sd < 0]
    Ss, St = kde.X_source_, kde.X_target_
    assert Ss.shape == St.shape == (40, 2)
    in_support = (Xs[:, None, :] == Ss[None, :, :]).all(axis=2).any(axis=1)
    assert in_support.sum() == 40
    K = kernel(Xs, Ss, "rbf", gamma)
    source = np.where(in_support, (K.sum(axis=1) - 1.0) / 39, K.mean(axis=1))
    expected = kernel(Xs, St, "rbf", gamma).mean(axis=1) / source
    np.testing.assert_allclose(kde.weights_[sd > 0], expected, rtol=1e-10)
    # The supports are rows of their own domains, in their order.
    assert (Ss[:, None, :] == Xs[None, :, :]).all(axis=2).any(axis=1).all()
    assert (St[:, None, :] == Xt[None, :, :]).all(axis=2).any(axis=1).all()
    new = np.array([[0.2, 0.1], [1.5, -0.5]])
    expected_new = kernel(new, St, "rbf", gamma).mean(axis=1) / kernel(new, Ss, "rbf", gamma).mean(axis=1)
    np.testing.assert_allclose(kde.compute_weights(new), expected_new, rtol=1e-10)


def test_only_the_larger_domain_is_subsampled():
    """200 source and 50 target rows with max_samples=100: every source row
    outside the subsample has no own term, the target keeps all its rows."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 2)), rng.normal(0.5, 1.0, size=(50, 2))])
    sd = np.r_[np.ones(200, int), -np.ones(50, int)]
    kde = _fit(X, sd, bandwidth=0.5, max_samples=100, random_state=0)
    assert kde.X_source_.shape[0] == 100
    np.testing.assert_array_equal(kde.X_target_, X[sd < 0])
    again = _fit(X, sd, bandwidth=0.5, max_samples=100, random_state=0)
    np.testing.assert_array_equal(kde.weights_, again.weights_)


@pytest.mark.parametrize("seed, n_features", [(0, 2), (1, 5), (2, 10)])
def test_subsampled_weights_rank_rows_like_the_exact_ones(seed, n_features):
    """1,000 of 3,000 rows per domain of make_domain_shift covariate shift, median
    bandwidth: Spearman with the exact weights >= 0.95 (measured 0.98 to 0.99
    over 3 seeds x {2, 5, 10} features; 500 of 4,000 rows: 0.94 to 0.98), and
    with the true ratio as high as the exact weights' within 0.03."""
    X, y, sd, ratio = make_domain_shift(
        n_samples=3000, n_features=n_features, return_density_ratio=True, random_state=seed
    )
    src = sd > 0
    exact = _fit(X, sd, max_samples=None).weights_[src]
    sub = _fit(X, sd, max_samples=1000, random_state=seed).weights_[src]
    assert spearmanr(sub, exact)[0] >= 0.95
    assert spearmanr(sub, ratio[src])[0] >= spearmanr(exact, ratio[src])[0] - 0.03


def test_max_samples_equal_to_the_rows_is_exact():
    X, _, sd = make_domain_shift(n_samples=150, random_state=3)
    exact = _fit(X, sd, max_samples=None)
    np.testing.assert_array_equal(_fit(X, sd, max_samples=150).weights_, exact.weights_)
    # One row fewer subsamples, and still agrees closely.
    close = _fit(X, sd, max_samples=149, random_state=0).weights_[sd > 0]
    assert spearmanr(close, exact.weights_[sd > 0])[0] > 0.99


def test_subsampled_fit_clones_pickles_and_repeats():
    X, _, sd = make_domain_shift(n_samples=400, random_state=4)
    est = KDEWeighter(max_samples=100, random_state=0)
    fitted = clone(est).fit(X, None, sample_domain=sd)
    assert clone(est).get_params()["max_samples"] == 100
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.compute_weights(X), fitted.compute_weights(X))
    np.testing.assert_array_equal(clone(est).fit(X, None, sample_domain=sd).weights_, fitted.weights_)
    other = KDEWeighter(max_samples=100, random_state=1).fit(X, None, sample_domain=sd)
    assert not np.array_equal(other.X_source_, fitted.X_source_)


@pytest.mark.parametrize("max_samples", [1, 0, 2.5, "all"])
def test_max_samples_is_validated(max_samples):
    X, _, sd = make_domain_shift(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="max_samples"):
        _fit(X, sd, max_samples=max_samples)


def test_log_mean_gaussian_by_rows_equals_the_column_blocked_one():
    """Rounding-level agreement, with and without leaving each row's own term out,
    and with a small bandwidth on rows far from the origin (the centring keeps
    the expansion's cancellation small)."""
    rng = np.random.default_rng(5)
    Y = rng.normal(size=(300, 7))
    X = rng.normal(size=(500, 7))
    for gamma in (0.01, 0.5, 20.0):
        np.testing.assert_allclose(log_mean_gaussian_by_rows(X, Y, gamma), log_mean_gaussian(X, Y, gamma),
                                   rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(log_mean_gaussian_by_rows(Y, Y, gamma, own=np.arange(300)),
                                   log_mean_gaussian(Y, Y, gamma, leave_one_out=True), rtol=1e-10, atol=1e-9)
    far = Y + 1e3
    np.testing.assert_allclose(log_mean_gaussian_by_rows(far, far, 5.0, own=np.arange(300)),
                               log_mean_gaussian(far, far, 5.0, leave_one_out=True), rtol=1e-8)
