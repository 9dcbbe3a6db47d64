"""Transferability metrics: LogME, LEEP, NCE and the H-score (with shrinkage).

Each ranks pretrained features, or a pretrained source classifier, for a
labelled target task without training a head on it; higher is better.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import pinvh
from sklearn.covariance import ledoit_wolf_shrinkage
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_consistent_length

from .._finite import check_magnitude

__all__ = ["hscore", "leep_score", "logme_score", "nce_score"]

_EPS = np.finfo(np.float64).eps


def _encode_classes(y: ArrayLike, owner: str) -> tuple[np.ndarray, int]:
    """Integer codes ``0..C-1`` of the class labels ``y`` and ``C``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"{owner} needs y as 1-D class labels, got an array of shape {y.shape}.")
    kind = type_of_target(y, input_name="y")
    if kind not in ("binary", "multiclass"):
        raise ValueError(
            f"{owner} needs class labels, but y looks {kind}. For continuous targets use "
            "logme_score(X, y, regression=True)."
        )
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(f"{owner} needs at least two classes in y, got only {classes[0]!r}.")
    return codes.ravel(), len(classes)


def _features_and_classes(X: ArrayLike, y: ArrayLike, owner: str) -> tuple[np.ndarray, np.ndarray, int]:
    X = check_magnitude(check_array(X, dtype=np.float64, input_name="X"), owner)
    codes, n_classes = _encode_classes(y, owner)
    check_consistent_length(X, codes)
    return X, codes, n_classes


# --- LogME -------------------------------------------------------------------


def _logme_spectrum(F: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squared singular values of ``F``, squared projections of ``Y`` and residual energy.

    Returns ``sigma`` (k, 1), the nonzero eigenvalues of ``F^T F``; ``x2``
    (k, T), the squares of ``U^T Y`` for the left singular vectors ``U``; and
    ``r0`` (T,), the energy of each target outside the column space of ``F``
    (0 when ``F`` has rank ``n``).
    """
    n, d = F.shape
    if n > d:  # eigen-decompose the small d x d Gram matrix instead of F itself
        sigma, V = np.linalg.eigh(F.T @ F)
        keep = sigma > max(n, d) * _EPS * max(sigma.max(), 0.0)
        sigma = sigma[keep]
        x2 = (V[:, keep].T @ (F.T @ Y)) ** 2 / sigma[:, None]  # U^T Y with U = F V / s
    else:
        U, s, _ = np.linalg.svd(F, full_matrices=False)
        keep = s**2 > max(n, d) * _EPS * s.max(initial=0.0) ** 2
        sigma = s[keep] ** 2
        x2 = (U[:, keep].T @ Y) ** 2
    r0 = np.maximum(np.sum(Y**2, axis=0) - x2.sum(axis=0), 0.0) * (len(sigma) < n)
    return sigma[:, None], x2, r0


def _logme_terms(t, sigma, x2, r0, n):
    """``gamma``, ``n - gamma``, ``||m||^2`` and ``||y - F m||^2`` at ``t = alpha / beta``."""
    denom = sigma + t
    gamma = np.sum(sigma / denom, axis=0)
    n_minus_gamma = (n - len(sigma)) + np.sum(t / denom, axis=0)  # no cancellation when t -> 0
    m2 = np.sum(sigma * x2 / denom**2, axis=0)
    res2 = np.sum(x2 * (t / denom) ** 2, axis=0) + r0
    return gamma, n_minus_gamma, m2, res2


def _log_evidence(alpha, beta, sigma, x2, r0, n):
    """Log marginal likelihood ``log p(y | F, alpha, beta)`` of Bayesian linear regression.

    ``d/2 log(alpha) - 1/2 log|alpha I + beta F^T F|`` is written as
    ``-1/2 sum log(1 + sigma / t)``: the ``d - k`` zero eigenvalues cancel.
    """
    t = alpha / beta
    _, _, m2, res2 = _logme_terms(t, sigma, x2, r0, n)
    return (
        0.5 * n * np.log(beta) - 0.5 * np.sum(np.log1p(sigma / t), axis=0)
        - 0.5 * beta * res2 - 0.5 * alpha * m2 - 0.5 * n * np.log(2 * np.pi)
    )


def _gaussian_evidence(energy, n):
    """Maximum over ``v`` of the log-likelihood of ``n`` values of total ``energy`` under N(0, v)."""
    with np.errstate(divide="ignore"):
        return -0.5 * n * (np.log(energy / n) + 1.0 + np.log(2 * np.pi))


def _logme_fit(F: np.ndarray, Y: np.ndarray, max_iter: int = 100, tol: float = 1e-3):
    """Maximum log evidence of each column of ``Y`` given features ``F`` (not divided by n).

    Runs the fixed-point updates on all columns at once and returns
    ``(evidence, alpha, beta, n_iter)``, each of shape (T,).
    """
    n = F.shape[0]
    sigma, x2, r0 = _logme_spectrum(F, Y)
    n_targets = Y.shape[1]
    # Where the features do not help, the maximum is the limit alpha -> inf
    # (w = 0); where they interpolate y (rank n), it can be beta -> inf (no
    # noise, y ~ N(0, F F^T / alpha)). The iterates then drift towards the
    # limit, whose evidence is known in closed form.
    limit_up = _gaussian_evidence(np.sum(Y**2, axis=0), n)
    limit_down = np.full(n_targets, -np.inf)
    if len(sigma) == n:
        limit_down = _gaussian_evidence(np.sum(x2 / sigma, axis=0), n) - 0.5 * np.sum(np.log(sigma))
    limit = np.maximum(limit_up, limit_down)
    if not sigma.size:  # all-zero features: only the limit w = 0 exists
        return limit_up, np.full(n_targets, np.inf), n / np.sum(Y**2, axis=0), np.zeros(n_targets, int)
    alpha, beta, log_t = np.ones(n_targets), np.ones(n_targets), np.zeros(n_targets)
    best = np.full(n_targets, -np.inf)
    last_step = np.full(n_targets, np.nan)
    n_iter = np.zeros(n_targets, dtype=int)
    active = np.ones(n_targets, dtype=bool)
    tiny = np.finfo(np.float64).tiny
    # Beyond these bounds of t the prior switches every feature off (t >> sigma)
    # or no longer regularises (t << sigma): the evidence has reached its limit.
    lowest, highest = np.log(_EPS * sigma.min()), np.log(sigma.max() / _EPS)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if not idx.size:
            break
        c, r = x2[:, idx], r0[idx]
        gamma, n_minus_gamma, m2, res2 = _logme_terms(np.exp(log_t[idx]), sigma, c, r, n)
        a, b = gamma / np.maximum(m2, tiny), n_minus_gamma / np.maximum(res2, tiny)
        evidence = _log_evidence(a, b, sigma, c, r, n)
        better = evidence > best[idx]
        alpha[idx[better]], beta[idx[better]], best[idx[better]] = a[better], b[better], evidence[better]
        n_iter[idx] += 1
        step = np.log(a / b) - log_t[idx]
        # Aitken's acceleration: when two steps of log(t) go the same way with
        # ratio rho, jump to the limit of the geometric series they start
        # (further along when rho >= 1), by at most a factor e^4 on t.
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = step / last_step[idx]
            ahead = np.abs(step) * np.where(rho < 1, rho / (1 - rho), np.inf)
        jump = np.where(rho > 0, np.sign(step) * np.minimum(ahead, 4.0), 0.0)
        new_log_t = np.clip(log_t[idx] + step + jump, lowest, highest)
        at_bound = (new_log_t == log_t[idx]) & ((new_log_t == lowest) | (new_log_t == highest))
        log_t[idx] = new_log_t
        last_step[idx] = np.where(jump != 0, np.nan, step)
        active[idx[(np.abs(np.expm1(step)) <= tol) | at_bound]] = False
    if active.any():
        warnings.warn(
            f"LogME's fixed-point iteration did not converge in max_iter={max_iter} iterations "
            f"for {active.sum()} of {n_targets} targets; increase max_iter.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return np.maximum(best, limit), alpha, beta, n_iter


def logme_score(
    X: ArrayLike, y: ArrayLike, *, regression: bool = False, max_iter: int = 100, tol: float = 1e-3
) -> float:
    r"""LogME: log of the maximum evidence of a linear model on the features.

    Each target ``y`` (one column of the one-hot labels, or one regression
    target) is modelled as ``y = F w + noise``, with a Gaussian prior of
    precision ``alpha`` on ``w`` and noise of precision ``beta``. LogME is the
    log marginal likelihood (evidence) ``log p(y | F, alpha, beta)``,
    maximised over ``alpha, beta``, divided by ``n_samples`` and averaged
    over the targets.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features of the labelled target rows, e.g. from a pretrained backbone.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Class labels (any hashable values), or continuous targets when
        ``regression=True``.
    regression : bool, default=False
        Treat ``y`` as continuous targets (each column one target) rather
        than class labels.
    max_iter : int, default=100
        Maximum number of fixed-point iterations per target.
    tol : float, default=1e-3
        Stop when ``alpha / beta`` changes by at most ``tol`` relatively.

    Returns
    -------
    score : float
        LogME, higher is better.

    Notes
    -----
    The fast fixed-point algorithm of the paper (Algorithm 2, as improved in
    the authors' code): one SVD of ``X`` (an eigendecomposition of ``X^T X``
    when ``n_samples > n_features``), then per target MacKay's updates
    ``gamma = sum(beta s^2 / (alpha + beta s^2))``, ``alpha = gamma /
    ||m||^2``, ``beta = (n - gamma) / ||y - X m||^2`` from ``alpha = beta =
    1``, until ``alpha / beta`` changes by at most ``tol`` relatively (1e-3
    and at most 11 iterations in the reference code). Informative features
    converge in 3 to 10 iterations. Features that explain little make the
    plain updates crawl (hundreds of iterations, often towards ``alpha ->
    inf``, where the features are switched off), so the updates are
    accelerated with Aitken's extrapolation on ``log(alpha / beta)``, and
    the iteration stops at the limits ``alpha -> inf`` and (for features of
    rank ``n_samples``) ``beta -> inf``, whose evidence is computed in closed
    form; it then takes at most about 30 iterations, and the score is the
    best evidence met.

    Further deviations from the reference code: it adds ``1e-5`` to the
    denominators of the updates, which shifts the optimum slightly; and its
    fixed-point version leaves ``log(alpha)`` for the zero singular values
    out of ``log|alpha I + beta X^T X|``, which changes the score when ``X``
    has rank below ``n_features`` (e.g. ``n_samples <= n_features``;
    thuml/LogME issue 23). Here the evidence is exact. As in the paper,
    features are not centred and the linear model has no intercept.

    References
    ----------
    .. [1] K. You, Y. Liu, J. Wang and M. Long, "LogME: Practical Assessment of
       Pre-trained Models for Transfer Learning", ICML 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import logme_score
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, size=200)
    >>> informative = np.eye(3)[y] + 0.5 * rng.normal(size=(200, 3))
    >>> noise = rng.normal(size=(200, 3))
    >>> logme_score(informative, y) > logme_score(noise, y)
    True
    """
    if not (isinstance(max_iter, Integral) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}.")
    if not (isinstance(tol, Real) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")
    if regression:
        X = check_magnitude(check_array(X, dtype=np.float64, input_name="X"), "logme_score")
        Y = check_array(y, dtype=np.float64, ensure_2d=False, input_name="y")
        Y = Y.reshape(Y.shape[0], -1)
        check_consistent_length(X, Y)
        if not np.any(Y, axis=0).all():
            raise ValueError("logme_score needs regression targets that are not all zero.")
    else:
        X, codes, n_classes = _features_and_classes(X, y, "logme_score")
        Y = (codes[:, None] == np.arange(n_classes)).astype(np.float64)
    evidence = _logme_fit(X, Y, max_iter, tol)[0]
    return float(np.mean(evidence) / X.shape[0])


# --- LEEP and NCE ------------------------------------------------------------


def leep_score(source_proba: ArrayLike, y: ArrayLike) -> float:
    r"""LEEP: Log Expected Empirical Prediction of a source classifier.

    With ``theta_i`` the source model's predicted distribution over its own
    classes ``z`` on target row ``i``, the empirical joint is ``P(y, z) =
    mean_i theta_i[z] [y_i = y]``, the conditional ``P(y | z) = P(y, z) /
    P(z)``, and ``LEEP = mean_i log sum_z P(y_i | z) theta_i[z]``: the average
    log-likelihood of the classifier that maps source predictions to target
    labels through ``P(y | z)``.

    Parameters
    ----------
    source_proba : array-like of shape (n_samples, n_source_classes)
        Predicted probabilities of the source model on the target rows; each
        row non-negative and summing to 1 (within 1e-4).
    y : array-like of shape (n_samples,)
        Target class labels.

    Returns
    -------
    score : float
        LEEP, a non-positive number; higher is better.

    References
    ----------
    .. [1] C. V. Nguyen, T. Hassner, M. Seeger and C. Archambeau, "LEEP: A New
       Measure to Evaluate Transferability of Learned Representations",
       ICML 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import leep_score
    >>> y = np.array([0, 0, 1, 1])
    >>> aligned = np.array([[0.9, 0.1], [0.8, 0.2], [0.1, 0.9], [0.2, 0.8]])
    >>> uninformative = np.full((4, 2), 0.5)
    >>> leep_score(aligned, y) > leep_score(uninformative, y)
    True
    >>> print(round(leep_score(uninformative, y), 4))  # log(1/2)
    -0.6931
    """
    proba, codes, n_classes = _features_and_classes(source_proba, y, "leep_score")
    if (proba < 0).any() or not np.allclose(proba.sum(axis=1), 1.0, rtol=0.0, atol=1e-4):
        raise ValueError(
            "leep_score needs source_proba to hold probabilities: non-negative rows that sum to 1 "
            "(e.g. predict_proba or a softmax of the logits)."
        )
    onehot = (codes[:, None] == np.arange(n_classes)).astype(np.float64)
    joint = onehot.T @ proba / len(proba)  # P(y, z), (n_classes, n_source_classes)
    marginal = joint.sum(axis=0)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    return float(np.mean(np.log(np.sum(proba * conditional[codes], axis=1))))


def nce_score(source_labels: ArrayLike, y: ArrayLike) -> float:
    r"""NCE: negative conditional entropy of the target labels given the source labels.

    ``NCE = -H(Y | Z) = sum_{y, z} P(y, z) log P(y | z)`` with ``P`` the
    empirical joint distribution of the source model's hard labels ``Z`` and
    the target labels ``Y`` on the same rows.

    Parameters
    ----------
    source_labels : array-like of shape (n_samples,) or (n_samples, n_source_classes)
        Labels the source model gives the target rows (any hashable values).
        A 2-D array with several columns is read as the source model's class
        probabilities or scores (e.g. logits) and its row-wise argmax is used.
    y : array-like of shape (n_samples,)
        Target class labels.

    Returns
    -------
    score : float
        NCE, between ``-log(n_classes)`` and 0; higher is better.

    References
    ----------
    .. [1] A. T. Tran, C. V. Nguyen and T. Hassner, "Transferability and
       Hardness of Supervised Classification Tasks", ICCV 2019.

    Examples
    --------
    >>> from sktransfer.metrics import nce_score
    >>> y = [0, 0, 1, 1]
    >>> print(nce_score(["cat", "cat", "dog", "dog"], y))
    0.0
    >>> print(round(nce_score(["cat", "dog", "cat", "dog"], y), 4))  # -log(2)
    -0.6931
    """
    z = np.asarray(source_labels)
    if z.ndim == 2 and z.shape[1] > 1:
        z = np.argmax(check_array(z, dtype=np.float64, input_name="source_labels"), axis=1)
    else:
        z = check_array(z[:, None] if z.ndim == 1 else z, dtype=None, input_name="source_labels")
        if z.shape[1] != 1:
            raise ValueError(f"nce_score needs source_labels of 1 or 2 dimensions, got shape {z.shape}.")
        z = z.ravel()
    codes, n_classes = _encode_classes(y, "nce_score")
    check_consistent_length(z, codes)
    _, z_codes = np.unique(z, return_inverse=True)
    joint = np.zeros((z_codes.max() + 1, n_classes))
    np.add.at(joint, (z_codes.ravel(), codes), 1.0 / len(codes))
    conditional = joint / joint.sum(axis=1, keepdims=True)
    seen = joint > 0
    return float(np.sum(joint[seen] * np.log(conditional[seen]))) + 0.0


# --- H-score -----------------------------------------------------------------


def hscore(X: ArrayLike, y: ArrayLike, *, shrinkage: float | str | None = None) -> float:
    r"""H-score of features for a classification task, optionally with shrinkage.

    ``H = tr(cov(f)^+ cov(E[f | y]))``: how much of the feature variance lies
    between the classes, measured in the metric of the feature covariance.
    With shrinkage ``a``, ``H_a = tr(C_a^{-1} (1 - a) cov(E[f | y]))`` with
    ``C_a = (1 - a) cov(f) + a (tr cov(f) / d) I``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features of the labelled target rows.
    y : array-like of shape (n_samples,)
        Target class labels.
    shrinkage : None, "auto" or float in [0, 1], default=None
        None: the original H-score, with the pseudo-inverse of the sample
        covariance. "auto": the shrinkage-based H-score, ``a`` the
        Ledoit-Wolf shrinkage of ``X``. A float: that fixed ``a`` (0 is the
        original H-score).

    Returns
    -------
    score : float
        The H-score, between 0 and ``min(n_classes - 1, n_features)``; higher is better.

    Notes
    -----
    Features are centred and both covariances use ``1 / n_samples``, so that
    ``shrinkage=0.0`` equals ``shrinkage=None``, and ``C_a`` is exactly the
    Ledoit-Wolf estimate (:func:`sklearn.covariance.ledoit_wolf`). The
    shrinkage paper's reference code divides the between-class covariance
    by ``n_samples - 1`` instead, which scales its scores by ``n / (n - 1)``.
    The pseudo-inverse drops eigenvalues below ``n_features * eps`` times
    the largest (:func:`scipy.linalg.pinvh`).

    References
    ----------
    .. [1] Y. Bao, Y. Li, S.-L. Huang, L. Zhang, L. Zheng, A. Zamir and L.
       Guibas, "An Information-Theoretic Approach to Transferability in Task
       Transfer Learning", ICIP 2019.
    .. [2] S. Ibrahim, N. Ponomareva and R. Mazumder, "Newer is not always
       better: Rethinking transferability metrics, their peculiarities,
       stability and performance", ECML PKDD 2022 (arXiv:2110.06893).

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import hscore
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, size=100)
    >>> X = np.c_[y + 0.1 * rng.normal(size=100), rng.normal(size=100)]
    >>> print(round(hscore(X, y), 2))  # nearly all variance of feature 0 is between classes
    0.96
    >>> hscore(X, y, shrinkage="auto") <= hscore(X, y)
    True
    """
    X, codes, n_classes = _features_and_classes(X, y, "hscore")
    n, d = X.shape
    if shrinkage is None:
        alpha = 0.0
    elif isinstance(shrinkage, str) and shrinkage == "auto":
        alpha = None
    elif isinstance(shrinkage, Real) and not isinstance(shrinkage, bool) and 0 <= shrinkage <= 1:
        alpha = float(shrinkage)
    else:
        raise ValueError(f"shrinkage must be None, 'auto' or a float in [0, 1], got {shrinkage!r}.")
    Xc = X - X.mean(axis=0)
    cov = Xc.T @ Xc / n
    scale = np.trace(cov) / d
    if scale == 0:  # constant features carry no information
        return 0.0
    if alpha is None:
        alpha = float(ledoit_wolf_shrinkage(X))
    counts = np.bincount(codes, minlength=n_classes)
    means = np.zeros((n_classes, d))
    np.add.at(means, codes, Xc)
    means /= counts[:, None]
    between = (1.0 - alpha) * (means.T * (counts / n)) @ means
    cov = (1.0 - alpha) * cov + alpha * scale * np.eye(d)
    return float(np.sum(pinvh(cov) * between))
