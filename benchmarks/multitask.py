"""Multi-task fine-tuning: does a shared body trained on two tasks beat one network per task?

The two-task split. The 3,800 MNIST and USPS digits of the suite's
``mnist_usps_deep`` dataset, read as images by the frozen offline
EfficientNet-Lite0 (1,280-d pooled features, rows L2-normalised), pooled
and split per seed into 1,000 test digits and 2,800 training digits
(stratified). On the training digits:

- **task A, the digit (10 classes), few labels**: ``k`` labelled digits per
  class (``k`` = 3 or 10), every other entry ``-1``;
- **task B, the digit's parity (2 classes), every label**: all 2,800 rows.

Parity is cheap to label (one bit) and can only be read off the features by
telling the digits apart, so a shared layer that learns parity from 2,800
rows learns a representation in which the ten digits separate; the digit
head then needs few labels of its own. That is the case multi-task learning
is for: a scarce task beside a plentiful related one.

Each method is scored on the 1,000 test digits (accuracy on both tasks);
every network has the same architecture, a 256-unit hidden layer on the
features then one linear layer per task, and the same optimiser settings
(AdamW, lr 1e-3, batch 32, weight decay 0.01):

- *separate, same epochs*: one ``FineTuneClassifier(backbone=None,
  head=(256,))`` per task, each on its own labelled rows, ``--epochs``
  epochs (what a user would run by default);
- *separate, same steps*: task A's network again, with as many optimiser
  steps as the joint run (its few rows give few steps per epoch; this is
  the fair baseline for task A);
- *joint*: ``MultiTaskClassifier(backbone=None, shared=(256,))`` on both
  columns, ``--epochs`` epochs;
- *transfer (partial_fit)*: ``MultiTaskClassifier`` fitted on task B alone,
  then task A's head added with ``partial_fit(..., task=1)`` and trained on
  the frozen shared layer for as many steps as the joint run.

Usage::

    python benchmarks/multitask.py --data-home ../shared/data   # features 1.5-9 min (machine load), then ~4 min

Writes ``benchmarks/results/multitask.{md,json}``.
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
SHOTS = (3, 10)
N_TEST = 1000
METHODS = ("separate, same epochs", "separate, same steps", "joint", "transfer (partial_fit)")


def digit_features(data_home: str, cache: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The suite's EfficientNet-Lite0 features of every MNIST and USPS digit, rows L2-normalised."""
    if cache and Path(cache).exists():
        saved = np.load(cache)
        return saved["X"], saved["y"]
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from benchmarks._suite_datasets import _digit_features

    feats = _digit_features(str(data_home))
    X = np.concatenate([feats["M"][0], feats["U"][0]]).astype(np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    y = np.concatenate([feats["M"][1], feats["U"][1]]).astype(int).ravel()
    y = y - y.min()  # the .mat files count digits from 1
    if cache:
        np.savez(cache, X=X.astype(np.float32), y=y)
    return X.astype(np.float32), y


def split(y: np.ndarray, shots: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test rows, training rows, and the training rows labelled for the digit (``shots`` per class)."""
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(len(y)), test_size=N_TEST, stratify=y, random_state=seed)
    rng = np.random.RandomState(seed)
    few = np.concatenate([rng.choice(train[y[train] == c], shots, replace=False) for c in np.unique(y)])
    return test, train, few


def run(X: np.ndarray, digit: np.ndarray, shots: int, seed: int, epochs: int) -> dict:
    from sktransfer.deep import FineTuneClassifier, MultiTaskClassifier

    parity = digit % 2
    test, train, few = split(digit, shots, seed)
    common = dict(backbone=None, max_epochs=epochs, random_state=seed)
    steps_joint = epochs * int(np.ceil(len(train) / 32))
    epochs_few = int(np.ceil(steps_joint / np.ceil(len(few) / 32)))
    Y = np.column_stack([np.full(len(train), -1), parity[train]])
    Y[np.isin(train, few), 0] = digit[train[np.isin(train, few)]]
    out, seconds = {}, {}

    def timed(name, make):
        start = time.perf_counter()
        out[name] = make()
        seconds[name] = time.perf_counter() - start

    def separate(epochs_a):
        a = FineTuneClassifier(head=(256,), **{**common, "max_epochs": epochs_a}).fit(X[few], digit[few])
        b = FineTuneClassifier(head=(256,), **common).fit(X[train], parity[train])
        return a.score(X[test], digit[test]), b.score(X[test], parity[test])

    timed("separate, same epochs", lambda: separate(epochs))
    timed("separate, same steps", lambda: (separate(epochs_few)[0], out["separate, same epochs"][1]))

    def joint():
        clf = MultiTaskClassifier(shared=(256,), **common).fit(X[train], Y)
        pred = clf.predict(X[test])
        return float(np.mean(pred[:, 0] == digit[test])), float(np.mean(pred[:, 1] == parity[test]))

    def transfer():
        clf = MultiTaskClassifier(shared=(256,), **common).fit(X[train], parity[train].reshape(-1, 1))
        b = clf.score(X[test], parity[test].reshape(-1, 1))
        for _ in range(epochs_few):
            clf.partial_fit(X[few], digit[few], classes=np.arange(10), task=1)
        return float(np.mean(clf.predict(X[test])[:, 1] == digit[test])), b

    timed("joint", joint)
    timed("transfer (partial_fit)", transfer)
    return {name: {"digit": float(a), "parity": float(b), "seconds": seconds[name]} for name, (a, b) in out.items()}


def summarise(results: dict, seeds: list[int]) -> str:
    def cell(values):
        return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}" if len(values) > 1 \
            else f"{100 * values[0]:.1f}"

    head = "| method | " + " | ".join(f"digit, {k}/class" for k in SHOTS) + " | parity (all labels) |"
    lines = [head, "|" + "---|" * (len(SHOTS) + 2)]
    for method in METHODS:
        cells = [cell([results[str(k)][str(s)][method]["digit"] for s in seeds]) for k in SHOTS]
        parity = cell([results[str(SHOTS[0])][str(s)][method]["parity"] for s in seeds])
        lines.append(f"| {method} | " + " | ".join(cells) + f" | {parity} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder of the suite's data (../shared/data)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--features", default=None, help="optional .npz to keep the digit features between runs")
    parser.add_argument("--out", default=str(RESULTS / "multitask"))
    args = parser.parse_args(argv)
    X, digit = digit_features(args.data_home, args.features)
    seeds = list(range(args.seeds))
    results: dict = {}
    for k in SHOTS:
        results[str(k)] = {}
        for seed in seeds:
            results[str(k)][str(seed)] = run(X, digit, k, seed, args.epochs)
            print(k, seed, {m: round(r["digit"], 3) for m, r in results[str(k)][str(seed)].items()}, flush=True)
    table = summarise(results, seeds)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Multi-task fine-tuning: test accuracy (%) on 1,000 MNIST+USPS digits\n\n"
        "EfficientNet-Lite0 features (frozen); task A the digit with k labelled digits per class, task B its "
        "parity labelled on all 2,800 training digits; one 256-unit hidden layer then a linear head per task; "
        f"{args.epochs} epochs; mean ± std over seeds {seeds[0]}-{seeds[-1]}. Command: "
        f"`python benchmarks/multitask.py --data-home {args.data_home}`.\n\n"
    )
    out.with_suffix(".md").write_text(header + table + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"machine": platform.platform(), "epochs": args.epochs, "seeds": seeds, "shots": list(SHOTS),
         "results": results}, indent=1))


if __name__ == "__main__":
    main()
