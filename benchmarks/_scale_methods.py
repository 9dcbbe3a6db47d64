"""What ``benchmarks/scale.py`` times: every weighter and aligner at its defaults, a faster setting
by name where the library has one, and the peers' equivalents.

Ours run at their defaults (``random_state=0``). A peer gets the settings our defaults resolve
to where its API takes them, through the factories the other benchmarks already use:
``benchmarks/_reweighting_office._weighter`` for the weighters (the peers get our
median-heuristic bandwidth and KLIEP candidates), ``benchmarks/alignment._skada`` / ``_adapt``
for CORAL and linear TCA (and its ``_AdaptAligner`` for ADAPT's SA and rbf TCA),
``benchmarks/_suite_joint._ours`` / ``_peer`` for OT-Sinkhorn and MMDTarS; skada's SA, rbf TCA
and exact OT are built here. Each peer's settings string says what it gets; the table lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["METHODS", "Method"]

FitBuilder = Callable[[np.ndarray, Any, np.ndarray], Callable[[], Any]]


@dataclass(frozen=True)
class Method:
    """One method of the scale table.

    ``ours(X)`` is our estimator at its defaults; a ``"weighter"`` is timed on ``fit`` (which
    computes ``weights_``), an ``"aligner"`` on ``fit_transform``. ``fast`` is ``(label,
    X -> estimator)``: a faster setting by name, run where the defaults miss the target.
    ``peers`` maps a library to ``(settings, (X, y, sample_domain) -> fit)``: a closure that
    fits the peer's equivalent and returns its weights or mapped rows.
    """

    kind: str
    ours: Callable[[np.ndarray], Any]
    description: str
    labels: bool = False
    check: bool = False
    fast: tuple[str, Callable[[np.ndarray], Any]] | None = None
    peers: dict[str, tuple[str, FitBuilder]] = field(default_factory=dict)


def _source_first(sd: np.ndarray) -> int:
    """The number of source rows, which the synthetic data put first (so slices are views, not copies)."""
    n_s = int(np.sum(sd > 0))
    if not (np.all(sd[:n_s] > 0) and np.all(sd[n_s:] < 0)):
        raise ValueError("the scale benchmark's peers expect the source rows first, then the target rows")
    return n_s


def _skada_domains(sd: np.ndarray) -> np.ndarray:
    """skada's convention: source domain 1, target domain negative (-2)."""
    return np.where(sd > 0, 1, -2)


def _weights_peer(impl: str, name: str) -> FitBuilder:
    """A peer weighter from the Office-Caltech benchmark's factory (our median-heuristic bandwidth)."""

    def build(X, y, sd):
        from benchmarks._reweighting_office import _weighter

        n_s = _source_first(sd)
        return _weighter(impl, name, X[:n_s], X[n_s:])

    return build


def _skada_map(make: Callable[[np.ndarray], Any]) -> FitBuilder:
    """A skada adapter (``make(X)``) timed on ``fit_transform``."""

    def build(X, y, sd):
        est, sd_skada = make(X), _skada_domains(sd)
        return lambda: est.fit_transform(X, y, sample_domain=sd_skada)

    return build


def _adapt_map(make: Callable[[np.ndarray, np.ndarray], Any]) -> FitBuilder:
    """An ADAPT aligner (``make(X, sd)``, wrapped by ``benchmarks/alignment._AdaptAligner``)."""

    def build(X, y, sd):
        est = make(X, sd)
        return lambda: est.fit_transform(X, y, sample_domain=sd)

    return build


def _skada_mmdtars(X: np.ndarray, y: np.ndarray, sd: np.ndarray) -> Callable[[], Any]:
    from benchmarks._suite_joint import _peer
    from sktransfer._kernels import median_heuristic_gamma

    est, sd_skada = _peer("skada", "MMDTarS", median_heuristic_gamma(X)), _skada_domains(sd)
    return lambda: est.fit(X, y, sample_domain=sd_skada).compute_weights(X, y, sample_domain=sd_skada)


def _adapt_sa(X: np.ndarray, sd: np.ndarray) -> Any:
    import adapt.feature_based as fb

    from benchmarks.alignment import _AdaptAligner

    n_s = _source_first(sd)
    # our default n_components=None keeps min(n_features, n_source, n_target); ADAPT gets that number
    return _AdaptAligner(fb.SA(n_components=min(X.shape[1], n_s, len(X) - n_s), verbose=0, random_state=0))


def _adapt_tca_rbf(X: np.ndarray, sd: np.ndarray) -> Any:
    import adapt.feature_based as fb

    from benchmarks.alignment import _AdaptAligner

    return _AdaptAligner(fb.TCA(kernel="rbf", n_components=30, mu=1.0, verbose=0, random_state=0))


def _pot_first(make: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """``make``, after importing POT: our OT imports it in ``fit``, and its import (about 2 s with its
    backends) would count in our fit time and not in skada's, which imports POT with skada."""

    def build(X):
        from sktransfer._pot import import_pot

        import_pot("OptimalTransportMapping")
        return make(X)

    return build


def _median_gamma(X: np.ndarray) -> float:
    from sktransfer._kernels import median_heuristic_gamma

    return median_heuristic_gamma(X)


# --------------------------------------------------------------------------- weighters
def _weighters() -> dict[str, Method]:
    from sktransfer import reweighting as rw
    from sktransfer.reweighting._centres import KLIEP_GAMMA_FACTORS

    fixed_lsif = "gamma=median heuristic, reg=0.1 (the middle of the default grids: no CV)"
    return {
        "KMM": Method(
            "weighter", lambda X: rw.KMM(random_state=0), "KMM() (Nystroem, 1,000 landmarks past 4,000 source rows)",
            fast=("approximation='nystroem', n_landmarks=300, tol=1e-4",
                  lambda X: rw.KMM(approximation="nystroem", n_landmarks=300, tol=1e-4, random_state=0)),
            peers={"skada": ("KMMReweightAdapter(gamma=our median heuristic)", _weights_peer("skada", "KMM")),
                   "adapt": ("KMM(gamma=our median heuristic)", _weights_peer("adapt", "KMM"))},
        ),
        "KLIEP": Method(
            "weighter", lambda X: rw.KLIEP(random_state=0), "KLIEP() (5 gammas by 5-fold likelihood CV)",
            fast=("gamma=median heuristic / 2, the middle default candidate: no CV",
                  lambda X: rw.KLIEP(gamma=_median_gamma(X) * KLIEP_GAMMA_FACTORS[2], random_state=0)),
            peers={"skada": ("KLIEPReweightAdapter(gamma=our 5 candidates)", _weights_peer("skada", "KLIEP")),
                   "adapt": ("KLIEP(gamma=our 5 candidates)", _weights_peer("adapt", "KLIEP"))},
        ),
        "ULSIF": Method(
            "weighter", lambda X: rw.ULSIF(random_state=0), "ULSIF() (5 gammas x 5 regs by 5-fold CV)",
            fast=(fixed_lsif, lambda X: rw.ULSIF(gamma=_median_gamma(X), reg=0.1, random_state=0)),
            peers={"adapt": ("ULSIF(gamma=our median heuristic)", _weights_peer("adapt", "ULSIF"))},
        ),
        "RULSIF": Method(
            "weighter", lambda X: rw.RULSIF(random_state=0), "RULSIF() (alpha=0.1; CV as ULSIF)",
            fast=(fixed_lsif, lambda X: rw.RULSIF(gamma=_median_gamma(X), reg=0.1, random_state=0)),
            peers={"adapt": ("RULSIF(gamma=our median heuristic)", _weights_peer("adapt", "RULSIF"))},
        ),
        "Discriminative": Method(
            "weighter", lambda X: rw.DiscriminativeWeighter(), "DiscriminativeWeighter() (LogisticRegression)",
            peers={"skada": ("DiscriminatorReweightAdapter()", _weights_peer("skada", "Discriminative")),
                   "adapt": ("IWC()", _weights_peer("adapt", "Discriminative"))},
        ),
        "KDE": Method(
            "weighter", lambda X: rw.KDEWeighter(random_state=0),
            "KDEWeighter() (median bandwidth; each density on at most 5,000 rows of its domain)",
            peers={"skada": ("DensityReweightAdapter() (KernelDensity, bandwidth 1)",
                             _weights_peer("skada", "KDE"))},
        ),
        "NearestNeighbor": Method(
            "weighter", lambda X: rw.NearestNeighborWeighter(random_state=0),
            "NearestNeighborWeighter() (1 neighbour; the cells of 5,000 sampled source rows past 5,000)",
            peers={"skada": ("NearestNeighborReweightAdapter() (1 neighbour)",
                             _weights_peer("skada", "NearestNeighbor")),
                   "adapt": ("NearestNeighborsWeighting() (5 neighbours)",
                             _weights_peer("adapt", "NearestNeighbor"))},
        ),
        "BBSE": Method(
            "weighter", lambda X: rw.BBSEWeighter(random_state=0), "BBSEWeighter() (LogisticRegression, 5 folds)",
            labels=True, fast=("cv=2", lambda X: rw.BBSEWeighter(cv=2, random_state=0)),
        ),
        "MMDTarS": Method(
            "weighter", lambda X: rw.MMDTarSWeighter(random_state=0), "MMDTarSWeighter()", labels=True,
            peers={"skada": ("MMDTarSReweightAdapter(gamma=our median heuristic)", _skada_mmdtars)},
        ),
    }


# --------------------------------------------------------------------------- aligners
def _aligners() -> dict[str, Method]:
    from sktransfer import alignment as al

    def skada(name: str) -> Callable[[np.ndarray], Any]:
        def make(X):
            from benchmarks.alignment import _skada

            return _skada(name)

        return make

    def adapt(name: str) -> Callable[[np.ndarray, np.ndarray], Any]:
        def make(X, sd):
            from benchmarks.alignment import _adapt

            return _adapt(name)

        return make

    def skada_new(attr: str, **params: Any) -> Callable[[np.ndarray], Any]:
        def make(X):
            import skada as sk

            return getattr(sk, attr)(**params)

        return make

    def suite_ot(impl: str) -> Callable[[np.ndarray], Any]:
        def make(X):
            from benchmarks._suite_joint import _ours, _peer

            if impl == "ours":  # random_state draws its subsamples past 2,500 rows per domain
                return _ours("OT-Sinkhorn", 0).set_params(random_state=0)
            return _peer("skada", "OT-Sinkhorn")

        return make

    return {
        "CORAL": Method(
            "aligner", lambda X: al.CORAL(), "CORAL() (reg=1)",
            peers={"skada": ("CORALAdapter(reg=0.5), our reg=1 on unit-variance rows", _skada_map(skada("CORAL"))),
                   "adapt": ("CORAL(lambda_=1)", _adapt_map(adapt("CORAL")))},
        ),
        "SA": Method(
            "aligner", lambda X: al.SubspaceAlignment(), "SubspaceAlignment() (all min(d, n_s, n_t) components)",
            peers={"skada": ("SubspaceAlignmentAdapter() (the same components)",
                             _skada_map(skada_new("SubspaceAlignmentAdapter", random_state=0))),
                   "adapt": ("SA(n_components=ours)", _adapt_map(_adapt_sa))},
        ),
        "TCA-linear": Method(
            "aligner", lambda X: al.TransferComponentAnalysis(kernel="linear", random_state=0),
            "TransferComponentAnalysis(kernel='linear') (30 components, mu=1; primal)",
            peers={"skada": ("TransferComponentAnalysisAdapter(kernel='linear', n_components=30, mu=1)",
                             _skada_map(skada("TCA"))),
                   "adapt": ("TCA(kernel='linear', n_components=30, mu=1)", _adapt_map(adapt("TCA")))},
        ),
        "TCA": Method(
            "aligner", lambda X: al.TransferComponentAnalysis(random_state=0),
            "TransferComponentAnalysis() (rbf; Nystroem, 1,000 landmarks past 5,000 rows)",
            fast=("approximation='nystroem', n_landmarks=300", lambda X: al.TransferComponentAnalysis(
                approximation="nystroem", n_landmarks=300, random_state=0)),
            peers={"skada": ("TransferComponentAnalysisAdapter(n_components=30, mu=1) (rbf)",
                             _skada_map(skada_new("TransferComponentAnalysisAdapter", n_components=30, mu=1.0))),
                   "adapt": ("TCA(kernel='rbf', n_components=30, mu=1)", _adapt_map(_adapt_tca_rbf))},
        ),
        "GFK": Method("aligner", lambda X: al.GeodesicFlowKernel(), "GeodesicFlowKernel() (20 components)"),
        "OT": Method(
            "aligner", _pot_first(lambda X: al.OptimalTransportMapping(random_state=0)),
            "OptimalTransportMapping() (exact; past 2,500 rows per domain, between 1,000-row subsamples)",
            peers={"skada": ("OTMappingAdapter()", _skada_map(skada_new("OTMappingAdapter")))},
        ),
        "OT-Sinkhorn": Method(
            "aligner", _pot_first(suite_ot("ours")),
            "OptimalTransportMapping(method='sinkhorn', norm='max', reg_e=0.01) (the suite's setting; "
            "1,000-row subsamples past 2,500 rows per domain)",
            peers={"skada": ("EntropicOTMappingAdapter(norm='max', reg_e=0.01)", _skada_map(suite_ot("skada")))},
        ),
    }


def _joint() -> dict[str, Method]:
    """Issue 20's rows: JDA and BDA, each mapping checked by the nearest source-class mean."""
    from sktransfer.alignment import BalancedDistributionAdaptation as BDA
    from sktransfer.alignment import JointDistributionAdaptation as JDA

    def joint(make: Callable[[np.ndarray], Any], description: str, rbf: bool = False) -> Method:
        fast = lambda X: make(X).set_params(approximation="nystroem", n_landmarks=300)  # noqa: E731
        return Method("aligner", make, description, labels=True, check=True,
                      fast=("approximation='nystroem', n_landmarks=300", fast) if rbf else None)

    return {
        "JDA-linear": joint(lambda X: JDA(random_state=0), "JointDistributionAdaptation()"),
        # the JDA authors' absolute ridge lambda = 1: our alpha is relative to trace(X^T H X),
        # the summed column variances times the rows
        "JDA-linear-lambda1": joint(lambda X: JDA(alpha=1.0 / (len(X) * X.var(0).sum()), random_state=0),
                                    "JointDistributionAdaptation(alpha=1 / trace(X^T H X)) (lambda = 1)"),
        "JDA-rbf": joint(lambda X: JDA(kernel="rbf", random_state=0),
                         "JointDistributionAdaptation(kernel='rbf') (Nystroem past 2,000 rows)", rbf=True),
        "BDA-linear": joint(lambda X: BDA(random_state=0), "BalancedDistributionAdaptation()"),
        "BDA-rbf": joint(lambda X: BDA(kernel="rbf", random_state=0),
                         "BalancedDistributionAdaptation(kernel='rbf')", rbf=True),
        "W-BDA-linear": joint(lambda X: BDA(weighted=True, random_state=0),
                              "BalancedDistributionAdaptation(weighted=True)"),
    }


#: method name -> its estimators, issue 20's rows first
METHODS: dict[str, Method] = {**_joint(), **_weighters(), **_aligners()}
