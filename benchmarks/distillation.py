"""Knowledge distillation: does a student 5x (and more) smaller than its teacher keep its target accuracy?

The task. MNIST->USPS and USPS->MNIST of the suite's ``mnist_usps_deep``
dataset: the 3,800 JDA digits read as images by the frozen offline
EfficientNet-Lite0 (1,280-d pooled features, rows L2-normalised), the full
protocol (every source row labelled, every target row unlabelled, accuracy
on every target row).

- **teacher**: ``DomainAdaptationClassifier(backbone=None, head=(1024, 512),
  loss="dann")`` fitted on the source rows and the unlabelled target rows
  (a 1,280-1,024-512-10 network, 1.84 M parameters);
- **student, distilled**: ``DistillationClassifier(teacher, backbone=None,
  head=(64,))`` (1,280-64-10, 83 k parameters) on the same rows: the
  source rows with their labels and the target rows unlabelled, so these
  get the teacher's soft targets only (``temperature=4``, ``alpha=0.9``);
- **student, no distillation**: the same 64-unit network,
  ``FineTuneClassifier(backbone=None, head=(64,))``, on the labelled source
  rows alone, with as many epochs.

Parameters are ``sum(p.numel() for p in net_.parameters())``; "kept" is the
student's target accuracy over the teacher's. Every network trains with
AdamW at lr 1e-3, batch 32.

Usage::

    python benchmarks/distillation.py --data-home ../shared/data   # features 1.5-9 min (machine load), then ~5-20 min

Writes ``benchmarks/results/distillation.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
TASKS = (("M", "U"), ("U", "M"))
STUDENT_HEAD = (64,)
TEACHER_HEAD = (1024, 512)
COLUMNS = ("teacher params", "student params", "ratio", "teacher acc", "student acc (distilled)", "kept",
           "student acc (no distillation)")


def digit_features(data_home: str, cache: str | None) -> dict:
    """``{"M": (X, y), "U": (X, y)}``: the suite's digit features, rows L2-normalised (its loader)."""
    if cache and Path(cache).exists():
        saved = np.load(cache)
        return {d: (saved[f"X{d}"], saved[f"y{d}"]) for d in "MU"}
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks._suite_datasets import DATASETS

    task = DATASETS["mnist_usps_deep"].load(data_home, "M", "U")
    out = {"M": (task.Xs.astype(np.float32), np.asarray(task.ys).ravel()),
           "U": (task.Xt.astype(np.float32), np.asarray(task.yt).ravel())}
    if cache:
        np.savez(cache, **{f"{k}{d}": v for d, pair in out.items() for k, v in zip("Xy", pair)})
    return out


def n_parameters(estimator) -> int:
    return int(sum(p.numel() for p in estimator.net_.parameters()))


def run(feats: dict, source: str, target: str, seed: int, teacher_epochs: int, student_epochs: int) -> dict:
    from sktransfer.deep import DistillationClassifier, DomainAdaptationClassifier, FineTuneClassifier

    (Xs, ys), (Xt, yt) = feats[source], feats[target]
    X = np.vstack([Xs, Xt])
    y = np.concatenate([ys, np.full(len(yt), -1)])
    seconds = {}
    start = time.perf_counter()
    teacher = DomainAdaptationClassifier(backbone=None, head=TEACHER_HEAD, loss="dann", max_epochs=teacher_epochs,
                                         random_state=seed).fit(X, y)
    seconds["teacher"] = time.perf_counter() - start
    start = time.perf_counter()
    student = DistillationClassifier(teacher, backbone=None, head=STUDENT_HEAD, max_epochs=student_epochs,
                                     random_state=seed).fit(X, y)
    seconds["student"] = time.perf_counter() - start
    start = time.perf_counter()
    plain = FineTuneClassifier(backbone=None, head=STUDENT_HEAD, max_epochs=student_epochs,
                               random_state=seed).fit(Xs, ys)
    seconds["plain"] = time.perf_counter() - start
    teacher_acc, student_acc = teacher.score(Xt, yt), student.score(Xt, yt)
    return {"teacher params": n_parameters(teacher), "student params": n_parameters(student),
            "teacher acc": teacher_acc, "student acc (distilled)": student_acc,
            "kept": student_acc / teacher_acc, "student acc (no distillation)": plain.score(Xt, yt),
            "seconds": seconds}


def summarise(results: dict, seeds: list[int]) -> str:
    def pct(values):
        mean = 100 * statistics.mean(values)
        return f"{mean:.1f} ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 else f"{mean:.1f}"

    lines = ["| task | " + " | ".join(COLUMNS) + " |", "|" + "---|" * (len(COLUMNS) + 1)]
    for name, per_seed in results.items():
        rows = [per_seed[str(s)] for s in seeds]
        teacher_n, student_n = rows[0]["teacher params"], rows[0]["student params"]
        cells = [f"{teacher_n:,}", f"{student_n:,}", f"{teacher_n / student_n:.1f}x",
                 pct([r["teacher acc"] for r in rows]), pct([r["student acc (distilled)"] for r in rows]),
                 pct([r["kept"] for r in rows]), pct([r["student acc (no distillation)"] for r in rows])]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder of the suite's data (../shared/data)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--teacher-epochs", type=int, default=10)
    parser.add_argument("--student-epochs", type=int, default=30)
    parser.add_argument("--features", default=None, help="optional .npz to keep the digit features between runs")
    parser.add_argument("--out", default=str(RESULTS / "distillation"))
    args = parser.parse_args(argv)
    feats = digit_features(args.data_home, args.features)
    seeds = list(range(args.seeds))
    results: dict = {}
    for source, target in TASKS:
        name = f"{source}->{target}"
        results[name] = {}
        for seed in seeds:
            row = run(feats, source, target, seed, args.teacher_epochs, args.student_epochs)
            results[name][str(seed)] = row
            print(name, seed, {k: round(v, 3) for k, v in row.items() if isinstance(v, float)}, flush=True)
    table = summarise(results, seeds)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Knowledge distillation: target accuracy (%) on the deep MNIST <-> USPS digits\n\n"
        "EfficientNet-Lite0 features (frozen, 1,280-d); teacher DomainAdaptationClassifier(head=(1024, 512), "
        f"loss='dann'), {args.teacher_epochs} epochs; students 1,280-64-10, {args.student_epochs} epochs: "
        "DistillationClassifier(temperature=4, alpha=0.9) on the labelled source and unlabelled target rows, "
        "and FineTuneClassifier on the source rows alone. Kept = distilled student / teacher. Mean ± std over "
        f"seeds {seeds[0]}-{seeds[-1]}. Command: `python benchmarks/distillation.py --data-home "
        f"{args.data_home}{'' if args.seeds == 3 else f' --seeds {args.seeds}'}`.\n\n"
    )
    out.with_suffix(".md").write_text(header + table + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"machine": platform.platform(), "teacher_epochs": args.teacher_epochs,
         "student_epochs": args.student_epochs, "seeds": seeds, "results": results}, indent=1))


if __name__ == "__main__":
    main()
