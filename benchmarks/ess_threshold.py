"""How often do concentrated importance weights cost accuracy? The measurement behind ``MIN_EFFECTIVE_SHARE``.

``DegenerateWeightsWarning`` fires when the effective sample size (Kish,
``effective_sample_size``) of the source rows' importance weights is below
``MIN_EFFECTIVE_SHARE`` (20%) of their number. This benchmark measures where
that line should be. Each fit is one weighter on one task: the weighter is
fitted with the target labels hidden, a model is trained on the source rows
with its weights and scored on every target label, and the score is compared
with the same model trained unweighted. The table bins the fits by the
weights' effective-sample-size share and gives, per band, the number of fits,
the share that lost more than 5 points and the median change.

Weighters (8): KMM with ``reg`` 1 (the default), 0 and 0.1; KLIEP and uLSIF
at one bandwidth, half the median-heuristic ``gamma`` (the CV over five
bandwidths costs 25 SLSQP solves a fit for KLIEP); KDEWeighter; and
DiscriminativeWeighter with its default logistic regression and with ``C=100``.

Tasks (150 per weighter, 1,200 fits):

- ``make_domain_shift`` covariate shifts, 300 rows per domain, of strength
  0.5, 1, ..., 4 in 2, 5 and 10 features, seeds 0-2 (72 tasks), scored by a
  LogisticRegression (accuracy, points = %) and, with ``task="regression"``,
  by a Ridge (R^2 x 100);
- 6 random halves of each domain of ``load_digits_shift`` (standard-scaled),
  scored by a LogisticRegression.

``--quick``: strengths 1 and 3 in 2 and 10 features, seed 0, and one digits
half (72 fits).

Usage::

    python -m benchmarks.ess_threshold            # ~35 s on 2 idle cores (4-12 min on busy ones)
    python -m benchmarks.ess_threshold --quick    # ~4 s (~40 s on busy cores)

Writes ``benchmarks/results/ess_threshold.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

#: Edges of the effective-sample-size share bands; the last band holds 1.0.
BANDS = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50, 0.75, 1.0)
#: A fit "lost" when its score fell by more than this many points.
LOSS_POINTS = 5.0
#: Scores are differences of rounded fractions (15 of 300 rows is exactly 5 points), so a
#: change of -5.000000000000004 is floating-point noise, not a loss of more than 5 points.
_TOLERANCE = 1e-9
#: The threshold under test (``sktransfer._sample_weights.MIN_EFFECTIVE_SHARE``).
THRESHOLD = 0.20

STRENGTHS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
N_FEATURES = (2, 5, 10)
SEEDS = (0, 1, 2)
DIGITS_HALVES = 6


def weighters(seed: int, gamma: float) -> dict:
    """The 8 weighters, named as in the results."""
    from sklearn.linear_model import LogisticRegression

    from sktransfer.reweighting import KLIEP, KMM, ULSIF, DiscriminativeWeighter, KDEWeighter

    return {
        "KMM": KMM(random_state=seed),
        "KMM(reg=0)": KMM(reg=0.0, random_state=seed),
        "KMM(reg=0.1)": KMM(reg=0.1, random_state=seed),
        "KLIEP": KLIEP(gamma=gamma, random_state=seed),
        "Discriminative": DiscriminativeWeighter(),
        "Discriminative(C=100)": DiscriminativeWeighter(LogisticRegression(C=100.0)),
        "KDE": KDEWeighter(random_state=seed),
        "ULSIF": ULSIF(gamma=gamma, random_state=seed),
    }


def _classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000)


def _regressor():
    from sklearn.linear_model import Ridge

    return Ridge()


Task = tuple[str, str, int, np.ndarray, np.ndarray, np.ndarray, Callable]


def tasks(quick: bool = False) -> Iterator[Task]:
    """(family, task, seed, X, y, sample_domain, model factory) of every task; y holds every label."""
    from sklearn.preprocessing import StandardScaler

    from sktransfer.datasets import load_digits_shift, make_domain_shift

    n_features = (2, 10) if quick else N_FEATURES
    strengths = (1.0, 3.0) if quick else STRENGTHS
    seeds = SEEDS[:1] if quick else SEEDS
    for family, task, model in (("classification", "classification", _classifier),
                                ("regression", "regression", _regressor)):
        for d in n_features:
            for s in strengths:
                for seed in seeds:
                    X, y, sd = make_domain_shift(n_samples=300, n_features=d, shift_strength=s, task=task,
                                                 mask_target=False, random_state=seed)
                    yield family, f"{family} d={d} s={s}", seed, X, y, sd, model
    X, y, sd = load_digits_shift(return_X_y=True, mask_target=False)
    X = StandardScaler().fit_transform(X)
    # One generator drawn in order: the k-th half is the same in --quick and full runs.
    rng = np.random.RandomState(0)
    for seed in range(1 if quick else DIGITS_HALVES):
        keep = np.zeros(len(X), dtype=bool)
        for domain in (1, -1):
            rows = np.flatnonzero(sd == domain)
            keep[rng.choice(rows, len(rows) // 2, replace=False)] = True
        yield "digits", "digits", seed, X[keep], y[keep], sd[keep], _classifier


def run_task(X, y, sd, seed: int, model: Callable) -> tuple[list[dict], dict]:
    """One row per weighter that fitted (ESS share, scores, change in points); the failures by weighter."""
    from sktransfer._kernels import median_heuristic_gamma
    from sktransfer.reweighting import effective_sample_size

    src, tgt = sd > 0, sd < 0
    base = 100 * model().fit(X[src], y[src]).score(X[tgt], y[tgt])
    y_masked = np.where(src, y, -1)
    gamma = 0.5 * median_heuristic_gamma(X, "rbf", seed)
    rows, failures = [], {}
    for name, weighter in weighters(seed, gamma).items():
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # Convergence and DegenerateWeightsWarning: the table is what they would say.
                warnings.simplefilter("ignore")
                weights = weighter.fit(X, y_masked, sample_domain=sd).weights_[src]
                share = effective_sample_size(weights) / len(weights)
                score = 100 * model().fit(X[src], y[src], sample_weight=weights).score(X[tgt], y[tgt])
            if not np.isfinite(score):
                raise ValueError(f"non-finite score {score}")
        except Exception as exc:  # a failed fit is counted, not fatal
            failures[name] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        rows.append({"weighter": name, "ess_share": share, "weighted": score, "unweighted": base,
                     "delta": score - base, "seconds": time.perf_counter() - start})
    return rows, failures


def band_label(lo: float, hi: float) -> str:
    """``0.05, 0.10`` -> ``"5-10%"``."""
    return f"{100 * lo:g}-{100 * hi:g}%"


def bin_rows(rows: list[dict], bands: tuple = BANDS, loss: float = LOSS_POINTS) -> list[dict]:
    """Per band of ESS share: fits, share that lost more than ``loss`` points, median change.

    A band holds ``lo <= share < hi``; the last one also holds ``share == hi``.
    Empty bands have ``fits == 0`` and NaN statistics.
    """
    share = np.array([r["ess_share"] for r in rows], dtype=float)
    delta = np.array([r["delta"] for r in rows], dtype=float)
    out = []
    for i, (lo, hi) in enumerate(zip(bands[:-1], bands[1:])):
        last = i == len(bands) - 2
        mask = (share >= lo) & ((share <= hi) if last else (share < hi))
        d = delta[mask]
        out.append({
            "band": band_label(lo, hi), "lo": lo, "hi": hi, "fits": int(mask.sum()),
            "share_lost": float(np.mean(d < -loss - _TOLERANCE)) if d.size else float("nan"),
            "median_change": float(np.median(d)) if d.size else float("nan"),
        })
    return out


def split_at(rows: list[dict], threshold: float = THRESHOLD, loss: float = LOSS_POINTS) -> dict:
    """Fits below and at-or-above ``threshold``: count, share lost, median change."""
    out = {}
    for side, keep in (("below", lambda s: s < threshold), ("above", lambda s: s >= threshold)):
        d = np.array([r["delta"] for r in rows if keep(r["ess_share"])], dtype=float)
        out[side] = {"fits": int(d.size),
                     "share_lost": float(np.mean(d < -loss - _TOLERANCE)) if d.size else float("nan"),
                     "median_change": float(np.median(d)) if d.size else float("nan")}
    return out


def _pct(x: float) -> str:
    return "-" if x != x else f"{100 * x:.0f}%"


def _points(x: float) -> str:
    return "-" if x != x else f"{x:+.1f}"


def summarise(rows: list[dict], loss: float = LOSS_POINTS) -> tuple[str, dict]:
    """Markdown: the band table (bands as columns), then below/above the threshold per family."""
    bins = bin_rows(rows, loss=loss)
    lines = [
        "| ESS share | " + " | ".join(b["band"] for b in bins) + " |",
        "|---|" + "---:|" * len(bins),
        "| fits | " + " | ".join(str(b["fits"]) for b in bins) + " |",
        f"| lost more than {loss:g} points | " + " | ".join(_pct(b["share_lost"]) for b in bins) + " |",
        "| median change (points) | " + " | ".join(_points(b["median_change"]) for b in bins) + " |",
        "",
        f"Below and above an ESS share of {THRESHOLD:.0%} "
        f"(fits / lost more than {loss:g} points / median change):",
        "",
        f"| family | below {THRESHOLD:.0%} | above |",
        "|---|---:|---:|",
    ]
    families = {"all": rows}
    for r in rows:
        families.setdefault(r["family"], []).append(r)
    by_family = {}
    for family, members in families.items():
        by_family[family] = split_at(members, loss=loss)
        cells = [f"{s['fits']} / {_pct(s['share_lost'])} / {_points(s['median_change'])}"
                 for s in by_family[family].values()]
        lines.append(f"| {family} | " + " | ".join(cells) + " |")
    return "\n".join(lines), {"bands": bins, "threshold": THRESHOLD, "by_family": by_family}


FIT_COLUMNS = ("task", "seed", "weighter", "ess_share", "weighted", "unweighted", "seconds")


def _fits_json(rows: list[dict]) -> str:
    """The fits as one list a line under ``FIT_COLUMNS`` (``delta`` is weighted - unweighted): re-binnable."""
    digits = {"ess_share": 5, "weighted": 3, "unweighted": 3, "seconds": 3}
    lines = [json.dumps([round(r[c], digits[c]) if c in digits else r[c] for c in FIT_COLUMNS]) for r in rows]
    return '{"columns": ' + json.dumps(FIT_COLUMNS) + ', "rows": [\n' + ",\n".join(lines) + "\n]}"


def main(argv=None) -> None:
    """Run the benchmark and write the markdown table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 tasks, 72 fits (~4 s)")
    parser.add_argument("--out", default=str(RESULTS / "ess_threshold"))
    args = parser.parse_args(argv)

    start = time.perf_counter()
    rows, failures = [], Counter()
    failure_examples: dict = {}
    for family, task, seed, X, y, sd, model in tasks(args.quick):
        task_rows, task_failures = run_task(X, y, sd, seed, model)
        rows += [{"family": family, "task": task, "seed": seed, **r} for r in task_rows]
        for name, message in task_failures.items():
            failures[name] += 1
            failure_examples.setdefault(name, f"{task} seed {seed}: {message}")
        print(f"{task} seed {seed}: {len(task_rows)} fits, {len(task_failures)} failed, "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    table, summary = summarise(rows)
    command = "python -m benchmarks.ess_threshold " + " ".join(argv if argv is not None else sys.argv[1:])
    n_fail = sum(failures.values())
    by_weighter = ", ".join(f"{name} {count}" for name, count in failures.items())
    failed = f"{n_fail} failed" + (f" ({by_weighter})" if n_fail else "")
    text = "\n".join([
        "## Importance weights: effective-sample-size share against the change in score", "",
        f"`{command.strip()}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{len(rows)} fits, {failed}; "
        f"total {seconds:.0f} s.", "",
        "Each fit: a weighter's weights on the source rows, the model trained with them, minus the same "
        "model unweighted, scored on every target label (accuracy %, or R^2 x 100 for the ridge). "
        f"`DegenerateWeightsWarning` fires below an ESS share of {THRESHOLD:.0%}.", "",
        table, "",
    ])
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    head = json.dumps({"command": command.strip(), "machine": platform.platform(), "seconds": seconds,
                       "loss_points": LOSS_POINTS, "failures": dict(failures),
                       "failure_examples": failure_examples, "summary": summary}, indent=1, default=float)
    out.with_suffix(".json").write_text(head[:-2] + ',\n "fits": ' + _fits_json(rows) + "\n}\n")


if __name__ == "__main__":
    main()
