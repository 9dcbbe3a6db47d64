"""The advisor benchmark's code path on a tiny synthetic task, and its table maths on hand-made rows."""

from __future__ import annotations

from benchmarks import advisor as bench


def test_run_task_scores_every_candidate_and_the_pick():
    X, y, sd = bench.affine_shift(60, 3, 0)
    s, t = sd > 0, sd < 0
    row = bench.run_task(X[s], y[s], X[t], y[t])
    assert set(row["accuracy"]) == {"no adaptation", "CORAL", "SA", "TCA", "DiscriminativeWeighter", "KMM"}
    assert all(0.0 <= v <= 100.0 for v in row["accuracy"].values())
    assert row["pick"] in row["accuracy"] and row["n_heldout"] > 0
    assert {r["name"] for r in row["ranking"]} == set(row["accuracy"])
    # the saved evidence replays to the same pick
    assert bench.replay({"results": {"t": row}}) == {"t": row["pick"]}


def test_run_task_with_a_few_target_labels_scores_them_and_leaves_them_out_of_the_accuracy():
    X, y, sd = bench.affine_shift(80, 3, 0)
    s, t = sd > 0, sd < 0
    row = bench.run_task(X[s], y[s], X[t], y[t], labels_per_class=3)
    assert row["n_eval"] == t.sum() - 6  # 3 rows of each of the 2 classes are labelled, not scored
    assert all("target labels" in r["scores"] and len(r["labelled_correct"]) == 6 for r in row["ranking"])
    assert bench.replay({"results": {"t": row}}) == {"t": row["pick"]}


def test_summarise_reports_the_three_targets():
    results = {
        "hurts": {"tuned": True, "pick": "no adaptation",
                  "accuracy": {"no adaptation": 90.0, "CORAL": 40.0, "KMM": 89.0}},
        "helps": {"tuned": False, "pick": "KMM",
                  "accuracy": {"no adaptation": 60.0, "CORAL": 70.0, "KMM": 69.5}},
    }
    text, summary = bench.summarise(results)
    assert "| hurts | yes | 90.0 | 40.0 | no adaptation (90.0) | no adaptation | 90.0 | 0.0 | +0.0 |" in text
    assert summary["all"]["mean_gap"] == 0.25 and summary["all"]["worst_loss"] == 0.0
    assert summary["all"]["win_tasks"] == 1 and summary["all"]["win_tasks_near_best"] == 1
    assert "mean gap to the oracle 0.25 points (target <= 1.5): **met**" in text
    text, summary = bench.summarise(results, picks={"hurts": "KMM", "helps": "no adaptation"})
    assert summary["all"]["worst_loss"] == 1.0 and "**not met**" in text
