"""JDOT: joint distribution optimal transport (Courty, Flamary, Habrard & Rakotomamonjy, 2017)."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import check_is_fitted

from .._compat import HasMethods, Interval, _fit_context
from .._delegation import delegate
from .._labelled_score import LabelledScoreMixin
from .._pot import EMD_MAX_ITER, import_pot
from ..base import DomainAwareMixin
from ._validation import check_y

__all__ = ["JDOTRegressor"]


class _BaseJDOT(DomainAwareMixin, BaseEstimator):
    """The JDOT alternation; subclasses define the label loss.

    Subclasses implement ``_default_estimator()``, ``_encode(ys, estimator)``
    (validate the source labels, return them in the form the loss uses),
    ``_initial_label_cost(labels, n_target)`` and ``_refit(estimator, Xt,
    plan, labels)``: fit on the transported labels, return the label loss and
    the ``n_source x n_target`` loss of each source label against each target
    prediction, the label part of the next plan's cost.
    """

    _domain_needs = ("source", "target", "source_labels")

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "alpha": [Interval(Real, 0, 1, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def _default_estimator(self) -> Any:
        raise NotImplementedError

    def _template(self) -> Any:
        return self._default_estimator() if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike, sample_domain: ArrayLike | None = None):
        """Alternate optimal transport of the joint distribution and fits of the estimator.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Labels of the source rows; target labels masked (``-1`` for
            classes, ``NaN`` for regression) and, if present, not used.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row (> 0 source, < 0 target); None infers it from
            the label mask.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_rows(X, reset=True)
        y = check_y(self, X, y)
        domains = self._check_domains(X, y, sample_domain)
        ot = import_pot(type(self).__name__)
        X = X.astype(np.float64, copy=False)
        Xs, Xt = X[domains.source], X[domains.target]
        estimator = clone(self._template())
        labels = self._encode(y[domains.source], estimator)
        n_source, n_target = Xs.shape[0], Xt.shape[0]
        feature_cost = self._check_finite(ot.dist(Xs, Xt), "squared distances")
        scale = feature_cost.mean()
        if scale > 0:
            feature_cost = feature_cost / scale
        a, b = np.full(n_source, 1.0 / n_source), np.full(n_target, 1.0 / n_target)
        label_cost = self._initial_label_cost(labels, n_target)
        ot_losses, label_losses = [], []
        for i in range(self.max_iter):
            # The first plan transports the features alone: there is no model yet.
            cost = (1.0 - self.alpha) * feature_cost + (self.alpha * label_cost if i else 0.0)
            plan, log = ot.emd(a, b, self._check_finite(cost, "joint cost matrix"),
                               numItermax=EMD_MAX_ITER, log=True)
            if log["warning"] is not None:  # the plan is feasible but not optimal
                warnings.warn(
                    f"{type(self).__name__}: the exact transport of alternation {i + 1} stopped "
                    f"before optimality ({log['warning']}) after {EMD_MAX_ITER:,} network simplex "
                    f"iterations ({n_source} x {n_target} rows); its plan is used as it is. Fit on "
                    "fewer rows, or subsample each domain.",
                    ConvergenceWarning,
                    stacklevel=3,
                )
            ot_losses.append(float(np.sum(plan * ((1.0 - self.alpha) * feature_cost + self.alpha * label_cost))))
            label_loss, label_cost = self._refit(estimator, Xt, plan / b, labels)
            label_losses.append(float(label_loss))
            if i and (abs(ot_losses[-1] - ot_losses[-2]) < self.tol
                      or abs(label_losses[-1] - label_losses[-2]) < self.tol):
                break
        else:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter={self.max_iter} alternations "
                f"(last change of the transport loss {abs(ot_losses[-1] - ot_losses[-2]):.3g}, "
                f"tol={self.tol}); increase max_iter or tol."
                if len(ot_losses) > 1 else
                f"{type(self).__name__} ran max_iter=1 alternation, the transport of the features "
                "alone: pass max_iter > 1 to adapt the plan to the model.",
                ConvergenceWarning,
                stacklevel=3,
            )
        self.estimator_ = estimator
        self.n_iter_ = len(ot_losses)
        self.ot_losses_ = np.array(ot_losses)
        self.label_losses_ = np.array(label_losses)
        return self

    def _validate_X(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self)
        return self._validate_rows(X, reset=False)


class JDOTRegressor(LabelledScoreMixin, RegressorMixin, _BaseJDOT):
    """Joint distribution optimal transport for regression: learn on transported labels.

    JDOT looks for a predictor ``f`` that makes the joint distribution of
    ``(x_t, f(x_t))`` on the target rows close, in optimal transport, to the
    source's ``(x_s, y_s)``, with the cost ``(1 - alpha) ||x_s - x_t||^2 /
    m + alpha (y_s - f(x_t))^2`` (``m`` the mean squared distance). It
    alternates an exact transport plan ``G`` for the current ``f`` with a
    refit of ``f`` on the target rows labelled by the plan,
    ``y_t_j = sum_i G_ij y_s_i / sum_i G_ij``, until the transport loss or
    the label loss changes by less than ``tol``.

    Parameters
    ----------
    estimator : regressor or None, default=None
        The model refitted on the transported labels; it should minimise a
        squared loss (``Ridge``, ``LinearRegression``, ``KernelRidge``,
        ``MLPRegressor``...), as JDOT's alternation assumes. None uses
        ``Ridge()``. Cloned.
    alpha : float in [0, 1), default=0.5
        Weight of the label loss in the cost; ``1 - alpha`` weighs the
        normalised feature distance.
    max_iter : int >= 1, default=100
        Maximum number of alternations (transport plan + refit).
    tol : float >= 0, default=1e-5
        Stop when the transport loss or the label loss changes by less.

    Attributes
    ----------
    estimator_ : regressor
        The model fitted on the target rows with their transported labels.
    n_iter_ : int
        Number of alternations run.
    ot_losses_ : ndarray of shape (``n_iter_``,)
        Transport loss ``<G, C>`` of each alternation.
    label_losses_ : ndarray of shape (``n_iter_``,)
        Mean squared difference between the transported labels and the
        model's predictions on the target rows, after each refit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    JDOTClassifier : The same with a classification loss.
    sktransfer.alignment.OptimalTransportMapping : Transport the features only.

    Notes
    -----
    The algorithm is skada's ``JDOTRegressor`` (Flamary's reference
    implementation): the feature cost is divided by its mean, the first
    plan uses the feature cost alone, each plan is exact (``ot.emd``) between
    uniform weights, and the stopping rule is the same. The paper writes the
    cost as ``alpha_paper d(x_s, x_t) + L(y_s, f(x_t))``; this is the same up
    to a factor with ``alpha_paper = (1 - alpha) / (alpha m)``. All source
    domains are pooled, as are all target domains; labelled target rows are
    treated as unlabelled. The plan costs ``n_source x n_target`` memory.

    References
    ----------
    .. [1] N. Courty, R. Flamary, A. Habrard and A. Rakotomamonjy, "Joint
       Distribution Optimal Transportation for Domain Adaptation", NeurIPS 2017.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.parameter import JDOTRegressor
    >>> X, y, sample_domain = make_domain_shift(
    ...     n_samples=30, task="regression", random_state=0)
    >>> model = JDOTRegressor().fit(X, y, sample_domain=sample_domain)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    def __init__(self, estimator: Any = None, *, alpha: float = 0.5, max_iter: int = 100, tol: float = 1e-5):
        self.estimator = estimator
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol


    def _default_estimator(self) -> Any:
        return Ridge()

    def _encode(self, ys: np.ndarray, estimator: Any) -> np.ndarray:
        try:
            ys = ys.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{type(self).__name__} needs numeric regression targets on the source rows; "
                f"got {ys.dtype} values. For class labels use JDOTClassifier."
            ) from exc
        assert_all_finite(ys, input_name="y", estimator_name=type(self).__name__)
        return ys

    def _initial_label_cost(self, ys: np.ndarray, n_target: int) -> np.ndarray:
        # The loss of the constant model f = 0: not in the first plan's cost, only in its loss.
        return np.repeat(ys[:, None] ** 2, n_target, axis=1)

    def _refit(
        self, estimator: Any, Xt: np.ndarray, plan: np.ndarray, ys: np.ndarray
    ) -> tuple[float, np.ndarray]:
        y_transported = plan.T @ ys  # each column of plan sums to 1
        estimator.fit(Xt, y_transported)
        pred = np.asarray(estimator.predict(Xt), dtype=np.float64).ravel()
        with np.errstate(over="ignore", invalid="ignore"):  # checked when the cost is formed
            return float(np.mean((y_transported - pred) ** 2)), (ys[:, None] - pred[None, :]) ** 2

    predict = delegate("JDOTRegressor", "predict", "the model fitted on the target rows")
