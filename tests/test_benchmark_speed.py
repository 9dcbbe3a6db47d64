"""The suite's speed summary (benchmarks/_suite_speed.py): ratios to the faster peer, and every slower cell listed."""

from __future__ import annotations

import pytest

from benchmarks._suite_speed import WHY, speed_cells, speed_section


def _results():
    def task(fit_s, acc):
        return {"fit_s": fit_s, "svm": acc}

    return {
        "ours": {"coil20": {"1->2": {"KLIEP": task(0.3, 80.0), "ULSIF": task(1.0, 79.0), "KDE": task(0.1, 70.0)},
                            "2->1": {"KLIEP": task(0.3, 82.0), "ULSIF": task(1.0, 81.0), "KDE": task(0.1, 70.0)}}},
        "skada": {"coil20": {"1->2": {"KLIEP": task(0.2, 80.0), "KDE": task(1.0, 70.0)},
                             "2->1": {"KLIEP": task(0.4, 81.0), "KDE": task(1.0, 70.0)}}},
        "adapt": {"coil20": {"1->2": {"KLIEP": task(2.0, 80.0), "ULSIF": task(0.25, 80.0)},
                             "2->1": {"KLIEP": task(2.0, 81.0), "ULSIF": task(0.25, 82.0)}}},
    }


def test_ratio_is_to_the_faster_peer_summed_over_tasks():
    cells = speed_cells(_results(), ["KLIEP", "ULSIF", "KDE"])
    assert cells[("KLIEP", "coil20")]["peer"] == "skada"  # 0.6 s against ADAPT's 4.0
    assert cells[("KLIEP", "coil20")]["ratio"] == pytest.approx(0.6 / 0.6)
    assert cells[("ULSIF", "coil20")]["ratio"] == pytest.approx(2.0 / 0.5)
    assert cells[("KDE", "coil20")]["ratio"] == pytest.approx(0.2 / 2.0)
    assert cells[("ULSIF", "coil20")]["ours_acc"] == pytest.approx(80.0)


def test_section_lists_each_slower_cell_with_its_reason_and_each_accuracy_gap():
    text = speed_section(_results(), ["KLIEP", "ULSIF", "KDE"])
    slower = text.split("Where a default of ours is slower")[1].split("Where our accuracy")[0]
    assert "ULSIF on COIL20: 4.00x adapt" in slower and WHY["ULSIF"][1] in slower
    assert "KLIEP on COIL20" not in slower and "KDE on COIL20" not in slower  # 1.00 and 0.10
    worse = text.split("Where our accuracy")[1]
    assert "ULSIF on COIL20: 80.0 against 81.0 (adapt)" in worse
    assert "| KDE | 0.10 s |" in text
