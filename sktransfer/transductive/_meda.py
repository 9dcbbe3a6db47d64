"""MEDA: Manifold Embedded Distribution Alignment (Wang, Feng, Chen, Yu, Huang & Yu, 2018)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from .._compat import Interval, StrOptions
from .._kernels import kernel, kernel_blocks
from ..alignment._gfk import fit_geodesic_flow
from ..domain import Domains
from ._base import BaseTransductiveClassifier, unit_rows
from ._meda_terms import adaptive_factor, cosine_knn_laplacian, mmd_factors

__all__ = ["MEDA"]


class MEDA(BaseTransductiveClassifier):
    """Manifold Embedded Distribution Alignment: a kernel classifier on the GFK manifold.

    Rows are embedded with the geodesic flow kernel (GFK) between the
    ``n_components``-dimensional principal subspaces of the two domains and
    scaled to unit length. On the ``n`` training rows, a kernel classifier
    ``f(x) = sum_i beta_i k(x_i, x)`` (one column of ``beta`` per class) then
    minimises the squared error on the source labels plus ``eta`` times the
    RKHS norm, ``lambda_mmd`` times the dynamic distribution discrepancy
    ``(1 - mu) MMD(marginal) + mu MMD(class-conditionals)`` and ``rho``
    times the manifold (graph Laplacian) regulariser; in closed form,
    ``beta = ((E + lambda_mmd M + rho L) K + eta I)^{-1} E Y``, with ``E``
    the diagonal indicator of the source rows, ``M`` the MMD matrix, ``L``
    the graph Laplacian, ``K`` the kernel matrix and ``Y`` the one-hot source
    labels (zero rows for the target). The class-conditional term needs
    target labels, so the target rows are pseudo-labelled (first by 1-NN from
    the source rows, then by ``f``) and the problem re-solved ``max_iter``
    times; each time the adaptive factor ``mu`` is re-estimated from proxy
    A-distances.

    Parameters
    ----------
    n_components : int >= 1, default=20
        Dimension ``d`` of the GFK subspaces. Clipped to the directions with
        non-zero variance in each domain.
    kernel : {"rbf", "linear"}, default="rbf"
        Kernel on the unit-length embedded rows.
    gamma : float > 0, default=0.5
        Coefficient of the "rbf" kernel ``exp(-gamma ||x - x'||^2)``. 0.5 is
        the authors' MATLAB code (``sigma = 1``); their Python port uses 1.
    lambda_mmd : float >= 0, default=10.0
        ``lambda``: weight of the distribution discrepancy.
    rho : float >= 0, default=1.0
        ``rho``: weight of the manifold regulariser; 0 drops the graph.
    eta : float > 0, default=0.1
        ``eta``: weight of the RKHS norm (the ridge).
    n_neighbors : int >= 1, default=10
        ``p``: neighbours of each row in the graph (cosine similarity).
    max_iter : int >= 1, default=10
        ``T``: number of pseudo-labelling iterations.
    mu : "auto" or float in [0, 1], default="auto"
        Adaptive factor. "auto" estimates it at each iteration (dynamic
        distribution alignment); a number fixes it (0: marginal only, 1:
        class-conditionals only).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, those of the source rows.
    transduction_ : ndarray of shape (n_samples,)
        Label of each training row: its own for source rows, the last
        iteration's prediction for target rows.
    n_components_ : int
        The GFK subspace dimension ``d`` used.
    projection_ : ndarray of shape (n_features, 2 * ``n_components_``)
        GFK factor: rows embed as ``X @ projection_`` before unit scaling.
    X_fit_ : ndarray of shape (n_samples, 2 * ``n_components_``)
        The embedded, unit-length training rows, source rows first.
    dual_coef_ : ndarray of shape (n_samples, n_classes)
        ``beta``: new rows score ``k(x, X_fit_) @ dual_coef_``.
    mu_ : ndarray of shape (``n_iter_``,)
        The adaptive factor of each iteration.
    n_iter_ : int
        Number of iterations run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    EasyTL : CORAL plus a linear program, no hyperparameters.
    sktransfer.alignment.GeodesicFlowKernel : The manifold embedding alone.

    Notes
    -----
    Follows the authors' MATLAB code (``MEDA.m``, which produced the paper's
    tables; their Python port omits the Laplacian), with these departures:
    the GFK is computed in closed form from the principal angles and yields
    ``2 d`` features whose inner products, distances and norms equal those
    of the code's ``G^{1/2} x`` (so everything downstream is unchanged); the
    adaptive factor uses scikit-learn's ``LinearSVC(random_state=0)`` training
    error where MATLAB uses ``fitclinear`` (the Python port's choice), and
    leaves out classes no target row is pseudo-labelled with (the code
    fails); the low-rank MMD matrix is never formed as ``n x n``. Labels of
    target rows are ignored, and all source (target) domains are pooled.
    ``predict`` on new rows embeds them and applies the learned kernel
    classifier, the rows treated alike whatever their domain; on the
    training target rows it gives ``transduction_`` (up to rounding ties).
    Fitting holds a few ``n x n`` matrices and solves ``max_iter`` dense
    systems, ``O(n^3)``: a few thousand rows. With the defaults, on
    Office-Caltech10 SURF (each domain L1-normalised then z-scored), the
    target accuracy equals the paper's MEDA column on 8 of the 12 tasks and
    is within 0.1 on 3 more (D->A: 40.3 against 41.2); the mean is 52.6
    against 52.7.

    References
    ----------
    .. [1] J. Wang, W. Feng, Y. Chen, H. Yu, M. Huang and P. S. Yu, "Visual
       Domain Adaptation with Manifold Embedded Distribution Alignment", ACM
       Multimedia 2018.
    .. [2] B. Gong, Y. Shi, F. Sha and K. Grauman, "Geodesic Flow Kernel for
       Unsupervised Domain Adaptation", CVPR 2012.

    Examples
    --------
    >>> from sktransfer import mask_target_labels
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.transductive import MEDA
    >>> X, y_true, sd = make_domain_shift(
    ...     n_samples=60, shift="subspace", mask_target=False, random_state=0)
    >>> model = MEDA(n_components=2).fit(X, mask_target_labels(y_true, sd), sample_domain=sd)
    >>> round(model.score(X[sd < 0], y_true[sd < 0]), 2)
    0.83
    >>> model.mu_.shape  # the adaptive factor of each of the 10 iterations
    (10,)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"rbf", "linear"})],
        "gamma": [Interval(Real, 0, None, closed="neither")],
        "lambda_mmd": [Interval(Real, 0, None, closed="left")],
        "rho": [Interval(Real, 0, None, closed="left")],
        "eta": [Interval(Real, 0, None, closed="neither")],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "mu": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        n_components: int = 20,
        *,
        kernel: str = "rbf",
        gamma: float = 0.5,
        lambda_mmd: float = 10.0,
        rho: float = 1.0,
        eta: float = 0.1,
        n_neighbors: int = 10,
        max_iter: int = 10,
        mu: float | str = "auto",
    ):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.lambda_mmd = lambda_mmd
        self.rho = rho
        self.eta = eta
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.mu = mu

    def _fit(self, X: np.ndarray, codes: np.ndarray, domains: Domains) -> np.ndarray:
        n_classes = self.classes_.shape[0]
        Ps, _, _, self.projection_ = fit_geodesic_flow(
            X[domains.source], X[domains.target], self.n_components, type(self).__name__
        )
        self.n_components_ = Ps.shape[1]
        # The authors' order: source rows, then target rows.
        Zs, Zt = X[domains.source] @ self.projection_, X[domains.target] @ self.projection_
        ns, n = Zs.shape[0], Zs.shape[0] + Zt.shape[0]
        source = np.arange(n) < ns
        Z = unit_rows(np.vstack([Zs, Zt]))
        self.X_fit_ = Z
        K = self._check_finite(kernel(Z, Z, self.kernel, self.gamma), "kernel matrix")
        # (E + rho L) K + eta I does not change across iterations; E K is K's source rows.
        base = np.where(source[:, None], K, 0.0)
        if self.rho > 0:
            base += self.rho * (cosine_knn_laplacian(Z, self.n_neighbors) @ K)
        base[np.diag_indices(n)] += self.eta
        Y = np.zeros((n, n_classes))
        Y[np.arange(ns), codes] = 1.0
        pseudo = KNeighborsClassifier(n_neighbors=1).fit(Z[:ns], codes).predict(Z[ns:])
        mus = []
        for _ in range(self.max_iter):
            mu = (adaptive_factor(Zs, codes, Zt, pseudo, n_classes) if self.mu == "auto"
                  else float(self.mu))
            mus.append(mu)
            E, w = mmd_factors(source, codes, pseudo, n_classes, mu)
            # lambda M K = lambda E diag(w) (E^T K): rank n_classes + 1.
            left = base + (self.lambda_mmd * E * w) @ (E.T @ K)
            beta = self._solve(left, Y)
            pseudo = np.argmax(K[ns:] @ beta, axis=1)
        self.dual_coef_ = beta
        self.mu_ = np.array(mus)
        self.n_iter_ = self.max_iter
        return pseudo

    def _solve(self, left: np.ndarray, Y: np.ndarray) -> np.ndarray:
        try:
            beta = np.linalg.solve(left, Y)
        except np.linalg.LinAlgError:
            raise ValueError(
                f"MEDA: the linear system of the classifier is singular with eta={self.eta!r}, "
                f"lambda_mmd={self.lambda_mmd!r} and rho={self.rho!r}. Pass a larger eta."
            ) from None
        return self._check_finite(beta, "dual coefficients")

    def _likely_cause(self) -> str:
        return (
            f"MEDA used kernel={self.kernel!r}, gamma={self.gamma!r}, eta={self.eta!r}, "
            f"lambda_mmd={self.lambda_mmd!r} and rho={self.rho!r}. Pass a larger eta, and "
            "standardise each domain (e.g. with StandardScaler)."
        )

    def _scores(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        Z = unit_rows(X @ self.projection_)
        out = np.empty((X.shape[0], self.dual_coef_.shape[1]))
        for rows, K in kernel_blocks(Z, self.X_fit_, self.kernel, self.gamma):
            out[rows] = K @ self.dual_coef_
        return out
