"""Density ratios by counting target rows in the nearest-neighbour cells of the source rows."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn import config_context
from sklearn.neighbors import NearestNeighbors

from .._compat import Interval, StrOptions
from .._sampling import random_rows
from ._base import BaseWeighter

__all__ = ["NearestNeighborWeighter"]

#: Cell sites with ``max_samples="auto"``: every source row up to this many, a sample past it.
MAX_SITES = 5_000


def _distinct_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``X`` in order of first appearance, and each row's index among them.

    Equal rows have equal projections on one random direction, up to the
    rounding of the product; rows whose sorted projections lie within that
    rounding of a neighbour's are the only candidates, and those are compared
    by their bytes. A projection and a sort cost about 0.2-0.7 ms for 1,000
    rows of 800 features, where hashing every row cost 1-3 ms and
    ``np.unique(axis=0)`` 40-100 ms (more than the neighbour search on the
    suite's datasets).
    Without repeats the sites are ``X`` itself, in its order. (``0.0`` and
    ``-0.0`` differ in their bytes and stay two rows.)
    """
    X = np.ascontiguousarray(X)
    n, d = X.shape
    inverse = np.arange(n)
    if n < 2 or d == 0:
        return X, inverse
    direction = np.random.default_rng(0).standard_normal(d)
    # einsum, not the BLAS product: numpy's OpenBLAS threads waking beside the neighbour search's
    # (scipy's) cost 14 ms a fit on Office-Caltech SURF, where this costs 0.2 ms
    proj = np.einsum("ij,j->i", X, direction)
    order = np.argsort(proj, kind="stable")
    ends = proj[order]
    # The product's rounding is below d * eps * max|x| * sum|direction| for any row; 64 times that
    # keeps every pair of equal rows among the candidates.
    tol = 64 * d * np.finfo(float).eps * max(float(X.max()), -float(X.min())) * float(np.abs(direction).sum())
    near = np.flatnonzero(np.diff(ends) <= tol)
    if near.size == 0:
        return X, inverse
    seen: dict[bytes, int] = {}
    for i in np.sort(order[np.union1d(near, near + 1)]):  # in row order: the first copy comes first
        inverse[i] = seen.setdefault(X[i].tobytes(), i)
    first, inverse = np.unique(inverse, return_inverse=True)
    return X[first], inverse


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
        Number of cells each target row votes for; larger values give
        smoother weights.
    smoothing : float, default=1.0
        Count added to every source row (Laplace smoothing), so no source row
        gets weight 0.
    max_samples : int >= 1, "auto" or None, default="auto"
        The most source rows that are cell sites. With more source rows than
        this, the cells are those of a random sample of ``max_samples``
        source rows, every source row falls in the cell of its nearest site,
        and a cell's weight is its target votes per source row in it plus
        ``smoothing``: a coarser histogram of the same ratio (see Notes).
        "auto" is 5,000 (the support cap of :class:`KDEWeighter`); None always
        makes every source row a site.
    n_jobs : int or None, default=None
        Parallel jobs of the neighbour search.
    random_state : int, RandomState instance or None, default=None
        Draws the sites when there are more than ``max_samples`` source rows.

    Attributes
    ----------
    weights_ : ndarray of shape (n_samples,)
        Weights of the training rows (source rows), 0 on target rows.
    effective_sample_size_ : float
        Kish's effective sample size of the source weights.
    neighbors_ : NearestNeighbors
        Index of the cell sites (the source rows, or their sample).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    KDEWeighter : Smooth density ratios with a bandwidth.

    Notes
    -----
    ``compute_weights`` gives a new row the weight of the cell it falls in
    (its nearest site), so on the training source rows it returns
    ``weights_``.

    With every source row a site, each cell holds one source row and the
    cell weight ``votes / 1 + smoothing`` is the exact estimator; identical
    source rows are one site, and share its cell's votes. Exact, the
    search costs ``n_target x n_source`` distances: 19 s at 50,000 + 50,000
    rows x 256 features, and past 300 s at 500,000 + 500,000 x 64 on 2 cores
    (a k-d tree is slower still in 64 dimensions). With 5,000 sites both
    searches cost ``n x 5,000`` distances: 15 s at 1,000,000 x 64 (skada's
    exact search did not finish in 150 s), 4 s at 100,000 x 256.

    The smoothing count is what keeps the weights usable: unsmoothed counts
    (skada's weighter, and ADAPT's with ``n_neighbors=5``) put the whole weight
    on the few source rows nearest the target. Over the 150 covariate shifts of
    ``benchmarks/ess_threshold.py``, the default changes the score of the model
    trained with the weights by +1.9 points on average against the unweighted
    one (worst -38.6), ``NearestNeighborWeighter(5, smoothing=0)`` by -6.3
    (worst -153, a ridge's R^2 x 100); on the suite's six real datasets the
    unsmoothed setting is 0.6 points better on average, 8 worse on
    Office-Caltech SURF (``benchmarks/nn_smoothing.py`` has all 40 settings
    measured).

    ``effective_sample_size_`` below 20% of the source rows draws a
    :class:`~sktransfer.exceptions.DegenerateWeightsWarning` from the
    estimator trained with the weights (its docstring gives the measurement).

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
    >>> coarse = NearestNeighborWeighter(max_samples=10, random_state=0)
    >>> coarse.fit(X, y, sample_domain=sample_domain).neighbors_.n_samples_fit_
    10
    """

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "smoothing": [Interval(Real, 0, None, closed="left")],
        "max_samples": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, n_neighbors=1, *, smoothing=1.0, max_samples="auto", n_jobs=None,
                 random_state=None):
        self.n_neighbors = n_neighbors
        self.smoothing = smoothing
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _fit(self, Xs: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        n_sites = MAX_SITES if self.max_samples == "auto" else self.max_samples
        exact = n_sites is None or Xs.shape[0] <= n_sites
        # Identical rows are one site: one cell, whose votes its source rows share. As separate sites,
        # the neighbour search gave every vote to the first copy (weights 15 and 0.5 for seven equal
        # rows) and, among sampled sites, dropped the votes of copies that own no source row.
        sites, inverse = _distinct_rows(Xs if exact else Xs[random_rows(Xs.shape[0], n_sites, rng)])
        k = min(self.n_neighbors, sites.shape[0])
        # The rows were checked finite when fit validated them: the index and the search need not scan
        # them again (twice, 0.7 ms a fit of 1,000 rows x 4,096 features, what the repeat check costs).
        with config_context(assume_finite=True):
            self.neighbors_ = NearestNeighbors(n_neighbors=k, n_jobs=self.n_jobs).fit(sites)
            votes = self.neighbors_.kneighbors(Xt, return_distance=False).ravel()
        # Every target row casts k votes, so the counts never all vanish.
        votes = np.bincount(votes, minlength=sites.shape[0]).astype(float)
        if exact:
            cell_of = inverse
        else:
            with config_context(assume_finite=True):
                cell_of = self.neighbors_.kneighbors(Xs, n_neighbors=1, return_distance=False)[:, 0]
        members = np.bincount(cell_of, minlength=sites.shape[0])
        # Votes per source row of the cell, plus the smoothing count each row gets; a sampled site
        # whose cell holds no source row cannot happen (each site is a source row), but is kept at 0.
        per_row = np.divide(votes, members, out=np.zeros_like(votes), where=members > 0) + self.smoothing
        self._cell_weights = per_row * (Xs.shape[0] / per_row[cell_of].sum())
        return self._cell_weights[cell_of]

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        with config_context(assume_finite=True):  # compute_weights validated X
            nearest = self.neighbors_.kneighbors(X, n_neighbors=1, return_distance=False)[:, 0]
        return self._cell_weights[nearest]
