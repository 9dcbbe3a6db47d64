"""TrAdaBoost: use a source domain that is only partly right, with a few labelled target rows.

The target concept is linear. We have 10 (classification) or 15 (regression)
labelled target rows, and 150 labelled source rows: three quarters follow the
target concept, a quarter follow the concept turned by 135 degrees. Training on
the target rows alone has too few rows; training on everything pooled learns
the wrong rows too. The TrAdaBoost family boosts on both and learns, round
after round, to stop trusting the source rows that disagree with the target.

Each number is the mean over five random draws of the data, scored on 1,000
fresh target rows. Runs offline in a few seconds.

Run: python examples/tradaboost.py
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from sktransfer import stack_domains
from sktransfer.boosting import (
    TrAdaBoostClassifier,
    TrAdaBoostRegressor,
    TwoStageTrAdaBoostRegressor,
)

N_SOURCE, N_WRONG, N_TEST, SEEDS = 150, 37, 1000, range(5)


def draw(rng, n, turn_degrees, task):
    """Rows x ~ N(0, I) in 2-D; the concept is the first axis turned by ``turn_degrees``."""
    X = rng.standard_normal((n, 2))
    angle = np.deg2rad(turn_degrees)
    score = X @ np.array([np.cos(angle), np.sin(angle)])
    if task == "regression":
        return X, score + 0.1 * rng.standard_normal(n)
    return X, (score > 0).astype(int)


def make_task(seed, task, n_target):
    rng = np.random.RandomState(seed)
    Xr, yr = draw(rng, N_SOURCE - N_WRONG, 0, task)  # source rows that follow the target
    Xw, yw = draw(rng, N_WRONG, 135, task)  # source rows that do not
    Xt, yt = draw(rng, n_target, 0, task)
    X_test, y_test = draw(rng, N_TEST, 0, task)
    X, y, sample_domain = stack_domains(source=(np.vstack([Xr, Xw]), np.r_[yr, yw]), target=(Xt, yt))
    wrong = np.zeros(len(y), dtype=bool)
    wrong[N_SOURCE - N_WRONG : N_SOURCE] = True
    return X, y, sample_domain, wrong, X_test, y_test


def evaluate(task, n_target, methods, score):
    rows = {name: [] for name in methods}
    trust = []
    for seed in SEEDS:
        X, y, sample_domain, wrong, X_test, y_test = make_task(seed, task, n_target)
        target = sample_domain < 0
        for name, (make, how) in methods.items():
            model = make(seed)
            start = time.perf_counter()
            if how == "target":
                model.fit(X[target], y[target])
            elif how == "pooled":
                model.fit(X, y)
            else:
                model.fit(X, y, sample_domain=sample_domain)
                right = (sample_domain > 0) & ~wrong
                trust.append(model.sample_weight_[right].mean() / model.sample_weight_[wrong].mean())
            rows[name].append((score(model.predict(X_test), y_test), time.perf_counter() - start))
    return {name: np.mean(values, axis=0) for name, values in rows.items()}, np.mean(trust)


def print_table(title, results, metric, fmt):
    print(f"### {title}")
    print()
    print(f"| method | {metric} | fit time (s) |")
    print("|---|---:|---:|")
    for name, (value, seconds) in results.items():
        print(f"| {name} | {fmt(value)} | {seconds:.3f} |")
    print()


def main() -> None:
    classification = {
        "logistic regression, target rows only": (lambda s: LogisticRegression(), "target"),
        "logistic regression, source + target pooled": (lambda s: LogisticRegression(), "pooled"),
        "TrAdaBoostClassifier(LogisticRegression())": (
            lambda s: TrAdaBoostClassifier(LogisticRegression(), random_state=s), "boost"),
    }
    results, trust = evaluate(
        "classification", 10, classification, lambda p, y: float(np.mean(p == y))
    )
    print_table("Classification: 150 source rows, 10 labelled target rows", results,
                "target accuracy", lambda v: f"{v:.1%}")
    print(f"TrAdaBoost's last round weighs a right source row {trust:.1f}x a wrong one.")
    print()

    regression = {
        "ridge, target rows only": (lambda s: Ridge(), "target"),
        "ridge, source + target pooled": (lambda s: Ridge(), "pooled"),
        "TrAdaBoostRegressor(Ridge())": (lambda s: TrAdaBoostRegressor(Ridge(), random_state=s), "boost"),
        "TwoStageTrAdaBoostRegressor(Ridge())": (
            lambda s: TwoStageTrAdaBoostRegressor(Ridge(), random_state=s), "boost"),
    }
    results, _ = evaluate(
        "regression", 15, regression, lambda p, y: float(np.sqrt(np.mean((p - y) ** 2)))
    )
    print_table("Regression: 150 source rows, 15 labelled target rows", results,
                "target RMSE", lambda v: f"{v:.3f}")


if __name__ == "__main__":
    main()
