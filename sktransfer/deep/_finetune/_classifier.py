"""The fine-tuning classifier: ``_BaseFineTune`` with a softmax head, class labels and ``class_weight``.

It adds its one parameter, ``class_weight``, to the base's ``__init__``
(``_params.add_parameter``), so every parameter is written once, in
``_BaseFineTune.__init__``, its constraints in
``_BaseFineTune._parameter_constraints`` and its documentation in ``_params``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import column_or_1d

from ..._compat import StrOptions, _fit_context
from ..._labels import _label_kind, unlabelled_mask
from ..._rows import labelled_rows_for_score
from .._torch import import_torch
from ._base import _BaseFineTune
from ._params import DOC_ATTRS, DOC_NOTES, add_parameter, parameters_doc


class FineTuneClassifier(ClassifierMixin, _BaseFineTune):
    __doc__ = """Fine-tune a pretrained backbone with a new classification head.

    The recipe of transfer learning as one estimator: put a new head on a
    pretrained backbone, train the head, then unfreeze the top blocks and
    fine-tune them with smaller learning rates.
""" + parameters_doc(classifier=True) + DOC_ATTRS + """
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    class_weight_ : ndarray of shape (n_classes,) or None
        The loss weight of each class (None: unweighted), recomputed from
        ``class_weight`` at every fit and partial_fit, warm starts included.

    See Also
    --------
    FineTuneRegressor : The same for regression.
    ImageFeatureExtractor : Frozen features for any scikit-learn model.

""" + DOC_NOTES + """    References
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
        if first and classes is None:
            raise ValueError(f"{name} needs classes= at its first call.")
        if self.class_weight == "balanced":  # at every call: the weights are recomputed from each batch
            raise ValueError(f"{name} cannot balance classes from one batch; pass class_weight as a dict, "
                             "e.g. dict(zip(classes, compute_class_weight('balanced', classes=classes, "
                             "y=y_all))).")
        if first:
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
        # The classes of a network this call builds, read by _encode_targets during this call only:
        # a failed call must not hand them to a later fit.
        self._classes_given = known
        try:
            return self._fit(X, y, partial=True)
        finally:
            self.__dict__.pop("_classes_given", None)

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
        if y.dtype.kind in "US" or (y.dtype.kind == "O" and any(isinstance(v, str) for v in y.tolist())):
            # Strings beside the -1 mask (or None): the library's clear refusal, not numpy's "'<' not
            # supported between 'int' and 'str'" from inside type_of_target's unique.
            _label_kind(y, "classification")
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
            given = self.__dict__.pop("_classes_given", None)  # set by partial_fit (or a subclass) for this fit
            classes = np.unique(y) if given is None else given
            if len(classes) < 2:
                n = len(classes)
                raise ValueError(f"{type(self).__name__} needs at least 2 classes; got {n} "
                                 f"class{'' if n == 1 else 'es'}: {classes.tolist()}.")
            self.classes_ = classes
        else:
            self._check_known_labels(y, self.classes_, f"{type(self).__name__} (warm start) got")
        self.class_weight_ = self._class_weights(y)
        return np.searchsorted(self.classes_, y).astype(np.int64)

    def _class_weights(self, y: np.ndarray) -> np.ndarray | None:
        """The loss weight of each class of ``classes_``, in that order, under the current ``class_weight``.

        Recomputed at every fit and partial_fit, warm or not, so that a
        ``class_weight`` changed by ``set_params`` applies to the next one.
        A dict is keyed by the user's labels; ``"balanced"`` counts this
        fit's ``y``, which must then hold every class.
        """
        if self.class_weight is None:
            return None
        absent = np.setdiff1d(self.classes_, y) if isinstance(self.class_weight, str) else []
        if len(absent):
            raise ValueError(f"{type(self).__name__}: class_weight='balanced' weighs the classes by their counts "
                             f"in y, but classes {absent.tolist()} are not in this fit's y; pass class_weight as "
                             "a dict.")
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y).astype(np.float32)

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
