"""The fine-tuning regressor: ``_BaseFineTune`` with standardised targets and the mean squared error.

It inherits the base's ``__init__`` unchanged (every parameter is written
once, in ``_BaseFineTune.__init__``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin

from ..._compat import _fit_context
from ..._finite import check_finite_result
from ..._labelled_score import LabelledScoreMixin
from .._torch import import_torch
from ._base import _BaseFineTune
from ._params import DOC_ATTRS, DOC_NOTES, parameters_doc


class FineTuneRegressor(LabelledScoreMixin, RegressorMixin, _BaseFineTune):
    __doc__ = """Fine-tune a pretrained backbone with a new regression head.

    Targets are standardised for training (mean 0, variance 1 per output) and
    predictions mapped back; the loss is the mean squared error.
""" + parameters_doc(classifier=False) + DOC_ATTRS + """

    See Also
    --------
    FineTuneClassifier : The same for classification.

""" + DOC_NOTES + """    References
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
