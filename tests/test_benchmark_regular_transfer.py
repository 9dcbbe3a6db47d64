"""benchmarks/regular_transfer_regression.py: the tasks it promises, and a small run end to end."""

from __future__ import annotations

import json

import numpy as np

from benchmarks import regular_transfer_regression as bench


def test_tasks_are_the_four_diabetes_splits_and_six_synthetic_shifts():
    names = [(name, family, len(ys), len(yt)) for name, family, _, ys, _, yt in bench.tasks()]
    assert [f for _, f, _, _ in names] == ["diabetes"] * 4 + ["synthetic"] * 6
    diabetes = [n for n in names if n[1] == "diabetes"]
    assert all(ns + nt == 442 for _, _, ns, nt in diabetes)  # each split uses every patient once


def test_a_small_run_writes_the_tables_and_the_alpha_path_ends_at_the_source_model(tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "DRAWS", 1)
    monkeypatch.setattr(bench, "LABELLED", (5,))
    monkeypatch.setattr(bench, "ALPHAS", (0.1, 1e9))
    bench.main(["--out", str(tmp_path / "rt")])
    saved = json.loads((tmp_path / "rt.json").read_text())
    rows = saved["results"]["5"]
    assert len(rows) == 10
    for row in rows.values():
        # alpha -> inf keeps the source parameters: Ridge on the source rows alone
        assert np.isclose(row["rmse"]["1000000000.0"], row["rmse"]["source only"], rtol=1e-5)
    text = (tmp_path / "rt.md").read_text()
    assert "| **mean, all** |" in text and "alpha = 0.1" in text
