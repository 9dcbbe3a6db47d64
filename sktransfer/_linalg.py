"""Dense linear-algebra helpers shared by the estimators."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
from scipy import linalg
from scipy.sparse import linalg as sparse_linalg
from threadpoolctl import threadpool_limits


def _psd_eigh(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric PSD matrix, tiny/negative values zeroed."""
    vals, vecs = np.linalg.eigh((A + A.T) / 2)  # LAPACK syevd: divide and conquer
    floor = max(vals.max(initial=0.0), 0.0) * A.shape[0] * np.finfo(A.dtype).eps
    vals = np.where(vals > floor, vals, 0.0)
    return vals, vecs


def sqrtm_psd(A: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    vals, vecs = _psd_eigh(A)
    return (vecs * np.sqrt(vals)) @ vecs.T


def inv_sqrtm_psd(A: np.ndarray) -> np.ndarray:
    """Symmetric inverse square root of a PSD matrix (pseudo-inverse on its null space)."""
    vals, vecs = _psd_eigh(A)
    inv = np.zeros_like(vals)
    inv[vals > 0] = 1.0 / np.sqrt(vals[vals > 0])
    return (vecs * inv) @ vecs.T


def flip_signs(components: np.ndarray) -> np.ndarray:
    """Make the largest-magnitude entry of each column positive (deterministic signs)."""
    rows = np.argmax(np.abs(components), axis=0)
    signs = np.sign(components[rows, np.arange(components.shape[1])])
    signs[signs == 0] = 1.0
    return components * signs


def pca_basis(X: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and top principal axes of ``X``.

    Returns ``(mean, components)`` with ``components`` of shape
    ``(n_features, n_components)``, orthonormal columns, ordered by explained
    variance, signs as scikit-learn's PCA sets them (largest-magnitude entry of
    each axis positive). Uses the smaller of the two Gram matrices.
    """
    mean = X.mean(axis=0)
    Xc = X - mean
    n, d = Xc.shape
    if d <= n:
        top = linalg.eigh(Xc.T @ Xc, subset_by_index=[d - n_components, d - 1])[1]
    else:
        vals, U = linalg.eigh(Xc @ Xc.T, subset_by_index=[n - n_components, n - 1])
        top = Xc.T @ U
        top /= np.maximum(np.linalg.norm(top, axis=0), np.finfo(X.dtype).tiny)
    return mean, flip_signs(top[:, ::-1].copy())


#: Up to this size the eigenproblem is solved densely; above it with Lanczos
#: (``scipy.sparse.linalg.eigsh``) on matrix-vector products only.
MAX_DENSE_EIGEN = 600
#: Up to this size Lanczos runs with one BLAS thread. numpy's and scipy's wheels each bundle an OpenBLAS with
#: its own thread pool, whose idle threads spin for a while before sleeping; ARPACK steps on scipy's BLAS
#: between matrix-vector products on numpy's, so each step waits for the other pool (scipy/scipy#15050,
#: OpenMathLib/OpenBLAS#5383). Measured on 2 cores, ``k = 30`` pairs of a dense PSD matrix: one thread takes
#: 26-45 ms against 44-154 at size 800 and 47-49 against 31-56 at 1,200, two threads win from 1,600 on
#: (64 against 111 ms); JDA with 20 components on COIL20 1->2 (size 1,024) went from 866 to 252 ms (medians).
MAX_ONE_THREAD_LANCZOS = 1200


def _leading_whitened(
    apply_A: Callable[[np.ndarray], np.ndarray],
    size: int,
    b_inv_sqrt: Callable[[np.ndarray], np.ndarray],
    n_pairs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Leading eigenpairs of ``B^{-1/2} A B^{-1/2}``, eigenvectors mapped back by ``B^{-1/2}``.

    Dense up to ``MAX_DENSE_EIGEN`` (or when nearly every pair is wanted),
    Lanczos on blocks of ``apply_A`` beyond. Eigenvalues decreasing.

    The dense solve is numpy's, like the products around it: scipy's
    ``eigh(subset_by_index=...)`` runs on scipy's own OpenBLAS (see
    ``MAX_ONE_THREAD_LANCZOS``), and between numpy's products its idle
    threads made TCA on 452 rows x 4,096 features take 40-200 ms a fit
    instead of a steady 30 ms (2 cores).
    """
    k = min(n_pairs, size)
    if size <= MAX_DENSE_EIGEN or k >= size - 1:
        Binv = b_inv_sqrt(np.eye(size))
        C = Binv @ apply_A(Binv)
        vals, Z = np.linalg.eigh((C + C.T) / 2)
        vals, Z = vals[size - k:], Z[:, size - k:]
    else:
        op = sparse_linalg.LinearOperator(
            (size, size), matvec=lambda x: b_inv_sqrt(apply_A(b_inv_sqrt(x))), dtype=np.float64
        )
        # A fixed start vector keeps the result deterministic.
        v0 = np.random.RandomState(0).uniform(-1, 1, size)
        # threadpool_limits looks up the loaded libraries (about 1 ms), so only where it limits.
        one_thread = size <= MAX_ONE_THREAD_LANCZOS
        with threadpool_limits(limits=1, user_api="blas") if one_thread else contextlib.nullcontext():
            vals, Z = sparse_linalg.eigsh(op, k=k, which="LA", v0=v0)
    order = np.argsort(vals)[::-1]
    return vals[order], b_inv_sqrt(Z[:, order])


def leading_eigenpairs_rank_one(
    apply_A: Callable[[np.ndarray], np.ndarray],
    size: int,
    b: np.ndarray,
    mu: float,
    n_pairs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Leading solutions of ``A w = lambda (mu I + b b^T) w`` for symmetric PSD ``A``.

    ``B = mu I + b b^T`` has the closed-form inverse square root
    ``B^{-1/2} = mu^{-1/2} (I - u u^T) + (mu + |b|^2)^{-1/2} u u^T`` (``u = b/|b|``),
    so the problem is the symmetric one ``B^{-1/2} A B^{-1/2} z = lambda z`` with
    ``w = B^{-1/2} z``, and ``W^T B W = I``. ``A`` is only applied to blocks of
    vectors (``apply_A``): densely up to ``MAX_DENSE_EIGEN``, by Lanczos beyond,
    so ``A`` is never formed for large problems.

    Returns ``(eigenvalues, W)``, eigenvalues decreasing, signs fixed by
    :func:`flip_signs`.
    """
    with np.errstate(over="ignore"):  # an inf norm leaves u = 0; apply_A's output is the caller's to check
        norm2 = float(b @ b)
    u = b / np.sqrt(norm2) if norm2 > 0 else np.zeros_like(b)
    scale_u = 1.0 / np.sqrt(mu + norm2) - 1.0 / np.sqrt(mu)

    def b_inv_sqrt(x: np.ndarray) -> np.ndarray:
        proj = u @ x
        return x / np.sqrt(mu) + scale_u * np.multiply.outer(u, proj)

    vals, W = _leading_whitened(apply_A, size, b_inv_sqrt, n_pairs)
    return vals, flip_signs(W)


def leading_eigenpairs_low_rank(
    apply_A: Callable[[np.ndarray], np.ndarray],
    size: int,
    P: np.ndarray,
    reg: float,
    n_pairs: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Leading solutions of ``A w = lambda (reg I + P P^T) w`` for symmetric PSD ``A``.

    The low-rank generalisation of :func:`leading_eigenpairs_rank_one`: with
    the thin SVD ``P = Q s V^T`` (``P`` of shape ``(size, r)``, ``r`` small),
    ``B = reg I + P P^T`` has the inverse square root
    ``B^{-1/2} = reg^{-1/2} (I - Q Q^T) + Q diag((reg + s^2)^{-1/2}) Q^T``, so
    the problem is the symmetric ``B^{-1/2} A B^{-1/2} z = lambda z`` with
    ``w = B^{-1/2} z``, and ``W^T B W = I``. ``A`` is only applied to blocks
    of vectors (``apply_A``), densely up to ``MAX_DENSE_EIGEN`` and by Lanczos
    beyond. Singular values of ``P`` below its rounding level are dropped.

    Returns ``(eigenvalues, W)``, eigenvalues decreasing, signs fixed by
    :func:`flip_signs`.
    """
    Q, s, _ = np.linalg.svd(P, full_matrices=False)
    keep = s > s.max(initial=0.0) * max(P.shape) * np.finfo(np.float64).eps
    Q, s2 = Q[:, keep], s[keep] ** 2
    scale = 1.0 / np.sqrt(reg + s2) - 1.0 / np.sqrt(reg)

    def b_inv_sqrt(x: np.ndarray) -> np.ndarray:
        proj = Q.T @ x
        proj *= scale if x.ndim == 1 else scale[:, None]
        return x / np.sqrt(reg) + Q @ proj

    vals, W = _leading_whitened(apply_A, size, b_inv_sqrt, n_pairs)
    return vals, flip_signs(W)
