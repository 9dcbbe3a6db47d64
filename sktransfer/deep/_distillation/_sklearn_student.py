"""Distillation into a scikit-learn classifier: the teacher's soft targets as weighted label copies.

A network student matches the teacher's softened probabilities through its
loss. A scikit-learn classifier has no such loss, but any one that takes
``sample_weight`` and minimises a log-loss minimises the same cross-entropy
when each row ``i`` is given once per class ``c`` with weight
``alpha * p_T[i, c]`` (the teacher's probability at temperature ``T``):
``sum_c p_T[i, c] * (-log q(c | x_i))`` is exactly the soft cross-entropy
of row ``i``. The rows with a known label are added once more with weight
``1 - alpha``. Learners with other losses (trees, SVMs) fit the same weighted
copies, which then act as soft labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import softmax
from sklearn.base import clone
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_consistent_length, has_fit_parameter

from ..._labels import unlabelled_mask
from ._teacher import check_labels_known, teacher_logits


def soft_targets(logits: np.ndarray, temperature: float) -> np.ndarray:
    """``softmax(logits / temperature)`` row by row, in float64."""
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=1)


def fit_sklearn_student(student: Any, teacher: Any, classes: np.ndarray, X: Any, y: np.ndarray | None,
                        teacher_X: Any, *, temperature: float, alpha: float, owner: str) -> Any:
    """A fitted clone of ``student`` trained on the teacher's soft targets and the known labels.

    Parameters
    ----------
    student : classifier
        An unfitted scikit-learn classifier whose ``fit`` takes ``sample_weight``.
    teacher : classifier
        The checked teacher, read through ``predict_proba``.
    classes : ndarray of shape (n_classes,)
        The teacher's classes, sorted.
    X : array-like of shape (n_samples, n_features)
        The student's inputs.
    y : ndarray of shape (n_samples,) or None
        Labels, ``-1`` or ``NaN`` where unknown; None: none known.
    teacher_X : object or None
        The teacher's inputs for the same rows (None: ``X``).
    temperature, alpha : float
        As in :class:`DistillationClassifier`.
    owner : str
        The estimator named in the errors.

    Returns
    -------
    student_ : classifier
        The fitted clone.
    """
    if not hasattr(student, "fit") or not hasattr(student, "predict_proba"):
        raise TypeError(f"{owner}: student must be a scikit-learn classifier with fit and predict_proba, or None "
                        f"for a network student; got a {type(student).__name__}.")
    if not has_fit_parameter(student, "sample_weight"):
        raise TypeError(
            f"{owner}: the student {type(student).__name__} does not take sample_weight in fit, which carries the "
            "teacher's soft targets. Use a classifier that does (LogisticRegression, HistGradientBoostingClassifier, "
            "RandomForestClassifier, ...), or student=None for a network student.")
    n = _num_samples(X)
    logits = teacher_logits(teacher, X if teacher_X is None else teacher_X, owner)
    check_consistent_length(X, logits)
    soft = soft_targets(logits, temperature)
    n_classes = len(classes)
    rows = [np.repeat(np.arange(n), n_classes)]
    labels = [np.tile(classes, n)]
    weights = [alpha * soft.ravel()]
    if y is not None:
        check_consistent_length(X, y)
        known = np.flatnonzero(~unlabelled_mask(y, "classification"))
        check_labels_known(y[known], classes, owner)
        rows.append(known)
        labels.append(np.asarray(y[known]).astype(classes.dtype))
        weights.append(np.full(len(known), 1.0 - alpha))
    rows, labels, weights = np.concatenate(rows), np.concatenate(labels), np.concatenate(weights)
    keep = weights > 0
    rows, labels, weights = rows[keep], labels[keep], weights[keep]
    if len(np.unique(labels)) < 2:
        raise ValueError(f"{owner}: the student's weighted rows hold a single class; with alpha={alpha} the "
                         "known labels alone train it. Use alpha > 0 or labels of at least 2 classes.")
    # weights summing to the number of rows keep the student's regularisation on the scale of a plain fit
    weights = weights * (n / weights.sum())
    return clone(student).fit(_safe_indexing(X, rows), labels, sample_weight=weights)


def student_proba(student_: Any, classes: np.ndarray, X: Any) -> np.ndarray:
    """The fitted student's probabilities in the columns of ``classes`` (a class it never saw gets 0)."""
    proba = student_.predict_proba(X)
    out = np.zeros((proba.shape[0], len(classes)))
    out[:, np.searchsorted(classes, student_.classes_)] = proba
    return out
