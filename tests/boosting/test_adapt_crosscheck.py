"""Cross-check against ADAPT's TrAdaBoost, TrAdaBoostR2 and TwoStageTrAdaBoostR2.

ADAPT imports TensorFlow, so the comparison runs in a subprocess, with the
interpreter named by ``SKTRANSFER_ADAPT_PYTHON`` or, when ``adapt`` is
installed beside the tests, this one; otherwise the test is skipped (its spec
is looked up, not imported). The two implementations are not the same
algorithm. ADAPT departs from the papers where we follow them: no drift
correction, ``beta_t = eps / (2 - eps)`` instead of ``eps / (1 - eps)`` and no
cap on ``eps``, classification errors from ``predict_proba`` and votes with
probabilities, the second half taken as rounds ``N/2 + 1 .. N``, only the
linear loss for regression; in the two-stage version the source update
uses the boosted model rather than one learner, the cross-validation scores
one base learner rather than AdaBoost.R2', the schedule of the target share
lags one step behind the paper's (it never reaches 1), and AdaBoost.R2' votes
with the second half of its rounds. So the test asks for the same quality on
the same data, within a tolerance, not for the same numbers.

Print the comparison table (5 seeds) with
``SKTRANSFER_ADAPT_PYTHON=/path/to/python python tests/boosting/test_adapt_crosscheck.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import json, os, sys, time, warnings
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier
from adapt.instance_based import TrAdaBoost, TrAdaBoostR2, TwoStageTrAdaBoostR2
from sktransfer import stack_domains
from sktransfer.boosting import TrAdaBoostClassifier, TrAdaBoostRegressor, TwoStageTrAdaBoostRegressor
from sktransfer.datasets import make_domain_shift

def partly_wrong(seed, task, n_target):
    rng = np.random.RandomState(seed)
    def draw(n, deg):
        X = rng.standard_normal((n, 2)); a = np.deg2rad(deg)
        s = X @ np.array([np.cos(a), np.sin(a)])
        return (X, s + 0.1 * rng.standard_normal(n)) if task == "regression" else (X, (s > 0).astype(int))
    (Xr, yr), (Xw, yw) = draw(113, 0), draw(37, 135)
    (Xt, yt), (Xte, yte) = draw(n_target, 0), draw(1000, 0)
    return np.vstack([Xr, Xw]), np.r_[yr, yw], Xt, yt, Xte, yte

def concept(seed):
    X, y, sd = make_domain_shift(n_samples=1020, shift="concept", shift_strength=0.5, noise=0.05,
                                 mask_target=False, random_state=seed)
    return X[:200], y[:200], X[1020:1040], y[1020:1040], X[1040:], y[1040:]

def timed(fit):
    start = time.perf_counter(); model = fit(); return model, time.perf_counter() - start

acc = lambda m, X, y: float(np.mean(m.predict(X) == y))
rmse = lambda m, X, y: float(np.sqrt(np.mean((m.predict(X).ravel() - y) ** 2)))
TASKS = {
    "classification, 25% wrong source, LogisticRegression, 10 target rows": (
        lambda s: partly_wrong(s, "classification", 10), LogisticRegression, TrAdaBoostClassifier, TrAdaBoost, acc, {}),
    "classification, concept shift 22.5 deg, tree depth 4, 20 target rows": (
        concept, lambda: DecisionTreeClassifier(max_depth=4), TrAdaBoostClassifier, TrAdaBoost, acc, {}),
    "regression, 25% wrong source, Ridge, 15 target rows (TrAdaBoost.R2)": (
        lambda s: partly_wrong(s, "regression", 15), Ridge, TrAdaBoostRegressor, TrAdaBoostR2, rmse, {}),
    "regression, 25% wrong source, Ridge, 15 target rows (two-stage)": (
        lambda s: partly_wrong(s, "regression", 15), Ridge, TwoStageTrAdaBoostRegressor, TwoStageTrAdaBoostR2, rmse,
        {"n_estimators": 10}),
}
out = {}
for name, (data, base, ours_cls, adapt_cls, score, extra) in TASKS.items():
    rows = []
    for seed in range(int(sys.argv[1]) if len(sys.argv) > 1 else 5):
        Xs, ys, Xt, yt, Xte, yte = data(seed)
        X, y, sd = stack_domains(source=(Xs, ys), target=(Xt, yt))
        ours, t_ours = timed(lambda: ours_cls(base(), random_state=seed).fit(X, y, sample_domain=sd))
        kw = {"n_estimators_fs": 10} if adapt_cls is TwoStageTrAdaBoostR2 else {}
        theirs, t_adapt = timed(lambda: adapt_cls(base(), Xt=Xt, yt=yt, n_estimators=10, random_state=seed,
                                                  verbose=0, **kw).fit(Xs, ys))
        rows.append([score(ours, Xte, yte), score(theirs, Xte, yte), t_ours, t_adapt])
    out[name] = rows
print("JSON" + json.dumps(out))
'''


def _adapt_python() -> str | None:
    given = os.environ.get("SKTRANSFER_ADAPT_PYTHON")
    if given:
        return given
    if importlib.util.find_spec("adapt") is not None:
        return sys.executable
    return None


def run_comparison(python: str, n_seeds: int = 5) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [python, "-c", SCRIPT, str(n_seeds)], capture_output=True, text=True, timeout=900, env=env
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(line for line in proc.stdout.splitlines() if line.startswith("JSON"))
    return json.loads(line[4:])


@pytest.mark.slow
def test_same_quality_as_adapt():
    """Ours vs ADAPT (adapt.instance_based), same data, base estimator and N=10, 5 seeds.

    On average, accuracy no more than 5 points below ADAPT's and RMSE no more
    than 25% above it (ours was 2-3 points more accurate and within 5% on
    RMSE when this was written).
    """
    python = _adapt_python()
    if python is None:
        pytest.skip("adapt is not installed; set SKTRANSFER_ADAPT_PYTHON to a python that has it")
    import numpy as np

    for name, rows in run_comparison(python, n_seeds=5).items():
        ours, theirs = np.mean(rows, axis=0)[:2]
        if name.startswith("classification"):
            assert ours > theirs - 0.05, (name, rows)
        else:
            assert ours < 1.25 * theirs, (name, rows)


if __name__ == "__main__":
    import numpy as np

    print("| task | ours | ADAPT | ours fit (s) | ADAPT fit (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, rows in run_comparison(_adapt_python() or sys.executable).items():
        means = np.mean(rows, axis=0)
        sds = np.std(rows, axis=0)
        print(f"| {name} | {means[0]:.3f} ± {sds[0]:.3f} | {means[1]:.3f} ± {sds[1]:.3f} "
              f"| {means[2]:.3f} | {means[3]:.3f} |")
