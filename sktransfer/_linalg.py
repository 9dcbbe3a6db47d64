"""Dense linear-algebra helpers shared by the estimators."""

from __future__ import annotations

import numpy as np
from scipy import linalg


def _psd_eigh(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigen-decomposition of a symmetric PSD matrix, tiny/negative values zeroed."""
    vals, vecs = linalg.eigh((A + A.T) / 2)
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
