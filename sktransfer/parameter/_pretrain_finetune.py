"""PretrainFineTune: train on the source rows, then keep training on the target rows."""

from __future__ import annotations

import copy
from numbers import Integral
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.linear_model import SGDClassifier
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._compat import HasMethods, Interval, StrOptions, _fit_context, validate_data
from .._delegation import delegate
from .._finite import check_magnitude
from .._sample_weights import check_sample_weight
from ..base import DomainAwareMixin
from ._finetune_phases import check_phase_takes_weights, finetune, pretrain, resolve_classes, resolve_method
from ._validation import check_y, labelled_rows

__all__ = ["PretrainFineTune"]


def _finiteness(estimator: Any) -> bool | str:
    """``ensure_all_finite`` for ``validate_data``: NaN passes when the estimator takes it."""
    return "allow-nan" if get_tags(estimator).input_tags.allow_nan else True


class PretrainFineTune(DomainAwareMixin, BaseEstimator):
    """Pretrain a model on the source rows, then fine-tune it on the target rows.

    A clone of ``estimator`` is trained on the labelled source rows
    (``sample_domain > 0``), then further on the labelled target rows
    (``sample_domain < 0``), in one of two ways:

    - ``"partial_fit"`` (SGDClassifier/Regressor, MLPClassifier/Regressor,
      Perceptron, PassiveAggressive*, MultinomialNB, ...): ``n_finetune_iter``
      epochs of ``partial_fit`` over the target rows, reshuffled each epoch.
    - ``"warm_start"`` (GradientBoosting*, HistGradientBoosting*, random
      forests, ...): ``warm_start=True`` and the ensemble is grown by
      ``n_finetune_iter`` members fitted on the target rows only.

    Tags, ``score`` and ``classes_`` follow ``estimator`` (classifier or regressor).

    Parameters
    ----------
    estimator : estimator instance, default=None
        The model to pretrain and fine-tune; it is cloned, never changed.
        None means ``SGDClassifier(loss="log_loss")`` seeded from
        ``random_state``.
    method : {"auto", "partial_fit", "warm_start"}, default="auto"
        How training continues on the target rows. ``"auto"`` picks
        ``"partial_fit"`` when the estimator has it, else ``"warm_start"``
        when it has a ``warm_start`` parameter, else raises a ``TypeError``.
    finetune_params : dict or None, default=None
        Set on the model (``set_params``) before the target phase, e.g.
        ``{"learning_rate_init": 1e-4}`` for an MLP. With ``"warm_start"``
        they are set after the ensemble size, so ``{"n_estimators": 300}``
        overrides ``n_finetune_iter``.
    n_finetune_iter : int, default=10
        ``"partial_fit"``: epochs over the target rows. ``"warm_start"``:
        members added to the ensemble (``n_estimators`` raised from the number
        fitted, HistGradientBoosting's ``max_iter`` from ``n_iter_``), or, for
        a model that is not an ensemble (LogisticRegression), its ``max_iter``.
    n_pretrain_iter : int or None, default=None
        ``"partial_fit"`` only. None pretrains with the estimator's own
        ``fit``; an int runs that many ``partial_fit`` epochs over the source
        rows instead, needed when the target has classes the source lacks.
    classes : array-like of shape (n_classes,) or None, default=None
        Classifiers: every class the model must know; None uses the union of
        the source and target labels. ``"warm_start"`` allows only the
        source's classes.
    random_state : int, RandomState instance or None, default=None
        Shuffles the rows of each ``partial_fit`` epoch and seeds the default
        estimator; ``estimator``'s own ``random_state`` is left as given.

    Attributes
    ----------
    estimator_ : estimator instance
        The fine-tuned model.
    source_estimator_ : estimator instance
        A copy of the model after the source phase, before fine-tuning.
    method_ : {"partial_fit", "warm_start"}
        The method used.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classifiers only).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    RegularTransferClassifier : Linear model pulled towards the source weights.
    RegularTransferRegressor : The same for regression.

    Notes
    -----
    All source domains are pooled in the source phase, all target domains in
    the target phase; unlabelled rows are not used. Fine-tuning has no single
    paper: [1]_ studies what transfers when a pretrained network is trained
    further on another task, [2]_ surveys parameter transfer. Warm-starting a
    model whose ``fit`` solves a convex problem to convergence
    (LogisticRegression) only moves its starting point, so it ends where a
    target-only model would; RegularTransfer* keep it near the source. A
    warm-started classifier re-encodes the labels of each ``fit``, so the
    labelled target rows must hold exactly the source's classes: map target
    labels onto the source's slots when the tasks differ (``y - 5`` for
    digits 5-9 after 0-4).

    References
    ----------
    .. [1] J. Yosinski, J. Clune, Y. Bengio and H. Lipson, "How transferable
       are features in deep neural networks?", NeurIPS 2014.
    .. [2] S. J. Pan and Q. Yang, "A Survey on Transfer Learning", IEEE
       Transactions on Knowledge and Data Engineering 22(10), 2010.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.parameter import PretrainFineTune
    >>> X, y, sd = make_domain_shift(100, shift="concept", mask_target=False, random_state=0)
    >>> y_fit = y.copy()
    >>> y_fit[110:] = -1  # rows 100-199 are target rows: keep ten labels
    >>> model = PretrainFineTune(SGDClassifier(loss="log_loss", random_state=0), random_state=0)
    >>> model.fit(X, y_fit, sample_domain=sd).method_
    'partial_fit'
    >>> model.predict_proba(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "method": [StrOptions({"auto", "partial_fit", "warm_start"})],
        "finetune_params": [dict, None],
        "n_finetune_iter": [Interval(Integral, 1, None, closed="left")],
        "n_pretrain_iter": [Interval(Integral, 1, None, closed="left"), None],
        "classes": ["array-like", None],
        "random_state": ["random_state"],
    }
    _domain_needs = ("source", "target", "source_labels", "target_labels", "sample_domain")

    def __init__(
        self,
        estimator: Any = None,
        *,
        method: str = "auto",
        finetune_params: dict | None = None,
        n_finetune_iter: int = 10,
        n_pretrain_iter: int | None = None,
        classes: ArrayLike | None = None,
        random_state: Any = None,
    ):
        self.estimator = estimator
        self.method = method
        self.finetune_params = finetune_params
        self.n_finetune_iter = n_finetune_iter
        self.n_pretrain_iter = n_pretrain_iter
        self.classes = classes
        self.random_state = random_state

    def _template(self) -> Any:
        return SGDClassifier(loss="log_loss") if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._template())
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags.required = True
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike | None = None,
        sample_domain: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Train on the labelled source rows, then on the labelled target rows.

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
            Row weights, passed with their rows to the estimator's ``fit`` or
            ``partial_fit`` in both phases (which must take ``sample_weight``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        template = self._template()
        X = validate_data(self, X, ensure_min_samples=2, ensure_all_finite=_finiteness(template))
        check_magnitude(X, type(self).__name__)
        y = check_y(self, X, y)
        domains = self._check_domains(X, y, sample_domain)
        rng = check_random_state(self.random_state)
        estimator = clone(template)
        if self.estimator is None:
            estimator.set_params(random_state=rng.randint(np.iinfo(np.int32).max))
        method = resolve_method(self, estimator)
        source, target = domains.source & domains.labelled, domains.target & domains.labelled
        X_source, y_source, X_target, y_target = X[source], y[source], X[target], y[target]
        weights = check_sample_weight(sample_weight, X.shape[0], self)
        w_source = w_target = None
        if weights is not None:
            check_phase_takes_weights(self, estimator, method)
            w_source, w_target = weights[source], weights[target]

        kwargs = {}
        if is_classifier(estimator):
            check_classification_targets(y[domains.labelled])
            kwargs["classes"] = resolve_classes(self, y_source, y_target)
        pretrain(self, estimator, method, X_source, y_source, kwargs, rng, w_source)
        self.source_estimator_ = copy.deepcopy(estimator)

        finetune(self, estimator, method, X_target, y_target, kwargs, rng, w_target)
        self.estimator_ = estimator
        self.method_ = method
        if is_classifier(estimator):
            self.classes_ = estimator.classes_
        return self

    def _validate_X(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite=_finiteness(self.estimator_))
        return check_magnitude(X, type(self).__name__)

    predict = delegate("PretrainFineTune", "predict", "the fine-tuned model")
    predict_proba = delegate("PretrainFineTune", "predict_proba", "the fine-tuned model")
    predict_log_proba = delegate("PretrainFineTune", "predict_log_proba", "the fine-tuned model")
    decision_function = delegate("PretrainFineTune", "decision_function", "the fine-tuned model")

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy (classifiers) or R^2 (regressors) on the rows whose label is known.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test rows.
        y : array-like of shape (n_samples,)
            True labels; masked rows (``-1`` or ``NaN``) are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.

        Returns
        -------
        score : float
            The fine-tuned model's ``score`` on the labelled rows.
        """
        X, y, sample_weight = labelled_rows(self, X, y, sample_weight)
        return self.estimator_.score(self._validate_X(X), y, sample_weight=sample_weight)
