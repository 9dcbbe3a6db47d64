"""What the kernel density-ratio models (KLIEP, uLSIF, RuLSIF) share: the
Gaussian basis on target rows and the bandwidth candidates of their CV."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._kernels import median_heuristic_gamma, pooled_sample
from .._sampling import random_rows

#: Multiples of the median-heuristic gamma tried when ``gamma=None``: a
#: bandwidth from about a third to three times the median distance.
GAMMA_FACTORS = np.logspace(-1, 1, 5)


#: KLIEP's candidates, from the authors' code: sigma = (0.6, 0.8, 1, 1.2, 1.4)
#: times the median distance in exp(-d^2 / 2 sigma^2). Its likelihood CV is
#: only normalised over the source sample and keeps rewarding narrower
#: kernels on small samples, so the range stays narrow.
KLIEP_GAMMA_FACTORS = 0.5 / np.array([0.6, 0.8, 1.0, 1.2, 1.4]) ** 2


def gamma_candidates(
    gamma: float | ArrayLike | None,
    Xs: np.ndarray,
    Xt: np.ndarray,
    rng: np.random.RandomState,
    factors: np.ndarray = GAMMA_FACTORS,
) -> np.ndarray:
    """The bandwidths to choose from: given ones, or multiples of the median heuristic."""
    if gamma is None:
        return median_heuristic_gamma(pooled_sample([Xs, Xt], 1000, rng), "rbf", rng) * factors
    return np.atleast_1d(np.asarray(gamma, dtype=float))


#: Entries of the row-to-centre distance matrices the median is taken over, at most.
_MEDIAN_ENTRIES = 100_000


def gamma_candidates_at_centres(
    gamma: float | ArrayLike | None, distances: list[np.ndarray], factors: np.ndarray = GAMMA_FACTORS
) -> np.ndarray:
    """The bandwidths to choose from: given ones, or multiples of ``1 / median`` of the
    positive squared distances from the rows to the kernel centres.

    A model whose basis is the kernel at its centres is scaled by the distances
    to those centres, which its fit computes anyway: on the suite's datasets
    their median is within 5% of the median over pairs of rows (the candidates
    are a factor 3.2 apart), and it saves the fit the pairwise Gram matrix of
    1,000 rows, which had taken 60% of uLSIF's default fit on Office-Caltech
    SURF. Past 100,000 entries, evenly spaced rows of each matrix are read (the
    median of 100,000 distances is within about 1% of the whole matrix's).
    """
    if gamma is not None:
        return np.atleast_1d(np.asarray(gamma, dtype=float))
    total = sum(block.size for block in distances)
    step = max(1, int(np.ceil(total / _MEDIAN_ENTRIES)))
    values = np.concatenate([block[::step].ravel() for block in distances])
    values = values[values > 0]
    return (1.0 / float(np.median(values)) if values.size else 1.0) * factors


def draw_centres(Xt: np.ndarray, n_centers: int, rng: np.random.RandomState) -> np.ndarray:
    """Kernel centres: ``n_centers`` target rows drawn without replacement."""
    return Xt[random_rows(Xt.shape[0], n_centers, rng)]


def fold_ids(n: int, n_folds: int, rng: np.random.RandomState) -> np.ndarray:
    """A random fold id in ``0 .. n_folds - 1`` for each of ``n`` rows, folds balanced."""
    return rng.permutation(np.arange(n) % n_folds)


def check_fold_count(n_rows: int, cv: int, domain: str, owner: str, fixed: str) -> None:
    """Cross-validation over ``cv`` folds needs at least ``cv`` rows of the domain it splits."""
    if n_rows < cv:
        fewer = f"cv={n_rows} or fewer folds, or " if n_rows >= 2 else ""
        raise ValueError(
            f"{owner} chooses its hyperparameters by cross-validation over cv={cv} folds of "
            f"the {domain} rows, but there are only {n_rows} {domain} rows. Pass {fewer}"
            f"{fixed} to skip the cross-validation."
        )


def check_candidates(value: float | ArrayLike | None, param: str, owner: str) -> None:
    """A hyperparameter searched by CV must be None, a positive float or a list of them."""
    if value is None:
        return
    try:
        values = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(
            f"{owner}'s {param} must be None (searched by cross-validation), a positive "
            f"float, or a 1-D list of positive floats to choose from by "
            f"cross-validation; got {value!r}."
        )
