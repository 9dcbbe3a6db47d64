"""The layer-selection benchmark's plumbing, on hand-made arrays and results (no backbone, no fits)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import layer_selection as ls
from benchmarks._layer_data import corrupt
from benchmarks._layer_features import LAYERS


def test_layer_columns_reads_each_layer_block_of_the_side_by_side_features():
    widths = {k: w for k, w in zip(LAYERS, (2, 3, 1, 4, 5))}
    X = np.hstack([np.full((3, widths[k]), k) for k in LAYERS])
    for k in LAYERS:
        got = ls.LayerColumns(layer=k, widths=widths).fit(X).transform(X)
        assert got.shape == (3, widths[k]) and np.all(got == k)


def test_corruptions_blur_or_add_noise_and_stay_in_the_unit_range():
    images = np.zeros((2, 9, 9))
    images[:, 4, 4] = 1.0
    blurred = corrupt(images, "blur", 1.0)
    assert blurred.max() < 0.5 and blurred.sum() == pytest.approx(2.0, rel=1e-6)
    noisy = corrupt(images, "noise", 0.3)
    assert noisy.min() >= 0 and noisy.max() <= 1 and not np.array_equal(noisy, images)
    assert np.array_equal(corrupt(images, "blur", 0.0), images)


def test_summarise_reports_each_criterion_pick_and_its_gap_to_the_best_layer():
    result = {"n_source": 4, "n_target": 4, "layers": list(LAYERS), "widths": [1] * 5,
              "accuracy_no_adaptation": [10.0] * 5, "accuracy_coral": [30.0, 50.0, 90.0, 80.0, 70.0],
              "proxy_a_distance": [2.0] * 5,
              "scores": {"good": [0.1, 0.2, 0.9, 0.3, 0.0], "bad": [0.0, 0.0, 0.0, 0.0, 1.0],
                         "failed": [np.nan] * 4 + [0.5]}}
    table, summary = ls.summarise({"case": result})
    assert summary["oracle (best layer)"]["layers"] == [-3]
    assert summary["good"] == {"layers": [-3], "gaps": [0.0], "mean_gap": 0.0}
    assert summary["bad"]["layers"] == [-1] and summary["bad"]["mean_gap"] == 20.0
    assert summary["failed"]["layers"] == [-1]  # NaN never wins
    assert "| good | -3: 90.0 (0.0) | 0.0 |" in table
