"""Fine-tuning benchmark: training throughput against the tutorial loop, and the strategies' accuracy.

Two cases, both in one process, each a markdown table in
``benchmarks/results/finetune_<cpu|cuda>.md`` (with ``.json`` and the
learning curves as ``.png``; ``--quick`` writes ``finetune_<device>_quick.*``):

1. **Throughput** (``--cases throughput``): images per second of training
   steps of ResNet-50 (timm, random weights) on 224x224 uint8 images, all
   blocks trained, 10 classes:

   * *sktransfer*: ``FineTuneClassifier("timm:resnet50", weights="random",
     n_trainable_blocks="all", head_epochs=0)`` with its defaults otherwise
     (precision "auto": bf16 autocast on a GPU, fp32 on the CPU; AdamW,
     warm-up + cosine schedule, gradient clipping), batch 256 on CUDA; once
     with its default ``batchnorm="frozen"`` and once with
     ``batchnorm="train"``, the tutorial's work (BatchNorm on batch
     statistics), on which the target is judged;
   * *tutorial loop*: the PyTorch tutorial's loop (``_finetune_ref.py``):
     fp32, batch 32, ``DataLoader`` over the decoded uint8 images, each batch
     converted to float and normalised on the CPU then ``.to(device)``,
     ``model.train()``, AdamW, ``loss.item()`` every step;
   * *tuned loop* (for scale): the estimator's work written for speed by hand
     (uint8 batches through pinned memory, normalised on the device,
     channels-last, bf16 autocast, batch 256, BatchNorm on running
     statistics, no host sync inside an epoch): what the hardware allows, and
     so how much the estimator leaves on the table.

   Each side trains the same N images for a few epochs; its rate is N / the
   median wall time of the epochs after the first (the first holds CUDA/cuDNN
   warm-up). For sktransfer the epoch times are ``history_[i]["seconds"]``
   (the estimator times each epoch from its first batch to reading back the
   epoch's mean loss, which waits for the device); ``fit``'s one-off work (the probe
   forward pass, copying the N images into one uint8 tensor, building the
   optimiser) is outside them and reported separately. Target on CUDA:
   sktransfer >= 3x the tutorial loop. On the CPU the sizes are tiny and the
   case is only a plumbing check.

2. **Accuracy** (``--cases accuracy``): the strategies of
   ``examples/finetune_images.py`` (frozen + head, top 2 blocks, all blocks,
   gradual unfreezing, all blocks from random weights, and raw pixels +
   logistic regression) on its task: 5 labelled USPS digits per class,
   EfficientNet-Lite0 with ImageNet weights, the example's hyperparameters.
   On CUDA every other USPS digit is a test image and the table is the mean
   and standard deviation over 5 draws of the training images (seeds 0-4);
   on the CPU it is the example's full run (one draw, 500 test images).

Usage (from the repository root)::

    python benchmarks/finetune.py --device cuda            # the H100 run: one command, < 10 minutes
    python benchmarks/finetune.py --device cpu --quick     # a smoke test of every code path
    python benchmarks/finetune.py --device cpu --cases accuracy
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

import finetune_images as example  # noqa: E402
from _digit_images import DEFAULT_DATA_HOME  # noqa: E402

from benchmarks import _finetune_ref as ref  # noqa: E402
from benchmarks._throughput_ref import make_arrays  # noqa: E402
from benchmarks.extract_throughput import machine_info  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_SPEEDUP = 3.0  # sktransfer vs the tutorial loop, on CUDA
N_CLASSES = 10

#: throughput sizes: images per epoch, epochs of every side (the first is warm-up), batch of ours and of the
#: tuned loop (the tutorial's is 32)
THROUGHPUT = {
    "cuda": dict(n=8192, epochs=3, batch=256),
    "cpu": dict(n=32, epochs=3, batch=16),
    "quick": dict(n=8, epochs=2, batch=4),
}
#: accuracy sizes: the example's task, more test images and draws on CUDA
ACCURACY = {
    "cuda": dict(example.SIZES["full"], n_test=None, seeds=[0, 1, 2, 3, 4]),
    "cpu": dict(example.SIZES["full"], seeds=[0]),
    "quick": dict(example.SIZES["quick"], seeds=[0]),
}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _free(device: Any) -> None:
    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _reset_peak(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gib(device: Any) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None


def _steady(seconds: list[float], n: int) -> dict:
    """Rate over the epochs after the first (all of them when there is only one)."""
    timed = seconds[1:] or seconds
    return {"epoch_s": [round(s, 4) for s in seconds], "timed_epochs": len(timed),
            "images_per_s": n / statistics.median(timed), "images_per_s_best": n / min(timed)}


# --------------------------------------------------------------------------- throughput
def throughput_case(device: Any, sizes: dict) -> dict:
    import timm
    import torch

    n, epochs, batch = sizes["n"], sizes["epochs"], sizes["batch"]
    tutorial_batch = min(ref.TUTORIAL_BATCH, n)
    images = make_arrays(n, (224, 224))
    labels = np.random.default_rng(0).integers(0, N_CLASSES, n).astype(np.int64)
    labels[:N_CLASSES] = np.arange(min(N_CLASSES, n))  # every class present, whatever n
    rows = []

    # Untimed: the process's first ResNet-50 steps (allocator, oneDNN/cuDNN plans) would slow the first row.
    _estimator_row("warm-up", device, images[:2 * batch], labels[:2 * batch], batch=batch, epochs=1)
    for label, batchnorm in (("sktransfer FineTuneClassifier", "frozen"),
                             ("sktransfer, batchnorm='train'", "train")):
        _log(f"[throughput] {label}: FineTuneClassifier(timm:resnet50, all blocks, batchnorm={batchnorm!r}), "
             f"N={n}, batch {batch}, {epochs} epochs")
        rows.append(_estimator_row(label, device, images, labels, batch=batch, epochs=epochs, batchnorm=batchnorm))
    for r in rows:  # the backbone's normalisation, which the loops apply too
        mean, std = r.pop("mean"), r.pop("std")

    _log(f"[throughput] tutorial loop: fp32, batch {tutorial_batch}, {epochs} epochs")
    model = timm.create_model("resnet50", pretrained=False, num_classes=N_CLASSES)
    _reset_peak(device)
    seconds, losses = ref.tutorial_loop(model, images, labels, device, mean=mean, std=std,
                                        epochs=epochs, batch_size=tutorial_batch)
    rows.append({"loop": "tutorial loop", "precision": "float32", "batch": tutorial_batch, "n": n,
                 **_steady(seconds, n), "peak_gib": _peak_gib(device), "loss": losses})
    del model
    _free(device)

    tuned_precision = "bf16" if device.type == "cuda" else "fp32"
    _log(f"[throughput] tuned loop: {tuned_precision}, channels-last, batch {batch}")
    model = timm.create_model("resnet50", pretrained=False, num_classes=N_CLASSES)
    _reset_peak(device)
    seconds, losses = ref.tuned_loop(model, images, labels, device, mean=mean, std=std,
                                     epochs=epochs, batch_size=batch, precision=tuned_precision)
    rows.append({"loop": "tuned loop (for scale)", "precision": {"bf16": "bfloat16"}.get(tuned_precision, "float32"),
                 "batch": batch, "n": n, **_steady(seconds, n), "peak_gib": _peak_gib(device), "loss": losses})
    del model
    _free(device)

    base = next(r for r in rows if r["loop"] == "tutorial loop")["images_per_s"]
    for r in rows:
        r["vs_tutorial"] = r["images_per_s"] / base
        _log(f"  {r['loop']}: {r['images_per_s']:.1f} images/s ({r['vs_tutorial']:.2f}x the tutorial), "
             f"epochs {r['epoch_s']}")
    kind = "cuda" if device.type == "cuda" else "cpu"
    # The target is judged on the estimator doing the tutorial's work (BatchNorm on batch statistics);
    # its default (running statistics) is reported beside it.
    speedup = rows[1]["vs_tutorial"]
    return {"rows": rows, "speedup": speedup, "speedup_default": rows[0]["vs_tutorial"],
            "target": f">= {TARGET_SPEEDUP:g}x (CUDA)",
            "met": ("yes" if speedup >= TARGET_SPEEDUP else "no") if kind == "cuda" else "n/a (CPU)",
            "torch_threads": torch.get_num_threads()}


def _estimator_row(label: str, device: Any, images: np.ndarray, labels: np.ndarray, *, batch: int, epochs: int,
                   **params: Any) -> dict:
    """Fit FineTuneClassifier on the images; its epoch times, one-off time, memory and losses."""
    from sktransfer.deep import FineTuneClassifier
    from sktransfer.deep._runtime import resolve_precision

    n = len(images)
    clf = FineTuneClassifier("timm:resnet50", weights="random", n_trainable_blocks="all", head_epochs=0,
                             max_epochs=epochs, batch_size=batch, device=str(device), random_state=0, **params)
    _reset_peak(device)
    start = time.perf_counter()
    clf.fit(images, labels)
    fit_s = time.perf_counter() - start
    seconds = [h["seconds"] for h in clf.history_]
    cfg = clf.net_.adapter.config
    precision = str(resolve_precision(clf.precision, device, owner="benchmark")).replace("torch.", "")
    row = {"loop": label, "precision": precision, "batch": batch, "n": n, **_steady(seconds, n),
           "fit_s": round(fit_s, 3), "one_off_s": round(fit_s - sum(seconds), 3), "peak_gib": _peak_gib(device),
           "loss": [h["train_loss"] for h in clf.history_], "mean": tuple(cfg.mean), "std": tuple(cfg.std)}
    del clf
    _free(device)
    return row


# --------------------------------------------------------------------------- accuracy
def accuracy_case(device: Any, sizes: dict, data_home: str, plot_path: Path) -> dict:
    runs = []
    description = ""
    for seed in sizes["seeds"]:
        task = example.load_task(data_home, per_class_n=sizes["per_class"], n_test=sizes["n_test"], seed=seed)
        description = task.description
        _log(f"[accuracy] seed {seed}: {task.description}")
        results = example.run_strategies(task, epochs=sizes["epochs"], batch_size=sizes["batch_size"],
                                         device=str(device), seed=seed, log=lambda m: _log("  " + m))
        if seed == sizes["seeds"][0]:
            example.plot_curves(results, plot_path, title=f"EfficientNet-Lite0 on {len(task.y_train)} labelled "
                                                          f"target digits ({device.type}, seed {seed})")
        runs.append({"seed": seed, "n_train": int(len(task.y_train)), "n_test": int(len(task.y_test)),
                     "results": [{"strategy": r.name, "accuracy": r.accuracy, "fit_s": r.fit_s,
                                  "predict_s": r.predict_s, "epochs": r.epochs,
                                  "history": r.history} for r in results]})
    summary = []
    for i, first in enumerate(runs[0]["results"]):
        acc = [run["results"][i]["accuracy"] for run in runs]
        fit = [run["results"][i]["fit_s"] for run in runs]
        summary.append({"strategy": first["strategy"], "accuracy_mean": float(np.mean(acc)),
                        "accuracy_sd": float(np.std(acc, ddof=1)) if len(acc) > 1 else None,
                        "accuracy_per_seed": acc, "fit_s_median": float(np.median(fit)),
                        "epochs": first["epochs"], "deep": bool(first["history"])})
    return {"description": description, "sizes": {k: v for k, v in sizes.items()}, "runs": runs,
            "summary": summary, "plot": plot_path.name}


# --------------------------------------------------------------------------- report
def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.2f}"


def throughput_table(case: dict) -> str:
    lines = ["| loop | precision | batch | images/s | vs tutorial | epochs timed | peak GPU memory (GiB) |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in case["rows"]:
        peak = "-" if r["peak_gib"] is None else f"{r['peak_gib']:.1f}"
        lines.append(f"| {r['loop']} | {r['precision']} | {r['batch']} | {_rate(r['images_per_s'])} "
                     f"| {r['vs_tutorial']:.2f}x | {r['timed_epochs']} x {r['n']:,} | {peak} |")
    return "\n".join(lines)


def accuracy_table(case: dict) -> str:
    n = len(case["runs"])
    head = "target accuracy" + (f" (mean ± sd, {n} draws)" if n > 1 else "")
    lines = [f"| strategy | {head} | fit time (s{', median' if n > 1 else ''}) | epochs |", "|---|---:|---:|---:|"]
    for s in case["summary"]:
        acc = f"{s['accuracy_mean']:.1%}" + (f" ± {s['accuracy_sd']:.1%}" if s["accuracy_sd"] is not None else "")
        lines.append(f"| {s['strategy']} | {acc} | {s['fit_s_median']:.1f} | {s['epochs'] if s['deep'] else '-'} |")
    return "\n".join(lines)


NOTES = """\
- Throughput: every side trains timm's ResNet-50 (random weights, 10 outputs)
  on the same N random 224x224 uint8 images, already decoded in host memory,
  every parameter trained, for a few epochs; images/s is N / the median wall
  time of the epochs after the first. For sktransfer these are the estimator's
  own `history_[i]["seconds"]`: each epoch from the first batch's indexing to
  reading back the epoch's mean loss, which waits for the device; the one-off work
  of `fit` (probe forward pass, copy of the images into one uint8 tensor,
  optimiser) is the fit time minus the epoch times, shown in the details.
  The two loops synchronise the device at the end of each epoch.
- The same work: with `batchnorm="train"` FineTuneClassifier normalises with
  batch statistics as the tutorial's `model.train()` does; the target is
  judged on that row. Its default, `batchnorm="frozen"`, keeps BatchNorm on
  running statistics (less work) and is shown above it. The estimator also
  clips the gradient norm and steps a learning-rate schedule; the tutorial
  loop does neither. The model's new head is a Linear on the pooled features
  everywhere (timm's `num_classes=10` for the loops).
- tuned loop: what a hand-written loop doing the estimator's work reaches on
  this device (bf16 autocast on CUDA, channels-last, batch as sktransfer's,
  uint8 batches through pinned memory normalised on the device, BatchNorm on
  running statistics, no clipping, no host sync inside the epoch); it is not
  the target's baseline, only a yardstick for the estimator's overheads.
- Accuracy: `examples/finetune_images.py`'s strategies and hyperparameters on
  its task (the learning curves of the first draw are in the PNG). On CUDA
  precision "auto" is bf16, so numbers differ slightly from a CPU run.
"""


def render(payload: dict) -> str:
    m = payload["machine"]
    lines = [f"# Fine-tuning benchmark ({payload['device_kind']})", "",
             f"Command: `{payload['command']}`  ",
             f"Date: {m['date']}; git {m.get('git_commit', '?')}"
             f"{' (sktransfer/ modified)' if m.get('git_dirty_sktransfer') else ''}.  ",
             f"Device: {m.get('device_name') or m['device']}; CPU: {m['cpu_model']}, {m['cpu_count']} cores "
             f"({m['cpus_usable']} usable, torch threads {m['torch_threads']}).  ",
             f"torch {m['torch']}, torchvision {m.get('torchvision')}, timm {m.get('timm')}, Python {m['python']}. "
             f"Total {payload.get('total_wall_s', '?')} s.", ""]
    if payload.get("quick"):
        lines += ["**Quick mode** (tiny sizes): a smoke test of the code paths, not a measurement.", ""]
    t = payload.get("throughput")
    if t:
        lines += ["## Training throughput: ResNet-50, 224x224, all blocks", ""]
        if "error" in t:
            lines += [f"**Failed**: `{t['error']}`", ""]
        else:
            lines += [throughput_table(t), "",
                      f"sktransfer (batchnorm='train', the tutorial's work) / tutorial loop: **{t['speedup']:.2f}x**; "
                      f"target {t['target']}: {t['met']}. With its default batchnorm='frozen': "
                      f"{t.get('speedup_default', float('nan')):.2f}x.", ""]
            if payload["device_kind"] == "cpu":
                lines += ["On the CPU with a handful of images this only checks that every code path runs.", ""]
            lines += ["Details: " + "; ".join(
                f"{r['loop']}: epochs {', '.join(f'{s:.2f}' for s in r['epoch_s'])} s"
                + (f", fit {r['fit_s']:.1f} s of which one-off {r['one_off_s']:.1f} s" if "fit_s" in r else "")
                for r in t["rows"]) + ".", ""]
    a = payload.get("accuracy")
    if a:
        lines += ["## Accuracy of the strategies: EfficientNet-Lite0, 5 labelled USPS digits per class", ""]
        if "error" in a:
            lines += [f"**Failed**: `{a['error']}`", ""]
        else:
            lines += [f"{a['description']}.", "", accuracy_table(a), "", f"![learning curves]({a['plot']})", ""]
    lines += ["## How it is measured", "", NOTES]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test of every code path")
    parser.add_argument("--cases", nargs="+", choices=("throughput", "accuracy"),
                        default=["throughput", "accuracy"])
    parser.add_argument("--data-home", default=str(DEFAULT_DATA_HOME),
                        help="folder holding mnist_usps/MNIST_vs_USPS.mat (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .md, .json and .png")
    args = parser.parse_args(argv)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here (use --device auto or cpu)")
    device = torch.device("cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
                          else "cpu")
    kind = "cuda" if device.type == "cuda" else "cpu"
    size_key = "quick" if args.quick else kind
    stem = f"finetune_{kind}{'_quick' if args.quick else ''}"
    args.out.mkdir(parents=True, exist_ok=True)

    command = "python benchmarks/finetune.py " + " ".join(argv if argv is not None else sys.argv[1:])
    payload: dict = {"command": command.strip(), "device_kind": kind, "quick": args.quick,
                     "machine": machine_info(device)}
    _log(f"device {device} ({payload['machine']['device_name']}), cases: {', '.join(args.cases)}")
    start = time.perf_counter()
    failed = False
    for case in args.cases:
        try:
            if case == "throughput":
                payload["throughput"] = throughput_case(device, THROUGHPUT[size_key])
            else:
                payload["accuracy"] = accuracy_case(device, ACCURACY[size_key], args.data_home,
                                                    args.out / f"{stem}.png")
        except Exception as exc:  # one broken case must not lose the other
            import traceback

            traceback.print_exc()
            payload[case] = {"error": f"{type(exc).__name__}: {exc}"}
            failed = True
        _free(device)
    payload["total_wall_s"] = round(time.perf_counter() - start, 1)

    report = render(payload)
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=2, default=str))
    (args.out / f"{stem}.md").write_text(report)
    if "throughput" in payload and "error" not in payload["throughput"]:
        print(throughput_table(payload["throughput"]))
        print()
    if "accuracy" in payload and "error" not in payload["accuracy"]:
        print(accuracy_table(payload["accuracy"]))
    _log(f"total {payload['total_wall_s']} s; wrote {args.out / stem}.md, .json and .png")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
