"""Transfer component analysis (Pan, Tsang, Kwok & Yang, 2011)."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils import check_random_state, gen_batches

from .._compat import Interval, StrOptions
from .._kernels import resolve_approximation
from .._linalg import inv_sqrtm_psd, leading_eigenpairs_rank_one, sqrtm_psd
from .._sampling import random_rows
from ..base import BaseAdapter
from ..domain import Domains

__all__ = ["TransferComponentAnalysis"]

logger = logging.getLogger(__name__)

#: Above this many rows, ``approximation="auto"`` switches from the exact
#: n x n kernel to landmarks: the exact path holds one n x n float64 kernel
#: (200 MB at 5,000 rows, 3.2 GB at 20,000) and costs O(n^2) per Lanczos step.
MAX_EXACT_SAMPLES = 5000

_KERNELS = {"linear", "rbf", "laplacian", "poly", "polynomial", "sigmoid", "cosine"}


class TransferComponentAnalysis(ClassNamePrefixFeaturesOutMixin, BaseAdapter):
    """Transfer component analysis: a kernel subspace where the domains' means meet.

    TCA finds ``n_components`` directions in the kernel feature space that keep
    as much variance of the pooled data as possible while bringing the source
    and target means together (a small maximum mean discrepancy). With the
    kernel matrix ``K`` of all ``n`` training rows, ``L = e e^T`` (``e_i =
    1/n_s`` on source rows, ``-1/n_t`` on target rows) and the centring matrix
    ``H``, the transfer components ``W`` are the leading solutions of the
    generalised eigenproblem ``K H K w = lambda (K L K + mu I) w`` (the paper's
    equation 11); a row ``x`` maps to ``k(x, X_train) W``.

    Parameters
    ----------
    n_components : int >= 1, default=30
        Number of transfer components. Clipped to the size of the eigenproblem
        (see ``n_components_``).
    kernel : {"rbf", "linear", "laplacian", "poly", "sigmoid", "cosine"}, default="rbf"
        Kernel, as in :func:`sklearn.metrics.pairwise.pairwise_kernels`.
    gamma : float > 0 or None, default=None
        Kernel coefficient of "rbf", "laplacian", "poly" and "sigmoid". None
        uses ``1 / (n_features * X.var())``.
    degree : int >= 1, default=3
        Degree of the "poly" kernel.
    coef0 : float, default=1.0
        Independent term of the "poly" and "sigmoid" kernels.
    mu : float > 0, default=1.0
        Trade-off of the paper: larger values weight the variance kept over
        the distance between the domains' means.
    approximation : {"auto", "exact", "nystroem"}, default="auto"
        How the kernel is handled. "exact" builds the ``n x n`` kernel
        (``O(n^2)`` memory and time per Lanczos step). "nystroem" approximates it with
        ``n_landmarks`` landmark rows, in ``O(n * n_landmarks)`` memory. "auto"
        is exact up to 5,000 rows and Nyström beyond. With the linear kernel,
        "nystroem" solves the exact problem in the ``n_features``
        dimensional input space instead, and "auto" does so when there are
        fewer features than rows (or more than 5,000 rows); otherwise it
        uses the exact ``n x n`` kernel, the smaller problem.
    n_landmarks : int >= 1, default=1000
        Number of landmark rows of the Nyström approximation, drawn uniformly
        from the training rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of landmarks.

    Attributes
    ----------
    n_components_ : int
        Number of components kept.
    gamma_ : float or None
        The kernel coefficient used.
    approximation_ : {"exact", "nystroem", "primal"}
        How the problem was solved ("primal": linear kernel in input space).
    eigenvalues_ : ndarray of shape (``n_components_``,)
        Generalised eigenvalues of the components, decreasing.
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training rows (exact solution only), needed to embed new rows.
    landmarks_ : ndarray of shape (n_landmarks, n_features)
        Landmark rows (Nyström solution only).
    projection_ : ndarray
        Maps kernel values against ``X_fit_`` / ``landmarks_`` (or raw
        features for "primal") to the components.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    CORAL : Align covariances in the input space.
    SubspaceAlignment : Align principal subspaces.

    Notes
    -----
    Eigenvectors are normalised as the generalised symmetric solver returns
    them, ``W^T (K L K + mu I) W = I``, and their signs fixed so the entry of
    largest magnitude is positive. The Nyström path solves the same
    eigenproblem with ``K`` replaced by its rank-``n_landmarks`` approximation
    ``Phi Phi^T``; writing ``W = Phi a``, it reduces to an
    ``n_landmarks``-sized problem built from ``Phi^T Phi``, ``Phi^T 1`` and
    ``Phi^T e``, accumulated over chunks of rows, so no ``n x n`` matrix is
    ever formed. With all rows as landmarks it equals the exact solution.

    References
    ----------
    .. [1] S. J. Pan, I. W. Tsang, J. T. Kwok and Q. Yang, "Domain Adaptation
       via Transfer Component Analysis", IEEE Transactions on Neural Networks
       22(2), 2011.
    .. [2] C. Williams and M. Seeger, "Using the Nyström Method to Speed Up
       Kernel Machines", NIPS 2001.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.alignment import TransferComponentAnalysis
    >>> X, y, sample_domain = make_domain_shift(n_samples=60, random_state=0)
    >>> tca = TransferComponentAnalysis(n_components=2, random_state=0)
    >>> tca.fit_transform(X, y, sample_domain=sample_domain).shape
    (120, 2)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions(_KERNELS)],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "mu": [Interval(Real, 0, None, closed="neither")],
        "approximation": [StrOptions({"auto", "exact", "nystroem"})],
        "n_landmarks": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components: int = 30,
        *,
        kernel: str = "rbf",
        gamma: float | None = None,
        degree: int = 3,
        coef0: float = 1.0,
        mu: float = 1.0,
        approximation: str = "auto",
        n_landmarks: int = 1000,
        random_state=None,
    ):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.mu = mu
        self.approximation = approximation
        self.n_landmarks = n_landmarks
        self.random_state = random_state

    # ------------------------------------------------------------------ kernel
    def _kernel(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        return pairwise_kernels(
            X, Y, metric=self.kernel, filter_params=True,
            gamma=self.gamma_, degree=self.degree, coef0=self.coef0,
        )

    def _resolve_approximation(self, n_samples: int, n_features: int) -> str:
        # The linear kernel's problem lives in the smaller of the two spaces:
        # features (primal) or rows (the exact kernel), unless rows are too many.
        if self.kernel == "linear" and self.approximation == "nystroem":
            return "primal"
        if self.kernel == "linear" and self.approximation == "auto":
            return "primal" if n_features <= n_samples or n_samples > MAX_EXACT_SAMPLES else "exact"
        return resolve_approximation(self.approximation, n_samples, MAX_EXACT_SAMPLES)

    # --------------------------------------------------------------------- fit
    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> np.ndarray | None:
        X = X.astype(np.float64, copy=False)
        n = X.shape[0]
        variance = X.var()
        self.gamma_ = (
            self.gamma if self.gamma is not None
            else 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0
        )
        # e: the MMD vector, 1/n_s on source rows and -1/n_t on target rows.
        e = np.where(domains.source, 1.0 / domains.source.sum(), -1.0 / domains.target.sum())
        self.approximation_ = self._resolve_approximation(n, X.shape[1])
        logger.info("TCA on %d rows: %s solution", n, self.approximation_)
        if self.approximation_ == "exact":
            self.X_fit_ = X.copy()
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                K = self._check_finite(self._kernel(X, X), "kernel matrix")

            def apply_khk(V: np.ndarray) -> np.ndarray:  # K H K V, H = I - 11^T/n
                # Products of kernel values: large ones overflow here first, and
                # the check below names the cause, so numpy's warning is noise.
                with np.errstate(over="ignore", invalid="ignore"):
                    KV = K @ V
                    KHKV = K @ (KV - KV.mean(axis=0))
                return self._check_finite(KHKV, "matrix K H K")

            # K L K = (K e)(K e)^T: the constraint matrix is mu I plus rank one.
            with np.errstate(over="ignore", invalid="ignore"):
                Ke = K @ e
            vals, self.projection_ = leading_eigenpairs_rank_one(
                apply_khk, n, self._check_finite(Ke, "matrix K L K"), self.mu, self.n_components
            )
            mapped = K @ self.projection_  # fit_transform's output: K is at hand
        else:
            mapped = None
            # Phi(x) = k(x, Z) @ landmark_map (Nystroem), or x itself (primal).
            landmark_map = self._landmark_map(X)
            basis = X.shape[1] if landmark_map is None else landmark_map.shape[1]
            G = np.zeros((basis, basis))
            s1, se = np.zeros(basis), np.zeros(basis)
            for rows in gen_batches(n, max(1, 2**22 // basis)):
                Phi = self._basis_features(X[rows])
                if landmark_map is not None:
                    Phi = Phi @ landmark_map
                G += Phi.T @ Phi
                s1 += Phi.sum(axis=0)
                se += Phi.T @ e[rows]
            # In Phi-space, with c = G^{1/2} a: (R S_H R) c = lambda (R S_L R + mu I) c,
            # where S_H = Phi^T H Phi and S_L = Phi^T L Phi; the embedding is Phi R c.
            R = sqrtm_psd(self._check_finite(G, "Gram matrix of the features"))
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                A = R @ (G - np.outer(s1, s1) / n) @ R
            A = self._check_finite(A, "matrix K H K")
            vals, vecs = leading_eigenpairs_rank_one(
                lambda V: A @ V, basis, R @ se, self.mu, self.n_components
            )
            self.projection_ = R @ vecs if landmark_map is None else landmark_map @ R @ vecs
        self.eigenvalues_ = self._check_finite(vals, "eigenvalues")
        self.projection_ = self._check_finite(self.projection_, "projection")
        self.n_components_ = vals.shape[0]
        self._n_features_out = self.n_components_
        return mapped

    def _likely_cause(self) -> str:
        gamma = getattr(self, "gamma_", self.gamma)
        return (
            f"TCA used kernel={self.kernel!r} with gamma_={gamma!r} and mu={self.mu!r}. The "
            "eigenproblem multiplies kernel values together, so large ones overflow: a large "
            "gamma or degree makes 'poly' values explode, and the 'linear' kernel squares "
            "large features. Standardise X (StandardScaler), pass a smaller gamma, or use "
            "the 'rbf' kernel, whose values stay in [0, 1]."
        )

    def _landmark_map(self, X: np.ndarray) -> np.ndarray | None:
        """Draw landmarks (Nyström) and return the map from kernel values to Phi."""
        if self.approximation_ == "primal":
            return None
        rng = check_random_state(self.random_state)
        m = min(self.n_landmarks, X.shape[0])
        self.landmarks_ = X[random_rows(X.shape[0], m, rng)]
        return inv_sqrtm_psd(self._kernel(self.landmarks_, self.landmarks_))

    def _basis_features(self, X: np.ndarray) -> np.ndarray:
        """Kernel values against the rows the projection is expressed on."""
        if self.approximation_ == "primal":
            return X
        anchors = self.X_fit_ if self.approximation_ == "exact" else self.landmarks_
        return self._kernel(X, anchors)

    # --------------------------------------------------------------- transform
    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        X = X.astype(np.float64, copy=False)
        out = np.empty((X.shape[0], self.n_components_))
        for rows in gen_batches(X.shape[0], max(1, 2**22 // self.projection_.shape[0])):
            out[rows] = self._basis_features(X[rows]) @ self.projection_
        return out
