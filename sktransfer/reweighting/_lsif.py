"""uLSIF and RuLSIF: density ratios by least squares, in closed form
(Kanamori, Hido & Sugiyama, 2009; Yamada, Suzuki, Kanamori, Hachiya &
Sugiyama, 2011)."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances

from .._compat import Interval
from .._kernels import kernel
from .._sampling import random_rows
from ._base import BaseWeighter
from ._centres import (
    check_candidates,
    check_fold_count,
    fold_ids,
    gamma_candidates_at_centres,
)

__all__ = ["RULSIF", "ULSIF"]

logger = logging.getLogger(__name__)

#: Ridge penalties tried when ``reg=None`` (the authors' code uses 10^-3 .. 10).
REGS = np.logspace(-3, 1, 5)


class _FoldMoments:
    """First and second moments of the kernel columns ``exp(-gamma D)``, per fold and
    bandwidth, and over all rows: ``grams`` is ``(n_folds, n_gammas, b, b)``.

    The kernel columns and their products are computed in float32 and the
    moments kept in float64: they only rank the candidates, and the final
    model is fitted in float64.
    """

    def __init__(self, D: np.ndarray, fold_of: np.ndarray, n_folds: int, gammas: np.ndarray):
        self.fold_of, self.n_folds = fold_of, n_folds
        self.counts = np.bincount(fold_of, minlength=n_folds)
        # Every bandwidth of a fold at once: (n_gammas, n_fold, b) kernel columns, one batched product.
        self.grams = np.empty((n_folds, gammas.size, D.shape[1], D.shape[1]))
        self.sums = np.empty((n_folds, gammas.size, D.shape[1]))
        for fold in range(n_folds):
            # The exponents in float64 (gamma ~ 1 / D can be far outside float32's range), then cast:
            # an exponent past float32's range becomes -inf, whose exp is the 0 it would underflow to.
            with np.errstate(over="ignore"):
                exponents = (-gammas[:, None, None] * D[fold_of == fold]).astype(np.float32)
            Phi = np.exp(exponents)
            self.grams[fold] = Phi.transpose(0, 2, 1) @ Phi
            self.sums[fold] = Phi.sum(axis=1)
        self.total_gram, self.total_sum = self.grams.sum(axis=0), self.sums.sum(axis=0)

    def gram(self, fold: int) -> np.ndarray:
        """``Phi^T Phi / n`` over the fold's rows, one per bandwidth."""
        return self.grams[fold] / self.counts[fold]

    def mean(self, fold: int) -> np.ndarray:
        return self.sums[fold] / self.counts[fold]

    def train_gram(self, fold: int) -> np.ndarray:
        """``Phi^T Phi / n`` over the rows outside the fold, one per bandwidth."""
        return (self.total_gram - self.grams[fold]) / (self.counts.sum() - self.counts[fold])

    def train_mean(self, fold: int) -> np.ndarray:
        return (self.total_sum - self.sums[fold]) / (self.counts.sum() - self.counts[fold])


class _LeastSquaresRatio(BaseWeighter):
    """Shared fit of uLSIF (``mix = 0``) and RuLSIF (``mix = alpha``).

    The model ``r(x) = sum_l theta_l k(x, c_l)`` on target centres minimises
    ``(1 - a)/2 E_s[r^2] + a/2 E_t[r^2] - E_t[r] + lambda/2 |theta|^2``,
    which is ``theta = (H + lambda I)^{-1} h`` with ``H = (1 - a) Phi_s^T
    Phi_s / n_s + a Phi_t^T Phi_t / n_t`` and ``h = Phi_t^T 1 / n_t``; then
    ``theta = max(theta, 0)`` so the ratio is non-negative.
    """

    _parameter_constraints: dict = {
        "gamma": ["array-like", Interval(Real, 0, None, closed="neither"), None],
        "reg": ["array-like", Interval(Real, 0, None, closed="neither"), None],
        "n_centers": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    _mix = 0.0

    @staticmethod
    def _moments(Phi_s: np.ndarray, Phi_t: np.ndarray, mix: float) -> tuple[np.ndarray, np.ndarray]:
        H = (1.0 - mix) * (Phi_s.T @ Phi_s) / Phi_s.shape[0]
        if mix > 0:
            H += mix * (Phi_t.T @ Phi_t) / Phi_t.shape[0]
        return H, Phi_t.mean(axis=0)

    @staticmethod
    def _solve(H: np.ndarray, h: np.ndarray, lam: float) -> np.ndarray:
        theta = np.linalg.solve(H + lam * np.eye(H.shape[0]), h)
        return np.maximum(theta, 0.0)

    def _cv_scores(self, source: _FoldMoments, target: _FoldMoments, centres: np.ndarray) -> np.ndarray:
        """Held-out squared-loss criterion of each (gamma, reg), averaged over the folds (lower is better).

        Everything the criterion needs is a moment of the kernel columns: the
        training ``H`` of a fold is the whole Gram minus the fold's, and the
        held-out ``E[r^2] = theta^T G_fold theta / n_fold``, so the folds cost
        one pass over the rows; each fold then solves the systems of every
        bandwidth and ridge in one batched call.
        """
        mix, n_folds = self._mix, source.n_folds
        scores = np.zeros((self.gammas_.size, self.regs_.size))
        for fold in range(n_folds):
            cols = np.flatnonzero(target.fold_of[centres] != fold)
            if cols.size == 0:  # every centre held out (a tiny target): keep them all
                cols = np.arange(centres.size)
            block = (slice(None), cols[:, None], cols)
            H = (1.0 - mix) * source.train_gram(fold)[block]
            if mix > 0:
                H += mix * target.train_gram(fold)[block]
            h = target.train_mean(fold)[:, cols]
            systems = H[:, None] + self.regs_[None, :, None, None] * np.eye(cols.size)  # (G, R, b, b)
            rhs = np.broadcast_to(h[:, None, :, None], systems.shape[:3] + (1,))
            thetas = np.maximum(np.linalg.solve(systems, rhs)[..., 0], 0.0)  # (G, R, b)
            G_out = (1.0 - mix) * source.gram(fold)[block] + mix * target.gram(fold)[block]
            ht_out = target.mean(fold)[:, cols]
            scores += (0.5 * np.einsum("grb,gbc,grc->gr", thetas, G_out, thetas)
                       - np.einsum("grb,gb->gr", thetas, ht_out)) / n_folds
        return scores

    def _fit(self, Xs: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        who = type(self).__name__
        check_candidates(self.gamma, "gamma", who)
        check_candidates(self.reg, "reg", who)
        self.regs_ = REGS if self.reg is None else np.atleast_1d(
            np.asarray(self.reg, dtype=float)
        )
        # One draw of centres and one pair of squared-distance matrices serve every
        # gamma, fold and the final model: each kernel is exp(-gamma D). A fold leaves
        # out the centres that are its own held-out target rows (a held-out row on a
        # centre would reward narrow kernels). Drawing centres and kernels per fold and
        # gamma instead took 25 times the distance work: uLSIF was 25-70x slower than
        # ADAPT's single fit in the suite (BENCHMARKS.md, issue 21).
        centres = random_rows(Xt.shape[0], self.n_centers, rng)
        self.centers_ = Xt[centres]
        D_s = euclidean_distances(Xs, self.centers_, squared=True)
        D_t = euclidean_distances(Xt, self.centers_, squared=True)
        self.gammas_ = gamma_candidates_at_centres(self.gamma, [D_s, D_t])
        self.cv_scores_ = np.zeros((self.gammas_.size, self.regs_.size))
        if self.cv_scores_.size > 1:
            n_folds = self.cv
            fixed = "a single gamma and reg (e.g. gamma=1.0, reg=0.1)"
            check_fold_count(Xt.shape[0], n_folds, "target", who, fixed)
            check_fold_count(Xs.shape[0], n_folds, "source", who, fixed)
            folds_s = fold_ids(Xs.shape[0], n_folds, rng)
            folds_t = fold_ids(Xt.shape[0], n_folds, rng)
            self.cv_scores_ = self._cv_scores(
                _FoldMoments(D_s, folds_s, n_folds, self.gammas_),
                _FoldMoments(D_t, folds_t, n_folds, self.gammas_),
                centres,
            )
        i, j = np.unravel_index(np.argmin(self.cv_scores_), self.cv_scores_.shape)
        self.gamma_, self.reg_ = float(self.gammas_[i]), float(self.regs_[j])
        logger.info("%s: gamma=%.4g, lambda=%.4g", who, self.gamma_, self.reg_)
        Phi_s, Phi_t = np.exp(-self.gamma_ * D_s), np.exp(-self.gamma_ * D_t)
        self.theta_ = self._solve(*self._moments(Phi_s, Phi_t, self._mix), self.reg_)
        return Phi_s @ self.theta_

    def _likely_cause(self) -> str:
        return (
            f"{type(self).__name__} used gamma_={self.gamma_:.3g} and reg_={self.reg_:.3g}: a "
            "kernel far narrower than the distances between rows (a large gamma) vanishes at "
            "the source rows, and a tiny reg leaves the solve ill-conditioned. Pass a smaller "
            "gamma (or gamma=None, searched by cross-validation) and a larger reg."
        )

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        return kernel(X, self.centers_, "rbf", self.gamma_) @ self.theta_


_PARAMS_DOC = """
    gamma : float, array-like of float or None, default=None
        Gaussian kernel bandwidth (``exp(-gamma ||x - c||^2)``). A list is
        searched by least-squares cross-validation; None searches five values
        from 0.1 to 10 times ``1 / median`` of the squared distances from
        the rows to the kernel centres.
    reg : float, array-like of float or None, default=None
        Ridge penalty on ``theta``; a list is searched jointly with
        ``gamma``; None searches ``10^-3 .. 10``.
    n_centers : int, default=100
        Number of kernel centres, target rows drawn at random.
    cv : int, default=5
        Folds of the cross-validation (each fold splits source and target
        rows).
    random_state : int, RandomState instance or None, default=None
        Draws the centres and the folds."""

_ATTRIBUTES_DOC = """
    weights_ : ndarray of shape (n_samples,)
        Weights of the training rows: the estimated ratio on source rows, 0 on
        target rows.
    effective_sample_size_ : float
        Kish's effective sample size of the source weights.
    gamma_ : float
        The bandwidth chosen.
    reg_ : float
        The ridge penalty chosen.
    gammas_ : ndarray of shape (n_gammas,)
        The bandwidth candidates.
    regs_ : ndarray of shape (n_regs,)
        The penalty candidates.
    cv_scores_ : ndarray of shape (n_gammas, n_regs)
        Held-out squared-loss criterion of each pair (lower is better).
    centers_ : ndarray of shape (n_centers, n_features)
        Kernel centres of the final model.
    theta_ : ndarray of shape (n_centers,)
        Non-negative coefficients of the final model.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names."""


class ULSIF(_LeastSquaresRatio):
    __doc__ = f"""Unconstrained least-squares importance fitting: the density ratio in closed form.

    Fits ``w(x) = sum_l theta_l exp(-gamma ||x - c_l||^2)`` (centres ``c_l``
    drawn from the target rows) to ``p_target / p_source`` in squared loss
    under the source density, which has the closed-form solution ``theta =
    (H + lambda I)^-1 h``; ``gamma`` and ``reg`` are chosen by
    cross-validating that same squared loss.

    Parameters
    ----------{_PARAMS_DOC}

    Attributes
    ----------{_ATTRIBUTES_DOC}

    See Also
    --------
    RULSIF : The relative ratio, bounded above, for heavier shifts.
    KLIEP : The maximum-likelihood counterpart.

    Notes
    -----
    The paper chooses ``gamma`` and ``lambda`` by an analytic leave-one-out
    score; we use k-fold cross-validation of the same squared-loss criterion.
    The centres are drawn once from the target rows and each fold leaves out
    those among its held-out rows, so the squared distances to the centres
    are computed once for every candidate and fold. The cross-validation's
    kernel columns are computed in float32 (its scores move by about 1e-5
    relative and no pick changed over 180 fits on the benchmark suite's
    tasks; the fit is 15-25% shorter), the final model in float64. Negative
    coefficients are set to 0 after solving, as in the paper. Memory is
    ``O(n b)``.

    ``effective_sample_size_`` below 20% of the source rows draws a
    :class:`~sktransfer.exceptions.DegenerateWeightsWarning` from the
    estimator trained with the weights (its docstring gives the measurement).

    References
    ----------
    .. [1] T. Kanamori, S. Hido and M. Sugiyama, "A Least-squares Approach to
       Direct Importance Estimation", JMLR 10, 2009.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.reweighting import ULSIF
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, random_state=0)
    >>> ulsif = ULSIF(random_state=0).fit(X, y, sample_domain=sample_domain)
    >>> bool(ulsif.weights_.min() >= 0)
    True
    """

    def __init__(self, gamma=None, *, reg=None, n_centers=100, cv=5, random_state=None):
        self.gamma = gamma
        self.reg = reg
        self.n_centers = n_centers
        self.cv = cv
        self.random_state = random_state


class RULSIF(_LeastSquaresRatio):
    __doc__ = f"""Relative uLSIF: the alpha-relative density ratio, bounded by 1 / alpha.

    Estimates ``r_alpha(x) = p_t(x) / (alpha p_t(x) + (1 - alpha) p_s(x))``,
    which is smoother than the plain ratio and never exceeds ``1 / alpha``,
    so a few source rows cannot take all the weight. ``alpha=0`` is
    :class:`ULSIF`. The relative ratio is an increasing function of the true
    ratio, so it ranks source rows the same way.

    Parameters
    ----------
    alpha : float in [0, 1), default=0.1
        Share of the target density in the denominator.{_PARAMS_DOC}

    Attributes
    ----------{_ATTRIBUTES_DOC}

    See Also
    --------
    ULSIF : The plain density ratio (``alpha=0``).

    Notes
    -----
    As :class:`ULSIF`: k-fold cross-validation of the squared loss instead of
    the analytic leave-one-out score, negative coefficients set to 0.

    ``effective_sample_size_`` below 20% of the source rows draws a
    :class:`~sktransfer.exceptions.DegenerateWeightsWarning` from the
    estimator trained with the weights (its docstring gives the measurement).

    References
    ----------
    .. [1] M. Yamada, T. Suzuki, T. Kanamori, H. Hachiya and M. Sugiyama,
       "Relative Density-Ratio Estimation for Robust Distribution
       Comparison", NIPS 2011.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.reweighting import RULSIF
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, random_state=0)
    >>> rulsif = RULSIF(alpha=0.5, random_state=0).fit(X, y, sample_domain=sample_domain)
    >>> rulsif.compute_weights(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_LeastSquaresRatio._parameter_constraints,
        "alpha": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self, alpha=0.1, *, gamma=None, reg=None, n_centers=100, cv=5, random_state=None
    ):
        self.alpha = alpha
        self.gamma = gamma
        self.reg = reg
        self.n_centers = n_centers
        self.cv = cv
        self.random_state = random_state

    @property
    def _mix(self) -> float:
        return float(self.alpha)
