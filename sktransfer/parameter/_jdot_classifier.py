"""JDOT for classification: the alternation of ``_jdot.py`` with a cross-entropy or hinge loss."""

from __future__ import annotations

from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets

from .._compat import Interval, StrOptions
from .._delegation import delegate
from .._labelled_score import LabelledScoreMixin
from ..base import check_takes_sample_weight
from ._jdot import _BaseJDOT

__all__ = ["JDOTClassifier"]

#: Floor of the predicted probabilities in the cross-entropy (as skada's).
_PROBA_FLOOR = 1e-16


def _class_scores(estimator: Any, X: np.ndarray, classes: np.ndarray, loss: str) -> np.ndarray:
    """Per-class log-probabilities (``"log_loss"``) or decision values (``"hinge"``) of ``X``,
    one column per class of ``classes``, whatever subset of them the estimator saw."""
    seen = np.asarray(estimator.classes_)
    if loss == "log_loss":
        scores = np.full((X.shape[0], classes.size), np.log(_PROBA_FLOOR))
        with np.errstate(divide="ignore"):  # log(0) is floored just below
            logp = (estimator.predict_log_proba(X) if hasattr(estimator, "predict_log_proba")
                    else np.log(estimator.predict_proba(X)))
        scores[:, np.searchsorted(classes, seen)] = np.maximum(logp, np.log(_PROBA_FLOOR))
        return scores
    decision = np.asarray(estimator.decision_function(X), dtype=np.float64)
    if decision.ndim == 1:  # binary: the score of seen[1]; seen[0] gets its opposite
        decision = np.column_stack([-decision, decision])
    scores = np.full((X.shape[0], classes.size), -1.0)  # an unseen class: never the prediction
    scores[:, np.searchsorted(classes, seen)] = decision
    return scores


class JDOTClassifier(LabelledScoreMixin, ClassifierMixin, _BaseJDOT):
    """Joint distribution optimal transport for classification: learn on transported labels.

    JDOT looks for a classifier ``f`` that makes the joint distribution of
    ``(x_t, f(x_t))`` on the target rows close, in optimal transport, to the
    source's ``(x_s, y_s)``, with the cost ``(1 - alpha) ||x_s - x_t||^2 /
    m + alpha L(y_s, f(x_t))`` (``m`` the mean squared distance, ``L`` the
    cross-entropy or the hinge loss). It alternates an exact transport plan
    ``G`` for the current ``f`` with a refit of ``f`` on the target rows, each
    repeated once per class with weight ``n_target sum_i G_ij [y_s_i = k]``
    (the share of class ``k`` in the mass the row receives), until the
    transport loss or the label loss changes by less than ``tol``.

    Parameters
    ----------
    estimator : classifier or None, default=None
        The model refitted on the transported labels; its ``fit`` must take
        ``sample_weight``. It should minimise ``loss``: a logistic regression
        or any probabilistic classifier for ``"log_loss"``, a linear SVM
        (``LinearSVC``, ``SVC(kernel="linear")``) for ``"hinge"``. None uses
        ``LogisticRegression()``. Cloned.
    alpha : float in [0, 1), default=0.5
        Weight of the label loss in the cost; ``1 - alpha`` weighs the
        normalised feature distance.
    loss : {"log_loss", "hinge"}, default="log_loss"
        Label loss of the cost: the cross-entropy ``-log p_{y_s}(x_t)`` (needs
        ``predict_proba``), or the one-vs-rest hinge ``sum_k max(0, 1 - y_k
        f_k(x_t))`` with ``y_k = +-1`` (needs ``decision_function``).
    threshold : float in [0, 1), default=1e-6
        Repeated target rows whose weight is below ``threshold`` times the
        largest weight are left out of the refit.
    max_iter : int >= 1, default=100
        Maximum number of alternations (transport plan + refit).
    tol : float >= 0, default=1e-5
        Stop when the transport loss or the label loss changes by less.

    Attributes
    ----------
    estimator_ : classifier
        The model fitted on the target rows with their transported labels.
    classes_ : ndarray of shape (n_classes,)
        Class labels (those of the fitted model).
    n_iter_ : int
        Number of alternations run.
    ot_losses_ : ndarray of shape (``n_iter_``,)
        Transport loss ``<G, C>`` of each alternation.
    label_losses_ : ndarray of shape (``n_iter_``,)
        Weighted label loss of the model on the transported labels, divided
        by the number of target rows, after each refit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    JDOTRegressor : The same with a squared loss.
    sktransfer.alignment.OptimalTransportMapping : Transport the features only.

    Notes
    -----
    The algorithm is skada's ``JDOTClassifier`` (Flamary's reference
    implementation), with two departures. The label loss of the first plan's
    reported transport loss is that of a uniform prediction (``log K`` or
    ``K``), where skada puts a constant 10; the first plan itself uses the
    feature cost alone in both. For two classes the hinge loss reads the
    decision value ``d`` as ``(-d, d)``, where skada repeats ``d`` for both
    classes, which makes its binary hinge cost the same for either label.
    The paper's ``alpha_paper d(x_s, x_t) + L(y_s, f(x_t))`` is this cost up
    to a factor, with ``alpha_paper = (1 - alpha) / (alpha m)``. All source
    domains are pooled, as are all target domains; labelled target rows are
    treated as unlabelled. The plan costs ``n_source x n_target`` memory.

    References
    ----------
    .. [1] N. Courty, R. Flamary, A. Habrard and A. Rakotomamonjy, "Joint
       Distribution Optimal Transportation for Domain Adaptation", NeurIPS 2017.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.parameter import JDOTClassifier
    >>> X, y, sample_domain = make_domain_shift(n_samples=30, random_state=0)
    >>> model = JDOTClassifier().fit(X, y, sample_domain=sample_domain)
    >>> model.classes_
    array([0, 1])
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **_BaseJDOT._parameter_constraints,
        "loss": [StrOptions({"log_loss", "hinge"})],
        "threshold": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        estimator: Any = None,
        *,
        alpha: float = 0.5,
        loss: str = "log_loss",
        threshold: float = 1e-6,
        max_iter: int = 100,
        tol: float = 1e-5,
    ):
        self.estimator = estimator
        self.alpha = alpha
        self.loss = loss
        self.threshold = threshold
        self.max_iter = max_iter
        self.tol = tol


    def _default_estimator(self) -> Any:
        return LogisticRegression()

    def _encode(self, ys: np.ndarray, estimator: Any) -> tuple[np.ndarray, np.ndarray]:
        check_classification_targets(ys)
        check_takes_sample_weight(estimator, self)
        method = "predict_proba" if self.loss == "log_loss" else "decision_function"
        if not hasattr(estimator, method):
            raise TypeError(
                f"JDOTClassifier(loss={self.loss!r}) needs an estimator with {method}, but "
                f"{type(estimator).__name__} has none. Pass loss="
                f"{'hinge' if method == 'predict_proba' else 'log_loss'!r} or another estimator."
            )
        classes, codes = np.unique(ys, return_inverse=True)
        return classes, np.eye(classes.size)[codes]

    def _initial_label_cost(self, labels: tuple[np.ndarray, np.ndarray], n_target: int) -> np.ndarray:
        # The loss of a uniform prediction: not in the first plan's cost, only in its loss.
        k = labels[0].size
        return np.full((labels[1].shape[0], n_target), np.log(k) if self.loss == "log_loss" else float(k))

    def _losses(self, scores: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
        """``(n_labels, n_target)`` loss of each one-hot label row against each row of scores."""
        if self.loss == "log_loss":
            return -one_hot @ scores.T
        signs = 2.0 * one_hot - 1.0
        return np.maximum(0.0, 1.0 - signs[:, None, :] * scores[None, :, :]).sum(axis=2)

    def _refit(
        self, estimator: Any, Xt: np.ndarray, plan: np.ndarray, labels: tuple[np.ndarray, np.ndarray]
    ) -> tuple[float, np.ndarray]:
        classes, one_hot = labels
        n_target, k = Xt.shape[0], classes.size
        shares = plan.T @ one_hot  # (n_target, k): each row sums to 1
        keep = shares.ravel() > self.threshold * shares.max()
        rows = np.repeat(np.arange(n_target), k)[keep]
        estimator.fit(Xt[rows], np.tile(classes, n_target)[keep], sample_weight=shares.ravel()[keep])
        scores = _class_scores(estimator, Xt, classes, self.loss)
        kept = np.where(keep.reshape(n_target, k), shares, 0.0)
        label_loss = float(np.sum(kept * self._losses(scores, np.eye(k)).T)) / n_target
        with np.errstate(over="ignore", invalid="ignore"):  # checked when the cost is formed
            return label_loss, self._losses(scores, one_hot)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the fitted model."""
        return self.estimator_.classes_

    predict = delegate("JDOTClassifier", "predict", "the model fitted on the target rows")
    predict_proba = delegate("JDOTClassifier", "predict_proba", "the model fitted on the target rows")
    predict_log_proba = delegate(
        "JDOTClassifier", "predict_log_proba", "the model fitted on the target rows"
    )
    decision_function = delegate(
        "JDOTClassifier", "decision_function", "the model fitted on the target rows"
    )
