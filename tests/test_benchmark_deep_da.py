"""The deep domain-adaptation benchmark's code paths on tiny synthetic tasks (never the real data)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

pytest.importorskip("torch")

from benchmarks import deep_da  # noqa: E402

TINY = deep_da.Setting(epochs=10, lr=1e-2, batch_size=16, head=(8,), discriminator=(8,), chosen_by="the test")


def _task(seed=0, n=48, d=5) -> deep_da.DeepTask:
    rng = np.random.RandomState(seed)
    ys, yt = np.arange(n) % 3, np.arange(n) % 3
    Xs = rng.normal(size=(n, d)) + 3 * np.eye(3, d)[ys]
    Xt = 1.2 * (rng.normal(size=(n, d)) + 3 * np.eye(3, d)[yt]) + 0.3
    return deep_da.DeepTask("a->b", Xs, ys, Xt, yt)


def _entry(*acc, fit=1.0):
    return {"acc": list(acc), "fit_s": [fit] * len(acc)}


def _payload(results, shallow=None, settings=None):
    setting = {k: v for k, v in vars(TINY).items()}
    return {"command": "python -m benchmarks.deep_da --data-home x", "device_kind": "cpu", "quick": False,
            "seeds": 2, "elapsed_s": 120.0, "versions": {"skada": "0.6.0"},
            "machine": {"date": "2025-01-01", "device": "cpu", "device_name": None, "cpu_model": "test cpu",
                        "cpu_count": 2, "cpus_usable": 2, "torch_threads": 2, "torch": "2", "python": "3.11"},
            "settings": settings or {key: setting for key in results}, "shallow": shallow, "results": results}


def test_every_loss_of_ours_trains_on_a_tiny_task_and_reports_accuracy_and_time():
    row = deep_da.run_ours(_task(), TINY, seeds=[0], device="cpu")
    assert list(row) == [label for label, _ in deep_da.METHODS]
    for label, entry in row.items():
        assert "error" not in entry, (label, entry)
        assert len(entry["acc"]) == len(entry["fit_s"]) == 1
        assert 0.0 <= entry["acc"][0] <= 100.0 and entry["fit_s"][0] > 0.0
    assert row["source only"]["acc"][0] > 50.0  # the classes are separable: the network learns


def test_the_table_puts_ours_beside_skada_per_task_and_the_lines_say_who_wins():
    labels = [label for label, _ in deep_da.METHODS]
    rows = {"M->U": {"ours": {label: _entry(80.0, 82.0) for label in labels},
                     "skada": {label: _entry(79.0, 79.0, fit=2.0) for label in labels if label != "CDAN+E"}},
            "U->M": {"ours": {label: _entry(70.0, 72.0) for label in labels},
                     "skada": {label: _entry(71.0, 71.0, fit=2.0) for label in labels if label != "CDAN+E"}}}
    rows["U->M"]["skada"]["DANN"] = _entry(90.0, 90.0)
    shallow = {"label": "CORAL (SVM)", "mean": 76.5, "per_task": {"M->U": 85.0, "U->M": 68.0}, "best_any": 77.0,
               "best_any_label": "SA (SVM), skada", "command": "python -m benchmarks.run", "date": "2025-01-01"}
    text, summary = deep_da.render(_payload({"mnist_usps_deep": rows}, shallow))
    lines = text.splitlines()
    coral = next(line for line in lines if line.startswith("| CORAL |"))
    # per task ours / skada; mean of ours 76.0 with sd over seeds of the task mean (75, 77): 1.4
    assert coral.split(" | ")[1:6] == ["81.0 / 79.0", "71.0 / 71.0", "76.0 ± 1.4", "75.0 ± 0.0", "+1.0"]
    cdan_e = next(line for line in lines if line.startswith("| CDAN+E |"))
    assert "81.0 / -" in cdan_e
    assert "| best shallow: CORAL (SVM) (suite) | 85.0 | 68.0 | 76.5 |" in text
    assert "- Ours below skada: DANN (76.0 vs 84.5)." in text
    assert "CORAL (+1.0)" in text and "DANN (+" not in text
    assert "Deep DA of ours at or above it:" not in text  # 76.0 < 76.5 everywhere
    assert "No deep DA method of ours reaches it" in text
    assert "**not met** (below on: DANN: mnist_usps_deep)" in text
    assert "At least one deep DA method of ours >= the best shallow method on the deep digits (76.5): **not met**" in text
    assert summary["mnist_usps_deep"]["CORAL"]["skada"] == 75.0
    assert "python -m benchmarks.deep_da --data-home x" in text


def test_failures_are_listed_and_a_missing_skada_number_is_a_dash():
    rows = {"a->b": {"ours": {"source only": _entry(50.0), "CORAL": {"error": "ValueError: boom"}},
                     "skada": {"error": "timeout (> 10 s)"}}}
    text, summary = deep_da.render(_payload({"office_caltech_decaf": rows}))
    assert "- failed: ours a->b CORAL: ValueError: boom" in text
    assert "- failed: skada a->b: timeout (> 10 s)" in text
    assert summary["office_caltech_decaf"]["CORAL"]["ours"] != summary["office_caltech_decaf"]["CORAL"]["ours"]


def test_shallow_reference_is_the_suites_best_unsupervised_method_of_ours(tmp_path):
    nan = float("nan")
    suite = {"command": ["--data-home", "d"], "machine": {"date": "2025-02-03"},
             "summary": {"mnist_usps_deep": {"NA (SVM)": {"ours": 69.0, "skada": nan},
                                             "CORAL (SVM)": {"ours": 82.0, "published": nan, "skada": 80.0},
                                             "SA (SVM)": {"ours": 81.9, "skada": 82.3}},
                         "mnist_usps_deep (few labels)": {"Target only (LR)": {"ours": 90.0}}},
             "results": {"ours": {"mnist_usps_deep": {"U->M": {"CORAL": {"svm": 80.0, "1nn": 70.0}},
                                                      "M->U": {"CORAL": {"svm": 84.0, "1nn": 75.0}}}}}}
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(suite))
    ref = deep_da.shallow_reference(path)
    assert ref["label"] == "CORAL (SVM)" and ref["mean"] == 82.0
    assert ref["per_task"] == {"U->M": 80.0, "M->U": 84.0}
    assert ref["best_any"] == 82.3 and ref["best_any_label"] == "SA (SVM), skada"
    assert deep_da.shallow_reference(tmp_path / "absent.json") is None


def test_main_writes_the_page_and_the_json_without_real_data(tmp_path, monkeypatch):
    monkeypatch.setattr(deep_da, "dataset_tasks", lambda key, data_home, quick, image_rows=None: [_task()])
    monkeypatch.setitem(deep_da.SETTINGS, "office_caltech_decaf", TINY)
    monkeypatch.setattr(deep_da, "METHODS", (("source only", None), ("MCC", "mcc")))
    stem = tmp_path / "out"
    deep_da.main(["--data-home", "nowhere", "--datasets", "office_caltech_decaf", "--no-skada", "--seeds", "1",
                  "--out", str(stem)])
    saved = json.loads(stem.with_suffix(".json").read_text())
    assert saved["settings"]["office_caltech_decaf"]["epochs"] == 10
    assert set(saved["results"]["office_caltech_decaf"]["a->b"]) == {"ours"}
    text = stem.with_suffix(".md").read_text()
    assert text.startswith("# Deep domain adaptation (cpu)")
    assert "Command: `python -m benchmarks.deep_da --data-home nowhere" in text


def test_skada_rows_of_a_saved_run_are_reused_only_when_skada_would_get_the_same(tmp_path, monkeypatch):
    monkeypatch.setattr(deep_da, "dataset_tasks", lambda key, data_home, quick, image_rows=None: [_task()])
    monkeypatch.setitem(deep_da.SETTINGS, "office_caltech_decaf", TINY)
    monkeypatch.setattr(deep_da, "METHODS", (("source only", None),))
    monkeypatch.setattr(deep_da, "_versions", lambda: {"skada": "0.6.0"})
    monkeypatch.setattr(deep_da, "run_skada", lambda *a, **k: pytest.fail("skada must not run again"))
    rows = {"source only": _entry(50.0, 60.0)}
    saved = _payload({"office_caltech_decaf": {"a->b": {"ours": {}, "skada": rows}}},
                     settings={"office_caltech_decaf": json.loads(json.dumps(vars(TINY)))})
    path = tmp_path / "saved.json"
    path.write_text(json.dumps(saved))
    stem = tmp_path / "out"
    args = ["--data-home", "nowhere", "--datasets", "office_caltech_decaf", "--seeds", "2", "--out", str(stem)]
    deep_da.main(args + ["--skada-from", str(path)])
    out = json.loads(stem.with_suffix(".json").read_text())
    assert out["results"]["office_caltech_decaf"]["a->b"]["skada"] == rows
    assert "reused by `--skada-from`" in stem.with_suffix(".md").read_text()
    # our own settings may differ; anything skada is given may not, nor the seeds or skada's version
    monkeypatch.setitem(deep_da.SETTINGS, "office_caltech_decaf", deep_da.replace(TINY, ramp_steps=0))
    deep_da.main(args + ["--skada-from", str(path)])
    monkeypatch.setitem(deep_da.SETTINGS, "office_caltech_decaf", deep_da.replace(TINY, lr=0.5))
    with pytest.raises(SystemExit, match="settings"):
        deep_da.main(args + ["--skada-from", str(path)])
    monkeypatch.setitem(deep_da.SETTINGS, "office_caltech_decaf", TINY)
    with pytest.raises(SystemExit, match="seeds"):
        deep_da.main(args[:-4] + ["--seeds", "3", "--out", str(stem), "--skada-from", str(path)])
    path.write_text(json.dumps({**saved, "device_kind": "cuda"}))
    with pytest.raises(SystemExit, match="ran on cuda"):
        deep_da.main(args + ["--skada-from", str(path)])
    path.write_text(json.dumps(saved))
    monkeypatch.setattr(deep_da, "_versions", lambda: {"skada": "0.7.0"})
    with pytest.raises(SystemExit, match="skada 0.6.0"):
        deep_da.main(args + ["--skada-from", str(path)])


@pytest.mark.slow
@pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("skada", "skorch", "ot")),
                    reason="skada.deep (skada, skorch, POT) is not installed")
def test_skada_runs_in_a_child_process_on_a_tiny_task():
    import sklearn

    row = deep_da.run_skada(_task(), TINY, seeds=[0], device="cpu", timeout=300)
    assert "error" not in row, row
    assert list(row) == ["source only", "CORAL", "MMD (DAN)", "DANN", "CDAN", "MCC"]
    for label, entry in row.items():
        assert "error" not in entry, (label, entry)
        assert 0.0 <= entry["acc"][0] <= 100.0
    assert row["source only"]["acc"][0] > 50.0
    assert not sklearn.get_config()["enable_metadata_routing"]  # skada never ran in this process
