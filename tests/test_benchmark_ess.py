"""The table maths of the ESS-threshold benchmark, on hand-made rows (no fits)."""

from __future__ import annotations

import math

from benchmarks import ess_threshold as ess


def _rows(pairs, family="classification"):
    return [{"family": family, "ess_share": s, "delta": d} for s, d in pairs]


def test_bin_rows_counts_losses_and_medians_per_band():
    rows = _rows([(0.0, -10.0), (0.01, -6.0), (0.049, 2.0),  # 0-5%: 2 of 3 lost > 5, median -6
                  (0.05, -5.000000000000004),  # 5-10%: -5 (up to float noise) is not a loss
                  (0.2, -5.1), (0.24, 1.0),  # 20-25%: the lower edge belongs to the band
                  (0.75, 0.0), (1.0, -20.0)])  # 75-100%: 1.0 belongs to the last band
    bins = {b["band"]: b for b in ess.bin_rows(rows)}
    assert list(bins) == ["0-5%", "5-10%", "10-15%", "15-20%", "20-25%", "25-30%",
                          "30-40%", "40-50%", "50-75%", "75-100%"]
    assert [b["fits"] for b in bins.values()] == [3, 1, 0, 0, 2, 0, 0, 0, 0, 2]
    assert math.isclose(bins["0-5%"]["share_lost"], 2 / 3) and bins["0-5%"]["median_change"] == -6.0
    assert bins["5-10%"]["share_lost"] == 0.0
    assert bins["20-25%"]["share_lost"] == 0.5 and math.isclose(bins["20-25%"]["median_change"], -2.05)
    assert bins["75-100%"]["share_lost"] == 0.5
    assert math.isnan(bins["10-15%"]["share_lost"]) and math.isnan(bins["10-15%"]["median_change"])


def test_summarise_prints_the_band_table_and_the_split_at_the_threshold():
    rows = _rows([(0.1, -8.0), (0.1, -6.0), (0.5, 1.0)]) + _rows([(0.19, 3.0), (0.9, -7.0)], "regression")
    text, summary = ess.summarise(rows)
    lines = text.splitlines()
    assert lines[0].startswith("| ESS share | 0-5% | 5-10% | 10-15% |")
    assert lines[2] == "| fits | 0 | 0 | 2 | 1 | 0 | 0 | 0 | 0 | 1 | 1 |"
    assert lines[3] == "| lost more than 5 points | - | - | 100% | 0% | - | - | - | - | 0% | 100% |"
    assert lines[4] == "| median change (points) | - | - | -7.0 | +3.0 | - | - | - | - | +1.0 | -7.0 |"
    assert summary["by_family"]["all"]["below"] == {"fits": 3, "share_lost": 2 / 3, "median_change": -6.0}
    above = summary["by_family"]["regression"]["above"]
    assert above == {"fits": 1, "share_lost": 1.0, "median_change": -7.0}
    assert "| classification | 2 / 100% / -7.0 | 1 / 0% / +1.0 |" in lines


def test_run_task_counts_a_failed_fit_and_keeps_the_others(monkeypatch):
    from sklearn.linear_model import LogisticRegression

    from sktransfer.datasets import make_domain_shift
    from sktransfer.reweighting import DiscriminativeWeighter

    class Broken:
        def fit(self, X, y, sample_domain=None):
            raise RuntimeError("solver blew up")

    monkeypatch.setattr(ess, "weighters", lambda seed, gamma: {"broken": Broken(),
                                                                "Discriminative": DiscriminativeWeighter()})
    X, y, sd = make_domain_shift(n_samples=40, mask_target=False, random_state=0)
    rows, failures = ess.run_task(X, y, sd, 0, LogisticRegression)
    assert failures == {"broken": "RuntimeError: solver blew up"}
    (row,) = rows
    assert row["weighter"] == "Discriminative" and 0.0 < row["ess_share"] <= 1.0
    assert row["delta"] == row["weighted"] - row["unweighted"]
