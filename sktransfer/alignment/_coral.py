"""CORAL: CORrelation ALignment (Sun, Feng & Saenko, 2016)."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import OneToOneFeatureMixin
from sklearn.covariance import ledoit_wolf_shrinkage

from .._compat import Interval, StrOptions
from .._linalg import shifted_gram_power
from ..base import BaseAdapter
from ..domain import Domains

__all__ = ["CORAL"]


def _covariance_model(X: np.ndarray, reg: float | str) -> tuple[np.ndarray, float, float]:
    """Centred rows and ``(alpha, beta)`` with covariance ``alpha Xc^T Xc + beta I``."""
    n, d = X.shape
    Xc = X - X.mean(axis=0)
    if reg == "auto":
        # Ledoit-Wolf: (1 - a) Xc^T Xc / n + a mu I, mu = trace / d. Its shrinkage
        # sums fourth powers, which overflow long before the covariance does; it is
        # scale-free, so it is computed on X scaled by a power of two (exact).
        exponent = np.frexp(np.max(np.abs(X), initial=0.0))[1]
        shrinkage = ledoit_wolf_shrinkage(np.ldexp(X, -exponent))
        return Xc, (1.0 - shrinkage) / n, shrinkage * np.sum(Xc**2) / (n * d)
    return Xc, (1.0 / (n - 1) if n > 1 else 0.0), float(reg)


def _covariance_and_power(X: np.ndarray, reg: float | str, p: float) -> tuple[np.ndarray, np.ndarray]:
    """The regularised covariance of ``X`` and its power ``p``, sharing one Gram matrix."""
    Xc, alpha, beta = _covariance_model(X, reg)
    gram = Xc.T @ Xc
    return alpha * gram + beta * np.eye(X.shape[1]), shifted_gram_power(Xc, alpha, beta, p, gram)


class CORAL(OneToOneFeatureMixin, BaseAdapter):
    """CORrelation ALignment: recolour source rows with the target covariance.

    Source rows are whitened with their own covariance and re-coloured with the
    target's, ``X_s A`` with ``A = C_s^{-1/2} C_t^{1/2}``, so that their second-order
    statistics match the target's; with ``center=True`` they are also moved from
    the source mean to the target mean, ``(X_s - mu_s) A + mu_t``. Target rows
    are left unchanged. A model trained on the mapped source rows is then
    applied to target rows as they are.

    Parameters
    ----------
    reg : float >= 0 or "auto", default=1.0
        Regularisation of the two covariance matrices. A float adds ``reg``
        times the identity to each: the paper's ``lambda``, 1 in its code, on
        standardised features (standardise first, e.g. with ``StandardScaler``).
        ``"auto"`` uses Ledoit-Wolf shrinkage, which adapts to the scale of the
        features but can under-regularise features that are nearly constant in
        one domain.
    center : bool, default=True
        Also align the means: source rows are centred on the source mean and
        moved to the target mean. ``False`` is the paper's Algorithm 1 as
        written, which assumes each domain was standardised separately.

    Attributes
    ----------
    mean_source_ : ndarray of shape (n_features,)
        Mean of the source rows (used when ``center=True``).
    mean_target_ : ndarray of shape (n_features,)
        Mean of the target rows (used when ``center=True``).
    cov_source_ : ndarray of shape (n_features, n_features)
        Regularised covariance of the source rows.
    cov_target_ : ndarray of shape (n_features, n_features)
        Regularised covariance of the target rows.
    transform_matrix_ : ndarray of shape (n_features, n_features)
        ``A``: source rows are mapped as ``X @ A`` (``center=False``) or
        ``(X - mean_source_) @ A + mean_target_`` (``center=True``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SubspaceAlignment : Align principal subspaces instead of covariances.
    TransferComponentAnalysis : Learn a shared kernel subspace.

    Notes
    -----
    Follows Algorithm 1 of the paper. The paper aligns covariances only and
    relies on z-scoring each domain beforehand, which also removes the
    difference of means; ``center=True`` (the default) does that mean shift
    itself, so the estimator works on data standardised jointly or not at all
    (``center=False`` reproduces the paper's formula exactly). All source
    domains are pooled into one source covariance, and all target domains
    into one target covariance. Covariances use ``ddof=1`` as MATLAB's ``cov``
    in the authors' code.

    References
    ----------
    .. [1] B. Sun, J. Feng and K. Saenko, "Return of Frustratingly Easy Domain
       Adaptation", AAAI 2016.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.alignment import CORAL
    >>> X, y, sample_domain = make_domain_shift(n_samples=60, random_state=0)
    >>> CORAL().fit_transform(X, y, sample_domain=sample_domain).shape
    (120, 2)
    """

    _parameter_constraints: dict = {
        "reg": [Interval(Real, 0, None, closed="left"), StrOptions({"auto"})],
        "center": ["boolean"],
    }

    def __init__(self, reg: float | str = 1.0, *, center: bool = True):
        self.reg = reg
        self.center = center

    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> None:
        X = X.astype(np.float64, copy=False)
        Xs, Xt = X[domains.source], X[domains.target]
        self.mean_source_, self.mean_target_ = Xs.mean(axis=0), Xt.mean(axis=0)
        # C_s^{-1/2} C_t^{1/2}; each power costs O(n^2 d) when a domain has
        # fewer rows than features, O(d^3) otherwise.
        self.cov_source_, inv_root_source = _covariance_and_power(Xs, self.reg, -0.5)
        self.cov_target_, root_target = _covariance_and_power(Xt, self.reg, 0.5)
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            transform = inv_root_source @ root_target
        self.transform_matrix_ = self._check_finite(transform, "transform matrix C_s^-1/2 C_t^1/2")

    def _likely_cause(self) -> str:
        return (
            f"With reg={self.reg!r}, a covariance that is singular or nearly so (fewer rows "
            "than features, a constant or duplicated feature) is inverted as it is. Pass "
            "reg='auto' or a reg > 0, and standardise X first (StandardScaler)."
        )

    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        X_new = X.copy()
        source = sample_domain > 0
        A = self.transform_matrix_.astype(X.dtype, copy=False)
        if self.center:
            X_new[source] = (X[source] - self.mean_source_) @ A + self.mean_target_
        else:
            X_new[source] = X[source] @ A
        return X_new
