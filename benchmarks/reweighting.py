"""Reweighting benchmark: fit time and peak memory of every weighter at scale.

Runs each weighter of ``sktransfer.reweighting`` on synthetic shifted data
(source = target = n / 2 rows, 256 features) at n = 1k, 5k, 20k and 100k,
one child process per run (120 s timeout, 8 GB memory cap), beside skada's
and ADAPT's equivalents when they are installed. ADAPT needs TensorFlow; it
can live in another virtual environment, named with ``--adapt-python``.

With ``--data-home`` it also runs the 12 Office-Caltech10 SURF tasks (see
``benchmarks/_reweighting_office.py`` for the protocol): every weighter of
every library feeding the same linear SVM, and TrAdaBoost with 3 labelled
target rows per class beside the target-only and pooled baselines.

Usage::

    python -m benchmarks.reweighting --data-home ../shared/data --adapt-python /path/to/python
    python -m benchmarks.reweighting --sizes 1000 5000
    python -m benchmarks.reweighting --data-home ../shared/data --no-scale

Settings are matched across libraries where their APIs allow (stated in the
output): the same kernel bandwidth (from the median heuristic of
``sktransfer._kernels``), the same KLIEP candidates and folds, the same
number of centres, a logistic-regression domain classifier, Scott's KDE
bandwidth. Where a library has no equivalent the cell says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

METHODS = ("KMM", "KLIEP", "ULSIF", "RULSIF", "Discriminative", "KDE", "NearestNeighbor")
IMPLS = ("ours", "skada", "adapt")
#: (library, method) pairs without an equivalent weighter.
NO_EQUIVALENT = {("skada", "ULSIF"), ("skada", "RULSIF"), ("adapt", "KDE")}

SETTINGS = {
    "KMM": "rbf kernel, gamma = 1 / (2 m) with m the median squared distance (sigma = the "
           "median distance, the middle KLIEP candidate), B = 1000, eps = (sqrt(n_s) - 1) / sqrt(n_s); "
           "ours adds its default ridge reg = 1 and goes Nystroem (1000 landmarks) past 4000 "
           "source rows, ADAPT solves blocks of 1000 rows (its max_size)",
    "KLIEP": "5 gamma candidates (our default grid), 5-fold likelihood CV, 100 centres",
    "ULSIF": "gamma as for KMM, lambda = 1, 100 centres, no CV",
    "RULSIF": "as ULSIF, alpha = 0.1",
    "Discriminative": "LogisticRegression() domain classifier",
    "KDE": "Gaussian kernel, Scott's bandwidth",
    "NearestNeighbor": "5 neighbours per target row (ADAPT's default); skada: its default 1 neighbour",
}


# --------------------------------------------------------------------------- child
def _estimator(impl: str, method: str, gammas: list[float], Xt: np.ndarray):
    """The weighter of one library, with the matched settings."""
    g = gammas[2]  # the middle candidate: sigma = the median distance, gamma = 1 / (2 m)
    if impl == "ours":
        from sktransfer import reweighting as rw

        return {
            "KMM": lambda: rw.KMM(gamma=g, random_state=0),
            "KLIEP": lambda: rw.KLIEP(gamma=gammas, random_state=0),
            "ULSIF": lambda: rw.ULSIF(gamma=g, reg=1.0, random_state=0),
            "RULSIF": lambda: rw.RULSIF(alpha=0.1, gamma=g, reg=1.0, random_state=0),
            "Discriminative": lambda: rw.DiscriminativeWeighter(),
            "KDE": lambda: rw.KDEWeighter("scott"),  # Scott's rule, as the anchor gets
            "NearestNeighbor": lambda: rw.NearestNeighborWeighter(5),
        }[method]()
    if impl == "skada":
        import skada
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KernelDensity

        factory = {
            "KMM": lambda: skada.KMMReweightAdapter(gamma=g),
            "KLIEP": lambda: skada.KLIEPReweightAdapter(gamma=gammas, random_state=0),
            "Discriminative": lambda: skada.DiscriminatorReweightAdapter(LogisticRegression()),
            "KDE": lambda: skada.DensityReweightAdapter(KernelDensity(bandwidth="scott")),
            "NearestNeighbor": lambda: skada.NearestNeighborReweightAdapter(),
        }
        return factory[method]()
    import adapt.instance_based as ib
    from sklearn.linear_model import LogisticRegression

    common = {"Xt": Xt, "verbose": 0, "random_state": 0}
    factory = {
        "KMM": lambda: ib.KMM(gamma=g, **common),
        "KLIEP": lambda: ib.KLIEP(gamma=gammas, max_centers=100, cv=5, **common),
        "ULSIF": lambda: ib.ULSIF(gamma=g, lambdas=1.0, max_centers=100, **common),
        "RULSIF": lambda: ib.RULSIF(alpha=0.1, gamma=g, lambdas=1.0, max_centers=100, **common),
        "Discriminative": lambda: ib.IWC(classifier=LogisticRegression(), **common),
        "NearestNeighbor": lambda: ib.NearestNeighborsWeighting(n_neighbors=5, **common),
    }
    return factory[method]()


def _one_run(impl: str, method: str, n: int, d: int, gammas: list[float]) -> None:
    """Child process: fit one weighter and print its fit time and peak memory."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._isolated import report_fit, synthetic_domains

    X, sd = synthetic_domains(n, d)
    Xs, Xt = X[sd > 0], X[sd < 0]
    est = _estimator(impl, method, gammas, Xt)
    if impl == "ours":
        fit = lambda: est.fit(X, None, sample_domain=sd)  # noqa: E731
    elif impl == "skada":
        # skada's fit can defer the work to compute_weights (its nearest
        # neighbours and KDE do): time both, as ours computes weights_ in fit.
        sd2 = np.where(sd > 0, 1, -2)
        fit = lambda: est.fit(X, None, sample_domain=sd2).compute_weights(X, sample_domain=sd2)  # noqa: E731
    else:
        fit = lambda: est.fit_weights(Xs, Xt)  # noqa: E731
    report_fit(fit)


# --------------------------------------------------------------------------- parent
def _available(impl: str, adapt_python: str | None) -> str | None:
    """The interpreter that runs ``impl``, or None when the library is missing."""
    import importlib.util
    import subprocess

    if impl == "ours":
        return sys.executable
    if impl == "skada":
        return sys.executable if importlib.util.find_spec("skada") else None
    python = adapt_python or sys.executable
    probe = subprocess.run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('adapt') is not None)"],
        capture_output=True, text=True,
    )
    return python if probe.stdout.strip() == "True" else None


def run_scale(sizes, d, timeout, memory_limit_gb, adapt_python, methods) -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._isolated import python_cmd, run_child, synthetic_domains
    from sktransfer._kernels import median_heuristic_gamma
    from sktransfer.reweighting._centres import KLIEP_GAMMA_FACTORS

    pythons = {impl: _available(impl, adapt_python) for impl in IMPLS}
    # The same candidates for every library and method, computed once per size.
    gammas_at = {
        n: (median_heuristic_gamma(synthetic_domains(n, d)[0]) * KLIEP_GAMMA_FACTORS).tolist()
        for n in sizes
    }
    rows = []
    for method in methods:
        for impl in IMPLS:
            failed_at = None
            for n in sizes:
                row = {"method": method, "impl": impl, "n": n, "d": d}
                if pythons[impl] is None:
                    row["status"] = "not installed"
                elif (impl, method) in NO_EQUIVALENT:
                    row["status"] = "no equivalent"
                elif failed_at is not None:
                    row["status"] = f"skipped (failed at n={failed_at:,})"
                else:
                    cmd = python_cmd(
                        "benchmarks.reweighting", "--one-run", impl, method, n, d,
                        json.dumps(gammas_at[n]), python=pythons[impl],
                    )
                    row.update(run_child(cmd, timeout, memory_limit_gb))
                    if row["status"] != "ok":
                        failed_at = n
                rows.append(row)
                print(f"{method} {impl} n={n}: {row['status']}", file=sys.stderr, flush=True)
    return rows


def scale_table(rows: list[dict], sizes) -> str:
    head = "| method | library | " + " | ".join(f"n={n:,}: fit s / peak MB" for n in sizes) + " |"
    lines = [head, "|---|---|" + "---:|" * len(sizes)]
    for method in dict.fromkeys(r["method"] for r in rows):
        for impl in IMPLS:
            cells = []
            for n in sizes:
                r = next((r for r in rows if (r["method"], r["impl"], r["n"]) == (method, impl, n)), None)
                if r is None:
                    cells.append("-")
                elif r["status"] == "ok":
                    cells.append(f"{r['fit_s']:.2f} / {r['peak_rss_mb']:.0f}")
                else:
                    cells.append(r["status"])
            if any(c not in ("not installed", "no equivalent") for c in cells):
                lines.append(f"| {method} | {impl} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def speed_summary(rows: list[dict], n: int) -> str:
    """Ours against the faster anchor at one size."""
    lines = [f"| method | ours at n={n:,} (s) | faster anchor (s) | ours / anchor |",
             "|---|---:|---:|---:|"]
    for method in dict.fromkeys(r["method"] for r in rows):
        ok = {r["impl"]: r["fit_s"] for r in rows
              if r["method"] == method and r["n"] == n and r["status"] == "ok"}
        anchors = {k: v for k, v in ok.items() if k != "ours"}
        if "ours" not in ok or not anchors:
            continue
        best = min(anchors, key=anchors.get)
        lines.append(
            f"| {method} | {ok['ours']:.2f} | {anchors[best]:.2f} ({best}) | "
            f"{ok['ours'] / anchors[best]:.2f} |"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000, 100000])
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--memory-limit-gb", type=float, default=8.0)
    parser.add_argument("--adapt-python", help="interpreter of an environment with ADAPT")
    parser.add_argument("--data-home", help="folder holding office_caltech10_surf/")
    parser.add_argument("--no-scale", action="store_true", help="skip the scaling runs")
    parser.add_argument(
        "--render-only", action="store_true", help="rebuild the markdown from the saved JSON"
    )
    parser.add_argument("--one-run", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--weights-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--adapt-tradaboost-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _reweighting_office as office

    if args.one_run:
        impl, method, n, d, gammas = args.one_run
        _one_run(impl, method, int(n), int(d), json.loads(gammas))
        return
    if args.weights_child:
        office.weights_child(*args.weights_child)
        return
    if args.adapt_tradaboost_child:
        office.adapt_tradaboost_child(args.adapt_tradaboost_child)
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.render_only:  # rebuild the markdown from the saved JSON
        payload = json.loads((RESULTS / "reweighting.json").read_text())
        (RESULTS / "reweighting.md").write_text(render(payload))
        return
    command = "python -m benchmarks.reweighting " + " ".join(argv if argv is not None else sys.argv[1:])
    payload: dict = {
        "command": command.strip(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "settings": SETTINGS,
        "sizes": args.sizes,
        "features": args.features,
        "timeout": args.timeout,
        "memory_limit_gb": args.memory_limit_gb,
    }
    if args.data_home:
        pythons = {impl: _available(impl, args.adapt_python) for impl in IMPLS}
        payload["office_caltech_surf"] = office.run_office(args.data_home, pythons)
    saved = RESULTS / "reweighting.json"
    if args.no_scale and saved.exists():  # keep the scaling runs of the last full run, with their command
        previous = json.loads(saved.read_text())
        for key in ("scale", "sizes", "features", "timeout", "memory_limit_gb"):
            if key in previous:
                payload[key] = previous[key]
        if "scale" in previous:
            payload["scale_command"] = previous.get("scale_command", previous["command"])
    if not args.no_scale:
        payload["scale"] = run_scale(
            args.sizes, args.features, args.timeout, args.memory_limit_gb, args.adapt_python,
            args.methods,
        )
    report = render(payload)
    print(report)
    (RESULTS / "reweighting.json").write_text(json.dumps(payload, indent=2, default=float))
    (RESULTS / "reweighting.md").write_text(report)


NOTES = """\
- Office-Caltech: each domain is z-scored on its own, which already removes
  most of the covariate shift a weighter can see, so every well-behaved
  weighter lands within 1.5 points of no weighting (46.6). The gap between
  libraries is in robustness, not in gains: skada's KDE and the
  nearest-neighbour weights of skada and ADAPT (no smoothing) put the weight
  on a few rows, and the SVM loses 8 to 14 points (32.6 to 38.6). Ours keep
  the effective sample size up (KDE's leave-one-out density and scale-aware
  bandwidth, Laplace smoothing of the neighbour counts). An earlier version
  of this table showed skada's KMM at 31.8: that was libsvm, not KMM (a
  precomputed-kernel SVC given zero weights reads the wrong kernel entries;
  the classifier now drops zero-weight rows, tested); skada's KMM is at 45.2.
  The fit times of this Office-Caltech table come from an idle 2-core AMD
  EPYC; the scaling tables below come from an earlier run on another
  2-core machine (a Xeon), so compare times within a table, not across.
- TrAdaBoost with a logistic-regression base learner fits the 30 labelled
  target rows exactly in 800 dimensions, so its target error is 0 from the
  first round, no weight moves, and it equals the pooled fit; ADAPT's
  TrAdaBoost does the same (within 0.2 points). It helps when the base
  learner cannot fit the target rows (see examples/tradaboost.py).
- Speed at 5,000 rows: KDE is 5x faster than skada (blocked matrix products
  instead of KernelDensity's trees) and KMM 1.4x faster than skada, 2.3x
  than ADAPT. uLSIF/RuLSIF, the domain classifier and the neighbour counts
  run the same arithmetic as the fastest peer (one linear solve, one
  logistic regression, one neighbour search) and tie with it. KLIEP is 4x
  slower than skada's because it solves its program to optimality: skada
  0.6's ascent steps by machine epsilon (2.2e-16) and stops once the
  objective changes by less than tol, so its weights stay near the projected
  starting point; ADAPT's Frank-Wolfe is 6x slower than ours.
- At 20,000 rows KMM fits in 2.8 s and 0.5 GB (Nystroem past 4,000 source
  rows), KLIEP in 10 s and 0.3 GB; at 100,000 rows skada's KMM runs out of
  the 8 GB cap and ADAPT's takes 103 s, ours 35 s and 1.4 GB.
"""


def render(payload: dict) -> str:
    """The markdown report of one run (also rebuilt from JSON by --render-only)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks import _reweighting_office as office

    report = [
        "# Reweighting benchmark",
        "",
        f"Command: `{payload['command']}`  ",
        f"Machine: {payload.get('machine', '-')}.",
    ]
    if "scale_command" in payload:
        report += ["", f"The scaling tables come from an earlier run: `{payload['scale_command']}`."]
    if "office_caltech_surf" in payload:
        report += [
            "",
            "## Office-Caltech10 SURF, full protocol (target accuracy, %)",
            "",
            office.__doc__.split("\n\n", 1)[1].strip(),
            "",
            office.office_tables(payload["office_caltech_surf"]),
        ]
    if "scale" in payload:
        rows, sizes = payload["scale"], payload["sizes"]
        summary_n = 5000 if 5000 in sizes else sizes[0]
        report += [
            "",
            f"## Fit time and peak memory ({payload['features']} features, source = target = n / 2)",
            "",
            f"Each run is a fresh process, {payload['timeout']:g} s timeout, "
            f"{payload['memory_limit_gb']:g} GB memory cap; a library that failed at one size "
            "is not run at larger ones. Ours is timed on `fit` (which computes `weights_`), "
            "skada on `fit` + `compute_weights`, ADAPT on `fit_weights`.",
            "",
            scale_table(rows, sizes),
            "",
            f"## Ours against the faster of skada and ADAPT at n = {summary_n:,}",
            "",
            speed_summary(rows, summary_n),
            "",
            "## Settings of the scaling runs",
            "",
            *[f"- {m}: {s}" for m, s in payload["settings"].items()],
        ]
    report += ["", "## How to read this", "", NOTES]
    return "\n".join(report) + "\n"


if __name__ == "__main__":
    main()
