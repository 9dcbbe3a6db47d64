"""TransferAdvisor's pick against the oracle, always-no-adaptation and always-CORAL.

For every task, the advisor (``TransferAdvisor(random_state=0)``, default
candidates: no adaptation, CORAL, subspace alignment (20), linear TCA (20),
DiscriminativeWeighter, KMM, each a ``StandardScaler`` then the adapter then a
logistic regression) is fitted with the target labels hidden, and every
candidate is also fitted on all rows and scored on the target labels: the
*oracle* is the best of them. The table gives no adaptation, always CORAL,
the oracle, the advisor's pick and its accuracy, its gap to the oracle and
its loss against no adaptation.

Tasks:

- every task of the suite's datasets (``benchmarks/_suite_datasets.DATASETS``,
  the suite's loaders and preprocessing; Amazon reviews adapt on the target
  train rows and are scored on the target test rows), the deep digits
  included (their EfficientNet-Lite0 features take about 70 s to extract on
  2 CPU cores);
- breast cancer (scikit-learn's copy) split on the median mean radius, both
  ways, where CORAL and subspace alignment take the accuracy from 92-99% to
  10-49%;
- synthetic shifts of ``make_domain_shift`` (10 features, 300 rows a
  domain, seeds 0-2): ``prior`` and ``covariate`` at strength 2 (adaptation
  hurts), ``concept`` and ``subspace`` at strength 1, and ``affine``: the
  target rows of an unshifted draw sent through a random affine map (a
  recalibrated sensor: each feature's gain and offset change), where aligning helps.

The decision rule of :func:`sktransfer.model_selection._advisor_rule.decide`
was tuned on the synthetic tasks and on breast cancer (``tuned`` column);
the suite's tasks are held out, except for the one choice the tuning tasks
left open: which checks bind (they tied there; the suite chose the
confidence and reverse-validation checks, see ``_advisor_rule``).

Usage::

    python -m benchmarks.advisor --data-home ../shared/data            # about 5 min on 2 cores
    python -m benchmarks.advisor --data-home ../shared/data --quick    # 1 task a dataset, 400 rows a domain
    python -m benchmarks.advisor --replay benchmarks/results/advisor.json  # re-apply the rule to saved evidence
    python -m benchmarks.advisor --data-home ../shared/data --seed 1 --out benchmarks/results/advisor_seed1
        # another held-out split of the source rows (the advisor's random_state): how stable the picks are
    python -m benchmarks.advisor --data-home ../shared/data --labels-per-class 3 --out benchmarks/results/advisor_labels3
        # 3 target rows a class keep their label: the advisor checks the candidates on them and every
        # candidate trains on them (the issue's targets are for the label-free runs above)

Writes ``benchmarks/results/advisor.{md,json}`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
#: the suite's datasets, every one run by default
SUITE = ("office_caltech_surf", "office_caltech_decaf", "mnist_usps", "mnist_usps_deep", "amazon_reviews", "coil20")
SYNTHETIC = {"prior": 2.0, "covariate": 2.0, "concept": 1.0, "subspace": 1.0, "affine": None}
SEEDS = (0, 1, 2)
#: targets of issue 22 (points of accuracy)
MAX_MEAN_GAP, MAX_LOSS, WIN, NEAR_BEST = 1.5, 1.0, 3.0, 1.0


def affine_shift(n_samples: int, n_features: int, random_state: int):
    """An unshifted ``make_domain_shift`` draw whose target rows go through a random affine map."""
    from sktransfer.datasets import make_domain_shift

    X, y, sd = make_domain_shift(n_samples=n_samples, n_features=n_features, shift="covariate",
                                 shift_strength=0.0, mask_target=False, random_state=random_state)
    rng = np.random.RandomState(random_state + 1000)
    target = sd < 0
    X = X.copy()
    # each feature's gain and offset change: what CORAL's centring and colouring undo
    X[target] = X[target] * np.exp(rng.uniform(-1.0, 1.0, n_features)) + rng.uniform(-2.0, 2.0, n_features)
    return X, y, sd


def tasks(data_home: str | None, quick: bool, datasets=SUITE) -> Iterator[tuple[str, str, bool, tuple]]:
    """``(name, family, tuned, (Xs, ys, Xt, yt, Xtest, ytest))`` of every task."""
    from sklearn.datasets import load_breast_cancer

    from sktransfer.datasets import make_domain_shift

    for shift, strength in SYNTHETIC.items():
        for seed in SEEDS[:1] if quick else SEEDS:
            if shift == "affine":
                X, y, sd = affine_shift(300, 10, seed)
            else:
                X, y, sd = make_domain_shift(n_samples=300, n_features=10, shift=shift, shift_strength=strength,
                                             mask_target=False, random_state=seed)
            s, t = sd > 0, sd < 0
            yield f"synthetic {shift} (seed {seed})", "synthetic", True, (X[s], y[s], X[t], y[t], None, None)
    X, y = load_breast_cancer(return_X_y=True)
    small = X[:, 0] < np.median(X[:, 0])
    yield "breast cancer small -> large", "breast cancer", True, (X[small], y[small], X[~small], y[~small], None, None)
    yield "breast cancer large -> small", "breast cancer", True, (X[~small], y[~small], X[small], y[small], None, None)
    if data_home is None:
        return
    from ._suite_datasets import DATASETS

    for key in datasets:
        ds = DATASETS[key]
        for s, t in ds.tasks[: ds.quick_tasks] if quick else ds.tasks:
            task = ds.load(data_home, s, t, max_rows=400 if quick else None)
            yield f"{ds.name.split(' (')[0]} {ds.task_name(s, t)}", key, False, tuple(task)


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def run_task(Xs, ys, Xt, yt, Xtest=None, ytest=None, random_state: int = 0, n_repeats: int = 1,
             labels_per_class: int = 0) -> dict:
    """Target accuracy (%) of every candidate, the advisor's evidence and its pick on one task.

    ``labels_per_class`` target rows a class keep their label (drawn with
    ``random_state``): the advisor scores, cross-validates and checks the candidates on them,
    and every candidate, the advisor's refit included, trains on them. They
    are left out of the accuracy where the target rows are also the test rows.
    """
    from sktransfer import stack_domains
    from sktransfer.model_selection import TransferAdvisor
    from sktransfer.model_selection._advisor import default_candidates, default_estimator
    from sktransfer.model_selection._advisor_evidence import fit_candidate

    from ._suite_fewlabel import few_labelled

    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    Xeval, yeval = (Xt, yt) if Xtest is None else (Xtest, ytest)
    if labels_per_class:
        few, rest = few_labelled(yt, random_state, labels_per_class)
        y = y.copy()
        y[len(ys) + few] = np.asarray(yt)[few]  # stack_domains puts the source rows first
        if Xtest is None:
            Xeval, yeval = np.asarray(Xt)[rest], np.asarray(yt)[rest]
    candidates = default_candidates(random_state)
    start = time.perf_counter()
    advisor = TransferAdvisor(candidates=candidates, n_repeats=n_repeats, random_state=random_state).fit(
        X, y, sample_domain=sd)
    advisor_s = time.perf_counter() - start
    accuracy = {}
    for name, spec in candidates.items():
        try:
            pipe = advisor.best_estimator_ if name == advisor.best_ else fit_candidate(
                spec, default_estimator(), X, y, sd)
            accuracy[name] = 100 * float(np.mean(pipe.predict(Xeval) == yeval))
        except Exception as exc:  # a candidate failing on a task is a result
            accuracy[name] = None
            print(f"  {name} failed: {type(exc).__name__}: {exc}"[:200], file=sys.stderr)
    ranking = [{k: v for k, v in row.items()} for row in advisor.ranking_]
    return {"accuracy": accuracy, "pick": advisor.best_, "ranking": _jsonable(ranking),
            "advisor_s": advisor_s, "n_heldout": advisor.n_heldout_, "n_source": len(ys), "n_target": len(Xt), "n_eval": len(yeval)}


def outcome(row: dict, pick: str | None = None) -> dict:
    """No adaptation, CORAL, the oracle, the pick and the gaps (points) of one task's result."""
    acc = {k: v for k, v in row["accuracy"].items() if v is not None}
    pick = row["pick"] if pick is None else pick
    base = acc["no adaptation"]
    oracle = max(acc, key=acc.get)
    adapted = {k: v for k, v in acc.items() if k != "no adaptation"}
    best_adapted = max(adapted.values()) if adapted else base
    return {
        "none": base, "coral": acc.get("CORAL"), "oracle": oracle, "oracle_acc": acc[oracle],
        "pick": pick, "pick_acc": acc[pick], "gap": acc[oracle] - acc[pick], "loss": base - acc[pick],
        "adaptation_wins": best_adapted - base >= WIN, "near_best": acc[oracle] - acc[pick] <= NEAR_BEST,
    }


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def summarise(results: dict, picks: dict | None = None) -> tuple[str, dict]:
    """The markdown table and the three targets, met or not (``picks`` overrides the saved picks)."""
    lines = [
        "| task | tuned | no adaptation | always CORAL | oracle | advisor pick | pick acc | gap to oracle | "
        "loss vs none |",
        "|---|---|---:|---:|---|---|---:|---:|---:|",
    ]
    outs = {}
    for task, row in results.items():
        o = outs[task] = outcome(row, None if picks is None else picks[task])
        lines.append(
            f"| {task} | {'yes' if row['tuned'] else 'no'} | {_fmt(o['none'])} | {_fmt(o['coral'])} | "
            f"{o['oracle']} ({o['oracle_acc']:.1f}) | {o['pick']} | {o['pick_acc']:.1f} | {o['gap']:.1f} | "
            f"{o['loss']:+.1f} |"
        )
    summary = {}
    for label, keep in (("all", lambda r: True), ("held out (suite)", lambda r: not r["tuned"]),
                        ("tuned on", lambda r: r["tuned"])):
        sel = [outs[t] for t, r in results.items() if keep(r)]
        if not sel:
            continue
        wins = [o for o in sel if o["adaptation_wins"]]
        coral = [o["coral"] for o in sel if o["coral"] is not None]
        summary[label] = {
            "tasks": len(sel),
            "mean_none": float(np.mean([o["none"] for o in sel])),
            "mean_coral": float(np.mean(coral)) if coral else None,
            "mean_oracle": float(np.mean([o["oracle_acc"] for o in sel])),
            "mean_pick": float(np.mean([o["pick_acc"] for o in sel])),
            "mean_gap": float(np.mean([o["gap"] for o in sel])),
            "worst_loss": float(max(o["loss"] for o in sel)),
            "tasks_lost_over_1": [t for t, r in results.items() if keep(r) and outs[t]["loss"] > MAX_LOSS],
            "win_tasks": len(wins),
            "win_tasks_near_best": sum(o["near_best"] for o in wins),
        }
    lines.append("")
    for label, s in summary.items():
        met = lambda ok: "**met**" if ok else "**not met**"  # noqa: E731
        lines += [
            f"**{label}** ({s['tasks']} tasks): mean accuracy no adaptation {s['mean_none']:.1f}, always CORAL "
            f"{_fmt(s['mean_coral'])}, advisor {s['mean_pick']:.1f}, oracle {s['mean_oracle']:.1f}.",
            f"- mean gap to the oracle {s['mean_gap']:.2f} points (target <= {MAX_MEAN_GAP}): "
            f"{met(s['mean_gap'] <= MAX_MEAN_GAP)}",
            f"- worst loss against no adaptation {s['worst_loss']:+.1f} points (target <= {MAX_LOSS}): "
            f"{met(s['worst_loss'] <= MAX_LOSS)}" + (f"; over 1 point on {', '.join(s['tasks_lost_over_1'])}"
                                                     if s["tasks_lost_over_1"] else ""),
            f"- tasks where some adaptation wins by >= {WIN:.0f} points: {s['win_tasks']}; the pick is within "
            f"{NEAR_BEST:.0f} point of the best on {s['win_tasks_near_best']} "
            f"(target: all): {met(s['win_tasks_near_best'] == s['win_tasks'])}",
            "",
        ]
    return "\n".join(lines), summary


def replay(saved: dict, margin: float | None = None) -> dict:
    """The picks the current rule makes from the saved evidence (no refitting); ``margin`` None is the advisor's."""
    from sktransfer.model_selection import TransferAdvisor
    from sktransfer.model_selection._advisor_rule import decide

    margin = TransferAdvisor().margin if margin is None else margin

    picks = {}
    for task, row in saved["results"].items():
        rows = [dict(r) for r in row["ranking"]]
        rows.sort(key=lambda r: r["adaptation"])  # the baseline first, as fit hands them to the rule
        for r in rows:
            if r.get("final_score") is None and r["error"] is None:
                r["final_score"] = None
        picks[task] = decide(rows, margin=margin)[0]["name"]
    return picks


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="folder of the suite's data (../shared/data)")
    parser.add_argument("--datasets", nargs="+", default=list(SUITE))
    parser.add_argument("--quick", action="store_true", help="one seed, one task a dataset, 400 rows a domain")
    parser.add_argument("--out", default=str(RESULTS / "advisor"))
    parser.add_argument("--replay", default=None, help="a saved advisor.json: re-apply the rule, fit nothing")
    parser.add_argument("--repeats", type=int, default=1, help="the advisor's n_repeats")
    parser.add_argument("--labels-per-class", type=int, default=0,
                        help="target rows a class that keep their label (0: none, the issue's label-free setting)")
    parser.add_argument("--seed", type=int, default=0,
                        help="the advisor's random_state: its held-out split of the source rows and the candidates' seeds")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads (1: many small solves on a shared machine run 10-25x faster "
                             "than with a thread per core fighting for it)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=args.blas_threads):
        _run(args, argv)


def _run(args, argv) -> None:
    if args.replay:
        saved = json.loads(Path(args.replay).read_text())
        table, _ = summarise(saved["results"], replay(saved))
        print(table)
        return
    start = time.perf_counter()
    results = {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.advisor " + " ".join(argv if argv is not None else sys.argv[1:])
    for name, family, tuned, task in tasks(args.data_home, args.quick, args.datasets):
        t0 = time.perf_counter()
        results[name] = {"family": family, "tuned": tuned, **run_task(*task, random_state=args.seed,
                                                                          n_repeats=args.repeats,
                                                                          labels_per_class=args.labels_per_class)}
        o = outcome(results[name])
        print(f"{name}: none {o['none']:.1f}, oracle {o['oracle']} {o['oracle_acc']:.1f}, pick {o['pick']} "
              f"{o['pick_acc']:.1f} ({time.perf_counter() - t0:.0f} s)", flush=True)
        # saved after every task, so a long run can be read (or replayed) before it ends
        out.with_suffix(".json").write_text(json.dumps({"command": command, "partial": True,
                                                        "results": _jsonable(results)}, indent=1))
    table, summary = summarise(results)
    total = time.perf_counter() - start
    print(table)
    header = (
        "# TransferAdvisor: its pick against the oracle, no adaptation and always CORAL\n\n"
        f"Target accuracy (%). Command: `{command}`; {platform.machine()}, {total / 60:.0f} min. "
        "Candidates: no adaptation, CORAL, SA (20), linear TCA (20), DiscriminativeWeighter, KMM, each "
        "StandardScaler -> adapter -> LogisticRegression; oracle: the best candidate by target accuracy. "
        "`tuned`: the decision rule's margin and limits were chosen on these tasks (synthetic shifts, breast "
        "cancer); the suite's tasks are held out, except that they chose which checks bind, where the tuning "
        "tasks tied (`sktransfer/model_selection/_advisor_rule.py`). The protocol is in `benchmarks/advisor.py`.\n\n"
    )
    if args.labels_per_class:
        header += (
            f"{args.labels_per_class} target rows a class keep their label: the advisor scores and checks the "
            "candidates on them, every candidate (the oracle's too) trains on them, and the accuracy is that of the "
            "other target rows (of the test rows where a dataset has them).\n\n"
        )
    out.with_suffix(".md").write_text(header + table + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"command": command, "machine": platform.platform(), "total_s": total, "summary": summary,
         "results": _jsonable(results)}, indent=1))


if __name__ == "__main__":
    main()
