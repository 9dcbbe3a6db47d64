"""Label masks (``-1`` for classes, ``NaN`` for regression) and reading the task from ``y``."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import is_classifier, is_regressor
from sklearn.utils.multiclass import type_of_target

#: The ways ``y`` can be read: guessed from its values, or stated.
TASKS = ("auto", "classification", "regression")


def _task_from_source_rows(y: np.ndarray, sd: np.ndarray) -> str:
    """``"regression"`` when NaN masks ``y`` and a source row holds -1, else ``"auto"``.

    Source rows are labelled, so a -1 among them is a value, not the mask: with
    NaN beside it, ``y`` is a regression target (as a regressor at the end of a
    pipeline reads it), which its adaptation steps must not call ambiguous.
    """
    if y.ndim != 1 or y.dtype.kind not in "fiu":
        return "auto"
    values = y.astype(float, copy=False)
    if np.isnan(values).any() and np.any(values[sd > 0] == -1):
        return "regression"
    return "auto"


def _check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}.")
    return task


def _task_of(estimator: Any) -> str:
    """``"regression"`` or ``"classification"`` for a regressor or classifier, else ``"auto"``."""
    if estimator is None or isinstance(estimator, str):
        return "auto"
    if is_regressor(estimator):
        return "regression"
    if is_classifier(estimator):
        return "classification"
    return "auto"


def _mixed_mask_error(task: str) -> ValueError:
    return ValueError(
        "y holds both NaN and -1, which both mark unlabelled rows, so which rows are "
        "labelled is ambiguous"
        + (" (these are class labels)" if task == "classification" else "")
        + ". For class labels, mark the unlabelled rows with -1 only, e.g. "
        "y = np.where(np.isnan(y), -1, y).astype(int). For a regression target in "
        "which -1 is a real value, mark them with NaN only: a regressor reads NaN as "
        "its only mask, and stack_domains(..., task='regression') and "
        "check_domains(..., task='regression') do the same."
    )


#: What numpy makes of the masks -1 and NaN when it joins them with strings in one array.
_STRINGIFIED_MASKS = ("-1", "-1.0", "nan")


def _check_no_stringified_mask(values: list) -> None:
    """Refuse string labels beside a mask that numpy turned into a string.

    ``np.concatenate([np.array(["neg", "pos"]), np.full(3, -1)])`` holds
    ``'-1'``, a string like the labels, so nothing marks those rows as
    unlabelled: they would be learnt as a class ``'-1'``. Where every label
    reads as a number (``'-1'`` and ``'1'`` read from a file) ``'-1'`` is a
    class and is kept.
    """
    distinct = set(values)
    found = [m for m in _STRINGIFIED_MASKS if m in distinct]
    if not found:
        return

    def numeric(v: str) -> bool:
        try:
            float(v)
        except ValueError:
            return False
        return True

    if all(numeric(v) for v in distinct):
        return
    raise TypeError(
        f"y holds string class labels beside the string {found[0]!r}: numpy turns the -1 (or "
        "NaN) that marks unlabelled rows into a string when one array joins it with strings, so "
        "those rows would be learnt as a class. String labels cannot be masked: encode the classes "
        "as integers first (sklearn.preprocessing.LabelEncoder fitted on the labelled rows), then "
        "mark unlabelled rows with -1."
    )


def _label_kind(y: np.ndarray, task: str = "auto") -> str:
    """Return ``"regression"``, ``"classification"`` or ``"string"`` for ``y``.

    With ``task="auto"``, NaN anywhere means regression (NaN is the regression
    mask) and so do non-integer values; integer values are classes. A stated
    ``task`` is taken as it is. Strings are classes that cannot hold the ``-1``
    mask. Raises when the mask is ambiguous: NaN beside ``-1`` among class-like
    values.
    """
    if y.dtype.kind not in "fciub":
        # object / str: look at the values themselves.
        values = y.tolist()
        has_str = any(isinstance(v, str) for v in values)
        has_number = any(
            isinstance(v, numbers.Number) and not isinstance(v, bool) for v in values
        )
        has_none = any(v is None for v in values)
        if has_str and task == "regression":
            raise TypeError(
                "A regression target must be numeric, but y holds strings. Convert it, "
                "e.g. y = y.astype(float), with NaN for the unlabelled rows."
            )
        if has_str and (has_number or has_none):
            raise TypeError(
                "y mixes string class labels with numbers or None (such as the "
                "unlabelled marker -1). String labels cannot be masked: encode the "
                "classes as integers first (sklearn.preprocessing.LabelEncoder fitted "
                "on the labelled rows), then mark unlabelled rows with -1."
            )
        if has_str:
            _check_no_stringified_mask(values)
            return "string"
        return _label_kind(np.asarray(values, dtype=float), task)
    if task == "regression":
        return "regression"
    if y.dtype.kind in "iub":
        return "classification"
    nan = np.isnan(y)
    if not nan.any():
        if task == "classification":
            return "classification"
        return "regression" if type_of_target(y).startswith("continuous") else "classification"
    known = y[~nan]
    class_like = task == "classification" or np.array_equal(known, np.round(known))
    if class_like and np.any(known == -1):
        raise _mixed_mask_error(task)
    return "classification" if task == "classification" else "regression"


def unlabelled_mask(y: ArrayLike, task: str = "auto") -> np.ndarray:
    """Boolean mask of the rows of ``y`` whose label is masked.

    ``NaN`` masks a regression target, ``-1`` (or ``NaN``) a class label;
    string labels are never masked. With ``task="regression"``, ``NaN`` is the
    only mask and ``-1`` is a value like any other.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, with unknown ones masked.
    task : {"auto", "classification", "regression"}, default="auto"
        How to read ``y``: ``"auto"`` guesses from the values (integers are
        classes, NaN or non-integer values a regression target).

    Returns
    -------
    mask : ndarray of shape (n_samples,), dtype bool
        True where the label is unknown.

    Raises
    ------
    ValueError
        If class-like labels hold both ``NaN`` and ``-1``: which of them is the
        mask cannot be told.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(len(y), -1)
        if y.shape[1] != 1:
            # Multi-output: a row is unlabelled when all its outputs are masked.
            return np.all([unlabelled_mask(col, task) for col in y.T], axis=0)
        y = y[:, 0]
    kind = _label_kind(y, _check_task(task))
    if kind == "string":
        return np.zeros(len(y), dtype=bool)
    values = np.asarray(y, dtype=float)
    if kind == "regression":
        return np.isnan(values)
    return np.isnan(values) | (values == -1)


def _check_not_mask_lookalike(y: np.ndarray, labelled: np.ndarray) -> None:
    """Refuse ``{-1, +1}`` class labels, where -1 would silently become the mask."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iuf" or not labelled.any():
        return
    if (~labelled).any() and np.array_equal(np.unique(y[labelled]), [1]):
        raise ValueError(
            "y holds only the values -1 and 1. In sktransfer -1 marks an "
            "unlabelled (target) row, so the labelled rows would all be class 1. "
            "If -1 is a class label, recode the classes, e.g. "
            "y = (y > 0).astype(int), and mark unlabelled rows with -1."
        )


def _masked_source_error(where: str, mask: str) -> ValueError:
    return ValueError(
        f"{where} contain {mask}, which marks unlabelled rows, but source rows must be "
        f"labelled. If {mask} is a class, recode the classes (e.g. y = (y > 0).astype(int) "
        "for -1/+1 labels); if some source rows are unlabelled, drop them or give them a "
        "target domain id (< 0)."
    )


def _check_source_labels(y: np.ndarray, labelled: np.ndarray, sd: np.ndarray, task: str) -> None:
    """Refuse masked source labels, and regression targets masked the classes' way."""
    masked_source = (sd > 0) & ~labelled
    if masked_source.any():
        mask = "NaN" if np.isnan(np.asarray(y[masked_source], dtype=float)).all() else "-1"
        raise _masked_source_error(
            f"The labels of {int(masked_source.sum())} source row(s) (sample_domain > 0)", mask
        )
    target = sd < 0
    if task == "regression" and target.any() and labelled[target].all():
        values = np.asarray(y, dtype=float)
        if np.all(values[target] == -1) and not np.all(values == -1):
            raise ValueError(
                "Every target row (sample_domain < 0) has the target value -1, the mask "
                "of class labels, but this is a regression, whose mask is NaN: -1 would "
                "be learnt as a real value. Mask the unknown targets with NaN, e.g. "
                "mask_target_labels(y, sample_domain, task='regression') or "
                "stack_domains(..., task='regression')."
            )


def signed_labels(y: np.ndarray) -> np.ndarray:
    """Boolean or unsigned class labels in the smallest signed integer type that holds them and ``-1``.

    Written into either, the mask ``-1`` becomes ``True`` or wraps around. ``uint64`` has no wider signed
    type (numpy promotes it with ``int8`` to float64, which merged labels past 2**53): it becomes int64
    when its labels fit, and is refused when they do not. Other labels are returned as they are.
    """
    if y.dtype.kind not in "ub":
        return y
    if y.dtype == np.uint64:
        if y.size and int(y.max()) > np.iinfo(np.int64).max:
            raise ValueError(
                f"Class labels above {np.iinfo(np.int64).max} (uint64) cannot be masked with -1 in an integer "
                "type: encode the classes as 0, 1, ... first (sklearn.preprocessing.LabelEncoder)."
            )
        return y.astype(np.int64)
    return y.astype(np.promote_types(y.dtype, np.int8))


def mask_target_labels(y: ArrayLike, sample_domain: ArrayLike, *, task: str = "auto") -> np.ndarray:
    """Return a copy of ``y`` with the labels of target rows masked.

    Use it to hide true target labels before ``fit`` (keeping them to score).
    Class labels are masked with ``-1``, regression targets with ``NaN``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of every row.
    sample_domain : array-like of shape (n_samples,)
        Domain id per row (> 0 source, < 0 target).
    task : {"auto", "classification", "regression"}, default="auto"
        What the labels are. ``"auto"`` reads integer labels as classes and
        non-integer ones as a regression target; say ``"regression"`` for an
        integer-valued regression target, to mask it with ``NaN``.

    Returns
    -------
    y_masked : ndarray of shape (n_samples,)
        ``y`` with target rows set to the mask. Unsigned and boolean class
        labels come back as the smallest signed integer type that holds them
        and ``-1``; a regression target comes back as float.

    Examples
    --------
    >>> from sktransfer.domain import mask_target_labels
    >>> mask_target_labels([0, 1, 1, 0], [1, 1, -1, -1])
    array([ 0,  1, -1, -1])
    >>> mask_target_labels([3, 5, 4, 2], [1, 1, -1, -1], task="regression")
    array([ 3.,  5., nan, nan])
    """
    from .domain import _as_sample_domain  # here, not at the top: sktransfer.domain imports this module

    y = np.array(y, copy=True)
    sd = _as_sample_domain(sample_domain, y.shape[0])
    kind = _label_kind(y, _check_task(task))
    if kind == "string":
        raise TypeError(
            "String class labels cannot be masked with -1: encode them as integers "
            "first (sklearn.preprocessing.LabelEncoder)."
        )
    if kind == "regression":
        y = y.astype(float, copy=False)
        y[sd < 0] = np.nan
    else:
        y = signed_labels(y)
        y[sd < 0] = -1
    return y

