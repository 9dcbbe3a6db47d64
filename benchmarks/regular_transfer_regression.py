"""RegularTransferRegressor's ``alpha`` on few-label regression transfer tasks.

The suite's few-label protocol (``benchmarks/_suite_fewlabel.py``) has only
classification tasks, so the regressor's default is measured here, on the
regression data that ship with scikit-learn and on synthetic shifts:

- scikit-learn's diabetes data (442 patients, 10 standardised features, the
  target standardised), split on the sex feature and on the median age,
  each way (4 tasks);
- ``make_domain_shift(task="regression")`` with ``shift="concept"`` (the
  coefficients change) and ``shift="covariate"`` (the inputs move), 300 rows
  a domain, 10 features, seeds 0-2 (6 tasks).

For ``k`` = 5, 10 and 20 labelled target rows (5 random draws each), every
``alpha`` of :data:`ALPHAS` is scored by the root mean squared error on the
other target rows, beside a ``Ridge`` on the source rows alone and one on
the ``k`` target rows alone. ADAPT's ``RegularTransferLR`` minimises the
same objective, and its default ``lambda_ = 1`` is our ``alpha = 1``
(``tests/parameter/test_regular_transfer.py`` checks the two solutions
agree).

Usage::

    python -m benchmarks.regular_transfer_regression   # about 10 s

Writes ``benchmarks/results/regular_transfer_regression.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0)
LABELLED = (5, 10, 20)
DRAWS = 5


def tasks() -> Iterator[tuple[str, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(name, family, Xs, ys, Xt, yt)`` of every task."""
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    from sktransfer.datasets import make_domain_shift

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()
    for feature, low, high in ((1, "sex 0", "sex 1"), (0, "younger", "older")):
        split = X[:, feature] > np.median(X[:, feature])
        yield f"diabetes {low} -> {high}", "diabetes", X[~split], y[~split], X[split], y[split]
        yield f"diabetes {high} -> {low}", "diabetes", X[split], y[split], X[~split], y[~split]
    for shift in ("concept", "covariate"):
        for seed in range(3):
            Xa, ya, sd = make_domain_shift(n_samples=300, n_features=10, task="regression", shift=shift,
                                           mask_target=False, random_state=seed)
            yield (f"synthetic {shift} (seed {seed})", "synthetic", Xa[sd > 0], ya[sd > 0], Xa[sd < 0],
                   ya[sd < 0])


def run_task(Xs, ys, Xt, yt, k: int) -> dict:
    """Mean target RMSE over the draws of each alpha and of the two baselines."""
    from sklearn.linear_model import Ridge

    from sktransfer import stack_domains
    from sktransfer.parameter import RegularTransferRegressor

    def rmse(model, rows):
        return float(np.sqrt(np.mean((model.predict(Xt[rows]) - yt[rows]) ** 2)))

    scores: dict = {str(a): [] for a in ALPHAS} | {"source only": [], "target only": []}
    for draw in range(DRAWS):
        rng = np.random.RandomState(draw)
        labelled = rng.choice(len(Xt), k, replace=False)
        rest = np.setdiff1d(np.arange(len(Xt)), labelled)
        X, y, sd = stack_domains(source=(Xs, ys), target=(Xt[labelled], yt[labelled]))
        for alpha in ALPHAS:
            scores[str(alpha)].append(rmse(RegularTransferRegressor(alpha=alpha).fit(X, y, sample_domain=sd), rest))
        scores["source only"].append(rmse(Ridge().fit(Xs, ys), rest))
        scores["target only"].append(rmse(Ridge().fit(Xt[labelled], yt[labelled]), rest))
    return {name: float(np.mean(v)) for name, v in scores.items()}


def table(results: dict) -> str:
    """One markdown table per ``k``: tasks as rows, then the mean of each family and of all."""
    columns = [str(a) for a in ALPHAS] + ["source only", "target only"]
    lines = []
    for k, rows in results.items():
        lines += [f"**{k} labelled target rows** (target RMSE, mean of {DRAWS} draws; lower is better)", "",
                  "| task | " + " | ".join(f"alpha = {c}" if c[0].isdigit() else c for c in columns) + " |",
                  "|---|" + "---:|" * len(columns)]
        for task, row in rows.items():
            lines.append(f"| {task} | " + " | ".join(f"{row['rmse'][c]:.3f}" for c in columns) + " |")
        for family in ("diabetes", "synthetic", None):
            sel = [r["rmse"] for r in rows.values() if family is None or r["family"] == family]
            label = "mean, all" if family is None else f"mean, {family}"
            lines.append(f"| **{label}** | " + " | ".join(f"{np.mean([r[c] for r in sel]):.3f}" for c in columns)
                         + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(RESULTS / "regular_transfer_regression"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    start = time.perf_counter()
    results = {k: {name: {"family": family, "rmse": run_task(Xs, ys, Xt, yt, k)}
                   for name, family, Xs, ys, Xt, yt in tasks()} for k in LABELLED}
    text = table(results)
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(
        "# RegularTransferRegressor: alpha on few-label regression transfer\n\n"
        f"Command: `python -m benchmarks.regular_transfer_regression`; {platform.machine()}, "
        f"{time.perf_counter() - start:.0f} s. The protocol is in the script's docstring.\n\n" + text + "\n")
    out.with_suffix(".json").write_text(json.dumps(
        {"machine": platform.platform(), "alphas": ALPHAS, "draws": DRAWS,
         "results": {str(k): v for k, v in results.items()}}, indent=1))


if __name__ == "__main__":
    main()
