"""TransferAdvisor's decision rule: keep no adaptation unless an adapted candidate earns its place.

What separates helpful from harmful adaptation on the tasks of
``benchmarks/advisor.py`` (measured there; the rule was tuned on its
synthetic shifts and breast-cancer splits only):

- The held-out source rows, passed through the map deployed on target rows,
  are the one labelled sample the advisor has of how the deployed model
  treats rows it did not train on. Their *balanced* accuracy catches what the
  plain accuracy hides: on breast cancer split on the mean radius, CORAL
  costs the target 53-72 points while the plain held-out source accuracy
  drops 3.5 points (94% of those rows are benign), and the balanced one 30-47.
- Importance-weighted accuracy (:class:`ImportanceWeightedScorer`) points the
  same way where the shift is in the inputs, but overrates weighters whose
  weights resemble its own (KMM +6 points on breast cancer large -> small,
  where it costs 3): so a candidate must gain on *both* (their minimum).
- A gain of one or two held-out rows is noise: the margin is at least
  ``MIN_ROWS_MARGIN`` rows of the held-out source set.
- Checks that veto a candidate whatever its score: the flip rate of
  :class:`~sktransfer.pipeline.DAPipeline` (an adaptation that overturns most
  of what the unadapted model was sure of erased a difference that carried
  the labels), the change of the predicted target class proportions (a
  class-conditional check: marginal alignment pulls the target toward the
  source's proportions), the balanced source accuracy, and reverse validation
  (:class:`CircularValidationScorer`).
- Prediction entropy is reported, never used: aligned representations are
  more (or less) confident for reasons unrelated to accuracy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BASELINE", "decide"]

BASELINE = "no adaptation"
#: the evidence must beat the baseline by at least this many held-out source rows
MIN_ROWS_MARGIN = 2.0
#: vetoes (accuracies in [0, 1])
MAX_FLIP_RATE = 0.35
MAX_CLASS_SHARE_CHANGE = 0.25
MAX_SOURCE_DROP = 0.05
MAX_REVERSE_DROP = 0.05
#: scorer names the rule reads
IW, REVERSE, LABELS = "importance weighted", "reverse validation", "target labels"


def _check(passed: bool, reason: str) -> dict:
    return {"passed": bool(passed), "reason": reason}


def _checks(row: dict, base: dict) -> dict:
    checks = {}
    drop = base["source_balanced_accuracy"] - row["source_balanced_accuracy"]
    checks["source accuracy"] = _check(
        drop <= MAX_SOURCE_DROP,
        f"balanced accuracy of held-out source rows through the deployed map {row['source_balanced_accuracy']:.1%} "
        f"vs {base['source_balanced_accuracy']:.1%} without adaptation (may drop {MAX_SOURCE_DROP:.0%})")
    flip = row.get("flip_rate")
    checks["flip rate"] = _check(
        flip is None or flip < MAX_FLIP_RATE,
        "too few confident unadapted target predictions to judge" if flip is None else
        f"changes {flip:.0%} of the target rows the unadapted model is sure of (limit {MAX_FLIP_RATE:.0%})")
    change = row.get("class_share_change")
    if change is not None:
        checks["class proportions"] = _check(
            change < MAX_CLASS_SHARE_CHANGE,
            f"moves the predicted target class proportions by {change:.0%} (total variation; limit "
            f"{MAX_CLASS_SHARE_CHANGE:.0%})")
    if REVERSE in row["scores"] and REVERSE in base["scores"]:
        rev, rev_base = row["scores"][REVERSE], base["scores"][REVERSE]
        checks["reverse validation"] = _check(
            rev_base - rev <= MAX_REVERSE_DROP,
            f"reverse-validation accuracy {rev:.1%} vs {rev_base:.1%} without adaptation "
            f"(may drop {MAX_REVERSE_DROP:.0%})")
    return checks


def _evidence(row: dict, base: dict) -> float:
    """Gain over the baseline (accuracy): min of the balanced source and IW gains, with target labels averaged in."""
    gains = [row["source_balanced_accuracy"] - base["source_balanced_accuracy"]]
    if IW in row["scores"] and IW in base["scores"]:
        gains.append(row["scores"][IW] - base["scores"][IW])
    gain = min(gains)
    if LABELS in row["scores"] and LABELS in base["scores"]:
        gain = 0.5 * (gain + row["scores"][LABELS] - base["scores"][LABELS])
    return float(gain)


def decide(rows: list[dict], *, margin: float = 0.01, n_heldout: int | None = None) -> list[dict]:
    """Rank ``rows`` (the baseline first in input), the pick first; fill final_score, checks, passed, reasons."""
    base = rows[0]
    need = max(margin, MIN_ROWS_MARGIN / n_heldout if n_heldout else 0.0)
    for row in rows:
        row["checks"], row["reasons"], row["chosen"] = {}, [], False
        if row["error"] is not None:
            row["final_score"], row["passed"] = None, False
            row["reasons"].append(f"could not be fitted or scored: {row['error']}")
            continue
        row["final_score"] = 0.0 if row is base else _evidence(row, base)
        if row is not base:
            row["checks"] = _checks(row, base)
        row["passed"] = all(check["passed"] for check in row["checks"].values())
    eligible = [r for r in rows[1:] if r["passed"] and r["final_score"] >= need]
    best = max(eligible, key=lambda r: r["final_score"]) if eligible else base
    best["chosen"] = True
    for row in rows[1:]:
        if row is best or row["error"] is not None:
            continue
        failed = [name for name, check in row["checks"].items() if not check["passed"]]
        if failed:
            row["reasons"].append("failed the check(s): " + ", ".join(failed))
        if row["final_score"] < need:
            row["reasons"].append(f"gains {100 * row['final_score']:+.1f} points on the label-free evidence, "
                                  f"less than the {100 * need:.1f} required")
        elif best is not base and not failed:
            row["reasons"].append(f"{best['name']} has stronger evidence ({100 * best['final_score']:+.1f} points)")
    if best is base:
        best["reasons"].append(
            "no adapted candidate both gains at least "
            f"{100 * need:.1f} points of accuracy on the label-free evidence (balanced accuracy of held-out "
            "source rows through the deployed map, and importance-weighted accuracy) and passes the "
            "negative-transfer checks")
    else:
        best["reasons"].append(
            f"gains {100 * best['final_score']:+.1f} points over {base['name']} on the label-free evidence "
            f"(at least {100 * need:.1f} required) and passes every check: "
            + "; ".join(check["reason"] for check in best["checks"].values()))
    order = sorted(rows, key=lambda r: (not r["chosen"], not r["passed"],
                                        -(r["final_score"] if r["final_score"] is not None else -np.inf)))
    return order
