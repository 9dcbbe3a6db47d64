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


def test_short_fits_are_repeated_and_the_fastest_kept(monkeypatch):
    from benchmarks import _timing

    clock = iter([0.0, 0.08, 1.0, 1.03, 2.0, 2.09, 3.0, 3.05, 4.0, 4.07])  # runs of 0.08, 0.03, 0.09, 0.05, 0.07 s
    monkeypatch.setattr(_timing.time, "perf_counter", lambda: next(clock))
    calls = []
    out, secs = _timing.timed_fit(lambda: calls.append(1) or len(calls))
    assert out == 1  # the first run's output
    assert len(calls) == _timing.SHORT_FIT_REPEATS == 5
    assert secs == pytest.approx(0.03)


def test_a_long_fit_runs_once(monkeypatch):
    from benchmarks import _timing

    clock = iter([0.0, 0.5])
    monkeypatch.setattr(_timing.time, "perf_counter", lambda: next(clock))
    calls = []
    _, secs = _timing.timed_fit(lambda: calls.append(1))
    assert calls == [1] and secs == pytest.approx(0.5)


def test_keep_freed_memory_sets_glibc_thresholds_where_glibc_runs():
    import platform

    from benchmarks._timing import keep_freed_memory

    assert keep_freed_memory() is (platform.libc_ver()[0] == "glibc")
