"""Pretrain on digits 0-4, fine-tune on 50 labelled images of digits 5-9.

The classic parameter-transfer story on scikit-learn's bundled 8x8 digits.
Source task: every image of the digits 0-4, labelled. Target task: the digits
5-9, of which only 50 images are labelled (10 per class, drawn per seed); the
remaining 5-9 images are the test set. Two model families, each trained two
ways:

- *alone*: trained on the 50 labelled target images only;
- *pretrained*: ``PretrainFineTune`` trains it on the 0-4 images first, then
  continues on the 50.

Gradient boosting continues by warm start (new trees fitted to the target,
on top of the source trees). It cannot add classes, so the target labels are
mapped onto the source's label slots (``y - 5``: digit 5 reuses the slot of
0, ...). The MLP continues by ``partial_fit`` epochs, with all ten classes
declared up front, so its hidden layer is learnt on 0-4 and reused for 5-9.
Accuracy on the held-out 5-9 images, mean and standard deviation over 5
seeds. Runs offline in about ten seconds.

What comes out (scikit-learn 1.9): pretraining *hurts* here, for both
families. Boosting alone reaches about 86%, pretrained about 75%; the MLP
about 93% alone and 91% pretrained. Nothing was tuned to get either answer.
For boosting this is expected: the source trees are not features the new
trees can reuse, only a starting score, and on images of 5-9 that score
confidently points at the wrong slots; the new trees first spend their budget
undoing it (150 new trees instead of 50 gave about 81% in a three-seed
check). For the MLP, 10 images per class of 8x8 digits are already enough
for a model trained from scratch (a logistic regression on the pixels also
reaches about 93%), and a hidden layer learnt on 0-4 is a worse start than a
random one (frozen, it gives about 88%); with 300 fine-tuning epochs the
pretrained MLP catches up (about 93%, same check), and with only 2 labelled
images per class it still loses (about 76% against 80%). Pretraining pays
when the source task's features are what the target task needs, which is
not the case for these two halves of the digits.

Run: python examples/pretrain_finetune.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.neural_network import MLPClassifier

from sktransfer import stack_domains
from sktransfer.parameter import PretrainFineTune

N_LABELLED_PER_CLASS = 10
SEEDS = range(5)


def split(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source rows (0-4), 50 labelled target rows (10 per digit 5-9), test rows (the rest of 5-9)."""
    rng = np.random.RandomState(seed)
    few = np.concatenate([
        rng.choice(np.flatnonzero(y == digit), N_LABELLED_PER_CLASS, replace=False)
        for digit in range(5, 10)
    ])
    test = np.setdiff1d(np.flatnonzero(y >= 5), few)
    return np.flatnonzero(y < 5), few, test


def gradient_boosting(seed: int) -> GradientBoostingClassifier:
    return GradientBoostingClassifier(n_estimators=50, max_depth=3, subsample=0.8, random_state=seed)


def mlp(seed: int) -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=(64,), alpha=1e-3, max_iter=2000, random_state=seed)


def run_seed(X: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    source, few, test = split(y, seed)
    scores = {}

    # Gradient boosting: target digits 5-9 use the label slots 0-4 of the source.
    alone = gradient_boosting(seed).fit(X[few], y[few] - 5)
    scores["gradient boosting, 50 target images alone"] = alone.score(X[test], y[test] - 5)
    X_fit, y_fit, sd = stack_domains(source=(X[source], y[source]), target=(X[few], y[few] - 5))
    gb = PretrainFineTune(gradient_boosting(seed), n_finetune_iter=50).fit(X_fit, y_fit, sample_domain=sd)
    scores["gradient boosting, pretrained on 0-4 + 50 new trees (warm start)"] = gb.score(
        X[test], y[test] - 5
    )

    # MLP: the true labels, all ten classes declared for partial_fit.
    alone = mlp(seed).fit(X[few], y[few])
    scores["MLP, 50 target images alone"] = alone.score(X[test], y[test])
    X_fit, y_fit, sd = stack_domains(source=(X[source], y[source]), target=(X[few], y[few]))
    net = PretrainFineTune(
        mlp(seed), classes=np.arange(10), n_pretrain_iter=100, n_finetune_iter=100, random_state=seed
    ).fit(X_fit, y_fit, sample_domain=sd)
    scores["MLP, pretrained on 0-4 + 100 epochs on the 50 (partial_fit)"] = net.score(X[test], y[test])
    return scores


def main() -> None:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities 0..16 -> 0..1
    start = time.perf_counter()
    runs = [run_seed(X, y, seed) for seed in SEEDS]
    seconds = time.perf_counter() - start

    n_source, n_test = np.sum(y < 5), np.sum(y >= 5) - 5 * N_LABELLED_PER_CLASS
    print(
        f"Digits: {n_source} source images (0-4), {5 * N_LABELLED_PER_CLASS} labelled target "
        f"images (5-9), {n_test} test images (5-9); {len(runs)} seeds, {seconds:.0f} s"
    )
    print()
    print("| model | test accuracy (mean) | std (points) |")
    print("|---|---:|---:|")
    for name in runs[0]:
        values = np.array([run[name] for run in runs])
        print(f"| {name} | {values.mean():.1%} | {100 * values.std():.1f} |")


if __name__ == "__main__":
    main()
