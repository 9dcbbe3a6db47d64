"""Model selection without target labels: how close does each scorer come to the oracle?

For each of the 12 Office-Caltech10 SURF tasks (full protocol of
``PUBLISHED.md`` (A): every source row labelled, every target row unlabelled,
each domain L1-normalised and z-scored on its own) and each method (CORAL,
subspace alignment, KMM, each followed by a logistic regression), every point
of a hyperparameter grid is

1. fitted on all rows and scored on every target label: the *target
   accuracy* of that point (only the oracle and this table ever read target
   labels);
2. cross-validated with ``DomainShuffleSplit`` (``--splits`` re-shuffles,
   30 % of each domain held out) and scored by each scorer of
   :mod:`sktransfer.model_selection` on the held-out rows, through one
   ``GridSearchCV`` per task and method.

Each scorer picks the point with its best mean score; the table reports the
target accuracy of its pick, beside the oracle (best target accuracy in the
grid) and the defaults (the library's defaults with ``C=1``). "source CV" is
what ``GridSearchCV`` does without a domain-adaptation scorer (accuracy on
held-out source rows); "target CV (oracle labels)" is :class:`SupervisedScorer`
fed every target label, the upper bound of the cross-validation itself.

Usage::

    python -m benchmarks.selection --data-home ../shared/data            # ~25 min on 2 cores
    python -m benchmarks.selection --data-home ../shared/data --quick    # 3 tasks, 2 splits

Writes ``benchmarks/results/selection.{md,json}``.
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

C_GRID = [0.001, 0.01, 0.1, 1.0]
GRIDS = {
    "CORAL": {"coral__reg": [0.1, 1.0, 10.0, 100.0], "logisticregression__C": C_GRID},
    "SA": {"subspacealignment__n_components": [10, 20, 40, 80], "logisticregression__C": C_GRID},
    "KMM": {"kmm__reg": [0.1, 1.0, 10.0], "logisticregression__C": C_GRID},
}
DEFAULTS = {
    "CORAL": {"coral__reg": 1.0, "logisticregression__C": 1.0},
    "SA": {"subspacealignment__n_components": 80, "logisticregression__C": 1.0},
    "KMM": {"kmm__reg": 1.0, "logisticregression__C": 1.0},
}


def _pipeline(method: str):
    from sklearn.linear_model import LogisticRegression

    from sktransfer import make_da_pipeline
    from sktransfer.alignment import CORAL, SubspaceAlignment
    from sktransfer.reweighting import KMM

    adapter = {"CORAL": CORAL, "SA": SubspaceAlignment, "KMM": lambda: KMM(random_state=0)}[method]()
    return make_da_pipeline(adapter, LogisticRegression(max_iter=2000))


def _source_accuracy(estimator, X, y, **_):
    """GridSearchCV's default: the pipeline's score, i.e. accuracy on the labelled (source) rows."""
    return estimator.score(X, y)


def _scorers() -> dict:
    from sktransfer.model_selection import (
        CircularValidationScorer,
        DeepEmbeddedValidationScorer,
        ImportanceWeightedScorer,
        PredictionEntropyScorer,
        SoftNeighborhoodDensityScorer,
        SupervisedScorer,
    )

    return {
        "source CV": _source_accuracy,
        "importance weighted": ImportanceWeightedScorer(),
        "prediction entropy": PredictionEntropyScorer(),
        "SND": SoftNeighborhoodDensityScorer(),
        "DEV": DeepEmbeddedValidationScorer(),
        "circular": CircularValidationScorer(),
        "target CV (oracle labels)": SupervisedScorer(),
    }


def run_task(Xs, ys, Xt, yt, method: str, n_splits: int, n_jobs: int, seed: int = 0) -> dict:
    """Target accuracy of every grid point and the mean score of each scorer on it."""
    from sklearn import config_context
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, ParameterGrid

    from sktransfer import stack_domains
    from sktransfer.model_selection import DomainShuffleSplit

    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    y_true = np.concatenate([ys, yt])
    grid = list(ParameterGrid(GRIDS[method]))
    start = time.perf_counter()
    accuracy = []
    for params in grid:
        fitted = clone(_pipeline(method)).set_params(**params).fit(X, y, sample_domain=sd)
        accuracy.append(100 * float(np.mean(fitted.predict(Xt) == yt)))
    fit_s = time.perf_counter() - start
    scorers = _scorers()
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            _pipeline(method), GRIDS[method], scoring=scorers, refit=False, n_jobs=n_jobs,
            error_score=np.nan, cv=DomainShuffleSplit(n_splits, test_size=0.3, test_rows="all", random_state=seed),
        ).fit(X, y, sample_domain=sd, target_labels=y_true)
    assert list(search.cv_results_["params"]) == grid
    scores = {name: search.cv_results_[f"mean_test_{name}"].tolist() for name in scorers}
    return {
        "params": grid, "target_accuracy": accuracy, "scores": scores,
        "default": accuracy[grid.index(DEFAULTS[method])],
        "seconds": {"fits": fit_s, "search": time.perf_counter() - start - fit_s},
    }


def pick(result: dict, scorer: str) -> float:
    """Target accuracy of the grid point the scorer ranks first (NaN scores never win)."""
    scores = np.asarray(result["scores"][scorer], dtype=float)
    if np.all(np.isnan(scores)):
        return float("nan")
    return result["target_accuracy"][int(np.nanargmax(scores))]


def summarise(results: dict) -> tuple[str, dict]:
    """Markdown tables: per method, the mean over tasks of each scorer's pick; and per task."""
    lines, summary = [], {}
    scorer_names = list(_scorers())
    for method, per_task in results.items():
        tasks = list(per_task)
        oracle = np.array([max(per_task[t]["target_accuracy"]) for t in tasks])
        default = np.array([per_task[t]["default"] for t in tasks])
        rows = {"oracle (best in grid)": oracle, "defaults": default}
        for name in scorer_names:
            rows[name] = np.array([pick(per_task[t], name) for t in tasks])
        summary[method] = {k: {"mean": float(np.nanmean(v)), "gap_to_oracle": float(np.nanmean(oracle - v)),
                               "per_task": v.tolist()} for k, v in rows.items()}
        lines += [f"### {method} + logistic regression ({len(tasks)} tasks, grid {GRIDS[method]})", "",
                  "| selection | " + " | ".join(tasks) + " | mean | gap to oracle |",
                  "|---|" + "---:|" * (len(tasks) + 2)]
        for name, values in rows.items():
            cells = " | ".join(f"{v:.1f}" for v in values)
            lines.append(f"| {name} | {cells} | {np.nanmean(values):.1f} | {np.nanmean(oracle - values):.1f} |")
        lines.append("")
    lines += ["### Mean gap to the oracle over every task and method (points of target accuracy)", "",
              "| scorer | " + " | ".join(results) + " | all |", "|---|" + "---:|" * (len(results) + 1)]
    for name in ["defaults", *scorer_names]:
        gaps = [summary[m][name]["gap_to_oracle"] for m in results]
        lines.append(f"| {name} | " + " | ".join(f"{g:.1f}" for g in gaps) + f" | {np.mean(gaps):.1f} |")
    return "\n".join(lines), summary


NOTES = """
Reading: every importance-weighted score (importance weighted, DEV) applies the model that is deployed
on target rows to the held-out source rows (target-side map, then the classifier). On these per-domain
z-scored features a linear domain classifier cannot separate the domains (proxy A-distance 0.0 on C->A),
so the weights are nearly uniform and the importance-weighted pick equals the held-out source accuracy's
on most tasks; the weights matter where the domains separate. Entropy and SND reward confident
predictions, which small subspaces and weak regularisation produce whether or not they are right.
"""


def main(argv=None) -> None:
    """Run the benchmark and write the markdown table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding office_caltech10_surf/")
    parser.add_argument("--methods", nargs="+", default=list(GRIDS), choices=list(GRIDS))
    parser.add_argument("--splits", type=int, default=3, help="DomainShuffleSplit re-shuffles")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 tasks, 2 splits")
    parser.add_argument("--out", default=str(RESULTS / "selection"))
    args = parser.parse_args(argv)

    from benchmarks._office_caltech import TASKS, load_surf_domain, task_name

    tasks = TASKS[:3] if args.quick else TASKS
    splits = 2 if args.quick else args.splits
    data = {d: load_surf_domain(args.data_home, d) for d in {c for task in tasks for c in task}}
    results: dict = {m: {} for m in args.methods}
    start = time.perf_counter()
    for method in args.methods:
        for s, t in tasks:
            name = task_name(s, t)
            results[method][name] = run_task(*data[s], *data[t], method, splits, args.n_jobs)
            best = max(results[method][name]["target_accuracy"])
            print(f"{method} {name}: oracle {best:.1f}, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    table, summary = summarise(results)
    command = "python -m benchmarks.selection " + " ".join(argv if argv is not None else sys.argv[1:])
    header = [
        "## Model selection without target labels (Office-Caltech10 SURF)", "",
        f"`{command}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{splits} DomainShuffleSplit re-shuffles (30 % of each domain held out); "
        f"total {time.perf_counter() - start:.0f} s.", "",
    ]
    text = "\n".join(header) + table + "\n" + NOTES
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps(
        {"command": command, "splits": splits, "grids": GRIDS, "defaults": DEFAULTS,
         "summary": summary, "results": results}, indent=1, default=float))


if __name__ == "__main__":
    main()
