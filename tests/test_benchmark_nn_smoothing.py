"""The nearest-neighbour smoothing benchmark: its weights, its CSLS hub penalty and its table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import nn_smoothing as nns


def test_plain_settings_are_the_library_weighter_and_unsmoothed_k1_counts_voronoi_cells():
    rng = np.random.RandomState(0)
    Xs, Xt = rng.normal(size=(30, 3)), rng.normal(0.5, 1.0, size=(20, 3))
    weights = nns.all_weights(Xs, Xt)
    assert len(weights) == 40
    nearest = ((Xt[:, None, :] - Xs[None]) ** 2).sum(-1).argmin(1)
    counts = np.bincount(nearest, minlength=30).astype(float)
    np.testing.assert_allclose(weights["plain", 1, 0.0], counts * 30 / counts.sum())
    np.testing.assert_allclose(weights["plain", 1, 1.0], (counts + 1) * 30 / (counts + 1).sum())
    for w in weights.values():
        assert w.shape == (30,) and np.isclose(w.mean(), 1.0)


def test_csls_takes_votes_from_a_hub_source_row():
    # One source row at the centre of the target cloud is every target row's nearest source row;
    # the other source rows sit a little further out, each next to one target row.
    angles = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    Xt = np.c_[np.cos(angles), np.sin(angles)]
    Xs = np.vstack([[0.0, 0.0], 2.2 * Xt])
    plain = nns.all_weights(Xs, Xt)["plain", 1, 0.0]
    csls = nns.all_weights(Xs, Xt)["csls", 1, 0.0]
    assert plain[0] == pytest.approx(9.0) and np.all(plain[1:] == 0)  # all eight votes on the hub
    # CSLS: the hub's mean distance to the 8 target rows is 1, so it scores 2 x 1 - 1 = 1 with each;
    # an outer row's is 2.31 (1.2 to its own target row, 1.65 to 3.2 to the rest), so it scores
    # 2 x 1.2 - 2.31 = 0.09 with its own target row, which it wins.
    assert csls[0] == 0 and np.allclose(csls[1:], 9 / 8)


def test_table_orders_by_suite_mean_and_names_the_peers_settings():
    settings = nns.settings()
    suite = {"coil20": {s: float(i) for i, s in enumerate(settings)}}
    changes = {"classification": {s: [3.0, -1.0] for s in settings}}
    text, rows = nns.table(suite, changes)
    lines = text.splitlines()
    assert lines[0] == ("| neighbours | k | smoothing |  | coil20 | suite mean | held-out classification "
                        "| held-out mean | held-out worst |")
    assert lines[2] == "| csls | 20 | 1 |  | 39.0 | 39.00 | +1.00 | +1.00 | -1.0 |"
    named = {r["name"]: (r["neighbours"], r["n_neighbors"], r["smoothing"]) for r in rows if r["name"]}
    assert named == {"ours (default)": ("plain", 1, 1.0), "skada's": ("plain", 1, 0.0),
                     "ADAPT's": ("plain", 5, 0.0)}


def test_quick_run_writes_markdown_and_json(tmp_path):
    nns.main(["--quick", "--out", str(tmp_path / "nn")])
    text = (tmp_path / "nn.md").read_text()
    assert "| plain | 1 | 1 | ours (default) |" in text
    rows = json.loads((tmp_path / "nn.json").read_text())["rows"]
    assert len(rows) == 40 and set(rows[0]["held_out"]) == {"classification", "regression", "digits"}
