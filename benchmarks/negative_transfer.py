"""When does DAPipeline's negative-transfer warning fire, and is it right?

For each task, a logistic regression behind a standard scaler is fitted with
no adaptation and with each aligner (CORAL, subspace alignment with 20
components, linear TCA with 20 components) in a ``make_da_pipeline``, the
target labels hidden. The table gives each aligner's target accuracy beside
the unadapted one's, and ``flip_rate_``: the share of the target rows that the
unadapted pipeline predicts with probability >= 0.9 whose class the aligner
changes. The pipeline warns (``NegativeTransferWarning``) at 35% or more.

Tasks: breast cancer split on the mean radius, both ways (scikit-learn's
copy; small tumours one domain, large ones the other), the quickstart digits
(``load_digits_shift``), and the first two tasks of the suite's Office-Caltech
SURF, MNIST <-> USPS pixels, COIL20 and Amazon reviews (each domain capped
at 600 rows, stratified, when ``--max-rows`` says so).

Usage::

    python -m benchmarks.negative_transfer --data-home ../shared/data   # ~3 min on 2 cores
    python -m benchmarks.negative_transfer                               # scikit-learn data only

Writes ``benchmarks/results/negative_transfer.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
SUITE = ("office_caltech_surf", "mnist_usps", "coil20", "amazon_reviews")


def _aligners() -> dict:
    from sktransfer.alignment import CORAL, SubspaceAlignment, TransferComponentAnalysis

    return {
        "CORAL": CORAL(),
        "SA (20)": SubspaceAlignment(n_components=20),
        "TCA (20, linear)": TransferComponentAnalysis(n_components=20, kernel="linear"),
    }


def tasks(data_home: str | None, max_rows: int) -> Iterator[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, Xs, ys, Xt, yt) of every task."""
    from sklearn.datasets import load_breast_cancer

    from sktransfer.datasets import load_digits_shift

    X, y = load_breast_cancer(return_X_y=True)
    small = X[:, 0] < np.median(X[:, 0])
    yield "breast cancer small -> large", X[small], y[small], X[~small], y[~small]
    yield "breast cancer large -> small", X[~small], y[~small], X[small], y[small]
    digits = load_digits_shift()
    src = digits.sample_domain > 0
    yield "quickstart digits", digits.data[src], digits.target[src], digits.data[~src], digits.target_true[~src]
    if data_home is None:
        return
    from ._suite_datasets import DATASETS

    for key in SUITE:
        ds = DATASETS[key]
        for s, t in ds.tasks[:2]:
            task = ds.load(data_home, s, t, max_rows=max_rows)
            yield f"{ds.name.split(' (')[0]} {s}->{t}", task.Xs, task.ys, task.Xt, task.yt


def run_task(Xs, ys, Xt, yt) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from sktransfer import make_da_pipeline

    X = np.vstack([Xs, Xt])
    y = np.r_[ys, np.full(len(Xt), -1)]
    sd = np.r_[np.ones(len(ys), int), -np.ones(len(Xt), int)]
    row = {}
    for name, aligner in {"none": "passthrough", **_aligners()}.items():
        pipe = make_da_pipeline(StandardScaler(), aligner, LogisticRegression(max_iter=1000))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the table says where it warns
            pipe.fit(X, y, sample_domain=sd)
        row[name] = {"accuracy": float(np.mean(pipe.predict(Xt) == yt)), "flip_rate": pipe.flip_rate_}
    return row


def summarise(results: dict) -> str:
    names = list(_aligners())
    lines = [
        "| task | none | " + " | ".join(f"{n} | flips" for n in names) + " |",
        "|---|---:|" + "---:|---:|" * len(names),
    ]
    for task, row in results.items():
        cells = [f"{100 * row['none']['accuracy']:.1f}"]
        for n in names:
            rate = row[n]["flip_rate"]
            mark = " **warns**" if rate is not None and rate >= 0.35 else ""
            cells += [f"{100 * row[n]['accuracy']:.1f}", "n/a" if rate is None else f"{rate:.2f}{mark}"]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    alarms = [(row[n]["accuracy"] - row["none"]["accuracy"], row[n]["flip_rate"] >= 0.35)
              for row in results.values() for n in names if row[n]["flip_rate"] is not None]
    hurt = [warned for change, warned in alarms if change <= -0.05]
    helped = [warned for change, warned in alarms if change >= 0.0]
    lines += [
        "",
        f"Warned on {sum(hurt)} of the {len(hurt)} fits where the aligner cost 5 points or more, "
        f"and on {sum(helped)} of the {len(helped)} where it did not lose accuracy.",
    ]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=None, help="folder of the suite's data (../shared/data)")
    parser.add_argument("--max-rows", type=int, default=600, help="rows per domain of the suite's tasks")
    parser.add_argument("--out", default=str(RESULTS / "negative_transfer"))
    args = parser.parse_args(argv)
    results = {}
    for name, Xs, ys, Xt, yt in tasks(args.data_home, args.max_rows):
        results[name] = run_task(Xs, ys, Xt, yt)
        print(name, {k: round(v["accuracy"], 3) for k, v in results[name].items()}, flush=True)
    table = summarise(results)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        "# Negative-transfer warning: target accuracy (%) and flip rate per aligner\n\n"
        "Logistic regression after a standard scaler; `flips` is DAPipeline's `flip_rate_`, "
        "**warns** at 0.35 or more. Command: `python -m benchmarks.negative_transfer "
        f"{'--data-home ' + args.data_home if args.data_home else ''}`.\n\n"
    )
    out.with_suffix(".md").write_text(header + table + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"machine": platform.platform(), "max_rows": args.max_rows, "results": results}, indent=1))


if __name__ == "__main__":
    main()
