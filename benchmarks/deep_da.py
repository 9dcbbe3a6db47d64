"""Deep domain adaptation: DomainAdaptationClassifier's losses beside skada.deep's, on the suite's features.

For each task a network with one hidden layer of 256 ReLU units is trained
on the labelled source rows and, but for the source-only rows, on the
unlabelled target rows through a domain loss; it is scored on every target
row (the suite's "full" protocol: all source rows labelled, all target rows
unlabelled during training, accuracy on all of them).

- **ours**: ``DomainAdaptationClassifier(backbone=None, loss=...)`` with
  ``loss`` None (source only), "coral", "mmd", "dann", "cdan", "cdan+e" and
  "mcc";
- **skada**: ``skada.deep``'s SourceOnly, DeepCoral, DAN, DANN, CDAN and MCC
  (no CDAN+E there) on the same rows with the same network, epochs, batch
  size, optimiser (AdamW), learning rate, weight decay, warm-up + cosine
  schedule and gradient clipping, in a child process
  (``benchmarks/_deep_da_skada.py`` says what each method gets, and why DANN
  and CDAN get a domain classifier of ours: skada 0.6.0's default one gives no
  adversarial gradient).

Datasets and preprocessing are the suite's (``benchmarks/_suite_datasets.py``):

- ``mnist_usps_deep``: MNIST -> USPS and USPS -> MNIST, the 3,800 JDA 16x16
  digits through the frozen ImageNet EfficientNet-Lite0 (1280-d pooled
  features, rows L2-normalised), beside the best shallow method of the suite
  on the same features (read from ``benchmarks/results/suite.json``);
- ``office_caltech_decaf``: Office-Caltech10 DeCAF6, D -> W and W -> D (rows
  L2-normalised);
- ``office_caltech_surf``: Office-Caltech10 SURF, the 12 tasks (each domain
  z-scored);
- ``mnist_usps_images`` (``--images``, never by default): the same digits as
  images (padded to 20x20, resized to 224x224 by the backbone's
  preprocessing) through EfficientNet-Lite0 with its top 2 blocks trained
  (``backbone="efficientnet_lite0", n_trainable_blocks=2``); ours only (skada
  is given feature rows), and on a CPU only on a few rows and epochs.

Hyperparameters are one fixed setting per dataset (``SETTINGS``), never
chosen on target labels. The batch size (32 source rows, paired with 32
target rows), the loss weight 1 and the domain discriminator (two hidden
layers of 1024 units, dropout 0.5) are the papers' (DANN, CDAN, MCC, DAN;
Deep CORAL's paper instead balances its two losses per task, which is not
done here). Each library keeps its own ramp: ours switches the domain loss on
over its first 1000 steps (``ramp_steps``' default, the authors' code);
skada applies its losses at full weight from the first step and reverses
DANN's and CDAN's gradient with a constant factor 1. The hidden layer of 256 units is issue 19's; the number of
epochs and the learning rate were chosen by ``--select-on-source``: the
source-only network trained on 80% of each source domain's rows and scored
on the other 20% (stratified), over a grid whose epochs are bounded by the
CPU budget. Every number is the mean over ``--seeds`` seeds (0, 1, ...);
fit times are summed over the tasks and averaged over the seeds.

Usage (from the repository root)::

    python -m benchmarks.deep_da --data-home ../shared/data                   # ~40 min on 2 shared CPU cores
    python -m benchmarks.deep_da --data-home ../shared/data --quick           # a smoke test (~10 min)
    python -m benchmarks.deep_da --data-home ../shared/data --device cuda     # one command on a GPU
    python -m benchmarks.deep_da --data-home ../shared/data --images --datasets mnist_usps_images --epochs 2
    python -m benchmarks.deep_da --data-home ../shared/data --select-on-source
    python -m benchmarks.deep_da --data-home ../shared/data --skada-from 7b057c6:benchmarks/results/deep_da_cpu.json

Writes ``benchmarks/results/deep_da_<cpu|cuda>[_quick][_images].{md,json}``
(``--out STEM`` elsewhere).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

#: (row label, our ``loss``); skada's counterparts are ``_deep_da_skada.SKADA_METHODS``
METHODS = (("source only", None), ("CORAL", "coral"), ("MMD (DAN)", "mmd"), ("DANN", "dann"),
           ("CDAN", "cdan"), ("CDAN+E", "cdan+e"), ("MCC", "mcc"))
FEATURE_DATASETS = ("mnist_usps_deep", "office_caltech_decaf", "office_caltech_surf")
IMAGES = "mnist_usps_images"
#: the backbone of ``--images`` (the suite's deep digits read its frozen features)
IMAGE_BACKBONE = "efficientnet_lite0"
DEFAULT_SEEDS = 3
#: --quick: at most this many rows per domain (stratified), these tasks, one seed, at most these epochs
QUICK = {"max_rows": 300, "tasks": {"mnist_usps_deep": 2, "office_caltech_decaf": 1, "office_caltech_surf": 2,
                                    IMAGES: 1}, "epochs": 5}
#: --images on a CPU: rows per domain (stratified) unless --image-rows says otherwise
IMAGE_ROWS_CPU = 300


@dataclass(frozen=True)
class Setting:
    """The training of one dataset, the same for every method and both libraries."""

    epochs: int
    lr: float
    batch_size: int = 32
    weight_decay: float = 0.01
    head: tuple[int, ...] = (256,)
    dropout: float = 0.0
    loss_weight: float = 1.0
    #: ours only (skada has no ramp): steps over which the domain loss is switched on (the estimator's default)
    ramp_steps: int | None = 1000
    discriminator: tuple[int, ...] = (1024, 1024)
    #: where the epochs and learning rate come from
    chosen_by: str = ""


_SELECTED = "source-only validation (--select-on-source)"
SETTINGS = {
    # validation accuracy 94.9 (sources M and U; the grid's best)
    "mnist_usps_deep": Setting(epochs=10, lr=1e-2, chosen_by=_SELECTED),
    # 99.2 (sources D and W), tied with 10 epochs at lr 3e-3 and 1e-2: the cheapest
    "office_caltech_decaf": Setting(epochs=5, lr=1e-2, chosen_by=_SELECTED),
    # 78.9 (sources C, A, W and D)
    "office_caltech_surf": Setting(epochs=10, lr=1e-3, chosen_by=_SELECTED),
    IMAGES: Setting(epochs=2, lr=1e-3, chosen_by="the CPU budget (2 epochs) and the fine-tuning default lr"),
}
#: --select-on-source: the grid (epochs bounded by the CPU budget of the full run) and the held-out share
SELECT_GRID = {"epochs": (5, 10), "lr": (1e-3, 3e-3, 1e-2)}
SELECT_HOLDOUT = 0.2


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- tasks
@dataclass(frozen=True)
class DeepTask:
    """One task: source rows (labelled), target rows (unlabelled in training, scored)."""

    name: str
    Xs: np.ndarray
    ys: np.ndarray
    Xt: np.ndarray
    yt: np.ndarray
    images: bool = False


def _digit_images(data_home: str, max_rows: int | None) -> dict:
    """The suite's deep digits before the extractor: 16x16 digits padded to 20x20 grey images."""
    from benchmarks._suite_datasets import capped_rows
    from sktransfer.datasets import fetch_mnist_usps

    (Xm, ym), (Xu, yu) = fetch_mnist_usps(("mnist", "usps"), data_home=data_home, download_if_missing=False,
                                          return_X_y=True)
    out = {}
    for code, X, y in (("M", Xm, ym), ("U", Xu, yu)):
        keep = capped_rows(y, max_rows)
        images = np.pad(np.asarray(X, np.float32)[keep].reshape(-1, 16, 16), ((0, 0), (2, 2), (2, 2)))
        out[code] = (images, np.asarray(y)[keep])
    return out


def dataset_tasks(key: str, data_home: str, *, quick: bool, image_rows: int | None = None) -> list[DeepTask]:
    """The tasks of one dataset, loaded as the suite loads them (``--quick``: fewer, capped)."""
    from benchmarks._suite_datasets import DATASETS

    max_rows = QUICK["max_rows"] if quick else None
    if key == IMAGES:
        pairs = DATASETS["mnist_usps_deep"].tasks
        digits = _digit_images(data_home, image_rows if image_rows is not None else max_rows)
        pairs = pairs[: QUICK["tasks"][key]] if quick else pairs
        return [DeepTask(f"{s}->{t}", *digits[s], *digits[t], images=True) for s, t in pairs]
    ds = DATASETS[key]
    pairs = ds.tasks[: QUICK["tasks"][key]] if quick else ds.tasks
    out = []
    for s, t in pairs:
        task = ds.load(data_home, s, t, max_rows=max_rows)
        out.append(DeepTask(ds.task_name(s, t), task.Xs, task.ys, task.Xt, task.yt))
    return out


# --------------------------------------------------------------------------- ours
def ours_estimator(loss: str | None, setting: Setting, seed: int, device: str, *, images: bool = False):
    """Our estimator for ``loss`` with ``setting`` (feature rows, or the image backbone with 2 blocks trained)."""
    from sktransfer.deep import DomainAdaptationClassifier

    backbone = dict(backbone=IMAGE_BACKBONE, n_trainable_blocks=2) if images else dict(backbone=None)
    return DomainAdaptationClassifier(
        **backbone, loss=loss, loss_weight=setting.loss_weight, ramp_steps=setting.ramp_steps, head=setting.head,
        dropout=setting.dropout, discriminator=setting.discriminator, max_epochs=setting.epochs, batch_size=setting.batch_size,
        lr=setting.lr, weight_decay=setting.weight_decay, random_state=seed, device=device)


def _stacked(task: DeepTask) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dtype = np.float32
    X = np.concatenate([task.Xs, task.Xt]).astype(dtype)
    y = np.r_[task.ys, np.full(len(task.Xt), -1)]
    sd = np.r_[np.ones(len(task.Xs), int), np.full(len(task.Xt), -2)]
    return X, y, sd


def run_ours(task: DeepTask, setting: Setting, seeds: list[int], device: str, methods=None) -> dict:
    """``{label: {"acc": [per seed], "fit_s": [per seed]}}`` of our estimator on one task (``METHODS`` by default)."""
    X, y, sd = _stacked(task)
    Xt = task.Xt.astype(np.float32)
    out: dict = {}
    for label, loss in METHODS if methods is None else methods:
        runs: dict = {"acc": [], "fit_s": []}
        try:
            for seed in seeds:
                clf = ours_estimator(loss, setting, seed, device, images=task.images)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    clf.fit(X, y, sample_domain=sd)
                runs["fit_s"].append(time.perf_counter() - start)
                runs["acc"].append(100.0 * float(np.mean(clf.predict(Xt) == task.yt)))
        except Exception as exc:  # a method failing on a task is a result, not a crash
            runs = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        out[label] = runs
    return out


# --------------------------------------------------------------------------- skada
def skada_spec(setting: Setting, seeds: list[int], device: str, methods) -> dict:
    """What the skada child needs: the shared training settings (``benchmarks/_deep_da_skada.py``)."""
    from sktransfer.deep._adaptation._objective import MCC_TEMPERATURE

    return {"methods": list(methods), "seeds": list(seeds), "head": list(setting.head), "dropout": setting.dropout,
            "epochs": setting.epochs, "batch_size": setting.batch_size, "lr": setting.lr,
            "weight_decay": setting.weight_decay, "warmup_fraction": 0.1, "grad_clip": 1.0,
            "loss_weight": setting.loss_weight, "discriminator": list(setting.discriminator),
            "discriminator_dropout": 0.5, "mcc_temperature": MCC_TEMPERATURE, "device": device}


def run_skada(task: DeepTask, setting: Setting, seeds: list[int], device: str, *, timeout: float = 3600.0,
              methods=None) -> dict:
    """skada's methods on one task, in a child process; ``{"error": ...}`` when the child fails."""
    from benchmarks._deep_da_skada import SKADA_METHODS

    methods = list(SKADA_METHODS) if methods is None else methods
    codes, ys = np.unique(task.ys, return_inverse=True)  # skada predicts class indices 0 .. C-1
    index = {c: i for i, c in enumerate(codes.tolist())}
    yt = np.array([index.get(c, -1) for c in task.yt.tolist()])  # -1: a class absent from the source
    spec = skada_spec(setting, seeds, device, methods)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "task.npz"
        np.savez(path, Xs=np.asarray(task.Xs, np.float32), ys=ys, Xt=np.asarray(task.Xt, np.float32), yt=yt)
        cmd = [sys.executable, "-m", "benchmarks._deep_da_skada", str(path), json.dumps(spec)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
        except subprocess.TimeoutExpired:
            return {"error": f"timeout (> {timeout:g} s)"}
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no message)"]
        return {"error": "failed: " + lines[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the run
def run(keys, data_home: str, *, seeds: int, device: str, quick: bool, skada: bool, epochs: int | None = None,
        image_rows: int | None = None, skada_from: dict | None = None) -> tuple[dict, dict]:
    """Every dataset's tasks, ours then skada's; the results and the settings used.

    ``skada_from`` (a saved payload, see :func:`reusable_skada`) supplies
    skada's rows instead of running skada again.
    """
    results: dict = {}
    settings: dict = {}
    seed_list = list(range(seeds))
    _warm_up(device)
    for key in keys:
        setting = SETTINGS[key]
        if epochs is not None:
            setting = replace(setting, epochs=epochs, chosen_by=f"{setting.chosen_by}; epochs set by --epochs")
        elif quick:
            setting = replace(setting, epochs=min(setting.epochs, QUICK["epochs"]))
        settings[key] = asdict(setting)
        start = time.perf_counter()
        tasks = dataset_tasks(key, data_home, quick=quick, image_rows=image_rows)
        _log(f"{key}: {len(tasks)} tasks loaded in {time.perf_counter() - start:.0f} s")
        for task in tasks:
            row: dict = {}
            start = time.perf_counter()
            row["ours"] = run_ours(task, setting, seed_list, device)
            _log(f"  ours {key} {task.name}: {time.perf_counter() - start:.0f} s "
                 + ", ".join(f"{k} {_mean_acc(v):.1f}" for k, v in row["ours"].items()))
            if skada and not task.images and skada_from is not None:
                row["skada"] = reusable_skada(skada_from, key, task.name, asdict(setting))
            elif skada and not task.images:
                start = time.perf_counter()
                row["skada"] = run_skada(task, setting, seed_list, device)
                _log(f"  skada {key} {task.name}: {time.perf_counter() - start:.0f} s "
                     + ", ".join(f"{k} {_mean_acc(v):.1f}" for k, v in row["skada"].items() if isinstance(v, dict)))
            results.setdefault(key, {})[task.name] = row
    return results, settings


#: settings that only our estimator reads: a change in them leaves skada's rows valid
OURS_ONLY_SETTINGS = ("ramp_steps", "chosen_by")


def check_saved_run(saved: dict, *, seeds: list[int], device: str, quick: bool) -> None:
    """Stop unless a saved run's skada rows were measured as this run would measure them (once per run)."""
    version = _versions()["skada"]
    if saved.get("versions", {}).get("skada") != version:
        raise SystemExit(f"--skada-from: the saved run used skada {saved.get('versions', {}).get('skada')}, "
                         f"this one has {version}")
    if list(range(int(saved["seeds"]))) != list(seeds):
        raise SystemExit(f"--skada-from: the saved run used seeds 0..{saved['seeds'] - 1}, this one {seeds}")
    if saved.get("device_kind") != device or saved.get("quick") != quick:
        raise SystemExit(f"--skada-from: the saved run ran on {saved.get('device_kind')} with quick="
                         f"{saved.get('quick')}, this one on {device} with quick={quick}")


def reusable_skada(saved: dict, key: str, task: str, setting: dict) -> dict:
    """skada's rows of ``task`` from a saved run (see :func:`check_saved_run`), if its settings are this run's.

    skada's numbers depend only on the task's rows, the settings it is given,
    the seeds, the device and skada's version; a run that changes only our
    estimator (or our settings, ``OURS_ONLY_SETTINGS``) need not spend two
    thirds of its time running skada again. Any difference raises.
    """
    where = f"--skada-from: {key} {task}"
    old = {k: v for k, v in saved["settings"].get(key, {}).items() if k not in OURS_ONLY_SETTINGS}
    new = {k: v for k, v in json.loads(json.dumps(setting)).items() if k not in OURS_ONLY_SETTINGS}
    if old != new:
        raise SystemExit(f"{where}: the saved settings {old} differ from this run's {new}")
    try:
        return saved["results"][key][task]["skada"]
    except KeyError:
        raise SystemExit(f"{where}: the saved run has no skada rows for this task") from None


def read_saved(where: str) -> str:
    """A saved run's JSON: a file, or ``REV:PATH`` read from git (a run since overwritten in the tree)."""
    if Path(where).is_file() or ":" not in where:
        return Path(where).read_text()
    return subprocess.run(["git", "show", where], cwd=REPO, check=True, capture_output=True, text=True).stdout


def _warm_up(device: str) -> None:
    """One untimed tiny fit: the process's first fit pays for imports and kernel set-up, which no row should."""
    rng = np.random.RandomState(0)
    task = DeepTask("warm-up", rng.normal(size=(8, 4)), np.arange(8) % 2, rng.normal(size=(8, 4)), np.arange(8) % 2)
    run_ours(task, Setting(epochs=1, lr=1e-3, batch_size=4, head=(4,), discriminator=(4,)), [0], device,
             methods=[("DANN", "dann")])


def _mean_acc(entry) -> float:
    return float(np.mean(entry["acc"])) if isinstance(entry, dict) and entry.get("acc") else float("nan")


# --------------------------------------------------------------------------- source-only selection
def select_on_source(keys, data_home: str, device: str, grid: dict = SELECT_GRID) -> dict:
    """Validation accuracy of the source-only network per grid point, averaged over each dataset's sources.

    Each source domain of a dataset once: 80% of its rows train, 20%
    (stratified) are scored; the held-out rows are handed to ``fit`` as the
    unlabelled rows, which the source-only network does not read.
    """
    from sklearn.model_selection import train_test_split

    out = {}
    for key in keys:
        sources: dict = {}
        for task in dataset_tasks(key, data_home, quick=False):
            sources.setdefault(task.name.split("->")[0], task)
        scores: dict = {}
        for epochs in grid["epochs"]:
            for lr in grid["lr"]:
                accs = []
                for task in sources.values():
                    fit, val = train_test_split(np.arange(len(task.ys)), test_size=SELECT_HOLDOUT,
                                                stratify=task.ys, random_state=0)
                    split = DeepTask(task.name, task.Xs[fit], task.ys[fit], task.Xs[val], task.ys[val])
                    setting = replace(SETTINGS[key], epochs=epochs, lr=lr)
                    accs.append(_mean_acc(run_ours(split, setting, [0], device, methods=[("source only", None)])
                                          ["source only"]))
                scores[f"epochs={epochs}, lr={lr:g}"] = float(np.mean(accs))
                _log(f"{key} epochs={epochs} lr={lr:g}: {scores[f'epochs={epochs}, lr={lr:g}']:.2f}")
        # ties go to the earlier grid point (fewer epochs, smaller learning rate)
        best = max(scores, key=lambda k: (scores[k], -list(scores).index(k)))
        out[key] = {"sources": list(sources), "scores": scores, "best": best}
    return out


# --------------------------------------------------------------------------- report
def shallow_reference(path: Path = RESULTS / "suite.json") -> dict | None:
    """The suite's best unsupervised shallow method on the deep digits: ours, and the best of any library."""
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    summary = saved.get("summary", {}).get("mnist_usps_deep")
    if not summary:
        return None
    finite = {label: row for label, row in summary.items() if row.get("ours") == row.get("ours")}
    best = max(finite, key=lambda label: finite[label]["ours"])
    method, clf = best.split(" (")[0], "1nn" if best.endswith("(1-NN)") else "svm"
    per_task = {task: row.get(method, {}).get(clf)
                for task, row in saved["results"]["ours"].get("mnist_usps_deep", {}).items()}
    peers = [(row[lib], f"{label}, {lib}") for label, row in summary.items() for lib in row
             if lib not in ("ours", "published") and row[lib] == row[lib]]
    any_best = max(peers + [(finite[best]["ours"], f"{best}, ours")])
    return {"label": best, "mean": finite[best]["ours"], "per_task": per_task, "best_any": any_best[0],
            "best_any_label": any_best[1], "command": "python -m benchmarks.run " + " ".join(saved.get("command", [])),
            "date": saved.get("machine", {}).get("date", "?")}


def _fmt(v: float, digits: int = 1) -> str:
    return "-" if v is None or v != v else f"{v:.{digits}f}"


def method_means(rows: dict, lib: str, label: str) -> dict:
    """Mean over tasks of the seed-mean accuracy, its sd over seeds, and the summed fit time (NaN if missing)."""
    entries = [row.get(lib, {}).get(label) for row in rows.values()]
    if not entries or not all(isinstance(e, dict) and e.get("acc") for e in entries):
        return {"acc": float("nan"), "sd": float("nan"), "fit_s": float("nan")}
    per_seed = np.mean([e["acc"] for e in entries], axis=0)  # tasks x seeds -> the mean over tasks per seed
    return {"acc": float(np.mean(per_seed)), "sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else None,
            "fit_s": float(sum(np.mean(e["fit_s"]) for e in entries))}


def dataset_table(key: str, rows: dict, shallow: dict | None = None) -> tuple[str, dict]:
    """Markdown table of one dataset (a cell per task: ours / skada) and its numbers."""
    tasks = list(rows)
    has_skada = any("skada" in row for row in rows.values())
    cols = ["method", *tasks, "mean ours", *(["mean skada", "ours - skada", "ours fit (s)", "skada fit (s)"]
                                            if has_skada else ["ours fit (s)"])]
    lines = ["| " + " | ".join(cols) + " |", "|---|" + "---:|" * (len(cols) - 1)]
    numbers: dict = {}
    for label, _ in METHODS:
        cells = []
        for t in tasks:
            ours = _mean_acc(rows[t].get("ours", {}).get(label))
            cell = _fmt(ours)
            if has_skada:
                cell += " / " + _fmt(_mean_acc(rows[t].get("skada", {}).get(label)))
            cells.append(cell)
        o = method_means(rows, "ours", label)
        acc = _fmt(o["acc"]) + (f" ± {o['sd']:.1f}" if o["sd"] is not None and o["sd"] == o["sd"] else "")
        cells.append(acc)
        numbers[label] = {"ours": o["acc"], "ours_sd": o["sd"], "ours_fit_s": o["fit_s"]}
        if has_skada:
            s = method_means(rows, "skada", label)
            sacc = _fmt(s["acc"]) + (f" ± {s['sd']:.1f}" if s["sd"] is not None and s["sd"] == s["sd"] else "")
            diff = o["acc"] - s["acc"]
            cells += [sacc, ("-" if diff != diff else f"{diff:+.1f}"), _fmt(o["fit_s"]), _fmt(s["fit_s"])]
            numbers[label].update({"skada": s["acc"], "skada_sd": s["sd"], "skada_fit_s": s["fit_s"]})
        else:
            cells.append(_fmt(o["fit_s"]))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if shallow is not None:
        cells = [_fmt(shallow["per_task"].get(t)) for t in tasks] + [_fmt(shallow["mean"])]
        cells += ["", "", "", ""] if has_skada else [""]
        lines.append(f"| best shallow: {shallow['label']} (suite) | " + " | ".join(cells) + " |")
    return "\n".join(lines), numbers


def comparison_lines(numbers: dict, shallow: dict | None = None) -> list[str]:
    """Issue 19's comparisons under a table: ours against skada per method, and the deep digits' shallow bar."""
    out = []
    pairs = [(label, row) for label, row in numbers.items() if "skada" in row and row["skada"] == row["skada"]]
    if pairs:
        at_least = [f"{label} ({row['ours'] - row['skada']:+.1f})" for label, row in pairs
                    if row["ours"] >= row["skada"]]
        below = [f"{label} ({row['ours']:.1f} vs {row['skada']:.1f})" for label, row in pairs
                 if not row["ours"] >= row["skada"]]
        out.append(f"Ours >= skada on the mean of the tasks: {', '.join(at_least) or 'none'}.")
        if below:
            out.append(f"Ours below skada: {', '.join(below)}.")
    if shallow is not None:
        adapted = {label: row["ours"] for label, row in numbers.items() if label != "source only"}
        above = [f"{label} {acc:.1f}" for label, acc in adapted.items() if acc >= shallow["mean"]]
        best = max(adapted, key=lambda k: -np.inf if adapted[k] != adapted[k] else adapted[k])
        out.append(f"Best shallow method on these features (BENCHMARKS.md): {shallow['label']} {shallow['mean']:.1f} "
                   f"(the best of any library: {shallow['best_any_label']} {shallow['best_any']:.1f}). "
                   + (f"Deep DA of ours at or above it: {', '.join(above)}." if above else
                      f"No deep DA method of ours reaches it; the best is {best} {adapted[best]:.1f}."))
    return out


def targets(summary: dict, shallow: dict | None) -> list[str]:
    """Issue 19's two targets, judged on the numbers of this run."""
    lines = []
    per_method: dict = {}
    for key, numbers in summary.items():
        for label, row in numbers.items():
            if "skada" in row and row["skada"] == row["skada"]:
                per_method.setdefault(label, []).append((key, row["ours"] >= row["skada"]))
    if per_method:
        met = all(ok for v in per_method.values() for _, ok in v)
        lines.append(f"- Each of our methods >= skada's counterpart on the mean of each dataset's tasks: "
                     f"**{'met' if met else 'not met'}**"
                     + ("" if met else " (below on: " + "; ".join(
                         f"{label}: {', '.join(k for k, ok in v if not ok)}" for label, v in per_method.items()
                         if not all(ok for _, ok in v)) + ")") + ".")
    digits = summary.get("mnist_usps_deep")
    if digits is not None and shallow is not None:
        best = max((row["ours"], label) for label, row in digits.items()
                   if label != "source only" and row["ours"] == row["ours"])
        lines.append(f"- At least one deep DA method of ours >= the best shallow method on the deep digits "
                     f"({shallow['mean']:.1f}): **{'met' if best[0] >= shallow['mean'] else 'not met'}** "
                     f"(best: {best[1]} {best[0]:.1f}).")
    return lines


def render(payload: dict) -> tuple[str, dict]:
    """The page: command, machine, settings, one table per dataset, the targets."""
    from benchmarks._suite_datasets import DATASETS

    m, v = payload["machine"], payload.get("versions", {})
    lines = [f"# Deep domain adaptation ({payload['device_kind']})", "",
             f"Command: `{payload['command']}`  ",
             f"Date: {m['date']}; git {m.get('git_commit', '?')}"
             f"{' (sktransfer/ modified)' if m.get('git_dirty_sktransfer') else ''}.  ",
             f"Device: {m.get('device_name') or m['device']}; CPU: {m['cpu_model']}, {m['cpu_count']} cores "
             f"({m['cpus_usable']} usable, torch threads {m['torch_threads']}).  ",
             f"torch {m['torch']}, scikit-learn {v.get('scikit-learn', '?')}, skada {v.get('skada', '?')}, "
             f"skorch {v.get('skorch', '?')}, Python {m['python']}. Total {payload['elapsed_s'] / 60:.0f} min.", "",
             f"Target accuracy (%) on every target row, mean over {payload['seeds']} seed(s) (± the standard "
             "deviation over seeds of the mean over tasks); each task cell is ours / skada. Fit times are summed "
             "over the tasks, mean over seeds, on a shared machine (they vary from run to run). The protocol and "
             "what skada is given are in `benchmarks/deep_da.py` and `benchmarks/_deep_da_skada.py`.", ""]
    if payload.get("skada_from"):
        src = payload["skada_from"]
        lines += [f"skada's rows (accuracy and fit time) come from the run of {src['date']} (git {src['git']}, "
                  f"`{src['file']}`), reused by `--skada-from`: the same tasks, settings, seeds and skada version "
                  "(checked); only our estimator changed since. The total time above is ours alone.", ""]
    if payload.get("quick"):
        lines += [f"**--quick**: a smoke test, not the protocol: at most {QUICK['max_rows']} rows per domain, "
                  f"the first tasks only, at most {QUICK['epochs']} epochs, one seed.", ""]
    shallow = payload.get("shallow")
    summary = {}
    for key, rows in payload["results"].items():
        name = DATASETS[key].name if key in DATASETS else (
            f"MNIST <-> USPS as images through {IMAGE_BACKBONE}, top 2 blocks trained")
        s = payload["settings"][key]
        ramp = "the whole run" if s.get("ramp_steps") is None else f"{s['ramp_steps']} steps"
        table, numbers = dataset_table(key, rows, shallow if key == "mnist_usps_deep" else None)
        summary[key] = numbers
        lines += [f"## {name}", "",
                  f"Tasks: {', '.join(rows)}. Training: head {tuple(s['head'])}, {s['epochs']} epochs, batch "
                  f"{s['batch_size']} source + {s['batch_size']} target rows, AdamW lr {s['lr']:g}, weight decay "
                  f"{s['weight_decay']:g}, warm-up + cosine, loss weight {s['loss_weight']:g} (ours ramped in over {ramp}), discriminator "
                  f"{tuple(s['discriminator'])}; epochs and lr from {s['chosen_by']}.", "", table, ""]
        errors = _errors(rows)
        lines += [f"- {line}" for line in comparison_lines(numbers, shallow if key == "mnist_usps_deep" else None)]
        lines += [f"- failed: {e}" for e in errors]
        lines.append("")
    goals = targets(summary, shallow)
    if goals:
        lines += ["## Targets of issue 19", ""] + goals + [""]
    if shallow is not None:
        lines += [f"The shallow number comes from `benchmarks/results/suite.json` ({shallow['command']}, "
                  f"{shallow['date']}): the SVM or 1-NN after each unsupervised shallow method on the same "
                  "features, as BENCHMARKS.md shows.", ""]
    notes = payload.get("notes")
    if notes:
        lines += ["## Notes", "", notes.strip(), ""]
    return "\n".join(lines).rstrip() + "\n", summary


def _errors(rows: dict) -> list[str]:
    """``"<lib> <task> <method>: <error>"`` for each method (or whole child process) that failed."""
    out = []
    for task, row in rows.items():
        for lib, entries in row.items():
            if "error" in entries:
                out.append(f"{lib} {task}: {entries['error']}")
                continue
            out += [f"{lib} {task} {label}: {e['error']}" for label, e in entries.items() if "error" in e]
    return out


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("scikit-learn", "skada", "skorch"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-home", required=True, help="folder holding the dataset folders (../shared/data)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--quick", action="store_true", help="a smoke test (< 3 min on 2 cores)")
    parser.add_argument("--seeds", type=int, default=None, help=f"seeds per number (default {DEFAULT_SEEDS}; 1 with --quick)")
    parser.add_argument("--epochs", type=int, default=None, help="replace every dataset's epochs")
    parser.add_argument("--datasets", nargs="+", default=None, choices=[*FEATURE_DATASETS, IMAGES],
                        help="default: the three feature datasets (plus the images with --images)")
    parser.add_argument("--images", action="store_true",
                        help=f"add MNIST <-> USPS as images through {IMAGE_BACKBONE}, top 2 blocks trained (slow)")
    parser.add_argument("--image-rows", type=int, default=None,
                        help=f"rows per domain of --images (default: all on CUDA, {IMAGE_ROWS_CPU} on the CPU)")
    parser.add_argument("--no-skada", action="store_true", help="ours only")
    parser.add_argument("--skada-from", default=None, metavar="JSON",
                        help="reuse skada's rows of a saved run with the same settings, seeds and skada version")
    parser.add_argument("--select-on-source", action="store_true",
                        help="print the source-only validation grid that chose SETTINGS, and stop")
    parser.add_argument("--out", default=None, help="stem of the .md and .json (default benchmarks/results/...)")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    sys.path.insert(0, str(REPO))

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here")
    keys = args.datasets or list(FEATURE_DATASETS)
    if args.images and IMAGES not in keys:
        keys.append(IMAGES)
    if args.select_on_source:
        chosen = select_on_source([k for k in keys if k != IMAGES], args.data_home, args.device)
        for key, sel in chosen.items():
            print(f"## {key} (sources {', '.join(sel['sources'])}): best {sel['best']}")
            print("| grid point | validation accuracy (%) |\n|---|---:|")
            print("\n".join(f"| {k} | {acc:.2f} |" for k, acc in sel["scores"].items()))
        return
    seeds = args.seeds or (1 if args.quick else DEFAULT_SEEDS)
    image_rows = args.image_rows if args.image_rows is not None else (None if args.device == "cuda"
                                                                       else IMAGE_ROWS_CPU)
    suffix = ("_quick" if args.quick else "") + ("_images" if IMAGES in keys else "")
    stem = Path(args.out) if args.out else RESULTS / f"deep_da_{args.device}{suffix}"

    from benchmarks.extract_throughput import machine_info

    skada_from = json.loads(read_saved(args.skada_from)) if args.skada_from else None
    if skada_from is not None:
        check_saved_run(skada_from, seeds=list(range(seeds)), device=args.device, quick=args.quick)
    start = time.perf_counter()
    results, settings = run(keys, args.data_home, seeds=seeds, device=args.device, quick=args.quick,
                            skada=not args.no_skada, epochs=args.epochs, image_rows=image_rows,
                            skada_from=skada_from)
    payload = {"command": "python -m benchmarks.deep_da " + " ".join(argv), "device_kind": args.device,
               "quick": args.quick, "seeds": seeds, "machine": machine_info(torch.device(args.device)),
               "versions": _versions(), "elapsed_s": time.perf_counter() - start, "settings": settings,
               "shallow": shallow_reference(), "results": results, "notes": NOTES}
    if skada_from is not None:
        payload["skada_from"] = {"file": args.skada_from, "date": skada_from["machine"]["date"],
                                 "git": skada_from["machine"].get("git_commit"),
                                 "elapsed_s": skada_from.get("elapsed_s")}
    text, summary = render(payload)
    payload["summary"] = summary
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(payload, indent=1, default=float))
    stem.with_suffix(".md").write_text(text)
    print(text)
    _log(f"wrote {stem}.md and .json")


NOTES = ""

if __name__ == "__main__":
    main()
