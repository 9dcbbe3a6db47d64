"""The benchmark suite's code paths on tiny synthetic tasks: every method runs, the report says where we lose."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from benchmarks import _suite_fewlabel as suite_fewlabel
from benchmarks import run as suite
from benchmarks._suite_datasets import DATASETS, Dataset, Task


def _task(seed=0, n=60, d=6):
    rng = np.random.RandomState(seed)
    ys, yt = np.arange(n) % 3, np.arange(n) % 3
    Xs = rng.normal(size=(n, d)) + ys[:, None]
    Xt = 1.3 * (rng.normal(size=(n, d)) + yt[:, None]) + 0.5
    return Xs, ys, Xt, yt


def test_every_method_of_ours_runs_on_a_task_and_reports_accuracy_and_time():
    row = suite.run_task(_task(), "ours", suite.ALIGNERS + suite.WEIGHTERS, seeds=2)
    assert set(row) == {"NA", *suite.ALIGNERS, *suite.WEIGHTERS}
    for name, entry in row.items():
        assert "error" not in entry, (name, entry)
        for clf in ("1nn", "svm"):
            if clf in entry:
                assert 0.0 <= entry[clf] <= 100.0
        assert entry["fit_s"] >= 0.0
    assert row["CORAL"]["svm"] > 60.0  # easy task: the classifier works after adaptation


def test_report_lists_where_ours_is_below_the_published_number_or_a_peer(monkeypatch):
    fake = Dataset(name="fake", tasks=(("a", "b"),), load=None, protocol="none",
                   published={"NA (1-NN)": {"a->b": 90.0}})
    monkeypatch.setitem(DATASETS, "fake", fake)
    results = {
        "ours": {"fake": {"a->b": {"NA": {"1nn": 50.0, "svm": 70.0, "fit_s": 0.0},
                                   "CORAL": {"1nn": 60.0, "svm": 80.0, "fit_s": 1.0}}}},
        "skada": {"fake": {"a->b": {"CORAL": {"1nn": 65.0, "svm": 79.0, "fit_s": 2.0}}}},
    }
    args = argparse.Namespace(argv=["--data-home", "x"])
    text, summary = suite.render(results, args, ["CORAL"], elapsed=60.0)
    assert "python -m benchmarks.run --data-home x" in text
    assert "- NA (1-NN): 50.0 vs 90.0 (published)." in text
    assert "- CORAL (1-NN): 60.0 vs 65.0 (skada)." in text
    assert "CORAL (SVM): 80.0" not in text  # ours wins there: not listed
    table_row = next(line for line in text.splitlines() if line.startswith("| CORAL (1-NN)"))
    assert table_row.split("|")[-2].strip() == "0.50"  # fit-time ratio ours / skada
    assert summary["fake"]["CORAL (1-NN)"] == {"ours": 60.0, "published": pytest.approx(float("nan"), nan_ok=True),
                                              "skada": 65.0}


def test_weighted_svm_of_the_suite_agrees_with_a_linear_kernel_svm_when_weights_hold_zeros():
    # Reference: SVC(kernel="linear") on the raw rows with the same weights. libsvm
    # alone, given a precomputed kernel and zero weights, reads the wrong kernel
    # entries; _SourceSVM must drop those rows itself (KMM gives exact zeros).
    from sklearn.svm import SVC

    from benchmarks._reweighting_office import _SourceSVM

    Xs, ys, Xt, yt = _task(n=90)
    w = np.ones(len(ys))
    w[:40] = 0.0
    w[40:] = np.linspace(0.5, 2.0, 50)
    svm = _SourceSVM(Xs, ys, Xt, yt)
    C = svm.search.best_params_["C"]
    ref = SVC(kernel="linear", C=C).fit(Xs, ys, sample_weight=w * len(w) / w.sum())
    assert svm.accuracy(w) == pytest.approx(100 * np.mean(ref.predict(Xt) == yt))


def test_a_task_with_held_out_test_rows_scores_them_through_the_target_side_map():
    from benchmarks._suite_datasets import Task

    Xs, ys, Xt, yt = _task()
    methods = ("CORAL", "SA", "TCA", "KDE")
    transductive = suite.run_task(Task(Xs, ys, Xt, yt), "ours", methods, seeds=1)
    # Scoring the adaptation rows again as "test" rows maps them through
    # transform(): the same numbers as the transductive protocol.
    again = suite.run_task(Task(Xs, ys, Xt, yt, Xt.copy(), yt.copy()), "ours", methods, seeds=1)
    for name in ("NA", *methods):
        for clf in ("1nn", "svm"):
            if clf in transductive[name]:
                assert again[name][clf] == pytest.approx(transductive[name][clf]), (name, clf)
    # Fresh test rows: scored, and on a shift that CORAL cannot undo, not all right.
    Xnew = np.r_[Xt[:30], Xt[:30] + 50.0]
    held = suite.run_task(Task(Xs, ys, Xt, yt, Xnew, np.r_[yt[:30], yt[:30]]), "ours", ("CORAL",), seeds=1)
    assert held["CORAL"]["svm"] < transductive["CORAL"]["svm"]


def test_report_has_a_few_labels_table_beside_adapt_when_rows_hold_them(monkeypatch):
    fake = Dataset(name="fake", tasks=(("a", "b"),), load=None, protocol="none")
    monkeypatch.setitem(DATASETS, "fake", fake)
    few = {"Target only (LR)": {"acc": 40.0, "fit_s": 0.1}, "TrAdaBoost (LR)": {"acc": 60.0, "fit_s": 2.0}}
    results = {
        "ours": {"fake": {"a->b": {"NA": {"1nn": 50.0, "svm": 70.0, "fit_s": 0.0}, "few": few}}},
        "adapt": {"fake": {"a->b": {"few": {"TrAdaBoost (LR)": {"acc": 65.0, "fit_s": 4.0}}}}},
    }
    text, summary = suite.render(results, argparse.Namespace(argv=[]), [], elapsed=1.0)
    row = next(line for line in text.splitlines() if line.startswith("| TrAdaBoost (LR)"))
    assert [c.strip() for c in row.split("|")[1:-1]] == ["TrAdaBoost (LR)", "60.0", "65.0", "2.00", "4.00", "0.50"]
    assert "- with target labels, TrAdaBoost (LR): 60.0 vs 65.0 (adapt)." in text
    assert summary["fake (few labels)"]["Target only (LR)"]["ours"] == 40.0


def test_deep_digit_dataset_reads_upright_padded_digits_through_the_extractor(monkeypatch):
    # Reference: ImageFeatureExtractor on the same images built by hand; the
    # loader must reshape the 256 pixels row by row, pad them and L2 the rows.
    pytest.importorskip("torch")
    import sktransfer.datasets
    from benchmarks import _suite_datasets as sd
    from sktransfer.deep import ImageFeatureExtractor

    rng = np.random.RandomState(0)
    domains = {"mnist": (rng.rand(3, 256), np.array([0, 1, 2])), "usps": (rng.rand(2, 256), np.array([2, 0]))}

    def fake_fetch(names, **kwargs):
        assert kwargs["download_if_missing"] is False
        return tuple(domains[n] for n in names)

    monkeypatch.setattr(sktransfer.datasets, "fetch_mnist_usps", fake_fetch)
    sd._digit_features.cache_clear()
    try:
        task = DATASETS["mnist_usps_deep"].load("unused", "M", "U")
    finally:
        sd._digit_features.cache_clear()
    images = np.pad(domains["usps"][0].reshape(2, 16, 16).astype(np.float32), ((0, 0), (2, 2), (2, 2)))
    expected = ImageFeatureExtractor(sd.DEEP_BACKBONE).fit(images).transform(images)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    assert task.Xs.shape == (3, expected.shape[1]) and task.Xtest is None
    np.testing.assert_allclose(task.Xt, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(task.ys, [0, 1, 2])
    np.testing.assert_array_equal(task.yt, [2, 0])


def test_quick_caps_each_domain_stratified_and_keeps_held_out_rows():
    from benchmarks._suite_datasets import Task, _capped, capped_rows

    y = np.r_[np.zeros(30), np.ones(10)].astype(int)
    keep = capped_rows(y, 20)
    assert len(keep) == 20 and np.all(np.diff(keep) > 0)
    assert np.bincount(y[keep]).tolist() == [15, 5]  # the class shares are kept
    assert np.array_equal(capped_rows(y, None), np.arange(40)) and np.array_equal(capped_rows(y, 99), np.arange(40))
    X = np.arange(40.0)[:, None]
    task = _capped(Task(X, y, X + 100, y, X[:7], y[:7]), 20)
    assert len(task.Xs) == len(task.Xt) == 20 and len(task.Xtest) == 7
    np.testing.assert_array_equal(task.Xs[:, 0], keep)


def test_quick_skips_the_listed_peer_methods_and_leaves_the_notes_out(monkeypatch):
    from benchmarks import _suite_notes
    from benchmarks._suite_datasets import Task, _capped

    fake = Dataset(name="fake", tasks=(("a", "b"), ("b", "a")), protocol="none", quick_skip={"ours": ("SA",)},
                   load=lambda home, s, t, max_rows=None: _capped(Task(*_task()), max_rows))
    monkeypatch.setitem(DATASETS, "fake", fake)
    monkeypatch.setitem(_suite_notes.NOTES, "fake", "a hand-written note")
    calls = []

    def fake_run_task(task, impl, methods, seeds, C_grid=None):
        calls.append((len(task.Xs), tuple(methods)))
        return {m: {"svm": 50.0, "1nn": 50.0, "fit_s": 0.0} for m in methods}

    monkeypatch.setattr(suite, "run_task", fake_run_task)
    monkeypatch.setitem(suite.QUICK, "max_rows", 30)
    results = suite.run("unused", ["fake"], ["CORAL", "SA"], quick=True, seeds=1, impls=["ours"], few=False)
    assert calls == [(30, ("CORAL",))]  # one task, 30 of its 60 rows, SA skipped
    quick, _ = suite.render(results, argparse.Namespace(argv=["--quick"]), ["CORAL", "SA"], elapsed=1.0)
    full, _ = suite.render(results, argparse.Namespace(argv=[]), ["CORAL", "SA"], elapsed=1.0)
    assert "**--quick**" in quick and "a hand-written note" not in quick
    assert "**--quick**" not in full and "a hand-written note" in full


def test_refresh_few_reruns_only_the_named_rows_with_the_saved_seeds_and_the_page_says_so(monkeypatch):
    Xs, ys, Xt, yt = _task()
    fake = Dataset(name="fake", tasks=(("a", "b"),), load=lambda home, s, t: Task(Xs, ys, Xt, yt), protocol="none")
    monkeypatch.setitem(DATASETS, "fake", fake)
    old = {"Target only (LR)": {"acc": 1.0, "fit_s": 0.1}, "TrAdaBoost (LR)": {"acc": 2.0, "fit_s": 0.2}}
    saved = {"command": ["--data-home", "x", "--seeds", "2"],
             "results": {"ours": {"fake": {"a->b": {"NA": {"1nn": 50.0, "svm": 70.0, "fit_s": 0.0}, "few": dict(old)}}}}}
    args = argparse.Namespace(argv=["--data-home", "x", "--refresh-few", "TrAdaBoost (LR)"], datasets=["fake"],
                              data_home="x", refresh_few=["TrAdaBoost (LR)"], freed_memory_kept=True)
    seen = []
    real = suite_fewlabel.run_fewlabel_task
    monkeypatch.setattr(suite_fewlabel, "run_fewlabel_task",
                        lambda *a, **k: seen.append((a[5], k["methods"])) or real(*a, **k))
    suite.refresh_fewlabel(saved, args)
    few = saved["results"]["ours"]["fake"]["a->b"]["few"]
    assert seen == [(2, ["TrAdaBoost (LR)"])]  # the saved run's seeds, the named rows only
    assert few["Target only (LR)"] == old["Target only (LR)"] and few["TrAdaBoost (LR)"]["acc"] > 30
    assert saved["refreshed"][0]["methods"] == ["TrAdaBoost (LR)"]
    text, _ = suite.render(saved["results"], argparse.Namespace(argv=saved["command"]), [], 1.0,
                           refreshed=saved["refreshed"])
    assert "Except: the rows TrAdaBoost (LR) of ours (accuracy and fit time) come from a later run of " \
           "`python -m benchmarks.run --data-home x --refresh-few \"TrAdaBoost (LR)\"`" in text
    assert "cores, freed memory kept), with the saved run's seeds." in text  # the run kept freed memory
    assert "cores, freed memory kept," not in text.split("Except")[0]  # the base run is not said to have


def test_issue20_methods_run_merge_into_a_saved_run_and_render_with_their_dashes(monkeypatch):
    from benchmarks import _suite_joint as joint

    Xs, ys, Xt, yt = _task(n=45)
    monkeypatch.setitem(joint.OT, "reg_e", 0.1)  # fewer Sinkhorn iterations on this tiny task
    row = joint.run_joint_task(Task(Xs, ys, Xt, yt), "ours", list(joint.JOINT), seeds=2, skip={"MEDA": "too slow"})
    assert row["MEDA"] == {"skipped": "too slow"}
    assert joint.run_joint_task(Task(Xs, ys, Xt, yt), "adapt", list(joint.JOINT), seeds=1) == {}  # ADAPT has none
    for name, family in joint.JOINT.items():
        if name == "MEDA":
            continue
        assert "error" not in row[name], (name, row[name])
        keys = {"map": ("1nn", "svm"), "clf": ("acc",), "weights": ("svm",)}[family]
        assert all(0.0 <= row[name][k] <= 100.0 for k in keys) and row[name]["fit_s"] >= 0.0, name
    assert row["EasyTL"]["acc"] > 60.0 and row["JDOT"]["acc"] > 60.0  # easy task: the methods work
    # Held-out rows (Amazon's protocol): the classifiers predict them, the maps transform them.
    held = joint.run_joint_task(Task(Xs, ys, Xt, yt, Xt.copy(), yt.copy()), "ours", ["JDOT", "GFK"], seeds=1)
    assert held["JDOT"]["acc"] > 60.0 and held["GFK"]["1nn"] == pytest.approx(row["GFK"]["1nn"])

    # --refresh-methods: only the named rows change, the seeds are the saved run's, the page says so.
    fake = Dataset(name="fake", tasks=(("a", "b"),), load=lambda home, s, t: Task(Xs, ys, Xt, yt), protocol="none",
                   published={"MEDA": {"a->b": 99.0}})
    monkeypatch.setitem(DATASETS, "fake", fake)
    monkeypatch.setitem(joint.SKIP, "fake", {"MEDA": "O(n^3) here"})
    na, coral = {"1nn": 50.0, "svm": 70.0, "fit_s": 0.0}, {"1nn": 1.0, "svm": 2.0, "fit_s": 0.1}
    saved = {"command": ["--data-home", "x", "--seeds", "2"], "methods": ["CORAL"],
             "results": {"ours": {"fake": {"a->b": {"NA": dict(na), "CORAL": dict(coral)}}}}}
    seen = []
    real = joint.run_joint_task
    monkeypatch.setattr(joint, "run_joint_task", lambda *a, **k: seen.append((a[1], a[3], k["skip"])) or real(*a, **k))
    args = argparse.Namespace(argv=["--data-home", "x", "--refresh-methods", "EasyTL", "MEDA"], datasets=["fake"],
                              data_home="x", refresh_methods=["EasyTL", "MEDA"])
    suite.refresh_methods(saved, args, ["ours"])
    task_row = saved["results"]["ours"]["fake"]["a->b"]
    assert seen == [("ours", 2, {"MEDA": "O(n^3) here"})]
    assert task_row["NA"] == na and task_row["CORAL"] == coral  # the other rows stay as measured
    assert task_row["EasyTL"]["acc"] > 60.0 and task_row["MEDA"] == {"skipped": "O(n^3) here"}
    assert saved["methods"] == ["CORAL", "EasyTL", "MEDA"]
    assert saved["refreshed"][0]["impls"] == ["ours"]
    text, summary = suite.render(saved["results"], argparse.Namespace(argv=saved["command"]), saved["methods"], 1.0,
                                 refreshed=saved["refreshed"])
    assert "Except: the rows EasyTL, MEDA of ours (accuracy and fit time) come from a later run of " \
           "`python -m benchmarks.run --data-home x --refresh-methods EasyTL MEDA`" in text
    meda = next(line for line in text.splitlines() if line.startswith("| MEDA |"))
    assert [c.strip() for c in meda.split("|")[2:4]] == ["-", "99.0"]  # a dash beside the published number
    assert "Dashes of ours above: MEDA: O(n^3) here." in text
    assert summary["fake"]["EasyTL"]["ours"] == task_row["EasyTL"]["acc"]


def test_the_page_lists_only_the_later_runs_whose_rows_survive():
    """A later refresh of the same method, library and dataset replaces an earlier one's rows: the
    earlier run leaves the page when nothing of it is left, or keeps only the methods it still holds."""
    def run(methods, impls, datasets, tag):
        return {"methods": methods, "impls": impls, "datasets": datasets, "tag": tag}

    refreshed = [
        run(["KMM", "KLIEP"], ["ours", "skada"], None, "all datasets"),
        run(["KMM"], ["ours", "skada"], ["a", "b"], "KMM again everywhere"),
        run(["KLIEP"], ["ours"], ["a"], "KLIEP of ours on a"),
        run(["JDOT"], ["ours"], ["a"], "JDOT on a"),
        run(["JDOT"], ["ours"], ["a"], "JDOT on a again"),
    ]
    live = suite.live_refreshes(refreshed, ["a", "b"])
    assert [(r["tag"], r["methods"]) for r in live] == [
        ("all datasets", ["KLIEP"]),  # its KMM rows were all rerun; KLIEP of skada, and on b, are still its own
        ("KMM again everywhere", ["KMM"]),
        ("KLIEP of ours on a", ["KLIEP"]),
        ("JDOT on a again", ["JDOT"]),
    ]
    assert suite.live_refreshes([], ["a"]) == []
    # a library that has no row of the method owns nothing: KLIEP of skada was never there
    holds = lambda method, dataset, impl: impl == "ours"  # noqa: E731
    live = suite.live_refreshes(refreshed, ["a", "b"], holds)
    assert [(r["tag"], r["methods"]) for r in live] == [
        ("all datasets", ["KLIEP"]),  # KLIEP of ours on b is still its own
        ("KMM again everywhere", ["KMM"]),
        ("KLIEP of ours on a", ["KLIEP"]),
        ("JDOT on a again", ["JDOT"]),
    ]
    refreshed[2]["datasets"] = ["a", "b"]
    assert [r["tag"] for r in suite.live_refreshes(refreshed, ["a", "b"], holds)][0] == "KMM again everywhere"


def test_datasets_extracted_with_torch_load_before_any_other(monkeypatch):
    """A torch extraction after TensorFlow's import segfaults, and POT imports
    TensorFlow after the first dataset's load: the suite's full command (deep
    digits fourth) crashed there (exit 139; with this, the same run passes).
    Every dataset that needs torch is loaded, and so cached, first."""
    import types

    loaded = []

    def fake(key, requires):
        return types.SimpleNamespace(requires=requires, tasks=(("A", "B"),),
                                     load=lambda home, s, t, max_rows=None: loaded.append((key, s, t, max_rows)))

    fakes = {"plain": fake("plain", ()), "deep": fake("deep", ("numpy",)), "torchy": fake("torchy", ("torch",))}
    monkeypatch.setattr("benchmarks._suite_datasets.DATASETS", fakes)
    monkeypatch.setattr(suite.importlib.util, "find_spec", lambda name: object())
    suite.extract_torch_features_first("home", ["plain", "deep", "torchy"], max_rows=7)
    assert loaded == [("torchy", "A", "B", 7)]
