"""``partial_fit`` of ``MultiTaskClassifier``: an epoch of joint training, or of one task's head alone.

``partial_fit(X, y_task, task=k)`` trains head ``k`` on the frozen shared
body; ``k == n_tasks_`` first adds a head for a new task (the seeds'
shared-layer parameter transfer). The estimator's ``_run`` does the training.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import column_or_1d

from ..._compat import _fit_context
from .._finetune._net import build_head
from .._torch import import_torch
from ._labels import (
    TaskLabels,
    check_known,
    check_task_classes,
    check_task_labels,
    check_task_weights,
    task_column,
)


class _PartialFitMixin:
    """``partial_fit`` (joint, or one head) for the multi-task classifier, on its ``_run``."""

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, classes: Any = None, task: int | None = None) -> _PartialFitMixin:
        """One epoch: of joint training (``task=None``), or of one task's head on the frozen shared body.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples, n_tasks), or (n_samples,) with ``task``
            Labels, ``-1`` (or ``NaN``) where unlabelled: every task's (as in
            :meth:`fit`), or with ``task`` given that task's alone.
        classes : list of array-like, or array-like with ``task``, default=None
            The classes of every task (a list, one array per task), needed at
            the first call on an unfitted model; with ``task``, the classes of
            that task, needed when it is new (``-1``, the mask, cannot be one).
        task : int or None, default=None
            None trains every trainable weight on ``y``'s tasks, as ``fit``
            does (at constant learning rates; AdamW's moments carry over). An
            int ``k < n_tasks_`` trains head ``k`` alone; ``k == n_tasks_``
            adds a head for a new task (``classes`` given) and trains it
            alone. The backbone, the shared layers and the other heads stay
            bit-identical.

        Returns
        -------
        self : object
            The updated classifier.
        """
        owner = f"{self._owner()}.partial_fit"
        if task is None:
            return self._partial_joint(X, y, classes, owner)
        if isinstance(task, bool) or not isinstance(task, Integral):
            raise TypeError(f"{owner}: task must be an int (a task index) or None, got {task!r}.")
        if not hasattr(self, "net_"):
            raise ValueError(f"{owner}(task={task}) trains one head on a fitted shared body; call fit (or "
                             "partial_fit without task) first.")
        n_tasks = len(self.classes_)
        if not 0 <= task <= n_tasks:
            raise ValueError(f"{owner}: task={task} is neither a fitted task (0..{n_tasks - 1}) nor the next new "
                             f"one ({n_tasks}).")
        column, labelled = task_column(column_or_1d(np.asarray(y), warn=True), owner, "y")
        if not labelled.any():
            raise ValueError(f"{owner}: y has no labelled row (every entry is -1 or NaN).")
        new = task == n_tasks
        if new:
            if classes is None:
                raise ValueError(f"{owner}: task={task} is a new task; pass its classes= (all its labels).")
            known = check_task_classes(classes, owner, f"classes of task {task}")
        else:
            known = self.classes_[task]
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
                raise ValueError(f"{owner} got classes={np.asarray(classes).tolist()} for task {task}, not the "
                                 f"classes {known.tolist()} it was fitted with.")
        check_known(column[labelled], known, f"{owner} got, for task {task},")
        columns = [np.zeros(len(column)) for _ in range(n_tasks + new)]
        columns[task] = column
        mask = np.zeros((len(column), n_tasks + new), dtype=bool)
        mask[:, task] = labelled
        weights = np.eye(n_tasks + new)[task]
        if not new:
            return self._run(X, TaskLabels(columns, mask), weights=weights, partial=True, task=task)
        self._add_head(known)
        try:
            return self._run(X, TaskLabels(columns, mask), weights=weights, partial=True, task=task)
        except Exception:  # no half-added task: the model stays as it was
            del self.net_.head[-1].heads[-1]
            self.classes_ = self.classes_[:-1]
            self.n_tasks_ = len(self.classes_)
            raise

    def _partial_joint(self, X: Any, y: Any, classes: Any, owner: str) -> _PartialFitMixin:
        labels = check_task_labels(y, owner)
        if not labels.labelled.any():
            raise ValueError(f"{owner}: y has no labelled entry (every entry is -1 or NaN).")
        if not hasattr(self, "classes_"):
            if classes is None or len(classes) != labels.n_tasks:
                raise ValueError(f"{owner} needs classes= at its first call: a list of {labels.n_tasks} arrays, "
                                 "the classes of each task.")
            self._classes_given = [check_task_classes(c, owner, f"classes of task {t}")
                                   for t, c in enumerate(classes)]
        elif classes is not None:
            raise ValueError(f"{owner}: classes= is for the first call (the tasks' classes are fixed since); "
                             "leave it out.")
        known = getattr(self, "_classes_given", None) or self.classes_
        if labels.n_tasks != len(known):
            raise ValueError(f"{owner}: y has {labels.n_tasks} task(s), but the model has {len(known)}; pass one "
                             "column per task, or task=k to train one head.")
        for t in range(labels.n_tasks):
            check_known(labels.values(t), known[t], f"{owner} got, for task {t},")
        try:
            return self._run(X, labels, weights=check_task_weights(self.task_weights, labels.n_tasks, self._owner()), partial=True)
        finally:
            self.__dict__.pop("_classes_given", None)

    def _add_head(self, classes: np.ndarray) -> None:
        """A new task's head on the trunk's output, initialised from ``random_state``, and its classes."""
        torch = import_torch(self._owner())
        heads = self.net_.head[-1]
        seed = int(check_random_state(self.random_state).randint(0, 2**31 - 1)) + len(heads.heads)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            head = build_head(self._net_params["head"], heads.in_features, len(classes),
                              dropout=self._net_params["dropout"], owner=self._owner())
        heads.add(head.to(next(heads.parameters()).device))
        self.classes_ = self.classes_ + [classes]
        self.n_tasks_ = len(self.classes_)
