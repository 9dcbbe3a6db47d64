"""The labels of a multi-task fit: one column per task, each with its own mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.multiclass import type_of_target

from ..._labels import _check_no_stringified_mask, unlabelled_mask


@dataclass
class TaskLabels:
    """Per-task label columns and which entries are labelled (``-1`` or ``NaN`` mark an unlabelled entry)."""

    columns: list[np.ndarray]
    labelled: np.ndarray  # (n_rows, n_tasks) bool

    def __len__(self) -> int:
        return len(self.labelled)

    @property
    def n_tasks(self) -> int:
        return len(self.columns)

    def take(self, rows: np.ndarray) -> TaskLabels:
        return TaskLabels([c[rows] for c in self.columns], self.labelled[rows])

    def values(self, t: int) -> np.ndarray:
        """The labelled entries of task ``t``."""
        return self.columns[t][self.labelled[:, t]]

    def encode(self, classes: list[np.ndarray]) -> np.ndarray:
        """``(n_rows, n_tasks)`` int64 class indices into ``classes[t]``, ``-1`` where unlabelled."""
        out = np.full(self.labelled.shape, -1, dtype=np.int64)
        for t, known in enumerate(classes):
            rows = self.labelled[:, t]
            out[rows, t] = np.searchsorted(known, self.columns[t][rows])
        return out


def task_column(y: Any, owner: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    """One task's labels and their labelled mask; refuses values that are not class labels."""
    y = np.asarray(y)
    if y.dtype.kind == "O" and not any(isinstance(v, str) for v in y.tolist()):
        try:  # numbers in an object array (a column of a mixed DataFrame): read them as numbers
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    # Strings stay strings: astype(float) also parsed "01" and "1" into one class 1.0, and predict
    # returned floats where the labels were strings.
    labelled = ~unlabelled_mask(y, "classification")
    kind = type_of_target(y[labelled], input_name="y") if labelled.any() else "binary"
    if kind not in ("binary", "multiclass"):
        raise ValueError(f"{owner} needs class labels in {name}; got a target of type {kind!r}.")
    return y, labelled


def check_task_labels(y: Any, owner: str) -> TaskLabels:
    """``y`` of shape ``(n_samples, n_tasks)`` as per-task columns and masks."""
    if y is None:
        raise ValueError(f"{owner} requires y to be passed, but the target y is None.")
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"{owner} needs y of shape (n_samples, n_tasks), one column of class labels per task "
                         f"(-1 where a row has no label for a task); got shape {y.shape}. For one task, pass "
                         "y.reshape(-1, 1) or use FineTuneClassifier.")
    if y.shape[1] == 0:
        raise ValueError(f"{owner} needs at least one task (a column of y); got shape {y.shape}.")
    if y.dtype.kind in "US":
        # One task's string labels made numpy turn every column into strings, the other tasks' -1 or
        # NaN masks included: judged column by column, a column of '0', '1' and '-1' reads as numbers
        # and '-1' was learnt as a class. Judged over the whole array, as the one-task estimators judge
        # their y, those masks are refused.
        _check_no_stringified_mask(np.unique(y).tolist())
    columns, masks = zip(*(task_column(y[:, t], owner, f"task {t} (column {t} of y)") for t in range(y.shape[1])))
    return TaskLabels(list(columns), np.column_stack(masks))


def check_task_weights(task_weights: Any, n_tasks: int, owner: str) -> np.ndarray:
    """The weight of each task's loss: ``task_weights`` checked, or 1 each when None."""
    if task_weights is None:
        return np.ones(n_tasks)
    weights = np.asarray(task_weights, dtype=np.float64).ravel()
    if len(weights) != n_tasks or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
            or not weights.sum() > 0:
        raise ValueError(f"{owner}: task_weights must hold {n_tasks} finite non-negative weights (one "
                         f"per task, not all 0); got {task_weights!r}.")
    return weights


def check_task_classes(classes: Any, owner: str, name: str) -> np.ndarray:
    """The sorted classes of one task given by the user: at least 2, and never the mask."""
    known = np.unique(np.asarray(classes))
    if unlabelled_mask(known, "classification").any():
        raise ValueError(f"{owner} got {name} = {known.tolist()}, but -1 (or NaN) marks an unlabelled entry "
                         "and cannot be a class. Recode the classes (e.g. y = (y > 0).astype(int) for -1/+1 "
                         "labels) and mark unlabelled entries with -1.")
    if len(known) < 2:
        raise ValueError(f"{owner} needs at least 2 {name}; got {known.tolist()}.")
    return known


def check_known(values: np.ndarray, known: np.ndarray, context: str) -> None:
    """Refuse labels outside a task's fixed classes."""
    unseen = np.setdiff1d(np.unique(values), known)
    if len(unseen):
        raise ValueError(f"{context} labels {unseen.tolist()} that are not among its classes {known.tolist()} "
                         "(fixed by the first fit, or by classes=); call fit to learn new ones.")
