"""``DistillationClassifier``: a fine-tuning network (the student) trained on a fitted teacher's soft targets.

Every parameter of ``FineTuneClassifier`` describes the student (written once,
in ``_finetune``); ``teacher``, ``temperature`` and ``alpha`` are added here.
The student plugs its loss into the fine-tuning base's one training loop
through the base's hooks: ``_training_rows`` keeps every row (unlabelled ones
too), ``_encode_targets`` packs the teacher's logits and the labels into the
targets, and ``_loss_fn`` is the distillation loss of ``_loss``.
"""

from __future__ import annotations

import copy
import inspect
from numbers import Real
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length

from ..._compat import Interval, _fit_context
from ..._labels import unlabelled_mask
from .._finetune._classifier import FineTuneClassifier
from .._finetune._params import DOC_ATTRS, add_parameter, parameters_doc
from .._torch import import_torch
from ._loss import DistillationLoss
from ._sklearn_student import fit_sklearn_student, student_proba
from ._teacher import check_labels_known, check_teacher, teacher_logits

_TEACHER_DOC = """    teacher : fitted classifier with predict_proba
        The teacher: any fitted scikit-learn classifier with ``predict_proba``
        and ``classes_`` (a :class:`FineTuneClassifier` or
        :class:`DomainAdaptationClassifier` too). Its logits are
        ``log(predict_proba)``. It is read at ``fit`` and never refitted;
        ``clone`` keeps it as it is (see Notes).
    temperature : float, default=4.0
        ``T``: teacher and student probabilities are ``softmax(logits / T)``
        in the distillation term; a higher ``T`` shows more of the teacher's
        ranking of the wrong classes.
    alpha : float, default=0.9
        Weight of the distillation term, in [0, 1]; ``1 - alpha`` weighs the
        cross-entropy of the labelled rows. ``alpha=0`` trains on the labels
        alone, ``alpha=1`` on the teacher alone.
    student : classifier or None, default=None
        None: the student is the network the parameters below describe. A
        scikit-learn classifier whose ``fit`` takes ``sample_weight`` (e.g.
        ``LogisticRegression()``, ``HistGradientBoostingClassifier()``)
        becomes the student instead: a clone of it is fitted on each row once
        per class, weighted by ``alpha`` times the teacher's probability of
        that class at ``temperature``, plus the labelled rows weighted by
        ``1 - alpha`` (for a log-loss learner, exactly the soft cross-entropy);
        the network parameters are then unused. Its probabilities are those of
        the teacher at ``temperature``: ``temperature=1`` copies the teacher's.
"""

_DOC_REST = """
    classes_ : ndarray of shape (n_classes,)
        The teacher's classes (sorted): the student predicts the same ones.
    student_ : classifier
        With ``student`` given: its fitted clone (the network attributes above
        are then absent).

    See Also
    --------
    FineTuneClassifier : The student trained on labels alone.
    DomainAdaptationClassifier : A teacher that has seen the unlabelled target rows.

    Notes
    -----
    The loss of a batch is ``alpha * T**2 * KL(p_teacher || p_student)``,
    averaged over every row, plus ``(1 - alpha)`` times the cross-entropy of
    the rows whose label is known, averaged over those (class-weighted with
    ``class_weight``). Unlabelled rows (``y = -1`` or ``NaN``, or every row
    with ``y=None``) get the distillation term only, so a student can learn
    from unlabelled target rows that the teacher labels softly. The teacher's
    logits are computed once per ``fit`` on every training row (on
    ``teacher_X`` when given, e.g. images for the teacher and features for the
    student). ``T**2`` keeps the soft term's gradients on the scale of the
    hard one's as ``T`` changes (Hinton et al.). Early stopping validates with
    the same loss, and its score is the accuracy against the labels where
    known and the teacher's class elsewhere.

    The teacher is an input, not a model to train: ``clone`` (and so
    ``GridSearchCV`` and ``cross_validate``) passes the same fitted teacher
    to the copy instead of an unfitted clone of it, as
    ``sklearn.frozen.FrozenEstimator`` does. Fitting the student never
    changes the teacher. ``partial_fit`` is not offered (the soft targets
    belong to one fit); ``fit`` with ``warm_start=True`` continues.

    References
    ----------
    .. [1] Hinton, G., Vinyals, O. and Dean, J. (2015). Distilling the knowledge
       in a neural network. NeurIPS Deep Learning Workshop, arXiv:1503.02531.
    .. [2] Bucilua, C., Caruana, R. and Niculescu-Mizil, A. (2006). Model
       compression. KDD.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.deep import DistillationClassifier
    >>> X, y, sample_domain = make_domain_shift(n_samples=100, random_state=0)
    >>> teacher = LogisticRegression().fit(X[y != -1], y[y != -1])
    >>> student = DistillationClassifier(teacher, backbone=None, head=(8,), max_epochs=5,
    ...                                  random_state=0)
    >>> student.fit(X, y).predict(X[:3]).shape
    (3,)
"""


def _never(estimator: Any) -> bool:
    return False


def _with_distillation_parameters(init: Any) -> Any:
    """``init`` with ``teacher`` first (positional), then ``temperature`` and ``alpha``; the rest keyword-only.

    The student's parameters stay those of ``init`` (written once, in the
    fine-tuning base); ``backbone`` becomes keyword-only behind ``teacher``.
    """
    init = add_parameter(init, "student", None, after="backbone")
    init = add_parameter(init, "alpha", 0.9, after="backbone")
    init = add_parameter(init, "temperature", 4.0, after="backbone")
    base = inspect.signature(init)
    self_param, *rest = base.parameters.values()
    keyword = inspect.Parameter.KEYWORD_ONLY
    ours = ("temperature", "alpha", "student")
    moved = [p.replace(kind=keyword) for p in rest if p.name in ours]
    others = [p.replace(kind=keyword) for p in rest if p.name not in ours]
    teacher = inspect.Parameter("teacher", inspect.Parameter.POSITIONAL_OR_KEYWORD)

    def __init__(self: Any, teacher: Any, **kwargs: Any) -> None:
        init(self, **kwargs)
        self.teacher = teacher

    __init__.__signature__ = base.replace(parameters=[self_param, teacher, *moved, *others])  # type: ignore
    __init__.__doc__ = ("Store the parameters unchanged (``teacher``, ``temperature``, ``alpha``, ``student`` and "
                        "the network student's).")
    return __init__


class DistillationClassifier(FineTuneClassifier):
    __doc__ = """Knowledge distillation: a student network trained on a fitted teacher's softened predictions.

    The student is a fine-tuning network (a head on a smaller backbone, or on
    feature inputs with ``backbone=None``) trained to match the teacher's
    class probabilities at temperature ``T`` (Hinton et al. 2015), mixed
    with the cross-entropy of the rows whose label is known. Unlabelled rows
    are used: they carry the teacher's knowledge alone.
""" + parameters_doc(classifier=True).replace(
        "    Parameters\n    ----------\n", "    Parameters\n    ----------\n" + _TEACHER_DOC) + DOC_ATTRS + _DOC_REST

    _parameter_constraints: dict = {
        **FineTuneClassifier._parameter_constraints,
        "teacher": "no_validation",  # checked in fit, with a message that says how to fix it
        "temperature": [Interval(Real, 0, None, closed="neither")],
        "alpha": [Interval(Real, 0, 1, closed="both")],
        "student": "no_validation",  # checked in fit, with a message that says how to fix it
    }
    # The soft targets belong to one fit: no partial_fit (fit with warm_start=True continues).
    partial_fit = available_if(_never)(FineTuneClassifier.partial_fit)

    __init__ = _with_distillation_parameters(FineTuneClassifier.__init__)

    def __sklearn_clone__(self) -> DistillationClassifier:
        # The teacher is read, never fitted: the copy gets the same fitted teacher (as FrozenEstimator does).
        params = self.get_params(deep=False)
        teacher = params.pop("teacher")
        new = type(self)(teacher, **{k: clone(v, safe=False) for k, v in params.items()})
        for attr in ("_metadata_request", "_sklearn_output_config"):
            if hasattr(self, attr):
                setattr(new, attr, copy.deepcopy(getattr(self, attr)))
        return new

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None, teacher_X: Any = None) -> DistillationClassifier:
        """Train the student on the teacher's soft targets of every row and on the known labels.

        Parameters
        ----------
        X : sequence of inputs or array-like of shape (n_samples, n_features)
            The student's inputs: of its backbone's kind, or features when
            ``backbone=None``.
        y : array-like of shape (n_samples,), default=None
            Class labels (among the teacher's classes); ``-1`` (or ``NaN``)
            marks an unlabelled row. None: every row is unlabelled.
        teacher_X : object, default=None
            The teacher's inputs for the same rows, when it reads other inputs
            than the student; None gives it ``X``.

        Returns
        -------
        self : object
            The fitted student.
        """
        self._teacher_classes = check_teacher(self.teacher, type(self).__name__)
        if self.student is not None:
            return self._fit_sklearn_student(X, y, teacher_X)
        self.__dict__.pop("student_", None)
        self._teacher_inputs = X if teacher_X is None else teacher_X
        try:
            return self._fit(X, None if y is None else self._check_y(y), partial=False)
        finally:
            for name in ("_teacher_classes", "_teacher_inputs", "_fit_X"):
                self.__dict__.pop(name, None)

    def _fit_sklearn_student(self, X: Any, y: Any, teacher_X: Any) -> DistillationClassifier:
        classes = self.__dict__.pop("_teacher_classes")
        owner = type(self).__name__
        student = fit_sklearn_student(self.student, self.teacher, classes, X, None if y is None else self._check_y(y),
                                      teacher_X, temperature=self.temperature, alpha=self.alpha, owner=owner)
        for name in ("net_", "extractor_", "history_", "n_epochs_", "best_epoch_"):
            self.__dict__.pop(name, None)
        self.student_, self.classes_ = student, classes
        if hasattr(student, "n_features_in_"):
            self.n_features_in_ = student.n_features_in_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        if "student_" in self.__dict__:
            return student_proba(self.student_, self.classes_, X)
        return super().predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        if "student_" in self.__dict__:
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return super().predict(X)

    predict_proba.__doc__ = FineTuneClassifier.predict_proba.__doc__
    predict.__doc__ = FineTuneClassifier.predict.__doc__

    # -- hooks of the fine-tuning base ------------------------------------------------
    def _training_rows(self, X: Any, y: np.ndarray | None, sample_domain: Any) -> tuple[Any, np.ndarray | None]:
        """Every row: the unlabelled ones get the distillation term."""
        if y is not None:
            check_consistent_length(X, y)
        self._fit_X = X
        return X, y

    def _encode_targets(self, y: np.ndarray | None, *, fit: bool) -> np.ndarray:
        """The teacher's logits and the class index (``-1`` if unknown) of each row: ``n_classes + 1`` columns."""
        owner = type(self).__name__
        classes = self._teacher_classes
        check_consistent_length(self._fit_X, self._teacher_inputs)  # after the student validated X
        logits = teacher_logits(self.teacher, self._teacher_inputs, owner)
        if y is None:
            y = np.full(len(logits), -1)
        check_consistent_length(logits, y)
        known = ~unlabelled_mask(y, "classification")
        check_labels_known(y[known], classes, owner)
        if not fit and not np.array_equal(classes, self.classes_):
            raise ValueError(f"{owner} (warm start): the teacher's classes {classes.tolist()} are not the classes "
                             f"{self.classes_.tolist()} the student was fitted with; set warm_start=False.")
        if fit:
            self._classes_given = classes
        codes = super()._encode_targets(y[known], fit=fit)
        targets = np.empty((len(y), len(classes) + 1), dtype=np.float32)
        targets[:, :-1] = logits
        targets[:, -1] = -1
        targets[known, -1] = codes
        return targets

    def _loss_fn(self, runtime: Any) -> DistillationLoss:
        torch = import_torch(type(self).__name__)
        weight = getattr(self, "class_weight_", None)
        if weight is not None:
            weight = torch.as_tensor(weight, dtype=torch.float32, device=runtime.device)
        return DistillationLoss(self.temperature, self.alpha, weight)

    @staticmethod
    def _hard_targets(targets: np.ndarray) -> np.ndarray:
        """The label where known, the teacher's class elsewhere."""
        labels = targets[:, -1].astype(np.int64)
        return np.where(labels >= 0, labels, np.argmax(targets[:, :-1], axis=1))

    def _score_outputs(self, out: np.ndarray, targets: np.ndarray) -> float:
        return float(np.mean(np.argmax(out, axis=1) == self._hard_targets(targets)))

    def _validation_split(self, rows: np.ndarray, targets: np.ndarray, rng: np.random.RandomState):
        return super()._validation_split(rows, self._hard_targets(targets), rng)
