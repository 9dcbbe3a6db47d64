"""Input checks shared by the parameter-transfer estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ..domain import labelled_rows_for_score


def check_y(owner: Any, X: np.ndarray, y: ArrayLike | None) -> np.ndarray:
    """``y`` as a 1-D array with one label per row of ``X``; None is refused.

    The message keeps scikit-learn's wording ("requires y to be passed"), which
    its estimator checks look for.
    """
    if y is None:
        raise ValueError(
            f"{type(owner).__name__} requires y to be passed, but the target y is None. "
            "Pass the source labels and a few target labels, the other rows masked."
        )
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    return y


def check_weights(owner: Any, sample_weight: ArrayLike | None, n_samples: int) -> np.ndarray | None:
    """One finite, non-negative weight per row (a scalar is broadcast), or None."""
    if sample_weight is None:
        return None
    who = type(owner).__name__
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.shape != (n_samples,):
        raise ValueError(
            f"{who}: sample_weight must hold one weight per row of X, shape ({n_samples},); "
            f"got shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(f"{who}: sample_weight must be finite and non-negative.")
    return weights


def labelled_rows(
    owner: Any, X: Any, y: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """The rows of ``X, y, sample_weight`` whose label is not masked, for ``score``."""
    return labelled_rows_for_score(type(owner).__name__, X, y, sample_weight)
