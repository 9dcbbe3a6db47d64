"""Density ratios from density estimates and from nearest neighbours."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.neighbors import KernelDensity, NearestNeighbors

from .._compat import Interval, StrOptions
from .._kernels import log_mean_gaussian
from ._base import BaseWeighter

__all__ = ["KDEWeighter", "NearestNeighborWeighter"]


class KDEWeighter(BaseWeighter):
    """Importance weights as the ratio of two kernel density estimates.

    Fits one Gaussian kernel density estimate on the source rows and one on
    the target rows and weighs a row by ``p_t(x) / p_s(x)``. Simple and
    accurate in a few dimensions; past ten or so the estimates, and their
    ratio, degrade quickly, and a direct ratio estimator (:class:`KLIEP`,
    :class:`ULSIF`) or :class:`DiscriminativeWeighter` does better.

    Parameters
    ----------
    bandwidth : float or {"scott", "silverman"}, default="scott"
        Bandwidth of both density estimates (``sklearn.neighbors.KernelDensity``).
    kernel : {"gaussian", "tophat", "epanechnikov", "exponential", "linear", \
"cosine"}, default="gaussian"
        Kernel of both density estimates.
    max_weight : float or None, default=None
        Upper bound on a weight (ratios in the source's tails can be huge);
        None leaves them as estimated.

    Attributes
    ----------
    weights_ : ndarray of shape (n_samples,)
        Weights of the training rows (source rows), 0 on target rows.
    effective_sample_size_ : float
        Kish's effective sample size of the source weights.
    density_source_ : KernelDensity
        Density estimate of the source rows.
    density_target_ : KernelDensity
        Density estimate of the target rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    KLIEP : Estimates the ratio directly instead of two densities.

    References
    ----------
    .. [1] H. Shimodaira, "Improving predictive inference under covariate
       shift by weighting the log-likelihood function", Journal of
       Statistical Planning and Inference 90(2), 2000.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.reweighting import KDEWeighter
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, random_state=0)
    >>> KDEWeighter().fit(X, y, sample_domain=sample_domain).compute_weights(X[:2]).shape
    (2,)
    """

    _parameter_constraints: dict = {
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions({"scott", "silverman"})],
        "kernel": [StrOptions({"gaussian", "tophat", "epanechnikov", "exponential", "linear", "cosine"})],
        "max_weight": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, bandwidth="scott", *, kernel="gaussian", max_weight=None):
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.max_weight = max_weight

    def _fit(self, Xs: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        self.density_source_ = KernelDensity(bandwidth=self.bandwidth, kernel=self.kernel).fit(Xs)
        self.density_target_ = KernelDensity(bandwidth=self.bandwidth, kernel=self.kernel).fit(Xt)
        self._rows = (Xs.copy(), Xt.copy())
        return self._ratio(Xs)

    def _log_density(self, density: KernelDensity, rows: np.ndarray, X: np.ndarray) -> np.ndarray:
        if self.kernel != "gaussian":
            return density.score_samples(X)
        # The Gaussian case by blocked matrix products, to the same value:
        # KernelDensity's trees degrade to pairwise loops past a few dimensions.
        h, d = density.bandwidth_, X.shape[1]
        return log_mean_gaussian(X, rows, 0.5 / h**2) - d * np.log(h) - 0.5 * d * np.log(2 * np.pi)

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        source_rows, target_rows = self._rows
        log_ratio = self._log_density(self.density_target_, target_rows, X) - self._log_density(
            self.density_source_, source_rows, X
        )
        with np.errstate(over="ignore", invalid="ignore"):
            ratio = np.exp(log_ratio)
        # Both densities 0 (compact kernels far from every row): no evidence either way.
        ratio = np.where(np.isnan(ratio), 1.0, ratio)
        return ratio if self.max_weight is None else np.minimum(ratio, self.max_weight)


class NearestNeighborWeighter(BaseWeighter):
    """Importance weights by counting target rows around each source row.

    A source row's weight is the number of target rows that have it among
    their ``n_neighbors`` nearest source rows (with ``n_neighbors=1``: the
    target rows in its Voronoi cell), plus a smoothing count, scaled so the
    source weights average 1. No bandwidth, no optimisation, and it scales
    with a tree search.

    Parameters
    ----------
    n_neighbors : int, default=1
        Number of source rows each target row votes for; larger values give
        smoother weights.
    smoothing : float, default=1.0
        Count added to every source row (Laplace smoothing), so no source row
        gets weight 0.
    n_jobs : int or None, default=None
        Parallel jobs of the neighbour search.

    Attributes
    ----------
    weights_ : ndarray of shape (n_samples,)
        Weights of the training rows (source rows), 0 on target rows.
    effective_sample_size_ : float
        Kish's effective sample size of the source weights.
    neighbors_ : NearestNeighbors
        Index of the source rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    KDEWeighter : Smooth density ratios with a bandwidth.

    Notes
    -----
    ``compute_weights`` gives a new row the weight of its nearest training
    source row (the Voronoi cell it falls in), so on the training source rows
    it returns ``weights_``.

    References
    ----------
    .. [1] M. Loog, "Nearest Neighbor-Based Importance Weighting", IEEE
       International Workshop on Machine Learning for Signal Processing, 2012.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.reweighting import NearestNeighborWeighter
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, random_state=0)
    >>> nn = NearestNeighborWeighter().fit(X, y, sample_domain=sample_domain)
    >>> round(float(nn.weights_[sample_domain > 0].mean()), 6)
    1.0
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, n_neighbors=1, *, smoothing=1.0, n_jobs=None):
        self.n_neighbors = n_neighbors
        self.smoothing = smoothing
        self.n_jobs = n_jobs

    def _fit(self, Xs: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        k = min(self.n_neighbors, Xs.shape[0])
        self.neighbors_ = NearestNeighbors(n_neighbors=k, n_jobs=self.n_jobs).fit(Xs)
        votes = self.neighbors_.kneighbors(Xt, return_distance=False).ravel()
        # Every target row casts k votes, so the counts never all vanish.
        counts = np.bincount(votes, minlength=Xs.shape[0]) + self.smoothing
        self._cell_weights = counts * (Xs.shape[0] / counts.sum())
        return self._cell_weights

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        nearest = self.neighbors_.kneighbors(X, n_neighbors=1, return_distance=False)[:, 0]
        return self._cell_weights[nearest]
