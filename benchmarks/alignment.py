"""Feature-alignment benchmark: Office-Caltech10 SURF accuracy and TCA scaling.

Two parts, each printing a markdown table and saving JSON under
``benchmarks/results/``:

1. ``--data-home DIR``: the 12 Office-Caltech10 SURF tasks on the "full"
   protocol of ``PUBLISHED.md`` (A): all source rows labelled, all target rows
   unlabelled, each domain's rows divided by their sum and z-scored on their
   own, accuracy on every target row. No adaptation, CORAL, SA, TCA and FA
   (3 labelled target rows per class, 10 draws), each with 1-NN and a linear
   SVM, beside the published numbers and beside skada's CORAL / SA / TCA run
   in the same process on the same data, with fit-time ratios.
2. ``--scale``: fit time and peak memory of TCA at 5k, 20k and 100k rows x 256
   features (and skada's TCA where it fits in memory), one subprocess per run.

Usage::

    python -m benchmarks.alignment --data-home ../shared/data          # both parts
    python -m benchmarks.alignment --data-home ../shared/data --no-scale
    python -m benchmarks.alignment --scale-only --sizes 5000 20000 100000

Hyperparameters are fixed before looking at target accuracy and stated in
the table: CORAL's lambda = 1 (the authors' code), SA with d = 100, TCA with
the linear kernel, 30 components and mu = 1 (the defaults of the JDA/TCA
reference code); the linear SVM's C is chosen from 1e-3 ... 100 by 2-fold
cross-validation on the source rows (no target label is used), on rows
rescaled to a mean squared norm of 800 (that of the z-scored features).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

#: PUBLISHED.md (A): MEDA (ACM MM 2018) Table 2, full protocol.
PUBLISHED = {
    "1NN": [23.7, 25.8, 25.5, 26.0, 29.8, 25.5, 19.9, 23.0, 59.2, 26.3, 28.5, 63.4, 31.4],
    "SVM": [53.1, 41.7, 47.8, 41.7, 31.9, 44.6, 28.8, 27.6, 78.3, 26.4, 26.2, 52.5, 41.1],
    "TCA": [45.6, 39.3, 45.9, 42.0, 40.0, 35.7, 31.5, 30.5, 91.1, 33.0, 32.8, 87.5, 46.2],
    "CORAL": [52.1, 46.4, 45.9, 45.1, 44.4, 39.5, 33.7, 36.0, 86.6, 33.8, 37.7, 84.7, 48.8],
}

SETTINGS = {
    "CORAL": {"reg": 1.0},
    "SA": {"n_components": 100},
    "TCA": {"kernel": "linear", "n_components": 30, "mu": 1.0},
    "FA": {"labelled_per_class": 3, "draws": 10},
    "SVM": {"C_grid": [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0], "cv_folds": 2,
            "rescale_to_mean_sq_norm": 800.0},
    "CORAL reference-code kernel": {"C_grid": [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4],
                                    "cv_folds": 2},
}


# --------------------------------------------------------------------------- classifiers
def _classify(Zs, ys, Zt, yt, C_grid=None):
    """1-NN, and a linear SVM whose C is chosen by 2-fold CV on the source rows
    (the protocol of the official CORAL code), on a precomputed linear kernel;
    ``C_grid`` replaces the grid of SETTINGS["SVM"]."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    nn = 100 * np.mean(KNeighborsClassifier(1).fit(Zs, ys).predict(Zt) == yt)
    svm = SETTINGS["SVM"]
    scale = np.sqrt(svm["rescale_to_mean_sq_norm"] / np.mean(np.sum(Zs**2, axis=1)))
    Zs, Zt = Zs * scale, Zt * scale
    search = GridSearchCV(
        SVC(kernel="precomputed"), {"C": list(C_grid or svm["C_grid"])},
        cv=StratifiedKFold(svm["cv_folds"], shuffle=True, random_state=0),
    ).fit(Zs @ Zs.T, ys)
    accuracy = 100 * np.mean(search.predict(Zt @ Zs.T) == yt)
    return {"1nn": nn, "svm": accuracy, "svm_C": search.best_params_["C"]}


def _coral_reference_kernel(A, Xs, ys, Xt, yt):
    """CORAL scored the way the authors' ``Ex_CORAL.m`` scores it.

    That code trains libsvm on the precomputed matrix ``Xs A Xs^T`` and tests on
    ``Xs A Xt^T``. The test kernel is the linear kernel between mapped source
    rows ``Xs A`` and raw target rows, as the paper describes, but the training
    kernel is not ``(Xs A)(Xs A)^T``: it pairs mapped with *unmapped* source
    rows and is not even symmetric. We reproduce it only to show where the
    published CORAL column comes from; the estimator itself is the paper's map.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.svm import SVC

    cfg = SETTINGS["CORAL reference-code kernel"]
    search = GridSearchCV(
        SVC(kernel="precomputed"), {"C": cfg["C_grid"]},
        cv=StratifiedKFold(cfg["cv_folds"], shuffle=True, random_state=0),
    ).fit(Xs @ A @ Xs.T, ys)
    return 100 * np.mean(search.predict(Xt @ A.T @ Xs.T) == yt)


# --------------------------------------------------------------------------- methods
def _ours(name):
    from sktransfer.alignment import CORAL, SubspaceAlignment, TransferComponentAnalysis

    return {
        # The library's default center=True: also moves the source mean onto the
        # target's. On per-domain z-scored features (SURF) both means are 0 and
        # it is the paper's Algorithm 1 to the last bit; on unit-length rows
        # (deep features, pixels) it is what users get, and what skada does.
        "CORAL": lambda: CORAL(**SETTINGS["CORAL"]),
        "SA": lambda: SubspaceAlignment(**SETTINGS["SA"]),
        "TCA": lambda: TransferComponentAnalysis(**SETTINGS["TCA"]),
    }[name]()


def _skada(name):
    import skada

    # skada's float reg is a convex mix, (1 - r) C + r tr(C)/p I, not C + r I. On
    # z-scored features tr(C)/p = 1, so r = lam / (1 + lam) gives C + lam I up to
    # a common factor, which cancels in Cs^-1/2 Ct^1/2: the same map as ours.
    lam = SETTINGS["CORAL"]["reg"]
    return {
        "CORAL": lambda: skada.CORALAdapter(reg=lam / (1.0 + lam)),
        "SA": lambda: skada.SubspaceAlignmentAdapter(random_state=0, **SETTINGS["SA"]),
        "TCA": lambda: skada.TransferComponentAnalysisAdapter(**SETTINGS["TCA"]),
    }[name]()


class _AdaptAligner:
    """An ADAPT aligner behind the ``fit_transform(X, y, sample_domain)`` of the others.

    ADAPT fits on ``(Xs, Xt)`` and maps the source rows; the target rows go
    through its ``transform(X, domain="tgt")``, as its docs prescribe.
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit_transform(self, X, y=None, sample_domain=None):
        source = np.asarray(sample_domain) > 0
        Zs = self.estimator.fit_transform(X[source], X[~source])
        return np.vstack([Zs, self.transform(X[~source], domain="tgt")])

    def transform(self, X, domain="tgt"):
        return self.estimator.transform(X, domain=domain)


def _adapt(name):
    import adapt.feature_based as fb

    # ADAPT's CORAL adds lambda_ I to each covariance, as ours does, and maps
    # uncentred rows (our center=False); its TCA and SA take our settings.
    common = {"verbose": 0, "random_state": 0}
    est = {
        "CORAL": lambda: fb.CORAL(lambda_=SETTINGS["CORAL"]["reg"], **common),
        "SA": lambda: fb.SA(**SETTINGS["SA"], **common),
        "TCA": lambda: fb.TCA(**SETTINGS["TCA"], **common),
    }[name]()
    return _AdaptAligner(est)


def _run_adapter(adapter, X, y, sd, ys, yt):
    n_s = int(np.sum(sd > 0))
    start = time.perf_counter()
    Z = adapter.fit_transform(X, y, sample_domain=sd)
    fit_s = time.perf_counter() - start
    return {**_classify(Z[:n_s], ys, Z[n_s:], yt), "fit_s": fit_s}


def _fa_scores(Xs, ys, Xt, yt, seed):
    """FA with a few labelled target rows: scored on the target rows left unlabelled."""
    from sktransfer import stack_domains
    from sktransfer.alignment import FeatureAugmentation

    rng = np.random.RandomState(seed)
    k = SETTINGS["FA"]["labelled_per_class"]
    few = np.concatenate([rng.choice(np.flatnonzero(yt == c), k, replace=False) for c in np.unique(yt)])
    rest = np.setdiff1d(np.arange(len(yt)), few)
    yt_few = np.full(len(yt), -1)
    yt_few[few] = yt[few]
    X, y, sd = stack_domains(source=(Xs, ys), target=(Xt, yt_few))
    fa = FeatureAugmentation()
    start = time.perf_counter()
    Z = fa.fit_transform(X, y, sample_domain=sd)
    fit_s = time.perf_counter() - start
    train = np.r_[np.arange(len(Xs)), len(Xs) + few]
    return {**_classify(Z[train], y[train], Z[len(Xs) + rest], yt[rest]), "fit_s": fit_s}


def run_office(data_home: str) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._office_caltech import TASKS, load_surf_domain, task_name
    from sktransfer import stack_domains

    data = {d: load_surf_domain(data_home, d, "zscore") for d in "ACDW"}
    results: dict = {"ours": {}, "skada": {}}
    tasks = [task_name(s, t) for s, t in TASKS]

    def stacked(s, t):
        Xs, ys = data[s]
        Xt, yt = data[t]
        X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
        return X, y, sd, Xs, ys, Xt, yt

    for (s, t), task in zip(TASKS, tasks):
        X, y, sd, Xs, ys, Xt, yt = stacked(s, t)
        results["ours"].setdefault("NA", {})[task] = {**_classify(Xs, ys, Xt, yt), "fit_s": 0.0}
        for name in ("CORAL", "SA", "TCA"):
            results["ours"].setdefault(name, {})[task] = _run_adapter(_ours(name), X, y, sd, ys, yt)
        A = _ours("CORAL").fit(X, y, sample_domain=sd).transform_matrix_
        results.setdefault("coral_reference_kernel", {})[task] = _coral_reference_kernel(A, Xs, ys, Xt, yt)
        draws = [_fa_scores(Xs, ys, Xt, yt, seed) for seed in range(SETTINGS["FA"]["draws"])]
        results["ours"].setdefault("FA", {})[task] = {
            key: float(np.mean([d[key] for d in draws])) for key in ("1nn", "svm", "fit_s")
        }
        print(f"ours  {task} done", file=sys.stderr, flush=True)

    try:  # skada switches metadata routing on when imported: do it after our runs.
        import skada  # noqa: F401
    except ImportError:
        print("skada not installed: anchors skipped", file=sys.stderr)
        return results
    results["skada_version"] = skada.__version__
    for (s, t), task in zip(TASKS, tasks):
        X, y, sd, Xs, ys, Xt, yt = stacked(s, t)
        sd_skada = np.where(sd > 0, 1, -2)
        for name in ("CORAL", "SA", "TCA"):
            results["skada"].setdefault(name, {})[task] = _run_adapter(
                _skada(name), X, y, sd_skada, ys, yt
            )
        print(f"skada {task} done", file=sys.stderr, flush=True)
    return results


def office_table(results: dict) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks._office_caltech import TASKS, task_name

    tasks = [task_name(s, t) for s, t in TASKS]
    columns = []  # (header, per-task values incl. mean)
    for key, head in (("1NN", "published NA 1-NN"), ("SVM", "published NA SVM")):
        columns.append((head, PUBLISHED[key]))
    for method in ("NA", "CORAL", "SA", "TCA", "FA"):
        for clf in ("1nn", "svm"):
            vals = [results["ours"][method][t][clf] for t in tasks]
            columns.append((f"ours {method} {clf}", vals + [float(np.mean(vals))]))
    for method in ("CORAL", "TCA"):
        columns.append((f"published {method}", PUBLISHED[method]))
    for method in ("CORAL", "SA", "TCA"):
        if method in results.get("skada", {}):
            for clf in ("1nn", "svm"):
                vals = [results["skada"][method][t][clf] for t in tasks]
                columns.append((f"skada {method} {clf}", vals + [float(np.mean(vals))]))
    lines = ["| task | " + " | ".join(h for h, _ in columns) + " |"]
    lines.append("|---|" + "---:|" * len(columns))
    for i, task in enumerate(tasks + ["mean"]):
        lines.append(f"| {task} | " + " | ".join(f"{v[i]:.1f}" for _, v in columns) + " |")
    table = "\n".join(lines)

    timing = ["", "| method | ours fit (s, 12 tasks) | skada fit (s, 12 tasks) | ours / skada |", "|---|---:|---:|---:|"]
    for method in ("CORAL", "SA", "TCA"):
        ours = sum(results["ours"][method][t]["fit_s"] for t in tasks)
        if method in results.get("skada", {}):
            theirs = sum(results["skada"][method][t]["fit_s"] for t in tasks)
            timing.append(f"| {method} | {ours:.2f} | {theirs:.2f} | {ours / theirs:.2f} |")
        else:
            timing.append(f"| {method} | {ours:.2f} | - | - |")
    return table + "\n" + "\n".join(timing) + reference_kernel_table(results, tasks)


def reference_kernel_table(results: dict, tasks: list[str]) -> str:
    """Our CORAL map scored with the authors' kernel, beside the published column."""
    if "coral_reference_kernel" not in results:
        return ""
    ref = [results["coral_reference_kernel"][t] for t in tasks]
    ours = [results["ours"]["CORAL"][t]["svm"] for t in tasks]
    same = sum(round(r, 1) == p for r, p in zip(ref, PUBLISHED["CORAL"]))
    lines = [
        "",
        "",
        "Where the published CORAL column comes from: our CORAL map (lambda = 1) "
        "scored with the training kernel of the authors' `Ex_CORAL.m` "
        f"(`Xs A Xs^T`, C from 1e-3 ... 1e4 by 2-fold CV) matches {same} of 12 "
        "published tasks to the digit.",
        "",
        "| task | published CORAL | CORAL, authors' kernel | ours CORAL svm |",
        "|---|---:|---:|---:|",
    ]
    for i, task in enumerate(tasks):
        lines.append(f"| {task} | {PUBLISHED['CORAL'][i]:.1f} | {ref[i]:.1f} | {ours[i]:.1f} |")
    lines.append(
        f"| mean | {PUBLISHED['CORAL'][-1]:.1f} | {np.mean(ref):.1f} | {np.mean(ours):.1f} |"
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- scale
def _one_scale_run(impl: str, n: int, d: int) -> None:
    """Child process: fit one TCA and print fit time and peak memory as JSON."""
    from benchmarks._isolated import report_fit, synthetic_domains

    X, sd = synthetic_domains(n, d)
    if impl == "ours":
        from sktransfer.alignment import TransferComponentAnalysis

        est = TransferComponentAnalysis(n_components=30, random_state=0)
    else:
        import skada

        est = skada.TransferComponentAnalysisAdapter(n_components=30)
        sd = np.where(sd > 0, 1, -2)
    report_fit(
        lambda: est.fit(X, None, sample_domain=sd),
        lambda fitted: {"approximation": getattr(fitted, "approximation_", None)},
    )


def run_scale(sizes, d: int, timeout: float, memory_limit_gb: float, with_skada: bool) -> list[dict]:
    from benchmarks._isolated import python_cmd, run_child

    rows = []
    for impl in ("ours", "skada") if with_skada else ("ours",):
        for n in sizes:
            cmd = python_cmd("benchmarks.alignment", "--one-scale-run", impl, n, d)
            row = run_child(cmd, timeout, memory_limit_gb)
            rows.append({"impl": impl, "n": n, "d": d, **row})
            print(f"scale {impl} n={n}: {row['status']}", file=sys.stderr, flush=True)
    return rows


def scale_table(rows: list[dict]) -> str:
    lines = ["| implementation | rows | features | how | fit (s) | peak RSS (MB) | status |",
             "|---|---:|---:|---|---:|---:|---|"]
    for r in rows:
        fit = f"{r['fit_s']:.1f}" if "fit_s" in r else "-"
        rss = f"{r['peak_rss_mb']:.0f}" if "peak_rss_mb" in r else "-"
        impl = "sktransfer TCA" if r["impl"] == "ours" else "skada TCA"
        lines.append(f"| {impl} | {r['n']:,} | {r['d']} | {r.get('approximation') or '-'} | {fit} | {rss} | {r['status']} |")
    return "\n".join(lines)


NOTES = """\
- Columns: `ours X 1nn|svm` is sktransfer's method X followed by 1-NN or by the
  linear SVM (C by 2-fold CV on the source rows); `published` columns are
  PUBLISHED.md (A) (MEDA, ACM MM 2018, Table 2; their classifier per column is
  not stated); `skada` columns run skada's adapters on the same data in the
  same process, with the same classifiers. Fit times are the adapters'
  `fit_transform` only, summed over the 12 tasks.
- The loader is pinned by `ours NA 1nn`, which must equal the published 1-NN
  column to the digit (it does: deterministic).
- Our linear SVM without adaptation is much stronger than the published SVM
  column (C chosen by CV, rows on a common scale), so the published CORAL
  number, measured against that weaker baseline, is hard to compare: on this
  protocol CORAL adds about one point to a well-tuned linear SVM, and a lot to
  1-NN only on D<->W.
- The published CORAL column (48.8) is reproduced by the authors' own
  evaluation code rather than by the paper's method: feeding our CORAL map
  into `Ex_CORAL.m`'s training kernel `Xs A Xs^T` (mapped source against
  unmapped source, not symmetric) matches most tasks to the digit (table
  above); the rest differ by the random 2-fold split that picks C. With the
  consistent kernel `(Xs A)(Xs A)^T` the same map scores the `ours CORAL svm`
  column. We ship the paper's map and report its consistent score.
- The fit-time ratios for CORAL and SA are bounded by LAPACK: both libraries
  spend most of the fit in the same 800 x 800 symmetric eigendecompositions
  (two for CORAL, two partial ones for SA); ours wins where a domain has
  fewer rows than features (low-rank powers) and by skipping work around them.
- skada's CORAL is given `reg = lam / (1 + lam)`, which is our `reg = lam` on
  z-scored features (its float `reg` is a convex mix): the two agree to the
  digit. skada's SA fits its PCAs with scikit-learn's randomized solver at
  these sizes, ours exactly; the maps agree to 1e-7 where both are exact
  (tests/alignment/test_skada_crosscheck.py), so per-task differences are the
  randomized solver's. On per-domain z-scored features the linear-kernel TCA's
  mean-matching term is zero, so ours and skada's both reduce to a PCA of the
  stacked rows and give the same accuracy.
- FA sees 3 labelled target rows per class (10 draws, scored on the other
  target rows). With 1-NN the augmented target rows are nearest to the 30
  labelled target rows, so FA only helps a linear model.
- TCA scaling: ours is exact up to 5,000 rows, Nyström (1,000 landmarks)
  beyond; skada builds the n x n kernel and is stopped at the memory cap.
"""


# --------------------------------------------------------------------------- main
def main(argv=None) -> None:
    from benchmarks._isolated import add_child_arguments, run_if_child

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", help="folder holding office_caltech10_surf/")
    parser.add_argument("--no-scale", action="store_true", help="skip the TCA scaling runs")
    parser.add_argument("--scale-only", action="store_true", help="only the TCA scaling runs")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 100000])
    add_child_arguments(parser, timeout=120.0)
    parser.add_argument("--no-skada", action="store_true")
    parser.add_argument("--one-scale-run", nargs=3, metavar=("IMPL", "N", "D"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if run_if_child(args.one_scale_run, _one_scale_run):
        return

    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.alignment " + " ".join(argv if argv is not None else sys.argv[1:])
    report = [
        "# Feature alignment benchmark",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.  ",
        f"Settings: `{json.dumps(SETTINGS)}`",
    ]
    payload: dict = {"command": command, "settings": SETTINGS}

    if not args.scale_only:
        if not args.data_home:
            parser.error("--data-home is needed for the Office-Caltech part (or pass --scale-only)")
        office = run_office(args.data_home)
        payload["office_caltech_surf"] = office
        table = office_table(office)
        print(table)
        report += ["", "## Office-Caltech10 SURF, full protocol (target accuracy, %)", "", table]
    if not args.no_scale:
        rows = run_scale(args.sizes, args.features, args.timeout, args.memory_limit_gb, not args.no_skada)
        payload["tca_scale"] = rows
        table = scale_table(rows)
        print(table)
        report += ["", f"## TCA fit time and peak memory ({args.features} features, 2 domains)", "", table]

    report += ["", "## How to read this", "", NOTES]
    (RESULTS / "alignment.json").write_text(json.dumps(payload, indent=2, default=float))
    (RESULTS / "alignment.md").write_text("\n".join(report) + "\n")


if __name__ == "__main__":
    main()
