"""``MultiTaskClassifier``: one shared body, one classification head per task, trained jointly.

The fine-tuning estimators' parameters (written once, in ``_finetune``) plus
``shared`` and ``task_weights``. The network is the fine-tuning network
whose head is the shared trunk and the task heads side by side (``_heads``),
so the base's fit flow, training loop, prediction runtime and pickling run
unchanged; this module adds the masked multi-task labels and loss, and
``partial_fit(..., task=k)``, which trains one head on the frozen shared body.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from ..._compat import _fit_context
from ..._rows import _take
from .._finetune._base import _BaseFineTune
from .._finetune._net import make_net
from .._finetune._params import add_parameter, parameters_doc
from ._heads import MultiTaskLoss, multitask_head
from ._labels import TaskLabels, check_known, check_task_labels, check_task_weights
from ._partial import _PartialFitMixin

_EXTRA_DOC = """    shared : tuple of int, default=(256,)
        Hidden sizes of the shared layers (Linear-ReLU-Dropout) between the
        backbone (or the feature inputs) and the task heads; ``()`` shares
        the backbone alone (its trainable blocks, ``n_trainable_blocks``).
        ``head`` then describes each task's own head ("linear": one linear
        layer per task).
    task_weights : array-like of shape (n_tasks,) or None, default=None
        Weight of each task's cross-entropy in the joint loss (None: 1 each).
"""

_DOC_ATTRS = """
    Attributes
    ----------
    classes_ : list of ndarray
        The class labels of each task, in task order (as
        :class:`sklearn.multioutput.MultiOutputClassifier`).
    n_tasks_ : int
        Tasks (heads), those added by ``partial_fit(..., task=n_tasks_)``
        included.
    net_ : torch.nn.Module
        The trained network: the backbone copy (or nothing, on features), the
        shared layers and the task heads.
    extractor_ : DeepFeatureExtractor or None
        The fitted extractor that reads inputs (None for feature inputs).
    history_ : list of dict
        Per epoch: ``train_loss``, ``n_trainable_blocks``, ``lr``, ``seconds``
        and, with early stopping, ``val_loss`` and ``val_score`` (the mean
        accuracy over the tasks).
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        With early stopping, the epoch whose weights were restored.
"""


def _with_multitask_parameters(init: Any) -> Any:
    init = add_parameter(init, "shared", (256,), after="progress")
    return add_parameter(init, "task_weights", None, after="shared")


class MultiTaskClassifier(ClassifierMixin, _PartialFitMixin, _BaseFineTune):
    __doc__ = """Multi-task fine-tuning: one shared body, one classification head per task, trained jointly.

    Hard parameter sharing (Caruana 1997): the backbone's trainable blocks
    (or, with ``backbone=None``, nothing) and the ``shared`` layers are
    common to every task; each task has its own head. ``fit(X, y)`` takes one
    column of labels per task, ``-1`` (or ``NaN``) where a row has no label
    for a task, so rows may be labelled for some tasks only. The loss of a
    batch is ``sum_t task_weights[t] * CE_t``, the cross-entropy of task
    ``t`` averaged over the batch's rows labelled for it (a task with no
    labelled row in the batch adds 0). A task with few labels thus trains
    the shared layers with every other task's labels.

    ``partial_fit(X, y_new, classes=..., task=n_tasks_)`` then adds a head for
    a new task and trains it alone on the frozen shared body (the
    shared-layer parameter transfer): one epoch per call, every other
    weight bit-identical.
""" + parameters_doc(classifier=False, extra=_EXTRA_DOC) + _DOC_ATTRS + """
    See Also
    --------
    FineTuneClassifier : One task, one head.
    sklearn.multioutput.MultiOutputClassifier : One independent model per task.

    Notes
    -----
    ``predict`` returns one column per task, ``predict_proba`` a list of
    arrays (one per task), and ``score`` the mean over the tasks of the
    accuracy on each task's labelled entries (not the subset accuracy of
    :func:`sklearn.metrics.accuracy_score`, which needs every task labelled).
    Early stopping holds out rows at random (not stratified) and watches the
    joint loss. Everything else (phases, learning rates, the backbone in
    eval mode, pickling without pretrained weights) is as in
    :class:`FineTuneClassifier`.

    References
    ----------
    .. [1] Caruana, R. (1997). Multitask learning. Machine Learning, 28(1),
       41-75.
    .. [2] Ruder, S. (2017). An overview of multi-task learning in deep neural
       networks. arXiv:1706.05098.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.deep import MultiTaskClassifier
    >>> X = np.random.default_rng(0).normal(size=(60, 5)).astype("float32")
    >>> y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int)
    >>> y[30:, 1] = -1  # task 1 is labelled on the first 30 rows only
    >>> clf = MultiTaskClassifier(backbone=None, shared=(16,), max_epochs=30, lr=0.05, random_state=0)
    >>> clf.fit(X, y).predict(X[:2]).shape
    (2, 2)
    >>> clf.partial_fit(X, X[:, 2] > 0, classes=[False, True], task=2).n_tasks_
    3
    """

    _parameter_constraints: dict = {
        **_BaseFineTune._parameter_constraints,
        "shared": [tuple, list],
        "task_weights": [None, "array-like"],
    }

    __init__ = _with_multitask_parameters(_BaseFineTune.__init__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    # -- fit ----------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> MultiTaskClassifier:
        """Train the shared body and every task's head jointly.

        Parameters
        ----------
        X : sequence of inputs or array-like of shape (n_samples, n_features)
            Inputs of the backbone's kind, or features when ``backbone=None``.
        y : array-like of shape (n_samples, n_tasks)
            One column of class labels per task; ``-1`` (or ``NaN``) where a
            row has no label for that task. Rows labelled for no task are
            left out; every task needs labelled rows of at least 2 classes.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        labels = check_task_labels(y, self._owner())
        for t in range(labels.n_tasks):
            if not labels.labelled[:, t].any():
                raise ValueError(
                    f"{self._owner()}: task {t} (column {t} of y) has no labelled row; every task needs labels "
                    "at fit. Drop the column, or add the task later with partial_fit(X, y_task, classes=..., "
                    "task=n_tasks_), which trains its head on the fitted shared body.")
        return self._run(X, labels, weights=check_task_weights(self.task_weights, labels.n_tasks, self._owner()), partial=False)

    def _run(self, X: Any, labels: TaskLabels, *, weights: np.ndarray, partial: bool,
             task: int | None = None) -> MultiTaskClassifier:
        """The base's fit flow with this run's task weights, and for ``task`` only that head trainable."""
        key = "joint" if task is None else task
        states = getattr(self, "_optimizer_states", {}) if partial else {}
        self._optimizer_state = states.get(key)  # AdamW's moments of the same kind of run (joint, or this head)
        self._run_weights, self._trained_task = weights, task
        frozen = task is not None
        if frozen:  # nothing outside the head computes a gradient
            head = self.net_.head[-1].heads[task]
            for p in self.net_.parameters():
                p.requires_grad_(False)
            for p in head.parameters():
                p.requires_grad_(True)
        try:
            self._fit(X, labels, partial=partial)
        finally:
            for name in ("_run_weights", "_trained_task"):
                self.__dict__.pop(name, None)
            if frozen:
                for p in self.net_.head.parameters():
                    p.requires_grad_(True)
        if partial:
            states[key] = self.__dict__.pop("_optimizer_state", None)
            self._optimizer_states = states
        else:
            self.__dict__.pop("_optimizer_states", None)
        # What the network was built with, for a pickle to rebuild it (a fresh fit has just reset the record).
        self._net_params.setdefault("shared", tuple(self.shared))
        self.n_tasks_ = len(self.classes_)
        return self

    # -- hooks of the fine-tuning base --------------------------------------------------
    def _training_rows(self, X: Any, y: TaskLabels, sample_domain: Any) -> tuple[Any, TaskLabels]:
        """The rows labelled for at least one task."""
        check_consistent_length(X, y.labelled)
        rows = y.labelled.any(axis=1)
        if rows.all():
            return X, y
        keep = np.flatnonzero(rows)
        return _take(X, keep), y.take(keep)

    def _encode_targets(self, y: TaskLabels, *, fit: bool) -> np.ndarray:
        if fit:
            given = self.__dict__.pop("_classes_given", None)
            classes = given if given is not None else [np.unique(y.values(t)) for t in range(y.n_tasks)]
            for t, known in enumerate(classes):
                if len(known) < 2:
                    raise ValueError(f"{self._owner()} needs at least 2 classes in every task; task {t} has "
                                     f"{known.tolist()}.")
            self.classes_ = list(classes)
        else:
            if y.n_tasks != len(self.classes_):
                raise ValueError(f"{self._owner()} was fitted on {len(self.classes_)} task(s), but y has "
                                 f"{y.n_tasks}; set warm_start=False to fit anew.")
            for t in range(y.n_tasks):
                check_known(y.values(t), self.classes_[t], f"{self._owner()} (warm start) got, for task {t},")
        return y.encode(self.classes_)

    def _n_outputs(self) -> int:
        return sum(len(c) for c in self.classes_)

    def _new_net(self, n_in: int | None, n_out: int, *, with_backbone: bool | None = None,
                 weights: str | None = None) -> Any:
        adapter = None
        if with_backbone is None:
            with_backbone = not self._head_only()
        if with_backbone:  # a training copy: the shared, cached model is never trained
            adapter = self._shared_backbone(weights or self.weights).training_copy()
            n_in = self.extractor_.n_features_out_
        head = multitask_head(self.shared, self.head, n_in, [len(c) for c in self.classes_], dropout=self.dropout,
                              owner=self._owner())
        index = adapter.layer_index(self.layer, owner=self._owner()) if adapter is not None else None
        return make_net(adapter, head, index, self.pooling)

    def _param_groups(self, net: Any) -> tuple[list[dict], list[list[Any]]]:
        task = getattr(self, "_trained_task", None)
        if task is None:
            return super()._param_groups(net)
        head = net.head[-1].heads[task]
        return [{"params": list(head.parameters()), "lr": self.lr, "name": f"head of task {task}",
                 "weight_decay": 0.0 if self.regularization == "l2sp" else self.weight_decay}], []

    def _loss_fn(self, runtime: Any) -> MultiTaskLoss:
        weights = getattr(self, "_run_weights", None)
        return MultiTaskLoss(self._widths(), np.ones(len(self.classes_)) if weights is None else weights)

    def _score_outputs(self, out: np.ndarray, targets: np.ndarray) -> float:
        scores = []
        for t, logits in enumerate(self._split(out)):
            rows = targets[:, t] >= 0
            if rows.any():
                scores.append(np.mean(np.argmax(logits[rows], axis=1) == targets[rows, t]))
        return float(np.mean(scores)) if scores else 0.0

    def _validation_split(self, rows: np.ndarray, targets: np.ndarray, rng: np.random.RandomState):
        return train_test_split(rows, test_size=self.validation_fraction, random_state=rng.randint(0, 2**31 - 1))

    # -- prediction ---------------------------------------------------------------------
    def _widths(self) -> list[int]:
        return [len(c) for c in self.classes_]

    def _split(self, out: np.ndarray) -> list[np.ndarray]:
        return np.split(out, np.cumsum(self._widths())[:-1], axis=1)

    def predict_proba(self, X: Any) -> list[np.ndarray]:
        """Class probabilities of every task (softmax of its head's outputs).

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.

        Returns
        -------
        proba : list of ndarray of shape (n_samples, n_classes_t)
            One array per task, columns in the order of ``classes_[t]``.
        """
        probas = []
        for logits in self._split(self._outputs(X).astype(np.float64)):
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            probas.append(p / p.sum(axis=1, keepdims=True))
        return probas

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row, for every task.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_tasks)
            Predicted labels, one column per task.
        """
        outputs = self._outputs(X)  # checks that the model is fitted, before classes_ is read
        return np.column_stack([known[np.argmax(logits, axis=1)]
                                for known, logits in zip(self.classes_, self._split(outputs))])

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean over the tasks of the accuracy on each task's labelled entries.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples, n_tasks)
            True labels, ``-1`` (or ``NaN``) where unknown; unknown entries
            are left out, and a task with none labelled is left out of the
            mean.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            The mean of the tasks' accuracies.
        """
        check_is_fitted(self)
        labels = check_task_labels(y, f"{self._owner()}.score")
        if labels.n_tasks != len(self.classes_):
            raise ValueError(f"{self._owner()}.score: y has {labels.n_tasks} task(s), but the model has "
                             f"{len(self.classes_)}.")
        if not labels.labelled.any():
            raise ValueError(f"{self._owner()}.score: y has no labelled entry to score.")
        check_consistent_length(X, labels.labelled)
        weight = np.ones(len(labels)) if sample_weight is None else column_or_1d(np.asarray(sample_weight, float))
        check_consistent_length(weight, labels.labelled)
        rows = np.flatnonzero(labels.labelled.any(axis=1))
        pred = self.predict(_take(X, rows))
        scores = []
        for t in range(labels.n_tasks):
            mask = labels.labelled[rows, t]
            if mask.any():
                hit = pred[mask, t] == labels.columns[t][rows][mask]
                scores.append(np.average(hit, weights=weight[rows][mask]))
        return float(np.mean(scores))
