"""The public fine-tuning estimators: a classifier and a regressor over one base.

The regressor inherits the base's ``__init__``; the classifier adds its one
parameter, ``class_weight``, to it (``_params.add_parameter``), so every
parameter is written once, in ``_BaseFineTune.__init__``, its constraints in
``_BaseFineTune._parameter_constraints`` and its documentation in
``_params``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from ..._compat import StrOptions, _fit_context
from ..._finite import check_finite_result
from ...domain import labelled_rows_for_score, unlabelled_mask
from .._torch import import_torch
from ._base import _BaseFineTune
from ._params import add_parameter, parameters_doc

_DOC_ATTRS = """
    Attributes
    ----------
    net_ : torch.nn.Module
        The trained network (backbone copy and head).
    extractor_ : DeepFeatureExtractor or None
        The fitted extractor that reads inputs (None for feature inputs).
    history_ : list of dict
        Per epoch: ``train_loss``, ``n_trainable_blocks``, ``lr``, ``seconds``
        and, with early stopping, ``val_loss`` and ``val_score``.
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        With early stopping, the epoch whose weights were restored."""


_DOC_NOTES = """    Notes
    -----
    The backbone runs in eval mode, also while its blocks train: BatchNorm
    keeps its pretraining statistics (unless ``batchnorm="train"``) and the
    backbone's dropout is off, so frozen blocks (weights and buffers) stay
    bit-identical, and small target sets cannot corrupt the running
    statistics. Blocks are counted from
    the backbone's output, so training blocks requires ``layer=-1``. With
    fp16 (GPUs without bf16) the loss is scaled against gradient underflow.
    ``partial_fit`` runs one epoch at constant learning rates; AdamW's
    moment estimates carry over from one call to the next (as in
    scikit-learn's MLPs). Augmentation and feature noise draw from a generator
    of their own, seeded by ``random_state``.

"""


class FineTuneClassifier(ClassifierMixin, _BaseFineTune):
    __doc__ = """Fine-tune a pretrained backbone with a new classification head.

    The recipe of transfer learning as one estimator: put a new head on a
    pretrained backbone, train the head, then unfreeze the top blocks and
    fine-tune them with smaller learning rates.
""" + parameters_doc(classifier=True) + _DOC_ATTRS + """
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    See Also
    --------
    FineTuneRegressor : The same for regression.
    ImageFeatureExtractor : Frozen features for any scikit-learn model.

""" + _DOC_NOTES + """    References
    ----------
    .. [1] Howard, J. and Ruder, S. (2018). Universal language model fine-tuning
       for text classification. ACL.
    .. [2] Li, X., Grandvalet, Y. and Davoine, F. (2018). Explicit inductive bias
       for transfer learning with convolutional networks. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.deep import FineTuneClassifier
    >>> X = np.random.default_rng(0).normal(size=(40, 5)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = FineTuneClassifier(backbone=None, max_epochs=30, lr=0.05, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints: dict = {
        **_BaseFineTune._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
    }

    # Every parameter of the base, plus class_weight: each written once (see _params.add_parameter).
    __init__ = add_parameter(_BaseFineTune.__init__, "class_weight", None, after="l2sp_beta")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> FineTuneClassifier:
        """Train on ``X`` (images, texts or features) and labels ``y``.

        Parameters
        ----------
        X : sequence of inputs or array-like of shape (n_samples, n_features)
            Inputs of the backbone's kind, or features when ``backbone=None``.
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` (or ``NaN``) marks an unlabelled row, which is
            left out of training (``-1`` is never a class).

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit(X, self._check_y(y), partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> FineTuneClassifier:
        """One epoch on ``X, y``, continuing from the current weights.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples,)
            Labels; each must be in ``classes`` (given at the first call).
            ``-1`` (or ``NaN``) marks an unlabelled row, left out.
        classes : array-like, default=None
            All classes, required at the first call (``-1``, the mask, cannot
            be one).

        Returns
        -------
        self : object
            The updated classifier.
        """
        name = f"{type(self).__name__}.partial_fit"
        y = self._check_y(y)
        first = not hasattr(self, "classes_")
        if first:
            if classes is None:
                raise ValueError(f"{name} needs classes= at its first call.")
            if self.class_weight == "balanced":
                raise ValueError(f"{name} cannot balance classes from one batch; pass class_weight as a dict, "
                                 "e.g. dict(zip(classes, compute_class_weight('balanced', classes=classes, "
                                 "y=y_all))).")
            known = np.unique(np.asarray(classes))
            if unlabelled_mask(known, "classification").any():
                raise ValueError(f"{name} got classes={known.tolist()}, but -1 (or NaN) marks an unlabelled row and "
                                 "cannot be a class. Recode the classes, e.g. y = (y > 0).astype(int) for -1/+1 "
                                 "labels, and mark unlabelled rows with -1.")
        else:
            known = self.classes_
            if classes is not None and not np.array_equal(np.unique(np.asarray(classes)), known):
                raise ValueError(f"{name} got classes={np.asarray(classes).tolist()}, not the classes "
                                 f"{known.tolist()} it was first fitted with.")
        self._check_known_labels(y[~unlabelled_mask(y, "classification")], known, f"{name} got")
        if first:
            self._classes_given = known
        return self._fit(X, y, partial=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (softmax of the head's outputs).

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns in the order of ``classes_``.
        """
        logits = self._outputs(X).astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        outputs = self._outputs(X)  # checks that the model is fitted, before classes_ is read
        return self.classes_[np.argmax(outputs, axis=1)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy on the labelled rows (those whose label is not ``-1`` or ``NaN``).

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples,)
            True labels; unlabelled rows are left out, as every score of the
            library does.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            Mean accuracy of :meth:`predict` on the labelled rows.
        """
        X, y, sample_weight = labelled_rows_for_score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    # -- hooks of the base --------------------------------------------------------------
    def _check_y(self, y: Any) -> np.ndarray:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = column_or_1d(np.asarray(y), warn=True)
        # NaN, like -1, marks an unlabelled row (dropped by _labelled); type_of_target refuses it.
        kind = type_of_target(y[~np.isnan(y)] if y.dtype.kind == "f" else y, input_name="y")
        if kind not in ("binary", "multiclass"):
            unknown = "Unknown label type: " if kind == "unknown" else ""  # sklearn's wording, for its checks
            raise ValueError(f"{type(self).__name__} needs class labels; {unknown}got a target of type {kind!r}.")
        return y

    def _check_known_labels(self, y: np.ndarray, known: np.ndarray, context: str) -> None:
        unseen = np.setdiff1d(np.unique(y), known)
        if len(unseen):
            raise ValueError(f"{context} labels {unseen.tolist()} that are not among the classes {known.tolist()} "
                             "(fixed by the first fit, or by classes= at the first partial_fit; call fit with "
                             "warm_start=False to learn new ones).")

    def _encode_targets(self, y: np.ndarray, *, fit: bool) -> np.ndarray:
        if fit:
            self.classes_ = getattr(self, "_classes_given", None)
            if self.classes_ is None:
                self.classes_ = np.unique(y)
            self.__dict__.pop("_classes_given", None)
            if len(self.classes_) < 2:
                n = len(self.classes_)
                raise ValueError(f"{type(self).__name__} needs at least 2 classes; got {n} "
                                 f"class{'' if n == 1 else 'es'}: {self.classes_.tolist()}.")
            # Weights keyed by the user's labels (a dict, or "balanced" over y), in the order of classes_.
            self.class_weight_ = None if self.class_weight is None else compute_class_weight(
                self.class_weight, classes=self.classes_, y=y).astype(np.float32)
        else:
            self._check_known_labels(y, self.classes_, f"{type(self).__name__} (warm start) got")
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _n_outputs(self) -> int:
        return len(self.classes_)

    def _loss_fn(self, runtime: Any) -> Any:
        torch = import_torch(type(self).__name__)
        weight = getattr(self, "class_weight_", None)
        if weight is not None:
            weight = torch.as_tensor(weight, dtype=torch.float32, device=runtime.device)
        return torch.nn.CrossEntropyLoss(weight=weight)

    def _score_outputs(self, out: np.ndarray, targets: np.ndarray) -> float:
        return float(np.mean(np.argmax(out, axis=1) == targets))


class FineTuneRegressor(RegressorMixin, _BaseFineTune):
    __doc__ = """Fine-tune a pretrained backbone with a new regression head.

    Targets are standardised for training (mean 0, variance 1 per output) and
    predictions mapped back; the loss is the mean squared error.
""" + parameters_doc(classifier=False) + _DOC_ATTRS + """

    See Also
    --------
    FineTuneClassifier : The same for classification.

""" + _DOC_NOTES + """    References
    ----------
    .. [1] Yosinski, J., Clune, J., Bengio, Y. and Lipson, H. (2014). How
       transferable are features in deep neural networks? NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.deep import FineTuneRegressor
    >>> X = np.random.default_rng(0).normal(size=(40, 3)).astype("float32")
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> reg = FineTuneRegressor(backbone=None, max_epochs=60, lr=0.05, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.9
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any) -> FineTuneRegressor:
        """Train on ``X`` and numeric targets ``y``.

        Parameters
        ----------
        X : sequence of inputs or array-like of shape (n_samples, n_features)
            Inputs of the backbone's kind, or features when ``backbone=None``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets; ``NaN`` (in every output of a row) marks an
            unlabelled row, left out of training. ``-1`` is a value like any
            other.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit(X, self._check_y(y), partial=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Any, y: Any) -> FineTuneRegressor:
        """One epoch on ``X, y``, continuing from the current weights.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Numeric targets; ``NaN`` marks an unlabelled row, left out.

        Returns
        -------
        self : object
            The updated regressor.
        """
        return self._fit(X, self._check_y(y), partial=True)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : sequence of inputs or array-like
            As in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions on the scale of the training targets.
        """
        out = self._outputs(X).astype(np.float64) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self.n_outputs_ == 1 and not self._y_2d else out

    def _check_y(self, y: Any) -> np.ndarray:
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        y = np.asarray(y)
        if y.dtype.kind not in "uifb":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"{type(self).__name__} needs numeric targets; got values such as "
                                 f"{y.ravel()[:3].tolist()}. Use FineTuneClassifier for labels.") from None
        if y.ndim not in (1, 2):
            raise ValueError(f"{type(self).__name__} needs y of shape (n_samples,) or (n_samples, n_outputs); "
                             f"got shape {y.shape}.")
        return y.astype(np.float64)

    def _encode_targets(self, y: np.ndarray, *, fit: bool) -> np.ndarray:
        # The labelled rows only: NaN in every output of a row made it unlabelled and it was left out.
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{type(self).__name__} got infinite targets, or NaN in some but not all outputs of a "
                             "row (NaN marks an unlabelled row only in every output); fix or drop those rows.")
        y2 = y.reshape(len(y), -1)
        if not fit and y2.shape[1] != self.n_outputs_:
            raise ValueError(f"{type(self).__name__} was fitted on {self.n_outputs_} output(s), but y has "
                             f"{y2.shape[1]}; set warm_start=False to fit anew.")
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is refused below, by name
            if fit:
                mean, std = y2.mean(axis=0), y2.std(axis=0)
                scale = np.where(std > 0, std, 1.0)
            else:
                mean, scale = self.y_mean_, self.y_scale_
            scaled = ((y2 - mean) / scale).astype(np.float32)  # what training reads
        largest = float(np.max(np.abs(y2))) if y2.size else 0.0
        check_finite_result(
            np.concatenate([mean, scale, scaled.ravel()]), type(self).__name__,
            "mean, standard deviation and standardised values of the targets",
            f"The targets are too large to standardise (|y| up to {largest:.3g}): rescale y, e.g. divide it "
            "by a constant, or wrap the regressor in sklearn.compose.TransformedTargetRegressor.")
        if fit:
            self._y_2d = y.ndim == 2
            self.n_outputs_ = y2.shape[1]
            self.y_mean_, self.y_scale_ = mean, scale
        return scaled

    def _n_outputs(self) -> int:
        return self.n_outputs_

    def _loss_fn(self, runtime: Any) -> Any:
        return import_torch(type(self).__name__).nn.MSELoss()

    def _score_outputs(self, out: np.ndarray, targets: np.ndarray) -> float:
        resid = ((out - targets) ** 2).sum()
        total = ((targets - targets.mean(axis=0)) ** 2).sum()
        return float(1 - resid / total) if total > 0 else 0.0

