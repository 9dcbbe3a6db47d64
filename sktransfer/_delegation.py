"""Methods that a meta-estimator hands to its fitted ``estimator_``.

``PretrainFineTune`` and ``ImportanceWeightedEstimator`` predict with a fitted
inner estimator; each prediction method validates ``X`` against the outer
estimator, calls the inner one, and exists only when the inner one has it.
One factory builds them all, docstring included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.metaestimators import available_if

#: (summary, Returns section) of each method a meta-estimator can delegate.
_TEXTS = {
    "predict": (
        "Predict with",
        "y_pred : ndarray of shape (n_samples,)\n        Predicted labels or values.",
    ),
    "predict_proba": (
        "Class probabilities from",
        "proba : ndarray of shape (n_samples, n_classes)\n"
        "        Probability of each class in ``classes_``.",
    ),
    "predict_log_proba": (
        "Log of the class probabilities from",
        "log_proba : ndarray of shape (n_samples, n_classes)\n"
        "        Log-probability of each class in ``classes_``.",
    ),
    "decision_function": (
        "Decision function of",
        "scores : ndarray of shape (n_samples,) or (n_samples, n_classes)\n"
        "        As returned by the estimator's ``decision_function``.",
    ),
}


def _inner_has(attr: str) -> Callable[[Any], bool]:
    """``available_if`` check: the fitted ``estimator_``, else ``_template()``, has ``attr``."""

    def check(self: Any) -> bool:
        inner = self.estimator_ if hasattr(self, "estimator_") else self._template()
        return hasattr(inner, attr)

    return check


def delegate(owner: str, method: str, model: str) -> Callable:
    """Build ``<owner>.<method>``: ``self._validate_X(X)``, then ``estimator_.<method>``.

    The owner class provides ``_template()`` (the unfitted inner estimator, to
    decide availability before ``fit``) and ``_validate_X(X)`` (checks it is
    fitted and validates ``X``). ``model`` names the inner model in the docstring.
    """
    summary, returns = _TEXTS[method]
    returns = returns.replace("\n", "\n    ")  # the docstring below is indented one level more

    def delegated(self: Any, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        return getattr(self.estimator_, method)(self._validate_X(X))

    delegated.__name__ = method
    delegated.__qualname__ = f"{owner}.{method}"
    delegated.__doc__ = f"""{summary} {model}.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Ignored; accepted so DAPipeline and the common tests can pass it.

        Returns
        -------
        {returns}
        """
    # Decorate last: available_if copies the name and docstring when applied.
    return available_if(_inner_has(method))(delegated)
