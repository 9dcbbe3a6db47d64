"""RegularTransfer for regression (Chelba & Acero, 2006): least squares pulled to the source."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.utils.validation import check_is_fitted

from .._compat import HasMethods, Interval, _fit_context
from .._labelled_score import LabelledScoreMixin
from .._sample_weights import check_sample_weight
from ..base import DomainAwareMixin, check_takes_sample_weight
from ..domain import Domains
from ._validation import check_y

__all__ = ["RegularTransferRegressor"]


def ridge_step(Z: np.ndarray, r: np.ndarray, alpha: float) -> np.ndarray:
    """``argmin_s ||Z s - r||^2 + alpha ||s||^2``; the minimum-norm least squares at 0.

    Solved as the least squares ``[sqrt(alpha) I; Z] s = [0; r]`` by a
    Householder QR, never through ``Z^T Z + alpha I``: forming that matrix
    squares the condition number, so a large offset (``X + 1e12``) made it
    singular to working precision and ``X * 1e150`` ill-conditioned. The QR
    keeps columns on very different scales accurate (the intercept's ones
    beside ``X * 1e150``), and the penalty rows come first so that data rows
    far smaller than them (``X * 1e-150``) are not rounded away; against a
    solve in 900-digit arithmetic (mpmath) both stay within 1e-14, where an SVD of ``Z`` is off by
    orders of magnitude. With fewer rows than columns the dual ``s = Z^T (Z
    Z^T + alpha I)^{-1} r`` is solved the same way: from the QR of
    ``[sqrt(alpha) I; Z^T]``, ``s = Q[n:] R^{-T} r``.
    """
    n, p = Z.shape
    if alpha == 0:
        return np.linalg.lstsq(Z, r, rcond=None)[0]
    if n < p:
        Q, R = np.linalg.qr(np.vstack([np.sqrt(alpha) * np.eye(n), Z.T]))
        return Q[n:] @ scipy.linalg.solve_triangular(R, r, trans="T")
    Q, R = np.linalg.qr(np.vstack([np.sqrt(alpha) * np.eye(p), Z]))
    return scipy.linalg.solve_triangular(R, Q[p:].T @ r)


class _BaseRegularTransfer(DomainAwareMixin, BaseEstimator):
    """Shared fit steps: validate, fit the source model, return the target rows.

    Subclasses define ``_default_source_estimator`` and ``_fit_target``.
    """

    _domain_needs = ("source", "target", "source_labels", "target_labels", "sample_domain")

    def _default_source_estimator(self) -> Any:
        raise NotImplementedError

    def _fit_target(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, theta_source: np.ndarray
    ) -> np.ndarray:
        raise NotImplementedError

    def _check_labels(self, y: np.ndarray) -> None:
        """Validate the labels of the labelled rows (classifiers refuse continuous ones)."""

    def _fit_source(self, X: np.ndarray, y: np.ndarray, domains: Domains, weights: np.ndarray | None):
        """Fit the source model on the labelled source rows; return its parameters.

        Returns ``(coef, intercept)`` as arrays of shape ``(k, d)`` and ``(k,)``.
        """
        who = type(self).__name__
        if self.source_estimator is None:
            estimator = self._default_source_estimator()
        else:
            estimator = clone(self.source_estimator)
        rows = domains.source & domains.labelled
        kwargs = {}
        if weights is not None:
            check_takes_sample_weight(estimator, self, role="source_estimator")
            kwargs["sample_weight"] = weights[rows]
        estimator.fit(X[rows], y[rows], **kwargs)
        if not hasattr(estimator, "coef_"):
            raise TypeError(
                f"{who} needs a linear source_estimator with coef_ and intercept_ (e.g. "
                f"Ridge, LogisticRegression), but the fitted {type(estimator).__name__} "
                "has no coef_."
            )
        coef = np.atleast_2d(np.asarray(estimator.coef_, dtype=np.float64))
        if coef.shape[1] != X.shape[1]:
            raise ValueError(
                f"{who}: source_estimator.coef_ has shape {np.shape(estimator.coef_)}, "
                f"expected {X.shape[1]} coefficients per output (one per feature)."
            )
        intercept = np.asarray(getattr(estimator, "intercept_", 0.0), dtype=np.float64)
        intercept = np.broadcast_to(intercept.ravel() if intercept.ndim else intercept, coef.shape[:1])
        self.source_estimator_ = estimator
        return coef, np.array(intercept)

    def _store(self, theta: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        """Set the fitted parameters from ``theta`` (``(k, d [+ 1])``) and the source's."""
        d = coef.shape[1]
        self.source_coef_, self.source_intercept_ = coef, intercept
        self.coef_ = theta[:, :d]
        self.intercept_ = theta[:, d] if self.fit_intercept else np.zeros(theta.shape[0])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,
        sample_domain: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Fit the source model, then the penalised model on the labelled target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Labels; unlabelled rows masked (``-1`` for classes, ``NaN`` for
            regression). Some target rows must be labelled.
        sample_domain : array-like of shape (n_samples,)
            Domain id per row: > 0 source, < 0 target. Required.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights: of the target rows in the adaptation, of the source
            rows in ``source_estimator.fit``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        who = type(self).__name__
        X = self._validate_rows(X, reset=True)
        y = check_y(self, X, y)
        domains = self._check_domains(X, y, sample_domain)
        self._check_labels(y[domains.labelled])
        weights = check_sample_weight(sample_weight, X.shape[0], self)
        X = X.astype(np.float64, copy=False)
        coef, intercept = self._fit_source(X, y, domains, weights)
        target = domains.target & domains.labelled
        X_target = X[target]
        if self.fit_intercept:
            X_target = np.hstack([X_target, np.ones((X_target.shape[0], 1))])
            theta_source = np.hstack([coef, intercept[:, None]])
        else:
            theta_source = coef
        w_target = np.ones(X_target.shape[0]) if weights is None else weights[target]
        if not np.any(w_target > 0):
            raise ValueError(f"{who}: every labelled target row has sample_weight 0.")
        self._store(self._fit_target(X_target, y[target], w_target, theta_source), coef, intercept)
        return self


class RegularTransferRegressor(LabelledScoreMixin, RegressorMixin, _BaseRegularTransfer):
    """Least squares on the target rows, penalised towards the source solution.

    A linear model ``source_estimator`` is fitted on the labelled source rows,
    giving ``(w_s, b_s)``; the model is then fitted on the labelled target rows
    by minimising::

        sum_i sample_weight_i (y_i - x_i w - b)^2 + alpha (||w - w_s||^2 + (b - b_s)^2)

    which is ridge regression of the residual ``y - X w_s - b_s`` added back
    to ``(w_s, b_s)``, solved in closed form. ``alpha -> 0`` gives least
    squares on the target rows (the solution closest to the source one when
    several fit exactly); ``alpha -> inf`` keeps the source model.

    Parameters
    ----------
    alpha : float >= 0, default=10.0
        Strength of the pull towards the source parameters, in the units of
        the summed squared error (see Notes for how the default was chosen).
    source_estimator : estimator instance, default=None
        Linear regressor fitted (as a clone) on the labelled source rows; it
        must expose ``coef_`` and ``intercept_``. None means
        ``Ridge(fit_intercept=fit_intercept)``.
    fit_intercept : bool, default=True
        Learn an intercept, pulled towards the source intercept like the
        coefficients. False fixes it at 0 and ignores the source intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients of the adapted model.
    intercept_ : float
        Intercept of the adapted model (0.0 when ``fit_intercept=False``).
    source_coef_ : ndarray of shape (n_features,)
        Coefficients of the source model, ``w_s``.
    source_intercept_ : float
        Intercept of the source model, ``b_s``.
    source_estimator_ : estimator instance
        The fitted source model.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    RegularTransferClassifier : The logistic-loss counterpart.
    PretrainFineTune : Continue training any warm-startable or incremental model.

    Notes
    -----
    Chelba and Acero [1]_ adapt a maximum-entropy model with a Gaussian prior
    centred on the source parameters; this is the same prior on a linear
    least-squares model (as in [2]_). The intercept is pulled towards the
    source intercept like the other parameters (the paper's bias is one more
    feature), unlike scikit-learn's ``Ridge`` where it is unpenalised. The loss
    is summed over rows, so the prior matters less as target rows are added.
    All source domains are pooled to fit ``source_estimator``; all labelled
    target rows are pooled in the adaptation. ``sample_weight`` weights the
    target rows' loss and is passed to ``source_estimator.fit`` for the source
    rows.

    The default ``alpha`` (``benchmarks/regular_transfer_regression.py``):
    target RMSE, standardised features and target, mean over 4 splits of
    scikit-learn's diabetes data (sex, age) and 6 synthetic concept and
    covariate shifts, 5 draws of ``k`` labelled target rows each,

    ============  ======  ======  ======
    alpha         k = 5   k = 10  k = 20
    ============  ======  ======  ======
    0.1           1.022   1.390   1.018
    1             0.940   0.992   0.904
    10            0.842   0.818   0.779
    100           0.839   0.826   0.807
    source only   0.849   0.848   0.848
    target only   1.152   1.069   0.929
    ============  ======  ======  ======

    ``alpha = 1`` (ADAPT's ``RegularTransferLR`` default, the same objective)
    fits the few target rows so closely that it loses to the source model
    alone; 10 is the best or within 0.003 of it at each ``k``. The summed
    loss has the units of ``y`` squared: with a target on another scale,
    scale ``alpha`` by its variance (or standardise ``y``).

    References
    ----------
    .. [1] C. Chelba and A. Acero, "Adaptation of maximum entropy capitalizer:
       Little data can help a lot", Computer Speech & Language 20(4), 2006.
    .. [2] A. de Mathelin, F. Deheeger, G. Richard, M. Mougeot and N. Vayatis,
       "ADAPT: Awesome Domain Adaptation Python Toolbox", arXiv:2107.03049, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.parameter import RegularTransferRegressor
    >>> X, y, sd = make_domain_shift(n_samples=50, task="regression",
    ...     shift="concept", mask_target=False, random_state=0)
    >>> y_fit = y.copy()
    >>> y_fit[np.flatnonzero(sd < 0)[5:]] = np.nan  # five labelled target rows
    >>> model = RegularTransferRegressor(alpha=10.0).fit(X, y_fit, sample_domain=sd)
    >>> model.coef_.shape
    (2,)
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "source_estimator": [HasMethods(["fit"]), None],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, alpha: float = 10.0, *, source_estimator: Any = None, fit_intercept: bool = True):
        self.alpha = alpha
        self.source_estimator = source_estimator
        self.fit_intercept = fit_intercept

    def _default_source_estimator(self) -> Any:
        return Ridge(fit_intercept=self.fit_intercept)

    def _fit_target(
        self, X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray, theta_source: np.ndarray
    ) -> np.ndarray:
        if theta_source.shape[0] != 1:
            raise ValueError(
                f"{type(self).__name__} fits one output, but source_estimator.coef_ has "
                f"{theta_source.shape[0]} rows."
            )
        root = np.sqrt(sample_weight)
        r = (y.astype(np.float64) - X @ theta_source[0]) * root
        theta = theta_source + ridge_step(X * root[:, None], r, self.alpha)[None, :]
        return self._check_finite(theta, "coefficients")

    def _store(self, theta: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> None:
        super()._store(theta, coef, intercept)
        self.coef_, self.intercept_ = self.coef_[0], float(self.intercept_[0])
        self.source_coef_, self.source_intercept_ = coef[0], float(intercept[0])

    def predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Predict with the adapted linear model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Ignored; accepted so DAPipeline and the common tests can pass it.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            ``X @ coef_ + intercept_``.
        """
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False)
        return X @ self.coef_ + self.intercept_
