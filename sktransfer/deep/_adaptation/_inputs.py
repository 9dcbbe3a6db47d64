"""Checks of the tensors the domain-adaptation losses take: kind, rank, dtype and shapes.

They look at shapes and dtypes only, never at values, so they never wait for
an accelerator to finish its work.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from .._torch import import_torch


def check_matrix(x: Any, name: str, owner: str, *, min_rows: int = 1) -> None:
    """Raise unless ``x`` is a floating-point torch tensor of shape (n_samples, n_columns).

    Parameters
    ----------
    x : object
        The value to check.
    name : str
        Its parameter name, used in the error.
    owner : str
        The function that takes it, used in the error.
    min_rows : int, default=1
        The fewest rows accepted.
    """
    torch = import_torch(owner)
    if not torch.is_tensor(x):
        raise TypeError(
            f"{owner} takes torch tensors, but {name} is a {type(x).__name__}. "
            f"Convert it first, e.g. torch.as_tensor({name}, dtype=torch.float32)."
        )
    if x.ndim != 2:
        raise ValueError(
            f"{owner} needs {name} as a 2-D tensor (n_samples, n_columns); got shape {tuple(x.shape)}. "
            f"Flatten the features of each row first, e.g. {name}.flatten(1)."
        )
    if not x.is_floating_point():
        raise TypeError(f"{owner} needs a floating-point {name}; got dtype {x.dtype}. Cast it with {name}.float().")
    if x.shape[0] < min_rows:
        raise ValueError(f"{owner} needs at least {min_rows} row(s) in {name}; got {x.shape[0]}.")
    if x.shape[1] < 1:
        raise ValueError(f"{owner} needs at least one column in {name}; got shape {tuple(x.shape)}.")


def check_pair(xs: Any, xt: Any, names: tuple[str, str], owner: str, *, min_rows: int = 1) -> None:
    """Raise unless ``xs`` and ``xt`` are valid matrices (``check_matrix``) with as many columns."""
    check_matrix(xs, names[0], owner, min_rows=min_rows)
    check_matrix(xt, names[1], owner, min_rows=min_rows)
    if xs.shape[1] != xt.shape[1]:
        raise ValueError(
            f"{owner} compares {names[0]} and {names[1]} column by column, so they need as many columns; "
            f"got {xs.shape[1]} and {xt.shape[1]}. Pass the same layer's output for both domains."
        )
    if xs.dtype != xt.dtype or xs.device != xt.device:
        raise ValueError(
            f"{owner} needs {names[0]} and {names[1]} on one device with one dtype; got "
            f"{xs.dtype} on {xs.device} and {xt.dtype} on {xt.device}."
        )


def check_coefficient(value: Any, name: str, owner: str, *, positive: bool = False) -> float:
    """Return ``value`` as a finite float, raising if it is not one (or not > 0 when ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner} needs {name} as a real number; got {type(value).__name__} {value!r}.")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{owner} needs a finite {name}; got {value}.")
    if positive and value <= 0:
        raise ValueError(f"{owner} needs {name} > 0; got {value}.")
    return value
