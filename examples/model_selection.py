"""Choosing hyperparameters when the target domain has no labels.

The question every domain-adaptation user asks first: CORAL has a
regularisation ``reg``, the classifier after it a ``C``; which values, when
no target row is labelled? ``GridSearchCV`` works as usual with two changes:
``cv=DomainShuffleSplit(test_rows="all")`` keeps source and target rows in
every validation fold, and ``scoring=`` is a scorer that needs no target
labels.

1. A shift report first: how far apart are the domains (MMD with its
   permutation p-value, proxy A-distance), which features moved most, and
   how concentrated importance weights would be. Saved as a PNG.
2. One ``GridSearchCV`` over ``reg`` x ``C`` with every scorer at once
   (``refit=False``), then each scorer's pick is refitted on all rows and
   scored on the hidden target labels, beside the oracle (the best grid
   point by target accuracy, which needs the labels we pretend not to have)
   and the defaults.

Data: Office-Caltech10 SURF, Caltech -> Amazon (the full protocol), read from
``--data-home`` (default: ``$SKTRANSFER_DATA_HOME``, else ``../shared/data``
beside the repository) when the files are there; otherwise, and with
``--quick``, the offline digits shift of ``load_digits_shift``.

Run: python examples/model_selection.py [--quick] [--data-home DIR] [--png PATH]
(about 4 min on 2 cores on Office-Caltech; --quick about 30 s)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, ParameterGrid
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import make_da_pipeline, stack_domains
from sktransfer.alignment import CORAL
from sktransfer.datasets import load_digits_shift
from sktransfer.metrics import domain_shift_report
from sktransfer.model_selection import (
    CircularValidationScorer,
    DeepEmbeddedValidationScorer,
    DomainShuffleSplit,
    ImportanceWeightedScorer,
    PredictionEntropyScorer,
    SoftNeighborhoodDensityScorer,
)
from sktransfer.reweighting import DiscriminativeWeighter

SCORERS = {
    "importance-weighted source accuracy": ImportanceWeightedScorer(),
    "prediction entropy": PredictionEntropyScorer(),
    "soft neighbourhood density (SND)": SoftNeighborhoodDensityScorer(),
    "deep embedded validation (DEV)": DeepEmbeddedValidationScorer(),
    "circular validation": CircularValidationScorer(),
}


def source_accuracy(estimator, X, y):
    """What GridSearchCV does without a DA scorer: accuracy on the held-out labelled (source) rows."""
    return estimator.score(X, y)


def load(data_home: str | None, quick: bool):
    """(X, y, sample_domain, target labels, name): Office-Caltech C->A if present, else digits."""
    if not quick:
        from sktransfer.datasets import fetch_office_caltech

        home = data_home or os.environ.get("SKTRANSFER_DATA_HOME") or Path(__file__).resolve().parents[2] / "shared" / "data"
        try:
            (Xs, ys), (Xt, yt) = fetch_office_caltech(("caltech", "amazon"), data_home=home,
                                                      download_if_missing=False, return_X_y=True)
            X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
            return X, y, sd, yt, "Office-Caltech10 SURF, Caltech -> Amazon"
        except OSError as err:
            print(f"(Office-Caltech10 not found: {err}; using the digits shift)\n")
    digits = load_digits_shift()
    sd = digits.sample_domain
    return digits.data, digits.target, sd, digits.target_true[sd < 0], "load_digits_shift (offline)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="digits, a 3 x 3 grid, 2 splits")
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--png", default=None, help="save the shift report figure there (default: no figure)")
    args = parser.parse_args()
    X, y, sd, y_target, name = load(args.data_home, args.quick)
    print(f"## {name}: {int((sd > 0).sum())} labelled source rows, {int((sd < 0).sum())} unlabelled target rows\n")

    # 1. How big is the shift?
    report = domain_shift_report(X, sd, y=y, weighter=DiscriminativeWeighter(make_pipeline(StandardScaler(), LogisticRegression())),
                                 n_permutations=100 if args.quick else 200, random_state=0)
    print(report.summary(), "\n")
    if args.png:
        report.plot().savefig(args.png, dpi=110)
        print(f"(figure saved to {args.png})\n")

    # 2. One grid search, every scorer at once.
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(max_iter=2000))
    grid = {"coral__reg": [0.1, 1.0, 10.0] + ([] if args.quick else [100.0]),
            "logisticregression__C": [0.01, 0.1, 1.0] + ([] if args.quick else [0.001])}
    scoring = {"source accuracy (plain GridSearchCV)": source_accuracy, **SCORERS}
    cv = DomainShuffleSplit(n_splits=2 if args.quick else 3, test_size=0.3, test_rows="all", random_state=0)
    start = time.perf_counter()
    search = GridSearchCV(pipe, grid, scoring=scoring, refit=False, cv=cv, n_jobs=2)
    search.fit(X, y, groups=sd, sample_domain=sd)  # groups: the splitter's domains (routing off)
    search_s = time.perf_counter() - start

    # The oracle: every grid point fitted on all rows, scored on the hidden target labels.
    points = list(ParameterGrid(grid))
    target_accuracy = [
        100 * np.mean(clone(pipe).set_params(**p).fit(X, y, sample_domain=sd).predict(X[sd < 0]) == y_target)
        for p in points
    ]
    oracle = max(target_accuracy)

    def row(label: str, params: dict) -> str:
        acc = target_accuracy[points.index(params)]
        shown = ", ".join(f"{k.split('__')[1]}={v:g}" for k, v in params.items())
        return f"| {label} | {shown} | {acc:.1f}% | {oracle - acc:.1f} |"

    print(f"Grid: {grid}; {cv.n_splits} DomainShuffleSplit re-shuffles, search took {search_s:.0f} s.\n")
    print("| selection | picked | target accuracy | points below the oracle |")
    print("|---|---|---:|---:|")
    print(row("oracle (uses the target labels)", points[int(np.argmax(target_accuracy))]))
    print(row("defaults (reg=1, C=1)", {"coral__reg": 1.0, "logisticregression__C": 1.0}))
    for label in scoring:
        best = int(np.nanargmax(search.cv_results_[f"mean_test_{label}"]))
        print(row(label, search.cv_results_["params"][best]))


if __name__ == "__main__":
    main()
