"""Kernel helpers shared by the estimators: bandwidth rules, chunked kernel
products and Nyström feature maps, so no estimator holds an n x n matrix it
does not need."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np
from scipy.special import logsumexp
from sklearn.metrics.pairwise import euclidean_distances, pairwise_distances, pairwise_kernels
from sklearn.utils import check_random_state, gen_batches

from ._linalg import inv_sqrtm_psd

#: Rows of a kernel block computed at once: blocks stay near 32 MB of float64.
_BLOCK_ENTRIES = 2**22

#: The median heuristic looks at pairs among at most this many rows.
_MEDIAN_ROWS = 1000

#: Kernels whose bandwidth the median heuristic sets, with the distance it uses.
_DISTANCE_OF = {"rbf": "sqeuclidean", "laplacian": "manhattan"}


def median_heuristic_gamma(
    X: np.ndarray, kernel: str = "rbf", random_state: int | np.random.RandomState | None = 0
) -> float:
    """``gamma`` of an RBF (or Laplacian) kernel from the median heuristic.

    ``gamma = 1 / median(d(x, x'))`` over pairs of distinct rows, with ``d``
    the squared Euclidean distance for ``"rbf"`` (``k = exp(-gamma ||x -
    x'||^2)``) and the L1 distance for ``"laplacian"``: the kernel is
    ``exp(-1)`` at the median distance. At most 1,000 rows are drawn.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Rows whose pairwise distances set the scale (usually source and
        target rows together).
    kernel : {"rbf", "laplacian"}, default="rbf"
        The kernel the bandwidth is for.
    random_state : int, RandomState instance or None, default=0
        Draws the subsample when there are more than 1,000 rows.

    Returns
    -------
    gamma : float
        The bandwidth; 1.0 when every row is the same.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer._kernels import median_heuristic_gamma
    >>> median_heuristic_gamma(np.array([[0.0], [1.0], [3.0]]))
    0.25
    """
    metric = _DISTANCE_OF[kernel]
    if X.shape[0] > _MEDIAN_ROWS:
        rng = check_random_state(random_state)
        X = X[rng.choice(X.shape[0], _MEDIAN_ROWS, replace=False)]
    upper = _upper_pairs(X.shape[0])
    if metric == "sqeuclidean":
        distances = sqeuclidean_matrix(np.asarray(X, dtype=np.float64))[upper]
    else:
        distances = pairwise_distances(X, metric=metric)[upper]
    return _gamma_of(distances)


def _gamma_of(distances: np.ndarray) -> float:
    """``1 / median`` of the positive distances (1.0 when there is none)."""
    distances = distances[distances > 0]
    return 1.0 / float(np.median(distances, overwrite_input=True)) if distances.size else 1.0


def median_gamma_and_distances(
    blocks: list[np.ndarray], random_state: int | np.random.RandomState | None
) -> tuple[float, np.ndarray | None]:
    """The RBF median-heuristic ``gamma`` of the stacked ``blocks`` and, when it
    looked at every row (at most 1,000), their squared distances.

    A kernel method on that few rows builds its kernel from these distances
    (:func:`rbf_from_distances`) instead of computing them again: on
    Office-Caltech DeCAF (452 rows of 4,096 features) the heuristic's Gram
    product and the kernel's had each cost about 10 ms of a 30 ms KMM fit.
    ``gamma`` is :func:`median_heuristic_gamma`'s on
    ``pooled_sample(blocks, 1000, random_state)``, bit for bit, drawing the
    same random numbers.
    """
    n = sum(len(block) for block in blocks)
    if n > _MEDIAN_ROWS:
        rng = check_random_state(random_state)
        return median_heuristic_gamma(pooled_sample(blocks, _MEDIAN_ROWS, rng), "rbf", rng), None
    distances = sqeuclidean_matrix(np.asarray(np.vstack(blocks), dtype=np.float64))
    return _gamma_of(distances[_upper_pairs(n)]), distances


def rbf_from_distances(distances: np.ndarray, gamma: float) -> np.ndarray:
    """``exp(-gamma * distances)``: an RBF kernel from squared distances, in a new array."""
    out = np.multiply(distances, -gamma)
    return np.exp(out, out=out)


@functools.lru_cache(maxsize=2)
def _upper_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, k=1)``, kept: building them took a fifth of the
    median heuristic's time on 1,000 rows (8 MB are kept for that size)."""
    pairs = np.triu_indices(n, k=1)
    for index in pairs:
        index.flags.writeable = False
    return pairs


def sqeuclidean_matrix(X: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances between every two rows of ``X``, by one Gram product.

    ``||x||^2 + ||y||^2 - 2 x.y`` through BLAS is 4x faster than scipy's pdist
    on 1,000 rows of 800 to 4,096 features (the median heuristic of every
    kernel method: it had dominated KMM's and uLSIF's fits on Office-Caltech),
    but it loses the small distances to cancellation: a pair whose value is
    within the rounding error of the norms is recomputed directly, so equal
    rows still give exactly 0 (the diagonal is 0) and near ones their true
    distance. Entries ``(i, j)`` and ``(j, i)`` may differ in the last bit,
    as scikit-learn's ``euclidean_distances(X, X)`` do (the same expansion in
    the same order: KMM's weights on the suite's DeCAF tasks are bit for bit
    those it had with ``rbf_kernel``).
    """
    sq = np.einsum("ij,ij->i", X, X)
    d = X @ X.T
    d *= -2.0
    d += sq[:, None]
    d += sq[None, :]
    np.fill_diagonal(d, 0.0)
    # The cancellation error of the expansion is about eps * (|x|^2 + |y|^2);
    # only a pair under 2e-6 times the largest squared norm can be that close.
    i, j = np.nonzero(d <= 2e-6 * sq.max(initial=0.0))
    keep = (i < j) & (d[i, j] <= 1e-6 * (sq[i] + sq[j]))
    i, j = i[keep], j[keep]
    # Recomputed in chunks: 1,000 equal rows are 500,000 close pairs.
    per_chunk = max(1, _BLOCK_ENTRIES // max(1, X.shape[1]))
    for start in range(0, i.size, per_chunk):
        a, b = i[start:start + per_chunk], j[start:start + per_chunk]
        diff = X[a] - X[b]
        d[a, b] = d[b, a] = np.einsum("ij,ij->i", diff, diff)
    return d


def take_pooled(blocks: list[np.ndarray], index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of ``np.vstack(blocks)``, without stacking the blocks."""
    starts = np.cumsum([0] + [len(b) for b in blocks])
    index = np.sort(np.asarray(index))
    return np.vstack([
        block[index[(index >= lo) & (index < hi)] - lo]
        for block, lo, hi in zip(blocks, starts[:-1], starts[1:])
    ])


def pooled_sample(
    blocks: list[np.ndarray], n_max: int, random_state: int | np.random.RandomState | None
) -> np.ndarray:
    """At most ``n_max`` rows drawn without replacement from the stacked blocks.

    Draws the same rows as ``X[rng.choice(len(X), n_max, replace=False)]`` on
    ``X = np.vstack(blocks)`` (up to their order), without copying every row.
    """
    n = sum(len(b) for b in blocks)
    if n <= n_max:
        return np.vstack(blocks)
    rng = check_random_state(random_state)
    return take_pooled(blocks, rng.choice(n, n_max, replace=False))


def kernel(X: np.ndarray, Y: np.ndarray, name: str, gamma: float) -> np.ndarray:
    """The kernel matrix ``k(X, Y)`` of a named scikit-learn kernel."""
    return pairwise_kernels(X, Y, metric=name, filter_params=True, gamma=gamma)


def kernel_blocks(
    X: np.ndarray, Y: np.ndarray, name: str, gamma: float
) -> Iterator[tuple[slice, np.ndarray]]:
    """Yield ``(rows, k(X[rows], Y))`` in blocks of bounded memory."""
    for rows in gen_batches(X.shape[0], max(1, _BLOCK_ENTRIES // max(1, Y.shape[0]))):
        yield rows, kernel(X[rows], Y, name, gamma)


def kernel_row_means(X: np.ndarray, Y: np.ndarray, name: str, gamma: float) -> np.ndarray:
    """``k(X, Y).mean(axis=1)`` without holding ``k(X, Y)``."""
    out = np.empty(X.shape[0])
    for rows, K in kernel_blocks(X, Y, name, gamma):
        out[rows] = K.mean(axis=1)
    return out


def log_mean_gaussian(
    X: np.ndarray, Y: np.ndarray, gamma: float, *, leave_one_out: bool = False
) -> np.ndarray:
    """``log mean_j exp(-gamma ||x_i - y_j||^2)`` for each row of ``X``.

    Computed in blocks of ``Y`` with a running log-sum-exp, so neither the
    ``n x m`` matrix nor an underflowing kernel value is ever formed. With
    ``leave_one_out`` (``X`` is ``Y``) the term ``j = i`` is left out, which
    a subtraction after the sum would lose to rounding in high dimension.
    """
    out = np.full(X.shape[0], -np.inf)
    for cols in gen_batches(Y.shape[0], max(1, _BLOCK_ENTRIES // max(1, X.shape[0]))):
        block = -gamma * euclidean_distances(X, Y[cols], squared=True)
        if leave_one_out:
            own = np.arange(cols.start, cols.stop)
            block[own, own - cols.start] = -np.inf
        out = np.logaddexp(out, logsumexp(block, axis=1))
    return out - np.log(Y.shape[0] - (1 if leave_one_out else 0))


def log_mean_gaussian_by_rows(
    X: np.ndarray, Y: np.ndarray, gamma: float, *, own: np.ndarray | None = None
) -> np.ndarray:
    """:func:`log_mean_gaussian` in blocks of rows of ``X``, each against all of ``Y``.

    ``-gamma ||x - y||^2 = 2 gamma x.y - gamma ||y||^2 - gamma ||x||^2``: one
    matrix product per block (``Y`` augmented with the ``||y||^2`` column,
    both centred on ``Y``'s mean), a per-row maximum and one ``exp``, the
    ``||x||^2`` term added after the sum. About twice as fast as
    :func:`log_mean_gaussian` when ``X`` has many more rows than ``Y``, and
    equal to it up to rounding. ``own[i] >= 0`` leaves ``Y[own[i]]`` out of
    row ``i``'s mean (row ``i`` is that row of ``Y``); ``-1``, or no ``own``,
    leaves nothing out. A row left with no term gets ``-inf - log 0``: NaN.
    """
    m, d = Y.shape
    centre = Y.mean(axis=0)
    Yc = Y - centre
    Ya = np.empty((m, d + 1))
    np.multiply(2.0 * gamma, Yc, out=Ya[:, :d])
    Ya[:, d] = -gamma * np.einsum("ij,ij->i", Yc, Yc)
    out = np.empty(X.shape[0])
    for rows in gen_batches(X.shape[0], max(1, _BLOCK_ENTRIES // m)):
        Xa = np.empty((rows.stop - rows.start, d + 1))
        np.subtract(X[rows], centre, out=Xa[:, :d])
        Xa[:, d] = 1.0
        G = Xa @ Ya.T
        count = np.full(G.shape[0], float(m))
        if own is not None:
            i = np.flatnonzero(own[rows] >= 0)
            G[i, own[rows][i]] = -np.inf
            count[i] -= 1
        with np.errstate(invalid="ignore", divide="ignore"):
            top = G.max(axis=1)
            G -= top[:, None]
            np.exp(G, out=G)
            out[rows] = (np.log(G.sum(axis=1)) + top - gamma * np.einsum("ij,ij->i", Xa[:, :d], Xa[:, :d])
                         - np.log(count))
    return out


def resolve_approximation(approximation: str, n_rows: int, max_exact: int) -> str:
    """``"auto"``: ``"exact"`` up to ``max_exact`` rows, ``"nystroem"`` past them; otherwise as given."""
    if approximation == "auto":
        return "exact" if n_rows <= max_exact else "nystroem"
    return approximation


class NystroemMap:
    """Nyström features ``phi(x) = k(x, Z) k(Z, Z)^{-1/2}`` on landmark rows ``Z``.

    ``phi(x) . phi(x')`` approximates ``k(x, x')`` (Williams & Seeger, 2001),
    exactly when ``x`` or ``x'`` is a landmark. Features are computed in
    blocks, so memory stays linear in the number of rows.

    Parameters
    ----------
    landmarks : ndarray of shape (n_landmarks, n_features)
        The rows ``Z``.
    name : str
        Kernel name understood by ``sklearn.metrics.pairwise_kernels``.
    gamma : float
        Kernel bandwidth.
    """

    def __init__(self, landmarks: np.ndarray, name: str, gamma: float):
        self.landmarks = landmarks
        self.name = name
        self.gamma = gamma
        self.map = inv_sqrtm_psd(kernel(landmarks, landmarks, name, gamma))

    @classmethod
    def draw(
        cls, blocks: list[np.ndarray], n_landmarks: int, name: str, gamma: float, random_state=None
    ) -> NystroemMap:
        """Landmarks drawn uniformly without replacement from the rows of the blocks."""
        rng = check_random_state(random_state)
        n = sum(len(b) for b in blocks)
        return cls(take_pooled(blocks, rng.choice(n, min(n_landmarks, n), replace=False)), name, gamma)

    def mean(self, X: np.ndarray) -> np.ndarray:
        """The mean feature of the rows of ``X`` (an approximate kernel mean embedding), in blocks."""
        total = np.zeros(self.map.shape[1])
        for _, K in kernel_blocks(X, self.landmarks, self.name, self.gamma):
            total += K.sum(axis=0) @ self.map
        return total / max(X.shape[0], 1)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Features of the rows of ``X``, shape ``(n_samples, n_landmarks)``."""
        out = np.empty((X.shape[0], self.map.shape[1]))
        for rows, K in kernel_blocks(X, self.landmarks, self.name, self.gamma):
            out[rows] = K @ self.map
        return out
