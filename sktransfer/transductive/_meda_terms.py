"""The terms of MEDA's objective: graph Laplacian, adaptive factor, MMD matrix.

Each follows the authors' MATLAB code (``jindongwang/transferlearning``,
``code/traditional/MEDA/matlab``: ``lapgraph.m``, ``estimate_mu.m``,
``MEDA.m``), which produced the paper's tables.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

__all__ = ["adaptive_factor", "cosine_knn_laplacian", "mmd_factors", "proxy_a_distance_train"]


def cosine_knn_laplacian(Z: np.ndarray, n_neighbors: int) -> np.ndarray:
    """``L = I - D^{-1/2} W D^{-1/2}`` of the cosine ``n_neighbors``-NN graph of unit rows ``Z``.

    As ``lapgraph.m`` with ``Metric='Cosine'``, ``NeighborMode='KNN'``,
    ``WeightMode='Cosine'``: each row is joined to its ``n_neighbors + 1``
    most similar rows (itself included, ties to the lower index as MATLAB's
    stable ``sort``), weighted by the cosine similarity, and ``W =
    max(W, W^T)``; ``D`` holds the column sums of ``W``. A node of degree
    ``<= 0`` (possible only when negative similarities are among the
    neighbours of a tiny sample) gets ``D^{-1/2} = 0``.
    """
    n = Z.shape[0]
    k = min(n_neighbors, n - 1) + 1
    S = Z @ Z.T
    neighbours = np.argsort(-S, axis=1, kind="stable")[:, :k]
    rows = np.arange(n)[:, None]
    W = np.zeros_like(S)
    W[rows, neighbours] = S[rows, neighbours]
    W = np.maximum(W, W.T)
    degree = W.sum(axis=0)
    positive = degree > 0
    scale = np.divide(1.0, np.sqrt(np.where(positive, degree, 1.0)), out=np.zeros_like(degree),
                      where=positive)
    return np.eye(n) - scale[:, None] * W * scale[None, :]


def proxy_a_distance_train(A: np.ndarray, B: np.ndarray) -> float:
    """``2 (1 - 2 err)`` with ``err`` the training error of a linear SVM telling ``A`` from ``B``.

    The authors' ``proxy_a_distance`` (``MEDA.py``): ``LinearSVC(random_state=0)``
    fitted and scored on the same rows (MATLAB: ``fitclinear``). Its
    convergence warnings are silenced: the error of an SVM stopped early is
    still an estimate of how separable the domains are, which is all the
    adaptive factor needs.
    """
    X = np.vstack([A, B])
    labels = np.r_[np.zeros(A.shape[0], dtype=int), np.ones(B.shape[0], dtype=int)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        error = np.mean(LinearSVC(random_state=0).fit(X, labels).predict(X) != labels)
    return 2.0 * (1.0 - 2.0 * error)


def adaptive_factor(
    Zs: np.ndarray, source_codes: np.ndarray, Zt: np.ndarray, target_codes: np.ndarray, n_classes: int
) -> float:
    """MEDA's adaptive factor ``mu = d_c / (d_c + d_m)`` from proxy A-distances.

    ``d_m`` is the A-distance between all source and all target rows, ``d_c``
    the mean over classes of the A-distance between the source rows of a class
    and the target rows pseudo-labelled with it (``estimate_mu.m``). A class
    with no pseudo-labelled target row is left out of the mean (the authors'
    code fails on it). ``mu > 1`` is set to 1 and ``mu < 0.001`` to 0, as in
    the code; ``d_c + d_m = 0`` (neither distribution tells the domains
    apart) gives 0. Features whose largest magnitude is above ``2^20`` or
    below ``2^-20`` are first scaled by a power of two to near 1: liblinear
    hangs on features of ``1e150`` and sees none in ``1e-300``; features on
    the usual scales are left as they are, so the SVM is the authors'.
    """
    largest = max(np.max(np.abs(Zs), initial=0.0), np.max(np.abs(Zt), initial=0.0))
    if largest > 0 and not 2.0**-20 <= largest <= 2.0**20:
        exponent = np.frexp(largest)[1]
        Zs, Zt = np.ldexp(Zs, -exponent), np.ldexp(Zt, -exponent)
    d_m = proxy_a_distance_train(Zs, Zt)
    per_class = [
        proxy_a_distance_train(Zs[source_codes == c], Zt[target_codes == c])
        for c in range(n_classes)
        if np.any(target_codes == c)
    ]
    d_c = float(np.mean(per_class))
    if d_c + d_m == 0:
        return 0.0
    mu = d_c / (d_c + d_m)
    return 1.0 if mu > 1 else 0.0 if mu < 1e-3 else float(mu)


def mmd_factors(
    source: np.ndarray, source_codes: np.ndarray, target_codes: np.ndarray, n_classes: int, mu: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(E, w)`` with the MMD matrix ``M = E diag(w) E^T / ||E diag(w) E^T||_F``.

    ``M = (1 - mu) C e_0 e_0^T + mu sum_c e_c e_c^T`` (``MEDA.m``): ``e_0`` is
    ``1 / n_s`` on source rows and ``-1 / n_t`` on target rows; ``e_c`` is
    ``1 / n_s^c`` on the source rows of class ``c`` and ``-1 / n_t^c`` on the
    target rows pseudo-labelled ``c`` (none when no target row is: MATLAB's
    ``e(isinf(e)) = 0``). ``source`` masks the rows, ``source_codes`` and
    ``target_codes`` are the classes of the source and target rows, in order.
    The Frobenius norm, ``sqrt(w^T ((E^T E) o (E^T E)) w)``, needs no ``n x n``
    matrix.
    """
    n = source.shape[0]
    E = np.zeros((n, n_classes + 1))
    E[source, 0] = 1.0 / source.sum()
    E[~source, 0] = -1.0 / (~source).sum()
    src_rows, tgt_rows = np.flatnonzero(source), np.flatnonzero(~source)
    for c in range(n_classes):
        s, t = src_rows[source_codes == c], tgt_rows[target_codes == c]
        E[s, c + 1] = 1.0 / max(s.size, 1)
        E[t, c + 1] = -1.0 / max(t.size, 1)
    w = np.r_[(1.0 - mu) * n_classes, np.full(n_classes, mu)]
    gram = E.T @ E
    return E, w / np.sqrt(w @ (gram * gram) @ w)
