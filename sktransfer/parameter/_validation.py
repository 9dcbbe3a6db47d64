"""Input checks shared by the parameter-transfer estimators."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._rows import labelled_rows_for_score


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


def labelled_rows(
    owner: Any, X: Any, y: ArrayLike, sample_weight: ArrayLike | None
) -> tuple[Any, np.ndarray, np.ndarray | None]:
    """The rows of ``X, y, sample_weight`` whose label is not masked, for ``score``."""
    return labelled_rows_for_score(owner, X, y, sample_weight)
