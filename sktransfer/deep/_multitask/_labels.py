"""The labels of a multi-task fit: one column per task, each with its own mask."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.multiclass import type_of_target

from ...domain import unlabelled_mask


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
    if y.dtype.kind == "O":
        try:  # numbers in an object array (a column of a mixed DataFrame): read them as numbers
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
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
    columns, masks = zip(*(task_column(y[:, t], owner, f"task {t} (column {t} of y)") for t in range(y.shape[1])))
    return TaskLabels(list(columns), np.column_stack(masks))

