"""Transferability metrics: hand-checked cases, slow re-implementations, sanity and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar
from sklearn.covariance import LedoitWolf
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sktransfer.metrics import hscore, leep_score, logme_score, nce_score
from sktransfer.metrics._transferability import _logme_fit

LOG_2PI = np.log(2 * np.pi)


# --- slow re-implementations -------------------------------------------------


def slow_log_evidence(F, y, log_alpha, log_beta):
    """Closed-form log evidence with an explicit d x d matrix (no SVD)."""
    n, d = F.shape
    alpha, beta = np.exp(log_alpha), np.exp(log_beta)
    A = alpha * np.eye(d) + beta * F.T @ F
    m = beta * np.linalg.solve(A, F.T @ y)
    return (
        d / 2 * np.log(alpha) + n / 2 * np.log(beta) - beta / 2 * np.sum((y - F @ m) ** 2)
        - alpha / 2 * m @ m - np.linalg.slogdet(A)[1] / 2 - n / 2 * LOG_2PI
    )


def slow_max_evidence(F, y):
    """Maximise the evidence over (log alpha, log beta) with Nelder-Mead."""
    best = minimize(
        lambda p: -slow_log_evidence(F, y, *p), x0=[0.0, 0.0], method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000, "maxfev": 40000},
    )
    return -best.fun


def slow_fixed_point_evidence(F, y, n_iter=2000):
    """MacKay's fixed point written the naive way: explicit inverse of A, no SVD."""
    n, d = F.shape
    alpha = beta = 1.0
    eig = np.linalg.eigvalsh(F.T @ F)
    for _ in range(n_iter):
        A_inv = np.linalg.inv(alpha * np.eye(d) + beta * F.T @ F)
        m = beta * A_inv @ F.T @ y
        gamma = sum(beta * lam / (alpha + beta * lam) for lam in eig)
        alpha, beta = gamma / (m @ m), (n - gamma) / np.sum((y - F @ m) ** 2)
    return slow_log_evidence(F, y, np.log(alpha), np.log(beta))


def slow_profile_max_evidence(F, y):
    """Maximise over t = alpha / beta on a grid, then with a bounded search.

    For a fixed t the best beta is n / (||y - F m||^2 + t ||m||^2); the ends of the
    grid stand for the limits alpha -> inf and beta -> inf.
    """
    n, d = F.shape

    def profile(log_t):
        t = np.exp(log_t)
        m = np.linalg.solve(F.T @ F + t * np.eye(d), F.T @ y)
        beta = n / (np.sum((y - F @ m) ** 2) + t * m @ m)
        return slow_log_evidence(F, y, np.log(t * beta), np.log(beta))

    grid = np.linspace(-25, 45, 701)
    values = [profile(u) for u in grid]
    i = int(np.argmax(values))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    best = minimize_scalar(lambda u: -profile(u), bounds=(lo, hi), method="bounded", options={"xatol": 1e-9})
    return max(-best.fun, values[i])


def slow_logme(F, y, max_evidence=slow_max_evidence):
    classes = np.unique(y)
    return np.mean([max_evidence(F, (y == c).astype(float)) for c in classes]) / len(F)


def slow_leep(proba, y):
    n, n_source = proba.shape
    classes = sorted(set(y))
    joint = {(c, z): 0.0 for c in classes for z in range(n_source)}
    for i in range(n):
        for z in range(n_source):
            joint[y[i], z] += proba[i, z] / n
    marginal = {z: sum(joint[c, z] for c in classes) for z in range(n_source)}
    total = 0.0
    for i in range(n):
        total += np.log(sum(joint[y[i], z] / marginal[z] * proba[i, z] for z in range(n_source)))
    return total / n


def slow_nce(z, y):
    n = len(y)
    counts, z_counts = {}, {}
    for zi, yi in zip(z, y):
        counts[zi, yi] = counts.get((zi, yi), 0) + 1
        z_counts[zi] = z_counts.get(zi, 0) + 1
    return sum(c / n * np.log(c / z_counts[zi]) for (zi, _), c in counts.items())


def slow_hscore(X, y, alpha=0.0):
    n, d = X.shape
    Xc = X - X.mean(axis=0)
    cov = np.zeros((d, d))
    for row in Xc:
        cov += np.outer(row, row) / n
    between = np.zeros((d, d))
    for c in np.unique(y):
        mean_c = Xc[y == c].mean(axis=0)
        between += np.sum(y == c) / n * np.outer(mean_c, mean_c)
    cov = (1 - alpha) * cov + alpha * np.trace(cov) / d * np.eye(d)
    return np.trace(np.linalg.pinv(cov) @ ((1 - alpha) * between))


@pytest.fixture(scope="module")
def informative():
    """Features that carry the labels, plus noise dimensions."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=80)
    X = np.c_[np.eye(3)[y] + 0.7 * rng.normal(size=(80, 3)), rng.normal(size=(80, 4))]
    return X, y


# --- hand-checked cases ------------------------------------------------------


def test_logme_hand_checked_one_feature():
    # One feature f, n = 4: y ~ N(0, C) with C = (||f||^2 / alpha) u u^T + (1 / beta) I,
    # u = f / ||f||. With x = u^T y and r = ||y||^2 - x^2, log p = -1/2 [log c + 3 log b
    # + x^2 / c + r / b + 4 log 2 pi] for c = ||f||^2 / alpha + b, b = 1 / beta, maximal at
    # c = x^2, b = r / 3 (when x^2 >= r / 3): L = -2 (1 + log 2 pi) - 1/2 log x^2 - 3/2 log(r / 3).
    # f = (1, 2, 1, 1), ||f||^2 = 7. Class 0, y = (1, 1, 0, 0): x^2 = 9/7, r = 5/7.
    # Class 1, y = (0, 0, 1, 1): x^2 = 4/7, r = 10/7.
    f = np.array([[1.0], [2.0], [1.0], [1.0]])
    base = -2 * (1 + LOG_2PI)
    class0 = base - 0.5 * np.log(9 / 7) - 1.5 * np.log(5 / 21)
    class1 = base - 0.5 * np.log(4 / 7) - 1.5 * np.log(10 / 21)
    assert logme_score(f, [0, 0, 1, 1]) == pytest.approx((class0 + class1) / 2 / 4, rel=1e-6)


def test_logme_hand_checked_useless_feature_reaches_the_alpha_limit():
    # f = (2, -1, 2, -1): x^2 = 1/10 < r / 3 = 19/30 for both classes, so the maximum is the
    # limit alpha -> inf (w = 0): y ~ N(0, b I), b = ||y||^2 / n = 1/2,
    # L = -n/2 (1 + log 2 pi) - n/2 log(1/2) = -2 (1 + log 2 pi) + 2 log 2.
    f = np.array([[2.0], [-1.0], [2.0], [-1.0]])
    expected = (-2 * (1 + LOG_2PI) + 2 * np.log(2)) / 4
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        assert logme_score(f, [0, 0, 1, 1]) == pytest.approx(expected, rel=1e-6)


def test_leep_hand_checked():
    # P(y, z) = mean_i theta_i[z] [y_i = y]: P(0, 0) = 2/4, P(0, 1) = 0, P(1, 0) = (1/2)/4 = 1/8,
    # P(1, 1) = (1 + 1/2)/4 = 3/8; P(z=0) = 5/8, P(z=1) = 3/8.
    # P(0|0) = 4/5, P(1|0) = 1/5, P(0|1) = 0, P(1|1) = 1.
    # Rows: 4/5, 4/5, 1/5*0 + 1*1 = 1, 1/5*1/2 + 1*1/2 = 3/5.
    proba = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    expected = (2 * np.log(4 / 5) + np.log(1) + np.log(3 / 5)) / 4
    assert leep_score(proba, [0, 0, 1, 1]) == pytest.approx(expected, rel=1e-12)


def test_nce_hand_checked():
    # Counts (z, y): (0, 0) = 2, (0, 1) = 1, (1, 1) = 2, (1, 0) = 1, n = 6.
    # P(y | z=0) = (2/3, 1/3), P(y | z=1) = (1/3, 2/3):
    # -H(Y|Z) = 2 * (2/6 log 2/3 + 1/6 log 1/3) = 2/3 log 2/3 + 1/3 log 1/3.
    z = [0, 0, 1, 1, 1, 0]
    y = [0, 0, 1, 1, 0, 1]
    expected = 2 / 3 * np.log(2 / 3) + 1 / 3 * np.log(1 / 3)
    assert nce_score(z, y) == pytest.approx(expected, rel=1e-12)
    # Probabilities: the argmax gives the same labels.
    proba = np.eye(2)[z] * 0.6 + 0.2
    assert nce_score(proba, y) == pytest.approx(expected, rel=1e-12)


def test_hscore_hand_checked():
    # X = (0,0), (2,0), (1,2), (1,4), y = 0,0,1,1. Mean (1, 3/2); centred rows (-1,-3/2),
    # (1,-3/2), (0,1/2), (0,5/2). cov = diag(2/4, 11/4). Class means (0,-3/2), (0,3/2),
    # weight 1/2 each: between = diag(0, 9/4). H = (9/4) / (11/4) = 9/11.
    # Shrinkage a = 1/2: mu = tr(cov)/2 = 13/8, C_a = diag(1/4 + 13/16, 11/8 + 13/16)
    # = diag(17/16, 35/16), (1 - a) between = diag(0, 9/8): H_a = (9/8) / (35/16) = 18/35.
    X = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 2.0], [1.0, 4.0]])
    y = [0, 0, 1, 1]
    assert hscore(X, y) == pytest.approx(9 / 11, rel=1e-12)
    assert hscore(X, y, shrinkage=0.0) == pytest.approx(9 / 11, rel=1e-12)
    assert hscore(X, y, shrinkage=0.5) == pytest.approx(18 / 35, rel=1e-12)


# --- agreement with the slow re-implementations ------------------------------


@pytest.mark.parametrize("shape", [(60, 5), (25, 40)], ids=["n>d", "n<d"])
def test_logme_matches_direct_maximisation(shape):
    n, d = shape
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=n)
    F = 2.0 * np.eye(3)[y] @ rng.normal(size=(3, d)) + rng.normal(size=(n, d))
    assert logme_score(F, y) == pytest.approx(slow_logme(F, y), rel=1e-6)
    assert logme_score(F, y) == pytest.approx(slow_logme(F, y, slow_fixed_point_evidence), rel=1e-6)


def test_logme_regression_matches_direct_maximisation():
    rng = np.random.default_rng(2)
    F = rng.normal(size=(50, 4))
    Y = F @ rng.normal(size=(4, 2)) + 0.5 * rng.normal(size=(50, 2))
    expected = [slow_max_evidence(F, Y[:, j]) / 50 for j in range(2)]
    assert logme_score(F, Y, regression=True) == pytest.approx(np.mean(expected), rel=1e-6)
    assert logme_score(F, Y[:, 0], regression=True) == pytest.approx(expected[0], rel=1e-6)


def test_leep_matches_loops():
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(30, 5))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, 3, size=30)
    assert leep_score(proba, y) == pytest.approx(slow_leep(proba, y), rel=1e-10)


def test_nce_matches_loops():
    rng = np.random.default_rng(4)
    z, y = rng.integers(0, 6, size=50), rng.integers(0, 3, size=50)
    assert nce_score(z, y) == pytest.approx(slow_nce(z, y), rel=1e-10)


@pytest.mark.parametrize("shrinkage", [None, 0.3, "auto"])
def test_hscore_matches_class_loops(informative, shrinkage):
    X, y = informative
    if shrinkage == "auto":
        alpha = LedoitWolf().fit(X).shrinkage_
    else:
        alpha = shrinkage or 0.0
    assert hscore(X, y, shrinkage=shrinkage) == pytest.approx(slow_hscore(X, y, alpha), rel=1e-6)


def test_hscore_auto_uses_the_ledoit_wolf_covariance(informative):
    # C_a is exactly sklearn's Ledoit-Wolf estimate.
    X, y = informative
    lw = LedoitWolf().fit(X)
    Xc = X - X.mean(axis=0)
    means = np.array([Xc[y == c].mean(axis=0) for c in range(3)])
    between = (means.T * np.bincount(y) / len(y)) @ means
    expected = np.trace(np.linalg.solve(lw.covariance_, (1 - lw.shrinkage_) * between))
    assert hscore(X, y, shrinkage="auto") == pytest.approx(expected, rel=1e-8)


# --- sanity ------------------------------------------------------------------


def test_logme_informative_features_beat_noise():
    X, y = load_digits(return_X_y=True)
    noise = np.random.default_rng(0).normal(size=X.shape)
    assert logme_score(X, y) > logme_score(noise, y) + 0.3
    assert hscore(X, y) > hscore(noise, y)


def test_logme_fixed_point_converges_in_few_iterations():
    X, y = load_digits(return_X_y=True)
    Y = np.eye(10)[y]
    _, alpha, beta, n_iter = _logme_fit(X, Y)
    assert n_iter.max() <= 10
    assert np.all(alpha > 0) and np.all(beta > 0)


@pytest.mark.parametrize("shape", [(300, 20), (40, 120)], ids=["n>d", "n<d"])
def test_logme_on_noise_features_converges_fast_to_the_maximum(shape):
    # Features that explain nothing: the plain fixed point crawls towards alpha -> inf
    # for hundreds of iterations; the accelerated one stops early at the maximum.
    rng = np.random.default_rng(6)
    F, y = rng.normal(size=shape), rng.integers(0, 3, size=shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        score = logme_score(F, y)
    assert score == pytest.approx(slow_logme(F, y, slow_profile_max_evidence), rel=1e-6)
    assert _logme_fit(F, np.eye(3)[y])[3].max() <= 40


def test_logme_regression_path():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 3))
    related = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=100)
    unrelated = rng.normal(size=100)
    assert logme_score(X, related, regression=True) > logme_score(X, unrelated, regression=True)
    both = np.c_[related, unrelated]
    assert logme_score(X, both, regression=True) == pytest.approx(
        (logme_score(X, related, regression=True) + logme_score(X, unrelated, regression=True)) / 2
    )


def test_logme_is_invariant_to_the_scale_of_the_features(informative):
    X, y = informative
    assert logme_score(1000 * X, y) == pytest.approx(logme_score(X, y), rel=1e-8)


def test_string_labels_and_pandas_input(informative):
    pd = pytest.importorskip("pandas")
    X, y = informative
    names = np.array(["cat", "dog", "owl"])[y]
    frame, series = pd.DataFrame(X), pd.Series(names)
    assert logme_score(frame, series) == pytest.approx(logme_score(X, y))
    assert hscore(frame, series) == pytest.approx(hscore(X, y))
    proba = np.full((len(y), 2), 0.5)
    assert leep_score(pd.DataFrame(proba), series) == pytest.approx(np.log(1 / 3), rel=1e-2)
    assert nce_score(pd.Series(y), series) == 0.0


def test_metric_ranges(informative):
    X, y = informative
    assert 0 <= hscore(X, y) <= 2 + 1e-9
    assert -np.log(3) - 1e-12 <= nce_score(np.zeros(len(y)), y) <= 0
    assert leep_score(np.full((len(y), 4), 0.25), y) <= 0


# --- bad input ---------------------------------------------------------------


def _all_metrics():
    proba = np.full((4, 2), 0.5)
    X = np.arange(8.0).reshape(4, 2)
    return [
        lambda y: logme_score(X, y), lambda y: hscore(X, y),
        lambda y: leep_score(proba, y), lambda y: nce_score([0, 1, 0, 1], y),
    ]


@pytest.mark.parametrize("metric", range(4))
def test_single_class_is_refused(metric):
    with pytest.raises(ValueError, match="needs at least two classes"):
        _all_metrics()[metric]([1, 1, 1, 1])


@pytest.mark.parametrize("metric", range(4))
def test_mismatched_lengths_are_refused(metric):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _all_metrics()[metric]([0, 1, 0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_are_refused(bad):
    X = np.arange(8.0).reshape(4, 2)
    X[1, 1] = bad
    for metric in (logme_score, hscore, leep_score):
        with pytest.raises(ValueError, match="NaN|infinity"):
            metric(X, [0, 1, 0, 1])


def test_features_must_be_2d():
    for metric in (logme_score, hscore, leep_score):
        with pytest.raises(ValueError, match="Expected 2D array"):
            metric(np.arange(4.0), [0, 1, 0, 1])


def test_leep_refuses_rows_that_are_not_distributions():
    with pytest.raises(ValueError, match="sum to 1"):
        leep_score([[0.5, 0.6], [0.5, 0.5]], [0, 1])
    with pytest.raises(ValueError, match="non-negative"):
        leep_score([[1.5, -0.5], [0.5, 0.5]], [0, 1])


def test_continuous_labels_are_refused_for_classification():
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match="regression=True"):
        logme_score(X, [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="class labels"):
        hscore(X, [0.1, 0.2, 0.3, 0.4])


def test_bad_parameters_are_refused(informative):
    X, y = informative
    with pytest.raises(ValueError, match="shrinkage"):
        hscore(X, y, shrinkage=1.5)
    with pytest.raises(ValueError, match="shrinkage"):
        hscore(X, y, shrinkage="ledoit")
    with pytest.raises(ValueError, match="max_iter"):
        logme_score(X, y, max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        logme_score(X, y, tol=-1.0)
    with pytest.raises(ValueError, match="not all zero"):
        logme_score(X, np.zeros(len(y)), regression=True)


def test_nce_score_with_no_rows_says_so():
    """An empty 1-D source_labels failed in a reshape ('cannot reshape array of size 0')."""
    with pytest.raises(ValueError, match="0 sample"):
        nce_score(np.zeros(0, int), np.zeros(0, int))
