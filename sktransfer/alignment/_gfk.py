"""Geodesic flow kernel (Gong, Shi, Sha & Grauman, 2012)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy import linalg
from sklearn.base import ClassNamePrefixFeaturesOutMixin

from .._compat import Interval
from .._linalg import flip_signs
from ..base import BaseAdapter
from ..domain import Domains

__all__ = ["GeodesicFlowKernel"]


def principal_axes(X: np.ndarray, n_components: int) -> np.ndarray:
    """The top principal axes of ``X`` with non-zero variance, at most ``n_components``.

    Returns an ``(n_features, k)`` matrix with orthonormal columns, ordered by
    variance, ``k <= n_components``; directions whose variance is at the
    rounding level of the largest are left out (``k = 0`` for constant rows).
    The rows are centred and divided by their largest magnitude first: the
    axes do not depend on the scale, and squares of ``X * 1e-300`` would
    underflow. Uses the smaller of the two Gram matrices.
    """
    Xc = X - X.mean(axis=0)
    n, d = Xc.shape
    scale = float(np.max(np.abs(Xc), initial=0.0))
    if scale == 0.0:
        return np.zeros((d, 0))
    Xc = Xc / scale
    k = min(n_components, n, d)
    if d <= n:
        vals, axes = linalg.eigh(Xc.T @ Xc, subset_by_index=[d - k, d - 1])
    else:
        vals, U = linalg.eigh(Xc @ Xc.T, subset_by_index=[n - k, n - 1])
        axes = Xc.T @ U
    vals, axes = vals[::-1], axes[:, ::-1]
    keep = vals > max(vals[0], 0.0) * max(n, d) * np.finfo(np.float64).eps
    axes = axes[:, keep]
    axes /= np.linalg.norm(axes, axis=0)
    return flip_signs(axes)


def geodesic_flow_factor(Ps: np.ndarray, Pt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal angles and a factor ``F`` with ``F F^T = G``, the geodesic flow kernel.

    ``Ps`` and ``Pt`` are ``(n_features, d)`` orthonormal bases of the source
    and target subspaces. With the SVD ``Ps^T Pt = U cos(theta) V^T``, the
    principal vectors ``p_i = Ps u_i`` and ``q_i = Pt v_i = cos(theta_i) p_i +
    sin(theta_i) r_i`` (``r_i`` orthogonal to the source subspace) span the
    geodesic ``Phi(t)`` from one subspace to the other, and ``G = int_0^1
    Phi(t) Phi(t)^T dt`` is, angle by angle, ``[p_i r_i] S_i [p_i r_i]^T`` with
    ``S_i = [[l1, c], [c, l3]]``, ``l1 = (1 + sin(2t)/(2t)) / 2``, ``l3 = (1 -
    sin(2t)/(2t)) / 2`` and ``c = sin(t)^2 / (2t)`` (Gong et al., 2012,
    equation 6, and the authors' ``GFK_core``). ``F`` has the columns
    ``[p_i r_i] S_i^{1/2}``, source-side ones first: ``n_features x 2d``, so
    ``x F`` gives the same inner products as the authors' ``G^{1/2} x`` in
    ``O(n_features d^2)``, without their ``n_features x n_features`` null
    space and matrix square root.

    ``sin(theta_i)`` is the norm of ``q_i - Ps Ps^T q_i``, accurate for small
    angles, where ``arccos`` of the singular values is not.
    """
    U, cos, Vt = np.linalg.svd(Ps.T @ Pt)
    P, Q = Ps @ U, Pt @ Vt.T
    W = Q - Ps @ (Ps.T @ Q)
    sin = np.linalg.norm(W, axis=0)
    theta = np.arctan2(sin, np.clip(cos, 0.0, None))
    R = np.divide(W, sin, out=np.zeros_like(W), where=sin > 0)
    sinc2 = np.sinc(2 * theta / np.pi)  # sin(2 theta) / (2 theta), 1 at 0
    l1, l3 = 0.5 * (1 + sinc2), 0.5 * (1 - sinc2)
    c = 0.5 * theta * np.sinc(theta / np.pi) ** 2  # sin^2 / (2 theta) = (1 - cos 2t) / (4t)
    # Square root of the 2 x 2 PSD block: (S + sqrt(det) I) / sqrt(trace + 2 sqrt(det)).
    s = np.sqrt(np.clip(l1 * l3 - c**2, 0.0, None))
    t = np.sqrt(l1 + l3 + 2 * s)
    factor = np.hstack([P * ((l1 + s) / t) + R * (c / t), P * (c / t) + R * ((l3 + s) / t)])
    return theta, factor


def fit_geodesic_flow(
    Xs: np.ndarray, Xt: np.ndarray, n_components: int, owner: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """GFK between the principal subspaces of ``Xs`` and ``Xt``.

    Returns ``(Ps, Pt, angles, factor)``: the source and target bases (the
    same number ``d <= n_components`` of columns, as many as both domains
    have directions with non-zero variance), the principal angles and the
    factor of :func:`geodesic_flow_factor`. Raises a ``ValueError`` naming
    ``owner`` when a domain has no variance at all.
    """
    Ps, Pt = principal_axes(Xs, n_components), principal_axes(Xt, n_components)
    k = min(Ps.shape[1], Pt.shape[1])
    if k == 0:
        which = "source" if Ps.shape[1] == 0 else "target"
        raise ValueError(
            f"{owner}: the {which} rows are all identical (zero variance: a single row, or "
            "constant rows), so they span no subspace. The geodesic flow kernel needs at "
            "least two distinct rows in each domain."
        )
    Ps, Pt = Ps[:, :k], Pt[:, :k]
    angles, factor = geodesic_flow_factor(Ps, Pt)
    return Ps, Pt, angles, factor


class GeodesicFlowKernel(ClassNamePrefixFeaturesOutMixin, BaseAdapter):
    """Geodesic flow kernel: embed rows along the path between the two principal subspaces.

    The source and target rows each span a ``d``-dimensional principal
    subspace. GFK integrates the projections onto every subspace along the
    geodesic between them on the Grassmann manifold, giving the kernel
    ``k(x, x') = x^T G x'`` with the ``n_features x n_features`` matrix ``G``
    in closed form. The transform returns rows whose inner products are that
    kernel: ``X @ projection_`` with ``projection_ @ projection_.T = G``, the
    same Gram matrix as the authors' ``G^{1/2} x``. Source and target rows are
    mapped alike.

    Parameters
    ----------
    n_components : int >= 1, default=20
        Dimension ``d`` of the two subspaces (20 in the MEDA code). Clipped to
        the number of principal directions with non-zero variance in each
        domain (see ``n_components_``).

    Attributes
    ----------
    n_components_ : int
        The subspace dimension ``d`` used; the output has ``2 d`` columns.
    components_source_ : ndarray of shape (n_features, ``n_components_``)
        Orthonormal principal axes of the source rows.
    components_target_ : ndarray of shape (n_features, ``n_components_``)
        Orthonormal principal axes of the target rows.
    principal_angles_ : ndarray of shape (``n_components_``,)
        Principal angles between the two subspaces, in radians, increasing.
    projection_ : ndarray of shape (n_features, 2 * ``n_components_``)
        The factor of the kernel: rows map to ``X @ projection_``, and
        ``G = projection_ @ projection_.T``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SubspaceAlignment : Rotate the source subspace onto the target's.
    CORAL : Align covariances in the input space.
    sktransfer.transductive.MEDA : GFK embedding plus a dynamically aligned kernel classifier.

    Notes
    -----
    The principal axes come from the centred rows of each domain, but the
    map is applied to the rows as they are, as in the authors' code (whose
    data is z-scored per domain): standardise first, e.g. each domain on its
    own as the standard Office-Caltech protocol does. The paper asks for
    ``d <= n_features / 2``; the closed form used here (see
    :func:`geodesic_flow_factor`) needs no such bound: beyond it some
    principal angles are 0 and add nothing outside the source subspace. The
    paper's subspace disagreement measure for choosing ``d`` is not
    implemented. All source domains are pooled, and all target domains.

    References
    ----------
    .. [1] B. Gong, Y. Shi, F. Sha and K. Grauman, "Geodesic Flow Kernel for
       Unsupervised Domain Adaptation", CVPR 2012.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.alignment import GeodesicFlowKernel
    >>> X, y, sample_domain = make_domain_shift(n_samples=60, n_features=4, random_state=0)
    >>> gfk = GeodesicFlowKernel(n_components=2)
    >>> gfk.fit_transform(X, y, sample_domain=sample_domain).shape
    (120, 4)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_components: int = 20):
        self.n_components = n_components

    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> None:
        X = X.astype(np.float64, copy=False)
        Ps, Pt, self.principal_angles_, self.projection_ = fit_geodesic_flow(
            X[domains.source], X[domains.target], self.n_components, type(self).__name__
        )
        self.n_components_ = Ps.shape[1]
        self.components_source_, self.components_target_ = Ps, Pt
        self._n_features_out = 2 * self.n_components_

    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        return X.astype(np.float64, copy=False) @ self.projection_
