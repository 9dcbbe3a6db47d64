"""TransferAdvisor's text (which candidate to use and why) and its plot."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._advisor_rule import CONSISTENCY, failed_checks

__all__ = ["explain_ranking", "plot_ranking"]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _evidence(row: dict, baseline: str) -> str:
    """The evidence the rule ranked ``row`` by, in words."""
    score, kappa = row["final_score"], row.get("neighbor_consistency")
    if row.get("evidence") == CONSISTENCY:
        shown = "n/a" if kappa is None else f"{kappa:.3f}"
        gain = "" if score is None or row["name"] == baseline else f", {score:+.3f} over {baseline}"
        return f"neighbourhood consistency of the target predictions (kappa) {shown}{gain}"
    se = row.get("risk_gain_se")
    evidence = "n/a" if score is None else f"{score:+.3f}" + ("" if not se else f" (se {se:.3f})")
    return f"estimated target log loss (DEV) {evidence} nats a row lower than {baseline}"


def explain_ranking(ranking: list[dict], baseline: str) -> str:
    """A few lines per candidate, the pick first: decision, reasons, evidence, checks."""
    pick = ranking[0]
    verb = "keep no adaptation" if pick["name"] == baseline else "adapt"
    lines = [f"TransferAdvisor: use {pick['name']!r} ({verb})."]
    lines += [f"  why: {reason}" for reason in pick["reasons"]]
    lines.append("")
    for row in ranking:
        mark = "*" if row["chosen"] else " "
        if row["error"] is not None:
            lines.append(f"{mark} {row['name']}: could not be fitted or scored ({row['error']})")
            continue
        lines.append(
            f"{mark} {row['name']}: {_evidence(row, baseline)}; "
            f"held-out source accuracy (deployed map) {_pct(row['source_accuracy'])}"
            + ("" if row.get("flip_rate") is None else f"; flip rate {row['flip_rate']:.0%}")
            + ("" if row.get("class_share_change") is None
               else f"; target class shares moved {row['class_share_change']:.0%}")
        )
        if row.get("labelled_cv_accuracy") is not None:
            lines.append(f"    labelled target rows, cross-validated: {_pct(row['labelled_cv_accuracy'])} correct")
        scores = ", ".join(f"{name} {value:.3f}" for name, value in row["scores"].items())
        if scores:
            lines.append(f"    scores: {scores}")
        for name, error in row.get("score_errors", {}).items():
            lines.append(f"    {name} could not score it: {error}")
        for name, check in row["checks"].items():
            status = "passed" if check["passed"] else ("FAILED" if check.get("binding", True) else "failed, not binding")
            lines.append(f"    check {name}: {status} ({check['reason']})")
        if not row["chosen"]:
            lines += [f"    not chosen: {reason}" for reason in row["reasons"]]
    return "\n".join(lines)


def plot_ranking(ranking: list[dict], baseline: str, ax: Any = None) -> Any:
    """Horizontal bars of each candidate's evidence against the baseline; failed checks hatched."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "TransferAdvisor.plot needs matplotlib: pip install matplotlib (advisor.explain() gives the "
            "same evidence as text)."
        ) from exc
    from matplotlib.patches import Patch

    created = ax is None
    if created:
        _, ax = plt.subplots(figsize=(7.5, 0.55 * len(ranking) + 1.6))
    rows = [r for r in ranking if r["error"] is None][::-1]
    values = np.array([r["final_score"] or 0.0 for r in rows])
    colors = ["tab:green" if r["chosen"] else ("tab:blue" if r["passed"] else "tab:red") for r in rows]
    bars = ax.barh(np.arange(len(rows)), values, color=colors)
    for bar, row in zip(bars, rows):
        if not row["passed"]:
            bar.set_hatch("//")
        failed = failed_checks(row)
        label = "chosen" if row["chosen"] else ("failed: " + ", ".join(failed) if failed else "")
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {label}", va="center", fontsize=8)
    ax.axvline(0.0, color="black", linewidth=1)
    ax.set_yticks(np.arange(len(rows)), [r["name"] for r in rows])
    by_consistency = ranking[0].get("evidence") == CONSISTENCY
    ax.set_xlabel(f"rise of the neighbourhood consistency (kappa) of the target predictions vs {baseline}"
                  if by_consistency else f"drop of the estimated target log loss (DEV) vs {baseline}, nats a row")
    ax.set_title(f"TransferAdvisor: use {ranking[0]['name']}")
    ax.legend(handles=[Patch(color="tab:green", label="chosen"), Patch(color="tab:blue", label="checks passed"),
                       Patch(color="tab:red", hatch="//", label="a check failed")],
              loc="best", fontsize=8)
    if created:
        ax.figure.tight_layout()
    return ax.figure
