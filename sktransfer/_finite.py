"""Finiteness guards: inputs too large to square, and results that came out NaN or inf.

Two checks the estimators share. :func:`check_magnitude` refuses, before any
work, input whose sums of squares would overflow the working dtype (the
covariances, Gram matrices, squared distances and variances every method
forms). :func:`check_finite_result` refuses a result (weights, a mapped
matrix, a statistic) that came out NaN or infinite anyway, naming the
hyperparameter that most likely caused it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check_finite_result", "check_magnitude", "max_safe_magnitude"]


def max_safe_magnitude(n_entries: int, dtype: np.dtype | type = np.float64) -> float:
    """The largest ``|x|`` whose sums of squared differences stay finite.

    With ``M = max |x|``, a difference of two entries is at most ``2 M`` and
    a sum over ``n_entries`` squared differences at most ``4 n_entries
    M^2``: centred Gram matrices, covariances, the total variance and the
    squared distance between two rows are all such sums. They stay below the
    largest float of ``dtype`` when ``M <= sqrt(max / (4 n_entries))``:
    for a million entries, ``6.7e150`` in float64 and ``9.2e15`` in float32.

    Parameters
    ----------
    n_entries : int
        Number of entries of the input (rows times features).
    dtype : dtype, default=np.float64
        The dtype the computation runs in.

    Returns
    -------
    limit : float
        The bound on ``|x|``.

    Examples
    --------
    >>> from sktransfer._finite import max_safe_magnitude
    >>> f"{max_safe_magnitude(10**6):.2g}"
    '6.7e+150'
    """
    return float(np.sqrt(np.finfo(dtype).max / (4.0 * max(int(n_entries), 1))))


def check_magnitude(
    X: np.ndarray, owner: str, *, n_rows: int | None = None, input_name: str = "X"
) -> np.ndarray:
    """Raise a ``ValueError`` when ``X`` is too large in magnitude to square safely.

    Call it where ``X`` is validated, after the NaN/inf check: the bound is
    :func:`max_safe_magnitude` for ``n_rows * n_features`` entries in the
    dtype of ``X``, far above any data a model should see unscaled, so it
    only refuses values whose squares overflow (``X * 1e300``).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated, finite floating-point rows.
    owner : str
        The estimator or function named in the message.
    n_rows : int or None, default=None
        Rows the computation pools ``X`` with (e.g. source plus target);
        None uses ``X.shape[0]``.
    input_name : str, default="X"
        Name of the argument, for the message.

    Returns
    -------
    X : ndarray
        The same array.

    Raises
    ------
    ValueError
        If ``max |X|`` exceeds the bound.
    """
    if X.size == 0 or not np.issubdtype(X.dtype, np.floating):
        return X
    # fmax/fmin skip the NaN of estimators that allow them, and copy nothing.
    largest = max(float(np.fmax.reduce(X, axis=None)), -float(np.fmin.reduce(X, axis=None)))
    n_entries = (X.shape[0] if n_rows is None else n_rows) * (X.shape[1] if X.ndim > 1 else 1)
    limit = max_safe_magnitude(n_entries, X.dtype)
    if largest > limit:
        raise ValueError(
            f"{owner}: {input_name} has values up to {largest:.3g} in absolute value, too "
            f"large to square: with {n_entries} entries, sums of squares overflow {X.dtype} "
            f"beyond |x| = {limit:.3g}. Rescale the features first, e.g. with "
            "sklearn.preprocessing.StandardScaler (or divide X by a constant)."
        )
    return X


def check_finite_result(values: ArrayLike, owner: str, what: str, cause: str) -> np.ndarray:
    """Raise a ``ValueError`` naming the likely cause when ``values`` has NaN or inf.

    Parameters
    ----------
    values : array-like
        The result to check (weights, a fitted matrix, a statistic).
    owner : str
        The estimator or function named in the message.
    what : str
        What the values are, e.g. ``"importance weights"``.
    cause : str
        The likely cause and its fix, a sentence naming the hyperparameter
        (bandwidth, ``gamma``, ``reg``) and the value used.

    Returns
    -------
    values : ndarray
        The values, as an array.

    Raises
    ------
    ValueError
        If any value is NaN or infinite.
    """
    values = np.asarray(values)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(
            f"{owner}: the {what} came out non-finite ({int(bad.sum())} of {bad.size} "
            f"values NaN or inf). {cause}"
        )
    return values
