"""Nearest-neighbour importance weights: which neighbour count and smoothing? The measurement behind the default.

``NearestNeighborWeighter`` counts, for each source row, the target rows
that have it among their ``n_neighbors`` nearest source rows, and adds
``smoothing`` to every count. skada's weighter is ``n_neighbors=1`` and
ADAPT's ``n_neighbors=5``, both unsmoothed; ours defaults to 1 and a
smoothing count of 1. This benchmark scores 40 settings two ways:

- on the suite's datasets (``benchmarks.run``'s loaders, tasks and linear
  SVM, whose C is chosen on the unweighted source rows): the target accuracy
  of the SVM refitted with each setting's weights, mean over each dataset's
  tasks;
- on the 150 held-out shifts of ``benchmarks/ess_threshold.py`` (synthetic
  covariate shifts scored by a logistic regression or, for regression, a
  ridge's R^2 x 100, and halves of scikit-learn's digits): the score with the
  weights minus the score unweighted, mean and worst per family.

Settings: ``n_neighbors`` 1, 3, 5, 10, 20 x ``smoothing`` 0, 0.1, 0.3, 1, on
plain Euclidean neighbours (``NearestNeighborWeighter`` itself) and with hub
source rows penalised as in CSLS (Conneau et al., 2018): a target row's
neighbours are the source rows of least ``2 d(t, s) - r(s)``, where ``r(s)``
is the mean distance from ``s`` to its 10 nearest target rows, so a source
row near many target rows (a hub) collects fewer votes. CSLS is computed
here, not in the library.

Usage::

    python -m benchmarks.nn_smoothing --data-home ../shared/data   # ~4 min on 2 cores
    python -m benchmarks.nn_smoothing --quick                      # held-out shifts only, ~10 s

Writes ``benchmarks/results/nn_smoothing.{md,json}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

N_NEIGHBORS = (1, 3, 5, 10, 20)
SMOOTHING = (0.0, 0.1, 0.3, 1.0)
NEIGHBOURS = ("plain", "csls")
#: Target rows whose mean distance makes a source row's CSLS hub score.
CSLS_K = 10
#: The suite's datasets of the speed table (benchmarks/_suite_speed.py), in its column order.
DATASETS = ("office_caltech_surf", "office_caltech_decaf", "mnist_usps", "mnist_usps_deep", "amazon_reviews",
            "coil20")
#: Named settings: (neighbours, n_neighbors, smoothing).
NAMED = {("plain", 1, 1.0): "ours (default)", ("plain", 1, 0.0): "skada's", ("plain", 5, 0.0): "ADAPT's"}


def settings() -> list[tuple[str, int, float]]:
    return [(hub, k, s) for hub in NEIGHBOURS for k in N_NEIGHBORS for s in SMOOTHING]


def csls_votes(Xs: np.ndarray, Xt: np.ndarray, k: int) -> np.ndarray:
    """Each target row's ``k`` source rows of least CSLS distance, shape (n_target, k)."""
    from sklearn.metrics import pairwise_distances

    D = pairwise_distances(Xt, Xs)
    hub = np.sort(D, axis=0)[:min(CSLS_K, D.shape[0])].mean(axis=0)
    return np.argsort(2 * D - hub, axis=1)[:, :k]


def all_weights(Xs: np.ndarray, Xt: np.ndarray) -> dict:
    """Source weights of every setting, each averaging 1."""
    from sktransfer.reweighting import NearestNeighborWeighter

    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]
    y = np.zeros(len(X), int)
    y[len(Xs):] = -1
    out = {}
    csls = csls_votes(Xs, Xt, max(N_NEIGHBORS))
    for hub, k, s in settings():
        if hub == "plain":
            nn = NearestNeighborWeighter(k, smoothing=s, max_samples=None).fit(X, y, sample_domain=sd)
            out[hub, k, s] = nn.weights_[: len(Xs)]
        else:
            counts = np.bincount(csls[:, :k].ravel(), minlength=len(Xs)) + s
            out[hub, k, s] = counts * (len(Xs) / counts.sum())
    return out


def suite_scores(data_home: str, keys) -> dict:
    """dataset -> setting -> mean SVM accuracy (%) over the dataset's tasks."""
    from benchmarks._reweighting_office import _SourceSVM
    from benchmarks._suite_datasets import DATASETS as SUITE

    scores = {}
    for key in keys:
        ds = SUITE[key]
        missing = [m for m in ds.requires if importlib.util.find_spec(m) is None]  # as benchmarks.run skips
        if missing:
            print(f"{key}: skipped, needs {', '.join(missing)}", file=sys.stderr)
            continue
        acc: dict = {}
        for s, t in ds.tasks:
            task = ds.load(data_home, s, t)
            Xs, Xt = np.asarray(task.Xs, float), np.asarray(task.Xt, float)
            Xe, ye = (task.Xtest, task.ytest) if task.Xtest is not None else (task.Xt, task.yt)
            svm = _SourceSVM(task.Xs, task.ys, Xe, ye, ds.svm_C_grid)
            for setting, w in all_weights(Xs, Xt).items():
                acc.setdefault(setting, []).append(svm.accuracy(w))  # in %
        scores[key] = {setting: float(np.mean(v)) for setting, v in acc.items()}
        print(f"{key}: {len(ds.tasks)} tasks", file=sys.stderr, flush=True)
    return scores


def held_out_changes(quick: bool) -> dict:
    """family -> setting -> list of (weighted - unweighted) scores over ess_threshold's tasks."""
    from benchmarks.ess_threshold import tasks

    changes: dict = {}
    for family, _task, _seed, X, y, sd, model in tasks(quick):
        src, tgt = sd > 0, sd < 0
        base = 100 * model().fit(X[src], y[src]).score(X[tgt], y[tgt])
        for setting, w in all_weights(X[src], X[tgt]).items():
            score = 100 * model().fit(X[src], y[src], sample_weight=w).score(X[tgt], y[tgt])
            changes.setdefault(family, {}).setdefault(setting, []).append(score - base)
    return changes


def table(suite: dict, changes: dict) -> tuple[str, list[dict]]:
    """The markdown table (one row per setting, best suite mean first) and its rows."""
    families = list(changes)
    rows = []
    for setting in settings():
        row = {"neighbours": setting[0], "n_neighbors": setting[1], "smoothing": setting[2],
               "name": NAMED.get(setting, "")}
        row["suite"] = {key: suite[key][setting] for key in suite}
        row["suite_mean"] = float(np.mean(list(row["suite"].values()))) if suite else float("nan")
        every = [c for f in families for c in changes[f][setting]]
        row["held_out"] = {f: float(np.mean(changes[f][setting])) for f in families}
        row["held_out_mean"] = float(np.mean(every)) if every else float("nan")
        row["held_out_worst"] = float(min(every)) if every else float("nan")
        rows.append(row)
    rows.sort(key=lambda r: -(r["suite_mean"] if suite else r["held_out_mean"]))
    head = (["neighbours", "k", "smoothing", ""] + [k.replace("office_caltech_", "") for k in suite]
            + (["suite mean"] if suite else []) + [f"held-out {f}" for f in families]
            + ["held-out mean", "held-out worst"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 4 + "---:|" * (len(head) - 4)]
    for r in rows:
        cells = [r["neighbours"], str(r["n_neighbors"]), f"{r['smoothing']:g}", r["name"]]
        cells += [f"{v:.1f}" for v in r["suite"].values()] + ([f"{r['suite_mean']:.2f}"] if suite else [])
        cells += [f"{r['held_out'][f]:+.2f}" for f in families]
        cells += [f"{r['held_out_mean']:+.2f}", f"{r['held_out_worst']:+.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines), rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="where the suite's datasets are (../shared/data)")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--quick", action="store_true", help="the held-out shifts' --quick tasks, no suite")
    parser.add_argument("--out", default=str(RESULTS / "nn_smoothing"))
    args = parser.parse_args(argv)

    start = time.perf_counter()
    with warnings.catch_warnings():
        # DegenerateWeightsWarning and convergence warnings: the table is what they would say.
        warnings.simplefilter("ignore")
        suite = {} if args.quick or args.data_home is None else suite_scores(args.data_home, args.datasets)
        changes = held_out_changes(args.quick)
    seconds = time.perf_counter() - start
    text_table, rows = table(suite, changes)
    command = "python -m benchmarks.nn_smoothing " + " ".join(argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "## Nearest-neighbour weights: neighbour count and smoothing", "",
        f"`{command.strip()}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"total {seconds:.0f} s.", "",
        "Suite columns: the SVM's target accuracy (%) with the weights, mean over the dataset's tasks. "
        "Held-out columns: the score with the weights minus the score unweighted (accuracy points, or "
        "R^2 x 100 for regression), over benchmarks/ess_threshold.py's shifts.", "",
        text_table, "",
    ])
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"command": command.strip(), "machine": platform.platform(),
                                                    "seconds": seconds, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
