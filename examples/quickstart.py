"""Quickstart: does feature alignment help a model trained on one domain work on another?

Source domain: scikit-learn's bundled 8x8 digits (every other image). Target
domain: the other images, blurred, moved half a pixel and with more contrast
(see ``load_digits_shift().DESCR``). The target labels are hidden from every
model; they are only used at the end to measure accuracy.

The baseline is what a scikit-learn user does without this library: a scaler
and a logistic regression trained on the source images alone. Every other row
is a ``make_da_pipeline`` with the same scaler and classifier, fitted on the
labelled source images *and* the unlabelled target images, with an adaptation
step in between. Runs offline in a few seconds.

Run: python examples/quickstart.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer import make_da_pipeline
from sktransfer.alignment import CORAL, SubspaceAlignment, TransferComponentAnalysis
from sktransfer.datasets import load_digits_shift


def main() -> None:
    data = load_digits_shift()
    X, y, sample_domain = data.data, data.target, data.sample_domain
    target = sample_domain < 0
    y_target = data.target_true[target]  # hidden from fit; used only to score

    def classifier():
        return LogisticRegression(max_iter=2000)

    methods = {
        "no adaptation (source rows only)": make_pipeline(StandardScaler(), classifier()),
        "shared scaler (source + target rows)": make_da_pipeline(StandardScaler(), classifier()),
        "CORAL": make_da_pipeline(StandardScaler(), CORAL(), classifier()),
        "Subspace alignment (d=20)": make_da_pipeline(
            StandardScaler(), SubspaceAlignment(n_components=20), classifier()
        ),
        "TCA (d=30, rbf)": make_da_pipeline(
            StandardScaler(), TransferComponentAnalysis(n_components=30, mu=1.0), classifier()
        ),
    }

    rows = []
    for name, pipe in methods.items():
        start = time.perf_counter()
        if name.startswith("no adaptation"):
            pipe.fit(X[~target], y[~target])
        else:
            pipe.fit(X, y, sample_domain=sample_domain)
        seconds = time.perf_counter() - start
        accuracy = np.mean(pipe.predict(X[target]) == y_target)
        rows.append((name, accuracy, seconds))

    print(f"Digits: {np.sum(~target)} labelled source images, {np.sum(target)} unlabelled target images")
    print()
    print("| method | target accuracy | fit time (s) |")
    print("|---|---:|---:|")
    for name, accuracy, seconds in rows:
        print(f"| {name} | {accuracy:.1%} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
