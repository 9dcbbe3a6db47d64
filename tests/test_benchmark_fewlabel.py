"""The few-labels protocol of the benchmark suite, on small synthetic tasks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from benchmarks import _suite_fewlabel as few


def _task(seed=0, n=90, d=5):
    rng = np.random.RandomState(seed)
    ys, yt = np.arange(n) % 3, np.arange(n) % 3
    Xs = rng.normal(size=(n, d)) + 1.5 * ys[:, None]
    Xt = rng.normal(size=(n, d)) + 1.5 * yt[:, None] + np.r_[2.0, np.zeros(d - 1)]
    return Xs, ys, Xt, yt


def test_few_labelled_draws_k_rows_per_class_and_scores_the_rest():
    y = np.r_[np.zeros(10), np.ones(10), np.full(2, 2), [3]].astype(int)
    labelled, rest = few.few_labelled(y, seed=0, k=3)
    counts = np.bincount(y[labelled], minlength=4)
    assert counts.tolist() == [3, 3, 1, 0]  # a class of 2 keeps one row to score; a class of 1 gives none
    assert np.intersect1d(labelled, rest).size == 0
    assert np.union1d(labelled, rest).tolist() == list(range(len(y)))
    again, _ = few.few_labelled(y, seed=0, k=3)
    other, _ = few.few_labelled(y, seed=1, k=3)
    assert np.array_equal(labelled, again) and not np.array_equal(labelled, other)


def test_every_method_runs_and_source_only_equals_a_hand_fitted_model():
    Xs, ys, Xt, yt = _task()
    out = few.run_fewlabel_task(Xs, ys, Xt, yt, "ours", seeds=2)
    assert set(out) == set(few.METHODS)
    for label, entry in out.items():
        assert "error" not in entry, (label, entry)
        assert 0.0 <= entry["acc"] <= 100.0 and entry["fit_s"] >= 0.0
    C = few.choose_C(Xs, ys)
    model = LogisticRegression(C=C, max_iter=1000).fit(Xs, ys)
    expected = np.mean([100 * np.mean(model.predict(Xt[r]) == yt[r])
                        for r in (few.few_labelled(yt, s, 3)[1] for s in range(2))])
    assert out["Source only (LR)"]["acc"] == pytest.approx(expected)
    # The shift moves one feature; target labels must help the pooled model over target-only with 9 rows.
    assert out["Source + target (LR)"]["acc"] > out["Target only (LR)"]["acc"] - 5


def test_held_out_test_rows_are_scored_when_given():
    Xs, ys, Xt, yt = _task()
    Xtest, ytest = Xt[:30] + 100.0, yt[:30]  # far away: every model predicts one class there
    out = few.run_fewlabel_task(Xs, ys, Xt, yt, "ours", seeds=1, methods=["Source only (LR)"],
                                Xtest=Xtest, ytest=ytest)
    assert set(out) == {"Source only (LR)"}
    assert out["Source only (LR)"]["acc"] == pytest.approx(100 / 3, abs=0.01)


def test_a_method_that_raises_is_reported_not_raised(monkeypatch):
    original = few._ours

    def broken(C, n_source, seed):
        fits = original(C, n_source, seed)

        def boom(*args):
            raise RuntimeError("no luck")

        fits["TrAdaBoost (LR)"] = boom
        return fits

    monkeypatch.setattr(few, "_ours", broken)
    out = few.run_fewlabel_task(*_task(), "ours", seeds=2)
    assert out["TrAdaBoost (LR)"] == {"error": "RuntimeError: no luck"}
    assert "acc" in out["RegularTransfer (LR)"]


def test_adapt_counterparts_run_when_adapt_is_installed():
    pytest.importorskip("adapt")
    out = few.run_fewlabel_task(*_task(), "adapt", seeds=1)
    assert set(out) == {"FeatureAugmentation (LR)", "TrAdaBoost, loss='probability' (LR)", "RegularTransfer (LR)"}
    assert all("acc" in entry for entry in out.values()), out
