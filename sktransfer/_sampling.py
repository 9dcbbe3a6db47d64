"""Row subsamples: kernel centres and landmarks, and the bounded paths of the estimators that
subsample past a size (KDE supports, nearest-neighbour sites, optimal transport, and, keeping
every class, JDA/BDA's pseudo-labeller and the class-regularised optimal transport)."""

from __future__ import annotations

import numpy as np

__all__ = ["random_rows", "stratified_rows"]


def random_rows(n_rows: int, n_max: int, rng: np.random.RandomState) -> np.ndarray:
    """Sorted indices of ``min(n_max, n_rows)`` of ``n_rows`` rows drawn without replacement."""
    return np.sort(rng.choice(n_rows, min(n_max, n_rows), replace=False))


def stratified_rows(codes: np.ndarray, n_rows: int, rng: np.random.RandomState) -> np.ndarray:
    """Sorted indices of ``n_rows`` of the rows (all of them if fewer), drawn without
    replacement, each class in proportion.

    Class ``c`` of ``n_c`` rows gets ``n_rows * n_c / n`` of them, rounded by largest remainder so
    that they sum to ``n_rows``, and at least one: a class whose share rounds to none adds a row.
    """
    codes = np.unique(codes, return_inverse=True)[1].ravel()  # any class labels -> 0 .. K-1
    counts = np.bincount(codes)
    if n_rows >= codes.shape[0]:
        return np.arange(codes.shape[0])
    share = counts * (n_rows / codes.shape[0])
    take = np.floor(share).astype(np.intp)
    short = n_rows - take.sum()
    take[np.argsort(take - share, kind="stable")[:short]] += 1  # the largest remainders
    take = np.maximum(take, np.minimum(counts, 1))
    # A random rank within each class: the rows ranked below their class's share are kept.
    order = np.lexsort((rng.permutation(codes.shape[0]), codes))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.empty(codes.shape[0], dtype=np.intp)
    rank[order] = np.arange(codes.shape[0]) - np.repeat(starts, counts)
    return np.flatnonzero(rank < take[codes])
