"""The scorers' default density-ratio model, fitted once per fold while candidates share it.

:class:`TransferAdvisor` scores several candidates on one validation fold.
:class:`ImportanceWeightedScorer` weighs the fold's input rows, the same rows
for every candidate, and :class:`DeepEmbeddedValidationScorer` weighs each
candidate's representation, which is the same for every candidate that only
reweights (or does not adapt). Inside :func:`shared_default_weighters`, the
default weighter fitted on rows and domains already seen (equal bytes) is
reused instead of fitted again: the same weights, one fit. A weighter the
user passes is always fitted anew (its ``random_state`` may be None).
"""

from __future__ import annotations

import contextvars
import hashlib
from contextlib import contextmanager
from typing import Any

import numpy as np
from sklearn.base import clone

from ._scorer_base import default_weighter

__all__ = ["fit_weighter", "shared_default_weighters"]

_MEMO: contextvars.ContextVar[dict | None] = contextvars.ContextVar("sktransfer_shared_weighters", default=None)


@contextmanager
def shared_default_weighters():
    """While open, :func:`fit_weighter` fits the default weighter once per distinct fold."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _digest(a: np.ndarray) -> bytes:
    a = np.ascontiguousarray(a)
    return hashlib.blake2b(a.view(np.uint8).reshape(-1), digest_size=16).digest()


def fit_weighter(weighter: Any, X: Any, y: Any, sample_domain: np.ndarray, *, cv: int | None = None) -> Any:
    """A fitted clone of ``weighter``, or the default one (``default_weighter(cv)``) when it is None.

    The default one is shared inside :func:`shared_default_weighters` between
    calls on equal ``X`` and ``sample_domain`` (``y`` does not enter the
    weights: the domains are given).
    """
    if weighter is not None:
        return clone(weighter).fit(X, y, sample_domain=sample_domain)
    memo = _MEMO.get()
    if memo is None or not isinstance(X, np.ndarray) or X.dtype == object:
        return default_weighter(cv=cv).fit(X, y, sample_domain=sample_domain)
    sd = np.asarray(sample_domain)
    key = (cv, X.shape, X.dtype.str, _digest(X), sd.dtype.str, _digest(sd))
    if key not in memo:
        memo[key] = default_weighter(cv=cv).fit(X, y, sample_domain=sd)
    return memo[key]
