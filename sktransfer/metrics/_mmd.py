"""Maximum mean discrepancy between two samples, and its permutation test."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state, gen_batches
from sklearn.utils.validation import check_array

from .. import _kernels
from .._finite import check_magnitude
from .._kernels import kernel as kernel_matrix
from .._kernels import kernel_blocks, median_heuristic_gamma, pooled_sample

__all__ = ["MMDTestResult", "mmd", "mmd_test"]

#: Kernel names accepted, with the name scikit-learn's ``pairwise_kernels`` knows.
_KERNELS = {"gaussian": "rbf", "rbf": "rbf", "linear": "linear"}


def _check_sample(X: ArrayLike, name: str, owner: str) -> np.ndarray:
    """One sample as a 2-D float64 array of finite values with at least 2 rows."""
    X = check_array(X, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=0,
                    input_name=name)
    bad = ~np.isfinite(X)
    if bad.any():
        raise ValueError(
            f"{owner}: {name} contains NaN or infinite values ({int(bad.sum())} entries). "
            "Impute or drop them first, e.g. with sklearn.impute.SimpleImputer."
        )
    if X.shape[0] < 2:
        raise ValueError(
            f"{owner} needs at least 2 rows in each domain, but {name} has {X.shape[0]}. "
            "The discrepancy is estimated from pairs of distinct rows of each domain."
        )
    return X


def check_two_samples(
    Xs: ArrayLike, Xt: ArrayLike, owner: str, names: tuple[str, str] = ("Xs", "Xt")
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a source and a target sample: finite, >= 2 rows each, same features."""
    Xs, Xt = _check_sample(Xs, names[0], owner), _check_sample(Xt, names[1], owner)
    if Xs.shape[1] != Xt.shape[1]:
        raise ValueError(
            f"{owner}: {names[0]} has {Xs.shape[1]} features but {names[1]} has {Xt.shape[1]}; "
            "both domains must be described by the same features, in the same order."
        )
    # The statistics pool the two samples, so the bound is that of all their rows.
    n_rows = Xs.shape[0] + Xt.shape[0]
    for X, name in ((Xs, names[0]), (Xt, names[1])):
        check_magnitude(X, owner, n_rows=n_rows, input_name=name)
    return Xs, Xt


def _kernel_name(kernel_: str, owner: str) -> str:
    if kernel_ not in _KERNELS:
        raise ValueError(
            f"{owner}: unknown kernel {kernel_!r}; use 'gaussian' (alias 'rbf') or 'linear'."
        )
    return _KERNELS[kernel_]


def _gamma(Xs: np.ndarray, Xt: np.ndarray, name: str, gamma: float | None, owner: str) -> float | None:
    """The bandwidth: None for the linear kernel, the median heuristic when not given."""
    if name == "linear":
        return None
    if gamma is None:
        return median_heuristic_gamma(pooled_sample([Xs, Xt], _kernels._MEDIAN_ROWS, 0), "rbf", 0)
    if not isinstance(gamma, Real) or isinstance(gamma, bool):
        raise TypeError(f"{owner}: gamma must be a positive number or None, got {gamma!r}.")
    if not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"{owner}: gamma must be a positive number or None, got {gamma!r}.")
    return float(gamma)


def _linear_exponent(Xs: np.ndarray, Xt: np.ndarray, name: str) -> int:
    """``e`` such that the rows scaled by ``2^-e`` are at most 1 in magnitude (0 unless linear).

    The linear kernel's sums over ``n^2`` pairs reach ``n^2 d max|x|^2`` and
    overflow long before MMD², at most ``4 d max|x|^2``, does. Scaling by a
    power of two is exact, so the statistic of the scaled rows times ``4^e``
    is bit for bit the one of the rows as given, wherever that is finite.
    """
    if name != "linear":
        return 0
    return int(np.frexp(max(np.max(np.abs(Xs)), np.max(np.abs(Xt))))[1])


def _kernel_sum(X: np.ndarray, Y: np.ndarray | None, name: str, gamma: float | None) -> float:
    """``sum_ij k(x_i, y_j)`` in row blocks of bounded memory; ``Y=None`` means ``Y = X``.

    With ``Y = X`` only the blocks on and right of the diagonal are computed.
    """
    if name == "linear":  # sum_ij <x_i, y_j> = <sum_i x_i, sum_j y_j>
        return float(X.sum(axis=0) @ (X if Y is None else Y).sum(axis=0))
    if Y is not None:
        return float(sum(K.sum() for _, K in kernel_blocks(X, Y, name, gamma)))
    total = 0.0
    for rows in gen_batches(X.shape[0], max(1, _kernels._BLOCK_ENTRIES // X.shape[0])):
        K = kernel_matrix(X[rows], X[rows.start :], name, gamma)
        width = rows.stop - rows.start
        total += K[:, :width].sum() + 2.0 * K[:, width:].sum()
    return float(total)


def _diagonal_sum(X: np.ndarray, name: str) -> float:
    """``sum_i k(x_i, x_i)``: ``||x_i||^2`` for the linear kernel, 1 for the Gaussian."""
    return float(np.einsum("ij,ij->", X, X)) if name == "linear" else float(X.shape[0])


def _statistic(ss: float, tt: float, st: float, m: int, n: int, unbiased: bool) -> float:
    """MMD^2 from the kernel sums (diagonal already removed when ``unbiased``)."""
    if unbiased:
        return ss / (m * (m - 1)) + tt / (n * (n - 1)) - 2.0 * st / (m * n)
    return ss / m**2 + tt / n**2 - 2.0 * st / (m * n)


def mmd(
    Xs: ArrayLike,
    Xt: ArrayLike,
    *,
    kernel: str = "gaussian",
    gamma: float | None = None,
    unbiased: bool = True,
) -> float:
    """Squared maximum mean discrepancy (MMD²) between two samples.

    The distance between the kernel mean embeddings of the two samples.
    With ``unbiased=True`` it is the U-statistic ``MMD²_u`` of Gretton et al.
    (2012, eq. 3): averages over pairs of *distinct* rows, so its expectation
    is the population MMD² and it can be negative when the samples come from
    the same distribution. With ``unbiased=False`` it is the V-statistic
    (all pairs, always >= 0); for the linear kernel that is
    ``||mean(Xs) - mean(Xt)||²``. Kernel sums are computed in row blocks, so
    memory stays bounded (about 32 MB) for any number of rows.

    Parameters
    ----------
    Xs : array-like of shape (n_source, n_features)
        Source rows.
    Xt : array-like of shape (n_target, n_features)
        Target rows.
    kernel : {"gaussian", "rbf", "linear"}, default="gaussian"
        ``k(x, y) = exp(-gamma ||x - y||²)`` ("rbf" is an alias) or ``<x, y>``.
    gamma : float or None, default=None
        Bandwidth of the Gaussian kernel; None sets it by the median heuristic
        on the pooled rows (``1 / median ||x - x'||²``). Ignored for "linear".
    unbiased : bool, default=True
        The unbiased U-statistic, else the biased V-statistic.

    Returns
    -------
    mmd2 : float
        The estimate of MMD².

    See Also
    --------
    mmd_test : Permutation test of whether MMD² is zero.

    References
    ----------
    .. [1] A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf and A. Smola,
       "A Kernel Two-Sample Test", JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import mmd
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.normal(size=(200, 3)), rng.normal(loc=1.0, size=(200, 3))
    >>> mmd(Xs, Xt) > 0.1
    True
    >>> float(mmd([[0.0], [2.0]], [[1.0], [3.0]], kernel="linear", unbiased=False))
    1.0
    """
    owner = "mmd"
    Xs, Xt = check_two_samples(Xs, Xt, owner)
    name = _kernel_name(kernel, owner)
    gamma = _gamma(Xs, Xt, name, gamma, owner)
    exponent = _linear_exponent(Xs, Xt, name)
    Xs, Xt = np.ldexp(Xs, -exponent), np.ldexp(Xt, -exponent)
    ss, tt = _kernel_sum(Xs, None, name, gamma), _kernel_sum(Xt, None, name, gamma)
    st = _kernel_sum(Xs, Xt, name, gamma)
    if unbiased:
        ss, tt = ss - _diagonal_sum(Xs, name), tt - _diagonal_sum(Xt, name)
    statistic = _statistic(ss, tt, st, Xs.shape[0], Xt.shape[0], unbiased)
    return float(np.ldexp(statistic, 2 * exponent))


@dataclass(frozen=True, eq=False, repr=False)
class MMDTestResult:
    """Result of :func:`mmd_test`.

    Parameters
    ----------
    statistic : float
        The unbiased MMD² of the two samples.
    pvalue : float
        Permutation p-value, ``(1 + #{null >= statistic}) / (1 + n_permutations)``.
    null_distribution : ndarray of shape (n_permutations,)
        The statistic under random reassignments of the pooled rows to domains.
    gamma : float or None
        Bandwidth of the Gaussian kernel used; None for the linear kernel.

    See Also
    --------
    mmd_test : The test returning it.
    """

    statistic: float
    pvalue: float
    null_distribution: np.ndarray
    gamma: float | None

    def __repr__(self) -> str:
        gamma = "None" if self.gamma is None else f"{self.gamma:.4g}"
        return (
            f"MMDTestResult(statistic={self.statistic:.4g}, pvalue={self.pvalue:.4g}, "
            f"n_permutations={len(self.null_distribution)}, gamma={gamma})"
        )


def _permutation_statistics(K: np.ndarray, m: int, assignments: np.ndarray) -> np.ndarray:
    """Unbiased MMD² for each column of ``assignments`` (0/1, 1 = source), from ``K``.

    ``K`` is the pooled kernel matrix with a zero diagonal. With ``a`` the
    source indicator and ``r = K 1``: ``S_ss = a'Ka``, ``S_st = r'a - S_ss`` and
    ``S_tt = 1'K1 - 2 r'a + S_ss``, so one product ``K A`` serves all columns.
    """
    n = K.shape[0] - m
    row_sums = K.sum(axis=1)
    total = float(row_sums.sum())
    out = np.empty(assignments.shape[1])
    for cols in gen_batches(assignments.shape[1], max(1, _kernels._BLOCK_ENTRIES // K.shape[0])):
        A = assignments[:, cols]
        ss = np.einsum("ij,ij->j", A, K @ A)
        ra = row_sums @ A
        out[cols] = _statistic(ss, total - 2.0 * ra + ss, ra - ss, m, n, True)
    return out


def mmd_test(
    Xs: ArrayLike,
    Xt: ArrayLike,
    *,
    kernel: str = "gaussian",
    gamma: float | None = None,
    n_permutations: int = 1000,
    max_samples: int | None = 4000,
    random_state: int | np.random.RandomState | None = None,
) -> MMDTestResult:
    """Permutation test of equal distributions based on the unbiased MMD².

    The rows are pooled and randomly reassigned to the two domains (same
    sizes) ``n_permutations`` times; the p-value is the share of those
    statistics at least as large as the observed one, counting the observed
    assignment: ``(1 + #{null >= observed}) / (1 + n_permutations)``. The
    pooled kernel matrix is computed once, and each batch of permutations
    is evaluated with one matrix product, so a test costs about
    ``n² (n_features + n_permutations)`` operations for ``n`` pooled rows.
    The bandwidth, when not given, comes from the pooled rows, which keeps
    the test exact.

    Parameters
    ----------
    Xs : array-like of shape (n_source, n_features)
        Source rows.
    Xt : array-like of shape (n_target, n_features)
        Target rows.
    kernel : {"gaussian", "rbf", "linear"}, default="gaussian"
        The kernel, as in :func:`mmd`.
    gamma : float or None, default=None
        Bandwidth of the Gaussian kernel; None uses the median heuristic.
    n_permutations : int, default=1000
        Number of random reassignments; the smallest p-value possible is
        ``1 / (1 + n_permutations)``.
    max_samples : int or None, default=4000
        The pooled kernel matrix holds ``n²`` numbers (128 MB for 4,000
        rows). With more pooled rows, the test runs on a random subsample of
        ``max_samples`` rows, each domain keeping its share (at least 2 rows);
        the statistic returned is then that of the subsample. None never
        subsamples.
    random_state : int, RandomState instance or None, default=None
        Draws the permutations (and the subsample).

    Returns
    -------
    result : MMDTestResult
        ``statistic``, ``pvalue``, ``null_distribution`` and ``gamma``.

    See Also
    --------
    mmd : The statistic alone, for any number of rows.

    References
    ----------
    .. [1] A. Gretton, K. M. Borgwardt, M. J. Rasch, B. Schölkopf and A. Smola,
       "A Kernel Two-Sample Test", JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import mmd_test
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.normal(size=(100, 3)), rng.normal(loc=1.0, size=(100, 3))
    >>> result = mmd_test(Xs, Xt, n_permutations=200, random_state=0)
    >>> result.pvalue < 0.01
    True
    >>> result.null_distribution.shape
    (200,)
    """
    owner = "mmd_test"
    Xs, Xt = check_two_samples(Xs, Xt, owner)
    name = _kernel_name(kernel, owner)
    if not isinstance(n_permutations, Integral) or n_permutations < 1:
        raise ValueError(f"{owner}: n_permutations must be a positive integer, got {n_permutations!r}.")
    if max_samples is not None and (not isinstance(max_samples, Integral) or max_samples < 4):
        raise ValueError(f"{owner}: max_samples must be an integer >= 4 or None, got {max_samples!r}.")
    rng = check_random_state(random_state)
    gamma = _gamma(Xs, Xt, name, gamma, owner)
    m, n = Xs.shape[0], Xt.shape[0]
    if max_samples is not None and m + n > max_samples:
        m_sub = int(np.clip(round(max_samples * m / (m + n)), 2, max_samples - 2))
        Xs = Xs[np.sort(rng.choice(m, m_sub, replace=False))]
        Xt = Xt[np.sort(rng.choice(n, max_samples - m_sub, replace=False))]
        m, n = Xs.shape[0], Xt.shape[0]
    exponent = _linear_exponent(Xs, Xt, name)
    pooled = np.ldexp(np.vstack([Xs, Xt]), -exponent)
    K = kernel_matrix(pooled, pooled, name, gamma)
    np.fill_diagonal(K, 0.0)
    assignments = np.zeros((m + n, n_permutations + 1))
    assignments[:m, 0] = 1.0  # column 0: the observed assignment
    for j in range(1, n_permutations + 1):
        assignments[rng.permutation(m + n)[:m], j] = 1.0
    stats = np.ldexp(_permutation_statistics(K, m, assignments), 2 * exponent)
    observed, null = float(stats[0]), stats[1:]
    pvalue = (1.0 + np.count_nonzero(null >= observed)) / (1.0 + n_permutations)
    return MMDTestResult(statistic=observed, pvalue=float(pvalue), null_distribution=null, gamma=gamma)
