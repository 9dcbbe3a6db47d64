"""JDOTClassifier and JDOTRegressor: against skada's JDOT, and their own behaviour."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sktransfer import make_da_pipeline
from sktransfer.datasets import make_domain_shift
from sktransfer.parameter import JDOTClassifier, JDOTRegressor

pytest.importorskip("ot")


def _shift(task: str, n_classes: int = 2, n: int = 60, seed: int = 0):
    """A subspace shift with the true target labels, and y with them masked."""
    X, y, sd = make_domain_shift(n_samples=n, task=task, n_classes=n_classes, shift="subspace",
                                 mask_target=False, random_state=seed)
    mask = -1 if task == "classification" else np.nan
    return X, np.where(sd < 0, mask, y), sd, y


_SKADA_SCRIPT = """
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.svm import LinearSVC
from skada import JDOTClassifier, JDOTRegressor
out = {}
for name, blob in json.loads(sys.argv[1]).items():
    X, y, sd = (np.array(blob[k]) for k in ("X", "y", "sd"))
    if name == "regressor":
        model = JDOTRegressor(Ridge(), alpha=0.5, n_iter_max=100, tol=1e-5)
    elif name == "hinge":
        model = JDOTClassifier(LinearSVC(), alpha=0.5, metric="hinge", n_iter_max=100, tol=1e-5)
    else:
        model = JDOTClassifier(LogisticRegression(), alpha=0.5, metric="multinomial", n_iter_max=100, tol=1e-5)
    model.fit(X, y, sample_domain=sd)
    target = X[sd < 0]
    scores = (model.predict(target) if name == "regressor"
              else model.estimator_.decision_function(target))
    out[name] = {"scores": np.asarray(scores).tolist(), "n_iter": len(model.lst_loss_ot_),
                 "ot_losses": list(model.lst_loss_ot_)}
print(json.dumps(out))
"""

_CASES = {"regressor": ("regression", 2), "log_loss": ("classification", 3), "hinge": ("classification", 3)}


@pytest.fixture(scope="module")
def skada_runs():
    if importlib.util.find_spec("skada") is None:
        pytest.skip("skada is not installed")
    blobs = {}
    for name, (task, k) in _CASES.items():
        X, y, sd, _ = _shift(task, k)
        blobs[name] = {"X": X.tolist(), "y": y.tolist(), "sd": sd.tolist()}
    # Importing skada switches scikit-learn's metadata routing on for its whole process,
    # so it runs in a child; POT there need not import torch.
    env = {**os.environ, "POT_BACKEND_DISABLE_PYTORCH": "1"}
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", _SKADA_SCRIPT, json.dumps(blobs)],
                          capture_output=True, text=True, check=True, env=env)
    return json.loads(proc.stdout)


def _ours(name: str):
    if name == "regressor":
        return JDOTRegressor(Ridge(), alpha=0.5, max_iter=100, tol=1e-5)
    if name == "hinge":
        return JDOTClassifier(LinearSVC(), alpha=0.5, loss="hinge", max_iter=100, tol=1e-5)
    return JDOTClassifier(LogisticRegression(), alpha=0.5, max_iter=100, tol=1e-5)


@pytest.mark.parametrize("name", list(_CASES))
def test_matches_skada_jdot(name, skada_runs):
    """Reference: skada's JDOTRegressor (Ridge) and JDOTClassifier (LogisticRegression with
    metric="multinomial", LinearSVC with metric="hinge", three classes: skada's binary hinge
    cost ignores the label, see JDOTClassifier's Notes), same data, alpha, max_iter and tol.
    Same number of alternations, the same transport losses after the first (whose label
    part is skada's arbitrary constant), and the same target predictions / decision values.
    Measured max abs difference: about 1e-15."""
    task, k = _CASES[name]
    X, y, sd, _ = _shift(task, k)
    ref = skada_runs[name]
    model = _ours(name).fit(X, y, sample_domain=sd)
    assert model.n_iter_ == ref["n_iter"]
    np.testing.assert_allclose(model.ot_losses_[1:], ref["ot_losses"][1:], rtol=1e-9, atol=1e-12)
    target = X[sd < 0]
    scores = model.predict(target) if name == "regressor" else model.decision_function(target)
    np.testing.assert_allclose(scores, ref["scores"], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_jdot_beats_the_source_model_on_a_subspace_shift(task):
    X, y, sd, y_true = _shift(task, 3 if task == "classification" else 2, n=100, seed=1)
    source, target = sd > 0, sd < 0
    cls, base = (JDOTClassifier, LogisticRegression()) if task == "classification" else (JDOTRegressor, Ridge())
    model = cls().fit(X, y, sample_domain=sd)
    source_only = base.fit(X[source], y_true[source]).score(X[target], y_true[target])
    assert model.score(X[target], y_true[target]) > source_only + 0.05
    assert model.ot_losses_[-1] < model.ot_losses_[0]  # the joint plan fits better than features alone


def test_score_leaves_out_masked_rows_and_classes_come_from_the_model():
    X, y, sd, y_true = _shift("classification", 3)
    model = JDOTClassifier().fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (X.shape[0], 3)
    # Masked rows in y (the source's, here) are skipped by score.
    assert model.score(X, np.where(sd > 0, -1, y_true)) == model.score(X[sd < 0], y_true[sd < 0])


def test_in_a_pipeline_after_a_scaler():
    X, y, sd, y_true = _shift("classification", 2)
    pipe = make_da_pipeline(StandardScaler(), JDOTClassifier()).fit(X, y, sample_domain=sd)
    assert pipe.predict(X[sd < 0]).shape == (int((sd < 0).sum()),)


def test_hitting_max_iter_warns():
    X, y, sd, _ = _shift("regression")
    with pytest.warns(ConvergenceWarning, match="JDOTRegressor did not converge in max_iter=2"):
        JDOTRegressor(max_iter=2, tol=0.0).fit(X, y, sample_domain=sd)
    with pytest.warns(ConvergenceWarning, match="transport of the features alone"):
        JDOTRegressor(max_iter=1).fit(X, y, sample_domain=sd)


def test_an_unconverged_transport_plan_warns(monkeypatch):
    """The exact plans get POT's ot.solve budget (1,000,000 network simplex iterations, not
    ot.emd's 100,000, which stopped short on the suite's Amazon reviews); a plan still
    unconverged after the budget is named in a ConvergenceWarning, never used silently."""
    import sktransfer.parameter._jdot as jdot
    from sktransfer._pot import EMD_MAX_ITER

    assert EMD_MAX_ITER == 1_000_000
    X, y, sd, _ = _shift("classification", 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        JDOTClassifier().fit(X, y, sample_domain=sd)  # converges within the default budget
    monkeypatch.setattr(jdot, "EMD_MAX_ITER", 3)
    with pytest.warns(ConvergenceWarning, match=r"transport of alternation 1 stopped before optimality.*3 network"):
        JDOTClassifier(max_iter=2, tol=0.0).fit(X, y, sample_domain=sd)


def test_bad_input_gets_clear_errors():
    X, y, sd, _ = _shift("classification")
    with pytest.raises(ValueError, match="JDOTClassifier needs target rows"):
        JDOTClassifier().fit(X, y, sample_domain=np.ones_like(sd))
    with pytest.raises(ValueError, match="JDOTClassifier needs labelled source rows"):
        JDOTClassifier().fit(X, np.full(y.shape, -1), sample_domain=sd)
    with pytest.raises(ValueError, match="requires y to be passed"):
        JDOTRegressor().fit(X, None, sample_domain=sd)
    with pytest.raises(ValueError, match="Unknown label type"):
        JDOTClassifier().fit(X, np.where(sd > 0, X[:, 0], -1), sample_domain=sd)
    with pytest.raises(TypeError, match="needs its estimator to be an estimator whose fit takes sample_weight"):
        JDOTClassifier(KNeighborsClassifier()).fit(X, y, sample_domain=sd)
    with pytest.raises(TypeError, match=r"loss='hinge'\) needs an estimator with decision_function"):
        JDOTClassifier(GaussianNB(), loss="hinge").fit(X, y, sample_domain=sd)
    Xr, yr, sdr, _ = _shift("regression")
    with pytest.raises(ValueError, match="Input y contains infinity"):
        JDOTRegressor().fit(Xr, np.where(sdr > 0, np.inf, np.nan), sample_domain=sdr)


def test_missing_pot_names_the_extra(monkeypatch):
    X, y, sd, _ = _shift("classification")
    monkeypatch.setitem(sys.modules, "ot", None)  # makes `import ot` raise ImportError
    with pytest.raises(ImportError, match=r"JDOTClassifier needs POT.*pip install 'sktransfer\[ot\]'"):
        JDOTClassifier().fit(X, y, sample_domain=sd)
