"""Taking rows of ``X`` and of per-row fit parameters; the labelled rows a ``score`` can use."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._compat import _num_samples
from ._labels import _task_of, unlabelled_mask


def _take(X: Any, rows: np.ndarray) -> Any:
    """The rows ``rows`` (integer indices) of ``X``, keeping its kind.

    DataFrames by position, lists and tuples (image paths, texts) as lists,
    anything else with a ``shape`` (arrays, sparse matrices, tensors) by
    indexing; other array-likes through ``np.asarray``.
    """
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, (list, tuple)):
        return [X[i] for i in rows]
    if hasattr(X, "shape"):  # ndarrays, sparse matrices, tensors
        return X[rows]
    return np.asarray(X)[rows]


def _is_per_row(value: Any, n_samples: int) -> bool:
    """Whether ``value`` holds one entry per row (as scikit-learn slices fit parameters)."""
    if isinstance(value, (str, bytes, dict)) or not (hasattr(value, "__len__") or hasattr(value, "shape")):
        return False
    try:
        return _num_samples(value) == n_samples
    except TypeError:
        return False


def _take_params(params: dict, rows: np.ndarray, n_samples: int) -> dict:
    """Fit parameters for the rows ``rows``: per-row values sliced, the others as they are."""
    return {
        key: _take(value, rows) if _is_per_row(value, n_samples) else value
        for key, value in params.items()
    }


def labelled_rows_for_score(owner: Any, X: Any, y: ArrayLike, *arrays: Any) -> tuple:
    """``X``, ``y`` and per-row ``arrays`` without the rows whose label is masked.

    A masked row cannot be scored, and counting it as an error would make
    ``GridSearchCV``'s default score silently wrong, so every ``score`` of the
    library drops them. ``None`` (and scalars) in ``arrays`` pass through.
    ``owner`` (the estimator, or its name) is named in errors; an estimator
    also says how to read the mask (NaN only for a regressor, see
    :func:`check_domains`).

    Raises
    ------
    ValueError
        If every label is masked.
    """
    y = np.asarray(y)
    keep = ~unlabelled_mask(y, _task_of(owner))
    if not keep.any():
        who = owner if isinstance(owner, str) else type(owner).__name__
        raise ValueError(
            f"{who}.score needs labelled rows, but every label in y is masked "
            "(-1 or NaN). Score with the true target labels, or use a "
            "domain-adaptation scorer that needs no target labels."
        )
    if keep.all():
        return (X, y, *arrays)
    rows = np.flatnonzero(keep)
    kept = [a if a is None or np.ndim(a) == 0 else np.asarray(a)[keep] for a in arrays]
    return (_take(X, rows), y[keep], *kept)

