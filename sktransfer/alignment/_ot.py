"""Optimal transport mapping (Courty, Flamary, Tuia & Rakotomamonjy, 2017), on POT."""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import OneToOneFeatureMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target

from .._compat import Interval, StrOptions
from .._pot import EMD_MAX_ITER, import_pot
from .._sampling import random_rows, stratified_rows
from ..base import BaseAdapter
from ..domain import Domains, check_domains
from ._sinkhorn import fit_sinkhorn_transport

__all__ = ["OptimalTransportMapping"]

#: method -> (POT class in ``ot.da``, default max_iter). The class-regularised
#: ones count outer (majorisation / conditional-gradient) iterations.
_TRANSPORTS = {
    "exact": ("EMDTransport", EMD_MAX_ITER),
    "sinkhorn": ("SinkhornTransport", 1000),
    "lpl1": ("SinkhornLpl1Transport", 10),
    "group_lasso": ("SinkhornL1l2Transport", 10),
}
_CLASS_REGULARISED = ("lpl1", "group_lasso")
#: ``max_samples="auto"``: a domain with up to this many rows is used whole (so are
#: the benchmark suite's, 2,000 rows at most) ...
MAX_ALL_ROWS = 2500
#: ... and a larger one through a subsample of this many rows (measured in Notes)
AUTO_SAMPLES = 1000
#: POT's out-of-sample map holds a (batch x fitted rows) distance block; POT's own batch is 128 rows
_BATCH_ENTRIES = 2**22
_POT_BATCH = 128


class OptimalTransportMapping(OneToOneFeatureMixin, BaseAdapter):
    """Move source rows onto the target by the barycentric map of an optimal transport plan.

    A coupling ``G`` (``n_source x n_target``) between the uniform
    distributions on the source and target rows is found by optimal
    transport with the cost ``c(x_s, x_t)`` (squared Euclidean by default);
    each source row is then mapped to the ``G``-weighted mean of the target
    rows it is coupled with, ``x_s -> sum_j G_sj x_t_j / sum_j G_sj``.
    Target rows are left unchanged; a model trained on the mapped source rows
    is applied to target rows as they are. The solvers and the map are POT's
    ``ot.da`` transport classes, which this adapter wraps in the domain
    contract.

    Parameters
    ----------
    method : {"exact", "sinkhorn", "lpl1", "group_lasso"}, default="exact"
        How the coupling is found: ``"exact"``, the exact linear program
        (``ot.da.EMDTransport``); ``"sinkhorn"``, entropic regularisation of
        strength ``reg_e`` (``ot.da.SinkhornTransport``); ``"lpl1"`` and
        ``"group_lasso"``, entropic plus a class regulariser of strength
        ``reg_cl`` that makes each target row receive mass from source rows
        of one class: the non-convex l_p-l_1 norm
        (``ot.da.SinkhornLpl1Transport``) or the convex l_1-l_2 group lasso
        (``ot.da.SinkhornL1l2Transport``). The last two need the source labels.
    reg_e : float > 0, default=1.0
        Entropic regularisation (``"sinkhorn"``, ``"lpl1"``, ``"group_lasso"``),
        on the scale of the cost: larger is smoother, smaller is closer to
        the exact plan but slower and, below about 1/1000 of the largest
        cost, numerically fragile (then pass ``norm="max"``).
    reg_cl : float >= 0, default=0.1
        Strength of the class regulariser (``"lpl1"``, ``"group_lasso"``).
    metric : {"sqeuclidean", "euclidean", "cityblock"}, default="sqeuclidean"
        Ground cost between a source and a target row.
    norm : {"median", "max", "log", "loglog"} or None, default=None
        Normalise the cost matrix (divide by its median or maximum, or take
        ``log(1 + C)``, ``log(1 + log(1 + C))``) before solving, which makes
        ``reg_e`` scale-free. None uses the cost as it is.
    max_iter : int >= 1 or None, default=None
        Iteration budget of the solver; None uses 1,000,000 network simplex
        iterations (``"exact"``: POT's ``ot.solve`` budget; ``EMDTransport``'s
        own 100,000 stops short of the optimum on a few thousand rows a
        domain), and POT's 1,000 Sinkhorn iterations, or 10 outer iterations
        of the class-regularised solvers (each with up to 200 Sinkhorn
        iterations).
    tol : float > 0, default=1e-8
        Stopping threshold of the Sinkhorn iterations (not used by ``"exact"``).
    max_samples : "auto", int >= 1 or None, default="auto"
        Most rows of each domain the coupling is solved on. A domain with
        more rows is represented by a random subsample of that many (for
        ``"lpl1"`` and ``"group_lasso"`` the source one stratified by class,
        at least one row of each, on top of them), and every source row, in the subsample
        or not, is mapped by POT's out-of-sample rule (Notes): memory and
        time then grow with ``max_samples^2`` instead of ``n_source x
        n_target``. ``"auto"`` uses every row of a domain of up to 2,500
        rows and 1,000 rows of a larger one; None always uses every row.
    random_state : int, RandomState instance or None, default=None
        Draws the subsamples; unused when every row is used.

    Attributes
    ----------
    transport_ : ot.da.BaseTransport
        The fitted POT transport object (its ``xs_``, ``xt_``, ``cost_``).
    coupling_ : ndarray of shape (n_coupled_source, n_coupled_target)
        The optimal coupling ``G`` between the source and target rows it was
        solved on (``source_indices_``, ``target_indices_``); each row sums
        to ``1 / n_coupled_source``.
    source_indices_ : ndarray of shape (n_coupled_source,)
        Positions in the training ``X`` of the source rows the coupling was
        solved on, sorted: every source row unless ``max_samples``
        subsampled them.
    target_indices_ : ndarray of shape (n_coupled_target,)
        The same for the target rows.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    CORAL : Match means and covariances instead of whole distributions.
    sktransfer.parameter.JDOTClassifier : Transport features and labels jointly.

    Notes
    -----
    New rows given as source rows (``transform(X, sample_domain=1)``) that
    are not the training source rows are mapped as POT maps them out of
    sample: with ``"exact"``, ``"lpl1"`` and ``"group_lasso"``, each takes
    the displacement of its nearest training source row (Ferradans et al.
    2014, the paper's choice); with ``"sinkhorn"``, POT's continuous entropic
    map (Pooladian & Niles-Weed, 2021), a softmax of the target rows under
    the fitted dual potential, which coincides with the barycentric map on
    the training rows. All source domains are pooled, as are all target
    domains. The source labels are used only by the class-regularised
    methods; labelled target rows are not used (POT's semi-supervised cost
    is left out).

    The whole coupling costs ``n_source x n_target`` memory (20 GB at 50,000
    rows per domain: out of memory), so past 2,500 rows in a domain
    ``max_samples="auto"`` solves it between 1,000-row random subsamples and
    maps every source row by the out-of-sample rule above. At 100,000 rows x
    256 features (``benchmarks/scale.py``, 2 cores) ``"exact"`` then took
    2.6 s and 1.5 GB peak, ``"sinkhorn"`` with ``norm="max", reg_e=0.01``
    1.7 s and 1.6 GB. Why 1,000: POT's
    network simplex needed about 40,000 iterations on 1,000 x 1,000 rows,
    74,000 on 1,500 and 126,000 on 2,000, past its default 100,000 (the
    plan is then not optimal); each Sinkhorn iteration costs
    ``O(max_samples^2)``. The price: on 10 Gaussian classes in 256
    features, 2,000 rows per domain, the nearest source-class mean's target
    accuracy after the map was 95.5% with every row and 91.7% with 1,000
    (``"exact"``), 96.9% and 96.2% (``"sinkhorn"``). ``"sinkhorn"`` at its
    default ``reg_e=1`` on raw costs of about 700 (256 standardised
    features) ran 1,000 iterations unconverged, 170 s on 1,000 x 1,000
    rows: pass ``norm="max"`` and a smaller ``reg_e``.

    ``"sinkhorn"`` finds the plan with POT's scaling-form Sinkhorn wherever
    ``cost / reg_e`` stays at most 200 (always with ``norm="max"`` and
    ``reg_e >= 0.005``) and every number it meets is finite, else with the
    log-domain solver that POT's ``SinkhornTransport.fit`` always runs (its
    continuous map reads the dual potentials, which are the logarithms of
    the scalings). Both reach the same plan; each log-domain iteration takes
    a log-sum-exp over the whole cost matrix. With the benchmark suite's
    ``norm="max", reg_e=0.01`` the plans agreed to 1e-14 and the fit took
    0.31 s against POT's 9.9 s on MNIST -> USPS (3,800 rows), 1.5 s against
    59 s on Amazon reviews B -> D (4,000 rows), 0.13 s against 5.2 s on
    COIL20 1 -> 2 (2 cores; ``transport_.method`` says which solver ran).

    References
    ----------
    .. [1] N. Courty, R. Flamary, D. Tuia and A. Rakotomamonjy, "Optimal
       Transport for Domain Adaptation", IEEE Transactions on Pattern Analysis
       and Machine Intelligence 39(9), 2017.
    .. [2] R. Flamary et al., "POT: Python Optimal Transport", Journal of
       Machine Learning Research 22(78), 2021.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.alignment import OptimalTransportMapping
    >>> X, y, sample_domain = make_domain_shift(n_samples=30, random_state=0)
    >>> mapping = OptimalTransportMapping()
    >>> X_new = mapping.fit_transform(X, y, sample_domain=sample_domain)
    >>> X_new.shape, mapping.coupling_.shape
    ((60, 2), (30, 30))

    The coupling between 10-row subsamples of each domain; all 30 source
    rows are still mapped:

    >>> sub = OptimalTransportMapping(max_samples=10, random_state=0)
    >>> X_sub = sub.fit_transform(X, y, sample_domain=sample_domain)
    >>> X_sub.shape, sub.coupling_.shape, sub.source_indices_.shape
    ((60, 2), (10, 10), (10,))
    """

    _parameter_constraints: dict = {
        "method": [StrOptions(set(_TRANSPORTS))],
        "reg_e": [Interval(Real, 0, None, closed="neither")],
        "reg_cl": [Interval(Real, 0, None, closed="left")],
        "metric": [StrOptions({"sqeuclidean", "euclidean", "cityblock"})],
        "norm": [StrOptions({"median", "max", "log", "loglog"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_samples": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        method: str = "exact",
        *,
        reg_e: float = 1.0,
        reg_cl: float = 0.1,
        metric: str = "sqeuclidean",
        norm: str | None = None,
        max_iter: int | None = None,
        tol: float = 1e-8,
        max_samples: int | str | None = "auto",
        random_state: Any = None,
    ):
        self.method = method
        self.reg_e = reg_e
        self.reg_cl = reg_cl
        self.metric = metric
        self.norm = norm
        self.max_iter = max_iter
        self.tol = tol
        self.max_samples = max_samples
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self.method in _CLASS_REGULARISED
        return tags

    def _check_domains(self, X: Any, y: Any, sample_domain: Any) -> Domains:
        if self.method not in _CLASS_REGULARISED:
            return check_domains(X, y, sample_domain, estimator=self)
        if y is None:
            raise ValueError(
                f"{type(self).__name__}(method={self.method!r}) requires y to be passed, but the "
                "target y is None: its class regulariser groups the source rows by label. Pass y "
                "with the target labels masked (-1), or use method='exact' or 'sinkhorn'."
            )
        return check_domains(X, y, sample_domain, needs=("source", "target", "source_labels"), estimator=self)

    def _transport(self) -> Any:
        ot = import_pot(type(self).__name__)
        name, default_iter = _TRANSPORTS[self.method]
        kwargs = {
            "metric": self.metric,
            "norm": self.norm,
            "max_iter": default_iter if self.max_iter is None else self.max_iter,
        }
        if self.method != "exact":
            kwargs.update(reg_e=self.reg_e, tol=self.tol)
        if self.method in _CLASS_REGULARISED:
            kwargs["reg_cl"] = self.reg_cl
        return getattr(ot.da, name)(**kwargs)

    def _source_codes(self, y: np.ndarray | None, domains: Domains) -> np.ndarray | None:
        """Source labels as class codes 0..K-1 for the class regularisers (None otherwise)."""
        if self.method not in _CLASS_REGULARISED:
            return None
        y_source = y[domains.source]
        kind = type_of_target(y_source, input_name="y", raise_unknown=True)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__}(method={self.method!r}) needs class labels on the "
                f"source rows (its regulariser groups them by class), but y on the source "
                f"rows is {kind!r}. Pass class labels, or use method='exact' or 'sinkhorn', "
                "which use no labels."
            )
        return np.unique(y_source, return_inverse=True)[1].astype(np.float64)

    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> np.ndarray:
        X64 = X.astype(np.float64, copy=False)
        Xs, Xt = X64[domains.source], X64[domains.target]
        codes = self._source_codes(y, domains)
        rng = check_random_state(self.random_state)
        keep_s = self._subsample(Xs.shape[0], codes, rng)
        keep_t = self._subsample(Xt.shape[0], None, rng)
        source_rows, target_rows = np.flatnonzero(domains.source), np.flatnonzero(domains.target)
        self.source_indices_ = source_rows if keep_s is None else source_rows[keep_s]
        self.target_indices_ = target_rows if keep_t is None else target_rows[keep_t]
        # POT's map goes through (batch x fitted rows) blocks: larger ones for many rows mapped
        # out of sample; POT's own batch below the cap, which changes nothing there.
        n_fitted = max(self.source_indices_.size, self.target_indices_.size)
        subsampled = keep_s is not None or keep_t is not None
        self._batch_size = max(_POT_BATCH, _BATCH_ENTRIES // n_fitted) if subsampled else _POT_BATCH
        Xs_fit, ys_fit = (Xs, codes) if keep_s is None else (Xs[keep_s], None if codes is None else codes[keep_s])
        Xt_fit = Xt if keep_t is None else Xt[keep_t]
        transport = self._transport()
        # Overflow and underflow in the solvers (exp(-C / reg_e)) are caught
        # by the checks just below, which name the cause.
        with np.errstate(all="ignore"), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if self.method == "sinkhorn":
                fit_sinkhorn_transport(import_pot(type(self).__name__), transport, Xs_fit, Xt_fit)
            else:
                transport.fit(Xs=Xs_fit, ys=ys_fit, Xt=Xt_fit)
        unconverged = self._rewarn(caught, transport)
        coupling = self._check_finite(transport.coupling_, "optimal transport coupling")
        row_mass = coupling.sum(axis=1)
        if np.any(row_mass <= 0):
            cause = (f"The exact plan stopped before optimality at max_iter={transport.max_iter}: pass a "
                     f"larger max_iter (None gives {EMD_MAX_ITER:,})." if unconverged else self._likely_cause())
            raise ValueError(
                f"{type(self).__name__}: {int(np.sum(row_mass <= 0))} source row(s) received no "
                "mass in the optimal transport coupling, so the barycentric map is undefined "
                f"for them. {cause}"
            )
        self.transport_, self.coupling_ = transport, coupling
        mapped = X.copy()
        # Every source row: by the barycentric map when all were fitted, else out of sample
        # (a fitted row is its own nearest fitted row; "sinkhorn" uses its continuous map).
        mapped[domains.source] = self._map_source(Xs)
        return mapped

    def _subsample(self, n_rows: int, codes: np.ndarray | None, rng: np.random.RandomState) -> np.ndarray | None:
        """Sorted positions of the rows of one domain the coupling is solved on; None for all."""
        cap = self.max_samples
        if cap == "auto":
            cap = None if n_rows <= MAX_ALL_ROWS else AUTO_SAMPLES
        if cap is None or n_rows <= cap:
            return None
        if codes is None:
            return random_rows(n_rows, cap, rng)
        return stratified_rows(codes, cap, rng)

    def _map_source(self, Xs: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):  # a non-finite map is refused by the caller
            return np.asarray(self.transport_.transform(Xs=Xs, batch_size=self._batch_size))

    def _rewarn(self, caught: list, transport: Any) -> bool:
        """Re-emit the solver's warnings; POT's "numItermax reached" as a ConvergenceWarning. True if it came."""
        unconverged = False
        for record in caught:
            if self.method == "exact" and "numItermax reached before optimality" in str(record.message):
                unconverged = True
                continue
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
        if unconverged:
            warnings.warn(
                f"{type(self).__name__}(method='exact'): the network simplex stopped after "
                f"max_iter={transport.max_iter:,} iterations before the optimal plan; the plan used is "
                f"feasible but not optimal. Pass a larger max_iter (None gives {EMD_MAX_ITER:,}) or fewer rows "
                "(max_samples).",
                ConvergenceWarning,
                stacklevel=4,
            )
        return unconverged

    def _likely_cause(self) -> str:
        if self.method == "exact":
            return "Standardise X (e.g. with StandardScaler) or pass norm='max'."
        return (
            f"With reg_e={self.reg_e!r}, exp(-cost / reg_e) underflows when the costs are large "
            "compared with reg_e. Pass a larger reg_e or norm='max' (costs in [0, 1]), and "
            "standardise X (StandardScaler)."
        )

    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        X_new = X.copy()
        source = sample_domain > 0
        if source.any():
            X_new[source] = self._map_source(X[source].astype(np.float64, copy=False))
        return X_new
