"""The teacher of a distillation: checked once per fit, read through ``predict_proba``.

Any fitted scikit-learn classifier with ``predict_proba`` teaches, the
library's networks (``FineTuneClassifier``, ``DomainAdaptationClassifier``)
included: ``log(predict_proba)`` is their logits up to a constant per row,
which the softened softmax ignores. The teacher is only read, never fitted
or changed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

#: probabilities are clipped here before the log (an exact 0 would be a logit of -inf)
TINY = np.finfo(np.float64).tiny


def check_teacher(teacher: Any, owner: str) -> np.ndarray:
    """Raise unless ``teacher`` is a fitted classifier with ``predict_proba``; return its classes, sorted.

    Parameters
    ----------
    teacher : object
        The estimator to check.
    owner : str
        The estimator it teaches, named in the errors.

    Returns
    -------
    classes : ndarray of shape (n_classes,)
        ``teacher.classes_``, sorted.
    """
    kind = type(teacher).__name__
    if not hasattr(teacher, "predict_proba"):
        raise TypeError(
            f"{owner} needs a fitted classifier with predict_proba as teacher; got a {kind}, which has none. "
            "Pass e.g. LogisticRegression().fit(X, y), a fitted FineTuneClassifier, or SVC(probability=True)."
        )
    try:
        if isinstance(teacher, BaseEstimator) or hasattr(teacher, "__sklearn_is_fitted__"):
            check_is_fitted(teacher)  # other objects with predict_proba are taken as they are (duck typing)
    except NotFittedError:
        raise NotFittedError(
            f"{owner}: the teacher {kind} is not fitted. Fit it first: {owner} learns from the teacher's "
            "predictions and never fits it."
        ) from None
    classes = getattr(teacher, "classes_", None)
    if classes is None or np.ndim(classes) != 1 or len(classes) < 2:
        raise ValueError(
            f"{owner} needs a teacher with classes_ (at least 2 classes, one per column of predict_proba); "
            f"the {kind} has classes_={classes!r}. Use a classifier fitted on one label column."
        )
    classes = np.sort(np.asarray(classes))
    if classes.dtype.kind in "iuf" and np.any(classes == -1):
        raise ValueError(
            f"{owner}: the teacher's classes {classes.tolist()} include -1, which marks an unlabelled row in this "
            "library. Refit the teacher on recoded labels, e.g. y = (y > 0).astype(int) for -1/+1 labels."
        )
    return classes


def teacher_logits(teacher: Any, X: Any, owner: str) -> np.ndarray:
    """The teacher's logits of ``X``: ``log(predict_proba(X))``, columns in sorted class order, float32.

    Parameters
    ----------
    teacher : object
        A teacher that passed :func:`check_teacher`.
    X : object
        The teacher's inputs.
    owner : str
        The estimator it teaches, named in the errors.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_classes)
        Finite logits, one column per class of the sorted ``classes_``.
    """
    classes = np.asarray(teacher.classes_)
    proba = np.asarray(teacher.predict_proba(X), dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(classes):
        raise ValueError(
            f"{owner}: the teacher's predict_proba returned shape {proba.shape}, not (n_samples, "
            f"{len(classes)}) (one column per class of its classes_)."
        )
    if not np.all(np.isfinite(proba)) or np.any(proba < 0):
        raise ValueError(f"{owner}: the teacher's predict_proba returned non-finite or negative values; check "
                         "the teacher and its inputs (teacher_X).")
    order = np.argsort(classes, kind="stable")
    return np.log(np.clip(proba[:, order], TINY, None)).astype(np.float32)


def check_labels_known(y: np.ndarray, classes: np.ndarray, owner: str) -> None:
    """Raise unless every known label ``y`` is among the teacher's ``classes`` (the student predicts those)."""
    unseen = np.setdiff1d(np.unique(y), classes)
    if len(unseen):
        raise ValueError(
            f"{owner}: y holds labels {unseen.tolist()} that are not among the teacher's classes "
            f"{classes.tolist()}; the student predicts the teacher's classes. Use a teacher fitted on every "
            "class, or mark those rows unlabelled (-1)."
        )
