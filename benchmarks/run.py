"""The benchmark suite: every shallow method on every local dataset, beside the papers and peers.

One entry point writes ``BENCHMARKS.md`` at the repository root (and
``benchmarks/results/suite.{json,png}``; with ``--out``, beside it)::

    python -m benchmarks.run --data-home ../shared/data            # full (about an hour on 2 cores with both peers)
    python -m benchmarks.run --data-home ../shared/data --quick    # a smoke test in < 10 min (QUICK)
    python -m benchmarks.run --data-home DIR --datasets mnist_usps coil20 --methods CORAL KMM

Protocol (fixed, per dataset in ``benchmarks/_suite_datasets.py``): the full
protocol of the tables reproduced (all source rows labelled, all target rows
unlabelled, accuracy on every target row), except the Amazon reviews, which
follow DANN's split (adapt on the target train rows, score the target test
rows through each adapter's target-side map). Feature alignment (CORAL, SA,
TCA) is followed by 1-NN, the classifier of the published columns, and by
a linear SVM whose C is chosen by 2-fold CV on the source rows; each weighter
feeds its weights to that same SVM, refitted at the chosen C. The settings
are those of ``benchmarks/alignment.py`` (CORAL lambda = 1, SA d = 100, TCA
linear with 30 components and mu = 1) and ``benchmarks/reweighting.py`` (each
weighter's defaults; peers given the same bandwidth). Methods with random
centres (KLIEP, uLSIF, RuLSIF) are repeated over ``--seeds`` seeds and
averaged. A fit under 0.1 s is timed up to five times and its fastest run
kept, for every library alike (``benchmarks/_timing.py``). The methods that use target labels get 3 labelled target rows per
class over the same seeds (``benchmarks/_suite_fewlabel.py``). skada and
ADAPT run in the same process after ours (importing skada switches
scikit-learn's metadata routing on), on the same data, with the same
classifiers, when importable in this interpreter. Issue 20's methods (JDA,
BDA, GFK, OT, EasyTL, MEDA, JDOT, BBSE, MMDTarS) are scored as in
``benchmarks/_suite_joint.py``; ``--refresh-methods`` reruns only some methods
(ours and the peers') into the saved run::

    python -m benchmarks.run --data-home ../shared/data --refresh-methods JDA MEDA
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks._reweighting_office import GIVEN
from benchmarks._suite_joint import JOINT
from benchmarks._timing import timed as _timed
from benchmarks._timing import timed_fit as _timed_fit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
ALIGNERS = ("CORAL", "SA", "TCA")
WEIGHTERS = ("KMM", "KLIEP", "ULSIF", "RULSIF", "Discriminative", "KDE", "NearestNeighbor",
             # ours with the settings the peers are given (benchmarks/_reweighting_office._given):
             # the same work as theirs, where our default also chooses the bandwidth
             "KMM-given", "KLIEP-given", "ULSIF-given", "RULSIF-given",
             # ours at the faster peer's default where only a setting differs (_reweighting_office.PEER_DEFAULTS)
             "Discriminative-given", "KDE-given", "NearestNeighbor-given")
RANDOM = {"KLIEP", "ULSIF", "RULSIF", "KLIEP-given", "ULSIF-given", "RULSIF-given"}
#: every method of the main table, in its order (issue 20's: ``benchmarks/_suite_joint.py``)
METHODS = ALIGNERS + WEIGHTERS + tuple(JOINT)
#: repeats of the methods with random centres when --seeds is not given
DEFAULT_SEEDS = 3
#: --quick: a smoke test of every code path in under 10 minutes on 2 cores, peers
#: included. Not the published protocol: one task per dataset, one seed, each
#: domain's adaptation rows capped (stratified), and the few peer methods a
#: dataset lists in ``quick_skip``; its page leaves out the notes of the full run.
QUICK = {"max_rows": 1000}


def run_task(task, impl: str, methods, seeds: int, C_grid=None) -> dict:
    """Accuracy (%) and fit time of each method of one library on one task (a ``Task``).

    ``C_grid`` replaces the SVM's grid of C (a dataset's ``svm_C_grid``).
    """
    from benchmarks._reweighting_office import _SourceSVM, _weighter
    from benchmarks._suite_datasets import Task
    from benchmarks.alignment import _adapt, _classify, _ours, _skada
    from sktransfer import stack_domains

    Xs, ys, Xt, yt, Xtest, ytest = Task(*task)
    held_out = Xtest is not None
    Xeval, yeval = (Xtest, ytest) if held_out else (Xt, yt)
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    out: dict = {}
    if impl == "ours":
        out["NA"] = {**_classify(Xs, ys, Xeval, yeval, C_grid), "fit_s": 0.0}
    for name in [m for m in methods if m in ALIGNERS]:
        adapter = {"ours": _ours, "skada": _skada, "adapt": _adapt}[impl](name)
        sd_impl = np.where(sd > 0, 1, -2) if impl == "skada" else sd
        Z, fit_s = _timed_fit(adapter.fit_transform, X, y, sample_domain=sd_impl)
        Zeval = adapter.transform(Xeval) if held_out else Z[len(Xs):]  # target-side map
        out[name] = {**_classify(Z[: len(Xs)], ys, Zeval, yeval, C_grid), "fit_s": fit_s}
    svm = None
    for name in [m for m in methods if m in WEIGHTERS]:
        runs = []
        for seed in range(seeds if name in RANDOM else 1):
            fit = _weighter(impl, name, Xs, Xt, seed=seed)
            if fit is None:
                break
            try:
                w, fit_s = _timed_fit(fit)
            except Exception as exc:  # a method failing on a task is a result, not a crash
                out[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                break
            svm = svm or _SourceSVM(Xs, ys, Xeval, yeval, C_grid)
            runs.append({"svm": svm.accuracy(w), "fit_s": fit_s})
        if runs:
            out[name] = {k: float(np.mean([r[k] for r in runs])) for k in ("svm", "fit_s")}
    return out


def refresh_fewlabel(saved: dict, args, impls=("ours",)) -> None:
    """Rerun ``args.refresh_few`` (few-label methods) of ours, and of ADAPT when in ``impls``, into ``saved``.

    The seeds are the saved run's, so the draws of labelled rows are the same;
    every other number stays as the saved run measured it.
    """
    from benchmarks._suite_datasets import DATASETS
    from benchmarks._suite_fewlabel import METHODS, run_fewlabel_task

    unknown = [m for m in args.refresh_few if m not in METHODS]
    if unknown:
        raise SystemExit(f"--refresh-few: unknown methods {unknown}; choose from {list(METHODS)}")
    command = saved["command"]
    seeds = int(command[command.index("--seeds") + 1]) if "--seeds" in command else DEFAULT_SEEDS
    refreshed = [impl for impl in ("ours", "adapt") if impl in impls]
    extract_torch_features_first(args.data_home, args.datasets)
    for impl in refreshed:
        for key in args.datasets:
            ds, rows = DATASETS[key], saved["results"].get(impl, {}).get(key, {})
            for s, t in ds.tasks:
                row = rows.get(ds.task_name(s, t))
                if row is None or "few" not in row:
                    continue
                task = ds.load(args.data_home, s, t)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fresh, secs = _timed(run_fewlabel_task, *task[:4], impl, seeds, methods=args.refresh_few,
                                         Xtest=task.Xtest, ytest=task.ytest)
                row["few"].update(fresh)
                print(f"refreshed {impl} {key} {ds.task_name(s, t)}: {secs:.0f} s", file=sys.stderr, flush=True)
    saved.setdefault("refreshed", []).append(
        {"command": args.argv, "methods": args.refresh_few, "impls": refreshed, "datasets": args.datasets,
         "machine": _machine(getattr(args, "freed_memory_kept", False))})


def refresh_methods(saved: dict, args, impls) -> None:
    """Rerun ``args.refresh_methods`` (main-table methods) of every library in ``impls`` into ``saved``.

    Ours first, then the peers (skada switches metadata routing on); the
    seeds are the saved run's. The other rows stay as the saved run measured
    them; ``saved["methods"]`` gains the methods it lacked, and
    ``saved["refreshed"]`` records the command.
    """
    from benchmarks._suite_datasets import DATASETS
    from benchmarks._suite_joint import SKIP as JOINT_SKIP
    from benchmarks._suite_joint import run_joint_task

    command, methods = saved["command"], args.refresh_methods
    seeds = int(command[command.index("--seeds") + 1]) if "--seeds" in command else DEFAULT_SEEDS
    measured: dict = {}  # the libraries that have any of the methods, in order
    extract_torch_features_first(args.data_home, args.datasets)
    for impl in impls:
        if impl == "skada":
            import skada  # noqa: F401  (after our runs: it switches metadata routing on)
        for key in args.datasets:
            ds, saved_rows = DATASETS[key], saved["results"].setdefault(impl, {})
            if key not in saved["results"]["ours"]:
                continue  # the saved run had no such dataset: nothing to put the rows beside
            for s, t in ds.tasks:
                name = ds.task_name(s, t)
                if name not in saved["results"]["ours"][key]:
                    continue
                task = ds.load(args.data_home, s, t)
                import_pot_first()  # after the load: a torch extraction after TensorFlow's import segfaults
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row, secs = _timed(run_task, task, impl, [m for m in methods if m not in JOINT], seeds,
                                       ds.svm_C_grid)
                    row.update(run_joint_task(task, impl, methods, seeds, ds.svm_C_grid, skip=JOINT_SKIP.get(key)))
                row.pop("NA", None)  # the baseline stays as saved
                saved_rows.setdefault(key, {}).setdefault(name, {}).update(row)
                if row:
                    measured.setdefault(impl, None)
                secs = sum(v.get("fit_s", 0.0) for v in row.values())
                print(f"refreshed {impl} {key} {name}: {secs:.0f} s of fits", file=sys.stderr, flush=True)
    saved["methods"] = list(dict.fromkeys([*saved["methods"], *methods]))
    saved.setdefault("refreshed", []).append(
        {"command": args.argv, "methods": methods, "impls": list(measured), "datasets": args.datasets,
         "machine": _machine(getattr(args, "freed_memory_kept", False))})


def live_refreshes(refreshed: list[dict], datasets: list[str], holds=None) -> list[dict]:
    """The later runs whose rows are still on the page, each narrowed to the methods it still holds.

    A refresh rewrites its methods' rows for its libraries on its datasets (all
    of them when it does not say), so a later refresh of the same method,
    library and dataset replaces its numbers; an entry none of whose rows
    survive is left out, in the order they ran otherwise. ``holds(method,
    dataset, library)``, when given, says whether the results have that row at
    all: a library without the method (skada has no uLSIF) owns nothing.
    """
    owned: set = set()
    live: list[dict] = []
    for r in reversed(refreshed):
        kept = []
        for method in r["methods"]:
            cells = {(method, d, impl) for d in r.get("datasets") or datasets for impl in r.get("impls") or ["ours"]
                     if holds is None or holds(method, d, impl)}
            if cells - owned:
                kept.append(method)
            owned |= cells
        if kept:
            live.append({**r, "methods": kept})
    return live[::-1]


def import_pot_first() -> bool:
    """Import POT outside the clock, as the peers' packages are; False where it is not installed.

    ``import ot`` loads POT's torch and TensorFlow backends when they are
    installed (2.3 s here, 4.6 s beside TensorFlow), which our first OT fit
    of a run used to pay: 8.1 s on COIL20 1->2 against skada's 5.5. Called
    after each dataset is loaded, and after :func:`extract_torch_features_first`:
    the deep digits' torch extraction crashes the process once TensorFlow is
    imported.
    """
    if importlib.util.find_spec("ot") is None:
        return False
    import ot  # noqa: F401

    return True


def extract_torch_features_first(data_home: str, dataset_names, max_rows: int | None = None) -> None:
    """Load every dataset that extracts its features with torch (the deep digits) before anything else.

    A torch extraction after TensorFlow's import crashes the process, and
    TensorFlow comes in with POT (:func:`import_pot_first`, after the first
    dataset's load) and with ADAPT. The features are cached per process, so
    the later loads of those datasets extract nothing: the suite's full
    command, whose deep digits come after three other datasets, crashed at
    them in an environment with TensorFlow before this ran first. (The crash
    is Triton's import after TensorFlow >= 2.20, tensorflow/tensorflow#124205;
    ``sktransfer.deep`` now blocks Triton there instead, with a warning.
    Extracting first keeps Triton importable and the runs as they were.)
    """
    from benchmarks._suite_datasets import DATASETS

    for key in dataset_names:
        ds = DATASETS[key]
        if "torch" in ds.requires and all(importlib.util.find_spec(m) is not None for m in ds.requires):
            ds.load(data_home, *ds.tasks[0], max_rows=max_rows)


def run(data_home: str, dataset_names, methods, quick: bool, seeds: int, impls, few: bool = True) -> dict:
    """Every library, dataset and task; ours first, then the peers (skada flips routing on).

    With ``few``, each task's row also holds, under ``"few"``, the methods
    that use a few labelled target rows (``benchmarks/_suite_fewlabel.py``).
    """
    from benchmarks._suite_datasets import DATASETS
    from benchmarks._suite_fewlabel import run_fewlabel_task
    from benchmarks._suite_joint import SKIP as JOINT_SKIP
    from benchmarks._suite_joint import run_joint_task

    extract_torch_features_first(data_home, dataset_names, QUICK["max_rows"] if quick else None)
    results: dict = {impl: {} for impl in impls}
    for impl in impls:
        if impl == "skada":
            import skada  # noqa: F401  (after our runs: it switches metadata routing on)
        for key in dataset_names:
            ds = DATASETS[key]
            missing = [m for m in ds.requires if importlib.util.find_spec(m) is None]
            if missing:
                print(f"skipped {key}: needs {', '.join(missing)} (pip install 'sktransfer[torch]')",
                      file=sys.stderr, flush=True)
                continue
            tasks = ds.tasks[: ds.quick_tasks] if quick else ds.tasks
            for s, t in tasks:
                task = ds.load(data_home, s, t, max_rows=QUICK["max_rows"] if quick else None)
                import_pot_first()  # after the load: a torch extraction after TensorFlow's import segfaults
                run_methods = [m for m in methods if not (quick and m in ds.quick_skip.get(impl, ()))]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    row, secs = _timed(run_task, task, impl, run_methods, seeds, ds.svm_C_grid)
                    joint, joint_s = _timed(run_joint_task, task, impl, run_methods, seeds, ds.svm_C_grid,
                                            skip=JOINT_SKIP.get(key))
                    row.update(joint)
                    secs += joint_s
                    if few and impl in ("ours", "adapt"):
                        row["few"] = run_fewlabel_task(*task[:4], impl, seeds, Xtest=task.Xtest, ytest=task.ytest)
                results[impl].setdefault(key, {})[ds.task_name(s, t)] = row
                print(f"{impl} {key} {ds.task_name(s, t)}: {secs:.0f} s", file=sys.stderr, flush=True)
    return results


# --------------------------------------------------------------------------- report
def _rows(methods) -> list[tuple[str, str, str]]:
    """(row label, method key, classifier key) in table order."""
    rows = [("NA (1-NN)", "NA", "1nn"), ("NA (SVM)", "NA", "svm")]
    for m in ALIGNERS:
        if m in methods:
            rows += [(f"{m} (1-NN)", m, "1nn"), (f"{m} (SVM)", m, "svm")]
    rows += [(f"{m} (SVM)", m, "svm") for m in WEIGHTERS if m in methods]
    from benchmarks._suite_joint import rows as joint_rows

    return rows + joint_rows(methods)


def _mean(per_task: dict, tasks, method: str, clf: str) -> float:
    vals = [per_task.get(t, {}).get(method, {}).get(clf) for t in tasks]
    return float(np.mean(vals)) if vals and all(v is not None for v in vals) else float("nan")


def _published_mean(ds, label: str, tasks) -> float:
    col = ds.published.get(label)
    if col is None or not all(t in col for t in tasks):
        return float("nan")
    return float(np.mean([col[t] for t in tasks]))


def _fmt(v: float, digits: int = 1) -> str:
    return "-" if v != v else f"{v:.{digits}f}"


def _time_cells(ours_s: float, theirs_s: float | None) -> list[str]:
    """A peer's fit time and ours / theirs, or dashes where the peer has no number."""
    if theirs_s is None or theirs_s != theirs_s:
        return ["-", "-"]
    return [_fmt(theirs_s, 2), _fmt(ours_s / theirs_s, 2) if theirs_s else "-"]


def dataset_table(key: str, results: dict, methods) -> tuple[str, dict]:
    """Markdown table of one dataset and the numbers behind it."""
    from benchmarks._suite_datasets import DATASETS

    ds = DATASETS[key]
    ours = results["ours"].get(key, {})
    tasks = list(ours)
    peers = [impl for impl in results if impl != "ours" and key in results[impl]]
    columns = ["method", "ours", "published", *peers, "ours fit (s)"]
    for p in peers:
        columns += [f"{p} fit (s)", f"ours / {p} time"]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    numbers: dict = {}
    for label, method, clf in _rows(methods):
        acc = _mean(ours, tasks, method, clf)
        pub = _published_mean(ds, label, tasks)
        peer_method = method.removesuffix(GIVEN)  # a "-given" row of ours sits beside the peers' own row
        peer_acc = [_mean(results[p][key], tasks, peer_method, clf) for p in peers]
        fits = [ours.get(t, {}).get(method, {}).get("fit_s") for t in tasks]
        fit = sum(fits) if all(v is not None for v in fits) else float("nan")  # a dash where not measured
        cells = [_fmt(acc), _fmt(pub)] + [_fmt(a) for a in peer_acc] + [_fmt(fit, 2)]
        for p in peers:
            theirs = [results[p][key].get(t, {}).get(peer_method, {}).get("fit_s") for t in tasks]
            ok = method != "NA" and all(v is not None for v in theirs)
            cells += _time_cells(fit, sum(theirs) if ok else None)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
        numbers[label] = {"ours": acc, "published": pub, **dict(zip(peers, peer_acc))}
    return "\n".join(lines), numbers


def fewlabel_table(key: str, results: dict) -> tuple[str, dict]:
    """Markdown table of the few-labels methods on one dataset, and its numbers."""
    from benchmarks._suite_fewlabel import METHODS

    ours = results["ours"].get(key, {})
    tasks = [t for t in ours if "few" in ours[t]]
    peers = [p for p in results if p != "ours" and any("few" in r for r in results[p].get(key, {}).values())]
    columns = ["method", "ours", *peers, "ours fit (s)"] + [c for p in peers for c in (f"{p} fit (s)", f"ours / {p} time")]
    lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
    numbers: dict = {}
    for label in METHODS:
        per_impl = {}
        for impl in ["ours", *peers]:
            entries = [results[impl][key].get(t, {}).get("few", {}).get(label, {}) for t in tasks]
            ok = bool(entries) and all("acc" in e for e in entries)
            per_impl[impl] = (float(np.mean([e["acc"] for e in entries])) if ok else float("nan"),
                              float(sum(e["fit_s"] for e in entries)) if ok else float("nan"))
        acc, fit = per_impl["ours"]
        row = [_fmt(acc)] + [_fmt(per_impl[p][0]) for p in peers] + [_fmt(fit, 2)]
        for p in peers:
            row += _time_cells(fit, per_impl[p][1])
        lines.append(f"| {label} | " + " | ".join(row) + " |")
        numbers[label] = {"ours": acc, **{p: per_impl[p][0] for p in peers}}
    return "\n".join(lines), numbers


def honest_lines(numbers: dict, margin: float = 0.5) -> list[str]:
    """Facts: where ours is below the published number or a peer by more than ``margin`` points."""
    out = []
    for label, row in numbers.items():
        for other, value in row.items():
            if other != "ours" and value == value and row["ours"] == row["ours"] and row["ours"] < value - margin:
                out.append(f"{label}: {row['ours']:.1f} vs {value:.1f} ({other}).")
    return out


def plot(summary: dict, path: Path) -> None:
    """One bar chart per dataset: mean target accuracy of each method, ours beside the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(summary), 1, figsize=(12, 3.2 * len(summary)), squeeze=False)
    for ax, (key, numbers) in zip(axes[:, 0], summary.items()):
        labels = list(numbers)
        sources = sorted({s for row in numbers.values() for s in row})
        sources = ["ours"] + [s for s in sources if s != "ours"]
        width = 0.8 / len(sources)
        for i, src in enumerate(sources):
            vals = [numbers[label].get(src, float("nan")) for label in labels]
            ax.bar(np.arange(len(labels)) + i * width, vals, width, label=src)
        ax.set_xticks(np.arange(len(labels)) + 0.4 - width / 2, labels, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("target accuracy (%)")
        ax.set_title(key)
        ax.legend(fontsize=8, ncol=len(sources))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _versions(impls) -> dict:
    """Installed versions of scikit-learn and of the peers among ``impls``."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("scikit-learn", *(i for i in impls if i != "ours")):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "?"
    return out


def _machine(freed_memory_kept: bool = False) -> dict:
    """When and on what the run happened, saved with the numbers so a re-render keeps it."""
    return {"date": datetime.date.today().isoformat(), "arch": platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "freed_memory_kept": freed_memory_kept}


#: how the page marks a run whose process kept the memory it freed
_KEPT = "freed memory kept"


def _shell_word(word: str) -> str:
    """``word`` as a shell reads it back: bare, in double quotes (readable with a ' inside), else shlex's."""
    if shlex.quote(word) == word:
        return word
    return f'"{word}"' if not any(c in word for c in '"$`\\!') else shlex.quote(word)


def render(results: dict, args, methods, elapsed: float, versions: dict | None = None,
           machine: dict | None = None, refreshed: list | None = None) -> tuple[str, dict]:
    """BENCHMARKS.md: the command, the machine, and one section per dataset."""
    from benchmarks._suite_datasets import DATASETS
    from benchmarks._suite_notes import NOTES

    command = "python -m benchmarks.run " + " ".join(args.argv)
    versions = versions or _versions(results)
    m = machine or _machine()
    peers = ", ".join(f"{p} {versions.get(p, '?')}" for p in results if p != "ours") or "none installed"
    parts = [
        "# Benchmarks", "",
        "Produced by the suite; every number below comes from this command line:", "",
        f"    {command}", "",
        f"{m['date']}, {m['arch']}, {m['cores']} cores, {_KEPT + ', ' if m.get('freed_memory_kept') else ''}"
        f"Python {m['python']}, scikit-learn {versions.get('scikit-learn', '?')}, peers run in "
        f"this process: {peers}; {elapsed / 60:.0f} min. Accuracy is the mean target accuracy (%) over "
        "the tasks; fit times are the adapter's or weighter's fit only, summed over the tasks (a run marked "
        f"*{_KEPT}* kept the memory its process freed, `benchmarks/_timing.keep_freed_memory`, which steadies "
        "iterative solvers' times on this virtual machine). "
        "The protocol is in `benchmarks/run.py` and `benchmarks/_suite_datasets.py`; ",
        "a dash is a method the peer lacks or a number nobody published.", "",
    ]
    def holds(method: str, dataset: str, impl: str) -> bool:
        rows = results.get(impl, {}).get(dataset, {}).values()
        return any(method in row or method in row.get("few", {}) for row in rows)

    for r in live_refreshes(refreshed or [], list(results["ours"]), holds):
        parts += [f"Except: the rows {', '.join(r['methods'])} of {', '.join(r.get('impls', ['ours']))} "
                  f"(accuracy and fit time) come from a later "
                  f"run of `python -m benchmarks.run {' '.join(_shell_word(w) for w in r['command'])}` ({r['machine']['date']}, "
                  f"{r['machine']['arch']}, {r['machine']['cores']} cores"
                  f"{', ' + _KEPT if r['machine'].get('freed_memory_kept') else ''}), with the saved run's seeds.", ""]
    quick = "--quick" in args.argv
    if quick:
        parts += [f"**--quick**: a smoke test, not the protocol: one task per dataset, one seed, at most "
                  f"{QUICK['max_rows']} adaptation rows per domain (stratified), and the slowest peer methods "
                  "left out (`quick_skip` in `benchmarks/_suite_datasets.py`). The published numbers used every "
                  "row, so they compare only roughly; the notes of the full run are left out.", ""]
    summary = {}
    for key in results["ours"]:
        ds = DATASETS[key]
        table, numbers = dataset_table(key, results, methods)
        summary[key] = numbers
        tasks = list(results["ours"][key])
        parts += [f"## {ds.name}", "",
                  f"Tasks: {', '.join(tasks)}. Preprocessing: {ds.protocol}. "
                  f"Published: {ds.published_source or 'none'}.", "", table, ""]
        from benchmarks._suite_joint import skipped_notes

        dashes = skipped_notes(results["ours"][key], methods)
        if dashes:
            parts += ["Dashes of ours above: " + " ".join(dashes), ""]
        facts = honest_lines(numbers)
        if any("few" in row for row in results["ours"][key].values()):
            from benchmarks._suite_fewlabel import FEW

            few_table, few_numbers = fewlabel_table(key, results)
            summary[f"{key} (few labels)"] = few_numbers
            facts += [f"with target labels, {f}" for f in honest_lines(few_numbers)]
            parts += [f"With {FEW['labelled_per_class']} labelled target rows per class (protocol in "
                      "`benchmarks/_suite_fewlabel.py`; no published numbers on these files; skada has no "
                      "such methods):", "", few_table, ""]
        parts += ["Where we are below:", ""] + ([f"- {f}" for f in facts] or ["- nowhere by more than 0.5 points."])
        if key in NOTES and not quick:
            parts += ["", NOTES[key]]
        parts.append("")
    if len(results) > 1:
        from benchmarks._suite_speed import speed_section

        parts.append(speed_section(results, methods))
    return "\n".join(parts), summary


def main(argv=None) -> None:
    """Run the suite and write BENCHMARKS.md, suite.json and suite.png."""
    from benchmarks._suite_datasets import DATASETS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding the dataset folders")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="repeats of the methods with random centres")
    parser.add_argument("--quick", action="store_true",
                        help=f"smoke test (< 10 min): 1 task per dataset, 1 seed, <= {QUICK['max_rows']} rows a domain")
    parser.add_argument("--no-peers", action="store_true", help="skip skada and ADAPT")
    parser.add_argument("--no-few", action="store_true", help="skip the methods that use target labels")
    parser.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    parser.add_argument("--render-only", action="store_true", help="rebuild the page from the saved JSON")
    parser.add_argument("--refresh-few", nargs="+", metavar="METHOD", default=None,
                        help="rerun only these few-label methods of ours (labels of _suite_fewlabel.METHODS) on "
                             "--datasets with the saved run's seeds, and put them into the saved results; the page "
                             "says which rows come from this later command")
    parser.add_argument("--refresh-methods", nargs="+", metavar="METHOD", default=None, choices=list(METHODS),
                        help="rerun only these methods of the main table, ours and the peers', on --datasets with "
                             "the saved run's seeds, and put them into the saved results; the page says which rows "
                             "come from this later command")
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    sys.path.insert(0, str(REPO))
    from benchmarks._timing import keep_freed_memory

    # steadier fit times on this VM, every library alike (see its docstring); the page says which runs had it
    args.freed_memory_kept = keep_freed_memory()

    impls = ["ours"]
    if not args.no_peers:
        impls += [name for name in ("skada", "adapt") if importlib.util.find_spec(name) is not None]
    out = Path(args.out)
    # The JSON and the chart sit in benchmarks/results/ for BENCHMARKS.md, else beside --out.
    stem = RESULTS / "suite" if out.resolve() == (REPO / "BENCHMARKS.md").resolve() else out.with_suffix("")
    if args.render_only or args.refresh_few or args.refresh_methods:  # rebuild the page from the saved JSON
        saved = json.loads(stem.with_suffix(".json").read_text())
        if args.refresh_few:
            refresh_fewlabel(saved, args, impls)
        if args.refresh_methods:
            refresh_methods(saved, args, impls)
        if args.refresh_few or args.refresh_methods:
            stem.with_suffix(".json").write_text(json.dumps(saved, indent=1, default=float))
        args.argv, versions = saved["command"], saved.get("versions", {})
        text, summary = render(saved["results"], args, saved["methods"], saved["elapsed_s"], versions,
                               saved.get("machine"), saved.get("refreshed"))
    else:
        seeds = 1 if args.quick else args.seeds
        start = time.perf_counter()
        results = run(args.data_home, args.datasets, args.methods, args.quick, seeds, impls, few=not args.no_few)
        elapsed, versions, machine = time.perf_counter() - start, _versions(impls), _machine(args.freed_memory_kept)
        text, summary = render(results, args, args.methods, elapsed, versions, machine)
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".json").write_text(json.dumps(
            {"command": args.argv, "methods": args.methods, "elapsed_s": elapsed, "versions": versions,
             "machine": machine,
             "results": results, "summary": summary}, indent=1, default=float))
    out.write_text(text)
    plot(summary, stem.with_suffix(".png"))
    print(text)


if __name__ == "__main__":
    main()
