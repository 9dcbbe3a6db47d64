"""The deep domain-adaptation estimators: fine-tuning plus a domain loss on the unlabelled target rows.

``DomainAdaptationClassifier`` and ``DomainAdaptationRegressor`` are the
fine-tuning estimators (every parameter of theirs, written once in
``_finetune``) with four more (``loss``, ``loss_weight``, ``ramp_steps``,
``discriminator``), ``fit(X, y, sample_domain=None)`` on the library's
domain contract, and the training objective of ``_objective``.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_consistent_length

from ..._compat import Interval, StrOptions, _fit_context
from ...domain import check_domains
from .._finetune._classifier import FineTuneClassifier
from .._finetune._params import DOC_ATTRS, add_parameter, change_defaults, parameters_doc
from .._finetune._regressor import FineTuneRegressor
from ._objective import CLASSIFIER_LOSSES, FEATURE_LOSSES, LOSSES, DomainObjective

_EXTRA_DOC = """    loss : {"coral", "mmd", "dann", "cdan", "cdan+e", "mcc"} or None, default="dann"
        The domain loss on the target rows. "coral": Deep CORAL, the distance
        between the feature covariances; "mmd": DAN's multi-kernel MMD of the
        features; "dann": a domain discriminator trained against the features
        through gradient reversal; "cdan" and "cdan+e": the discriminator sees
        features conditioned on the class predictions (with entropy weighting);
        "mcc": Minimum Class Confusion of the target predictions. None trains on
        the labelled rows alone (the source-only baseline). "cdan", "cdan+e" and
        "mcc" need classes.
    loss_weight : float, default=1.0
        Weight of the domain loss beside the supervised one.
    ramp_steps : int or None, default=1000
        Steps over which the domain loss is switched on: its weight (for
        "dann", "cdan" and "cdan+e", the factor of the reversed gradient; the
        discriminator itself always learns at full strength) rises from 0 as
        ``2 / (1 + exp(-10 p)) - 1`` with ``p = min(1, step / ramp_steps)``.
        The default follows the authors' code (1000 iterations): a short run
        then adapts only a little rather than letting an untrained
        discriminator or a few noisy batch statistics wreck a pretrained
        backbone. None ramps over the whole run (Ganin and Lempitsky's
        schedule); 0 applies the full weight from the first step.
    discriminator : tuple of int, default=(1024, 1024)
        Hidden sizes of the domain discriminator of "dann" and "cdan".
"""

_DOC_FIT_NOTES = """
    Notes
    -----
    Every step pairs a batch of labelled rows with as many target rows, drawn
    in turn from a shuffled order of all target rows. The features that the
    domain losses align are the input of the head's last linear layer: the
    output of its hidden layers, or with ``head="linear"`` the backbone's
    output, which must then train (``n_trainable_blocks > 0``). The
    domain loss is switched on over the first ``ramp_steps`` steps (see the
    parameter); the adversarial losses apply that ramp to the reversed
    gradient (Ganin and Lempitsky), the others to the loss; the
    discriminator trains at ``lr`` and is rebuilt at each ``fit``. The network
    predicts like :class:`FineTuneClassifier`; new rows are target rows.

    References
    ----------
    .. [1] Sun, B. and Saenko, K. (2016). Deep CORAL: correlation alignment for
       deep domain adaptation. ECCV workshops.
    .. [2] Long, M., Cao, Y., Wang, J. and Jordan, M. I. (2015). Learning
       transferable features with deep adaptation networks. ICML.
    .. [3] Ganin, Y. and Lempitsky, V. (2015). Unsupervised domain adaptation by
       backpropagation. ICML.
    .. [4] Long, M., Cao, Z., Wang, J. and Jordan, M. I. (2018). Conditional
       adversarial domain adaptation. NeurIPS.
    .. [5] Jin, Y., Wang, X., Long, M. and Wang, J. (2020). Minimum class
       confusion for versatile domain adaptation. ECCV.
"""

_CONSTRAINTS = {
    "loss": [None, StrOptions(set(LOSSES))],
    "loss_weight": [Interval(Real, 0, None, closed="left")],
    "ramp_steps": [None, Interval(Integral, 0, None, closed="left")],
    "discriminator": [tuple, list],
}


def _never(estimator: Any) -> bool:
    return False


def _with_domain_parameters(init: Any) -> Any:
    """``init`` with the domain parameters after ``progress``, and ``head=(256,)``."""
    init = add_parameter(init, "loss", "dann", after="progress")
    init = add_parameter(init, "loss_weight", 1.0, after="loss")
    init = add_parameter(init, "ramp_steps", 1000, after="loss_weight")
    init = add_parameter(init, "discriminator", (1024, 1024), after="ramp_steps")
    return change_defaults(init, head=(256,))


class _DomainAdaptationMixin:
    """``fit(X, y, sample_domain)`` keeping the target rows, and the domain objective (see the classifier)."""

    def _check_domain_parameters(self) -> None:
        owner = type(self).__name__
        if self.loss in CLASSIFIER_LOSSES and not hasattr(self, "predict_proba"):
            raise ValueError(f"{owner}: loss={self.loss!r} reads class probabilities, so it needs a classifier; "
                             "use loss='coral', 'mmd' or 'dann' for a regression target.")
        if not all(isinstance(h, Integral) and not isinstance(h, bool) and h > 0 for h in self.discriminator):
            raise ValueError(f"{owner}: discriminator must be a tuple of positive ints (hidden sizes), "
                             f"got {self.discriminator!r}.")
        if self.loss == "coral" and self.batch_size < 2:
            # a covariance needs two rows: every step would fail inside the loss with its own wording
            raise ValueError(f"{owner}: loss='coral' compares the covariances of each batch's source and target "
                             f"features, which need 2 rows or more; got batch_size={self.batch_size}. Use "
                             "batch_size=2 or more (32 is the default).")
        frozen_below_head = self.backbone is None or self.n_trainable_blocks == 0
        if self.loss in FEATURE_LOSSES and self.head == "linear" and frozen_below_head:
            raise ValueError(
                f"{owner}: loss={self.loss!r} aligns the features under the head's last layer, but with "
                "head='linear' and nothing of the backbone trained they are fixed, so the loss could not change "
                "them. Give the head a hidden layer (e.g. head=(256,)), train backbone blocks "
                "(n_trainable_blocks=2), or use loss='mcc'.")

    def _fit_domains(self, X: Any, y: Any, sample_domain: Any) -> Any:
        self._check_domain_parameters()
        y = self._check_y(y)
        try:
            return self._fit(X, y, partial=False, sample_domain=sample_domain)
        finally:
            self.__dict__.pop("_fit_rows", None)

    # -- hooks of the fine-tuning base ------------------------------------------------
    def _training_rows(self, X: Any, y: np.ndarray, sample_domain: Any) -> tuple[Any, np.ndarray]:
        check_consistent_length(X, y)
        domains = check_domains(X, y, sample_domain, estimator=self, needs=("source_labels", "target"))
        self._fit_rows = (domains.labelled, np.flatnonzero(domains.target))
        return X, y

    def _encode_targets(self, y: np.ndarray, *, fit: bool) -> np.ndarray:
        labelled = self._fit_rows[0]
        encoded = super()._encode_targets(y[labelled], fit=fit)
        full = np.full((len(y),) + encoded.shape[1:], -1 if encoded.dtype.kind == "i" else np.nan,
                       dtype=encoded.dtype)
        full[labelled] = encoded
        return full

    def _supervised_rows(self, targets: np.ndarray) -> np.ndarray:
        return np.flatnonzero(self._fit_rows[0])

    def _objective(self, net: Any, runtime: Any, *, seed: int, total_steps: int) -> DomainObjective:
        ramp = total_steps if self.ramp_steps is None else self.ramp_steps
        return DomainObjective(net, self._loss_fn(runtime), self.loss, self.loss_weight, self._fit_rows[1],
                               ramp, tuple(self.discriminator), runtime, seed)


class DomainAdaptationClassifier(_DomainAdaptationMixin, FineTuneClassifier):
    __doc__ = """Deep domain adaptation: a classifier trained on labelled rows and aligned on target rows.

    A fine-tuning network (a head on a backbone, or on feature inputs with
    ``backbone=None``) trained with the cross-entropy of the labelled rows plus
    a domain loss that makes the unlabelled target rows look like the source
    rows to the network: Deep CORAL, DAN's MMD, DANN, CDAN(+E) or MCC, chosen by
    ``loss``. ``fit`` follows the library's domain contract: source rows and
    target rows stacked, ``sample_domain`` (or ``-1`` labels) saying which is
    which.
""" + parameters_doc(classifier=True, head_default="(256,)", extra=_EXTRA_DOC) + DOC_ATTRS + """
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    See Also
    --------
    DomainAdaptationRegressor : The same for regression (CORAL, MMD, DANN).
    FineTuneClassifier : Fine-tuning on labelled rows only.
    sktransfer.alignment.CORAL : CORAL on fixed features, without a network.
""" + _DOC_FIT_NOTES + """
    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.deep import DomainAdaptationClassifier
    >>> X, y, sample_domain = make_domain_shift(n_samples=200, random_state=0)
    >>> clf = DomainAdaptationClassifier(backbone=None, loss="coral", head=(16,), max_epochs=5,
    ...                                  random_state=0)
    >>> clf.fit(X, y, sample_domain=sample_domain).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {**FineTuneClassifier._parameter_constraints, **_CONSTRAINTS}
    # The domain loss pairs the rows of a whole fit: no partial_fit (fit with warm_start=True continues).
    partial_fit = available_if(_never)(FineTuneClassifier.partial_fit)

    __init__ = _with_domain_parameters(FineTuneClassifier.__init__)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_domain: Any = None) -> DomainAdaptationClassifier:
        """Train on the labelled rows and align the target rows.

        Parameters
        ----------
        X : sequence of inputs or array-like of shape (n_samples, n_features)
            Source and target rows stacked: inputs of the backbone's kind, or
            features when ``backbone=None``.
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` (or ``NaN``) marks an unlabelled row.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row (``> 0`` source, ``< 0`` target); None reads the
            unlabelled rows as the target rows.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit_domains(X, y, sample_domain)



class DomainAdaptationRegressor(_DomainAdaptationMixin, FineTuneRegressor):
    __doc__ = """Deep domain adaptation for regression: a regressor trained on labelled rows and aligned on target rows.

    As :class:`DomainAdaptationClassifier`, with the mean squared error of the
    standardised targets as the supervised loss; the domain losses that read
    class predictions ("cdan", "cdan+e", "mcc") are refused.
""" + parameters_doc(classifier=False, head_default="(256,)", extra=_EXTRA_DOC) + DOC_ATTRS + """

    See Also
    --------
    DomainAdaptationClassifier : The same for classification.
    FineTuneRegressor : Fine-tuning on labelled rows only.
""" + _DOC_FIT_NOTES + """
    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.deep import DomainAdaptationRegressor
    >>> X, y, sample_domain = make_domain_shift(n_samples=200, task="regression", random_state=0)
    >>> reg = DomainAdaptationRegressor(backbone=None, loss="mmd", head=(16,), max_epochs=5,
    ...                                 random_state=0)
    >>> reg.fit(X, y, sample_domain=sample_domain).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {**FineTuneRegressor._parameter_constraints, **_CONSTRAINTS}
    partial_fit = available_if(_never)(FineTuneRegressor.partial_fit)

    __init__ = _with_domain_parameters(FineTuneRegressor.__init__)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any, sample_domain: Any = None) -> DomainAdaptationRegressor:
        """Train on the labelled rows and align the target rows.

        Parameters
        ----------
        X : sequence of inputs or array-like of shape (n_samples, n_features)
            Source and target rows stacked.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; ``NaN`` marks an unlabelled row.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row (``> 0`` source, ``< 0`` target); None reads the
            unlabelled rows as the target rows.

        Returns
        -------
        self : object
            The fitted regressor.
        """
        return self._fit_domains(X, y, sample_domain)

