"""OptimalTransportMapping: against POT's ot.da classes and skada's OT mapping adapters."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktransfer import make_da_pipeline
from sktransfer.alignment import OptimalTransportMapping
from sktransfer.datasets import make_domain_shift

from .._wrappers import DomainCheckWrapper

ot = pytest.importorskip("ot")

METHODS = ["exact", "sinkhorn", "lpl1", "group_lasso"]


@pytest.fixture(scope="module")
def data():
    """Three classes, a subspace shift, 40 rows per domain, and 6 new source rows."""
    X, y, sd = make_domain_shift(n_samples=40, n_classes=3, shift="subspace", random_state=0)
    X_new = X[sd > 0][:6] + np.random.default_rng(0).normal(scale=0.05, size=(6, X.shape[1]))
    return X, y, sd, X_new


def _pot(method: str):
    """POT's own transport object with the adapter's defaults."""
    if method == "exact":
        return ot.da.EMDTransport()
    if method == "sinkhorn":
        return ot.da.SinkhornTransport(reg_e=1.0, tol=1e-8)
    cls = ot.da.SinkhornLpl1Transport if method == "lpl1" else ot.da.SinkhornL1l2Transport
    return cls(reg_e=1.0, reg_cl=0.1, tol=1e-8)


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
@pytest.mark.parametrize("method", METHODS)
def test_matches_pot_transport_classes(method, data):
    """Reference: POT's ot.da.{EMD,Sinkhorn,SinkhornLpl1,SinkhornL1l2}Transport fitted on
    the same source rows (with their labels) and target rows: same coupling, same
    barycentric map of the training source rows, same out-of-sample map of new source
    rows. Measured max abs difference: 0 (the adapter calls the same code)."""
    X, y, sd, X_new = data
    Xs, ys, Xt = X[sd > 0], y[sd > 0], X[sd < 0]
    ref = _pot(method).fit(Xs=Xs, ys=ys.astype(float), Xt=Xt)
    ours = OptimalTransportMapping(method)
    mapped = ours.fit_transform(X, y, sample_domain=sd)
    np.testing.assert_allclose(ours.coupling_, ref.coupling_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mapped[sd > 0], ref.transform(Xs=Xs), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(mapped[sd < 0], Xt)
    np.testing.assert_allclose(ours.transform(X_new, sample_domain=1), ref.transform(Xs=X_new), atol=1e-12)


_SKADA_SCRIPT = """
import json, sys
import numpy as np
import skada
X = np.array(json.loads(sys.argv[1])); y = np.array(json.loads(sys.argv[2]))
sd = np.array(json.loads(sys.argv[3])); X_new = np.array(json.loads(sys.argv[4]))
adapters = {
    "exact": skada.OTMappingAdapter(),
    "sinkhorn": skada.EntropicOTMappingAdapter(reg_e=1.0, tol=1e-8),
    "lpl1": skada.ClassRegularizerOTMappingAdapter(reg_e=1.0, reg_cl=0.1, norm="lpl1", tol=1e-8),
    "group_lasso": skada.ClassRegularizerOTMappingAdapter(reg_e=1.0, reg_cl=0.1, norm="l1l2", tol=1e-8),
}
out = {}
for name, adapter in adapters.items():
    fitted = np.asarray(adapter.fit_transform(X, y, sample_domain=sd))
    new = np.asarray(adapter.transform(X_new, sample_domain=np.ones(len(X_new), int), allow_source=True))
    out[name] = {"fit": fitted.tolist(), "new": new.tolist()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def skada_maps(data):
    if importlib.util.find_spec("skada") is None:
        pytest.skip("skada is not installed")
    X, y, sd, X_new = data
    # Importing skada switches scikit-learn's metadata routing on for its whole
    # process, so it runs in a child; POT there need not import torch.
    env = {**os.environ, "POT_BACKEND_DISABLE_PYTORCH": "1"}
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", _SKADA_SCRIPT, *(json.dumps(a.tolist()) for a in (X, y, sd, X_new))],
        capture_output=True, text=True, check=True, env=env,
    )
    return {k: {kk: np.array(vv) for kk, vv in v.items()} for k, v in json.loads(proc.stdout).items()}


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
@pytest.mark.parametrize("method", METHODS)
def test_matches_skada_ot_mapping_adapters(method, data, skada_maps):
    """Reference: skada's OTMappingAdapter, EntropicOTMappingAdapter and
    ClassRegularizerOTMappingAdapter (norm "lpl1" / "l1l2"), run in a subprocess on the
    same stacked rows: source rows mapped, target rows unchanged, and new source rows
    mapped out of sample. Measured max abs difference: 0."""
    X, y, sd, X_new = data
    ours = OptimalTransportMapping(method)
    np.testing.assert_allclose(ours.fit_transform(X, y, sample_domain=sd), skada_maps[method]["fit"], atol=1e-10)
    np.testing.assert_allclose(ours.transform(X_new, sample_domain=1), skada_maps[method]["new"], atol=1e-10)


def test_exact_map_between_equal_sized_domains_is_a_matching(data):
    """With as many source as target rows and uniform weights, the exact plan is a
    permutation (Birkhoff): every source row lands exactly on one target row, each
    target row taken once. A new row takes its nearest source row's displacement."""
    X, y, sd, _ = data
    est = OptimalTransportMapping().fit(X, y, sample_domain=sd)
    mapped = est.transform(X, sample_domain=sd)[sd > 0]
    matches = np.argmin(((mapped[:, None, :] - X[sd < 0][None]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(mapped, X[sd < 0][matches], atol=1e-12)
    assert np.unique(matches).size == matches.size
    np.testing.assert_allclose(est.coupling_.sum(axis=1), 1 / 40)
    shifted = X[sd > 0][:3] + 1e-3
    np.testing.assert_allclose(est.transform(shifted, sample_domain=1), mapped[:3] + 1e-3, atol=1e-12)


def test_mapping_helps_a_classifier_on_a_subspace_shift():
    X, y, sd = make_domain_shift(n_samples=150, n_classes=3, shift="subspace", shift_strength=1.0,
                                 mask_target=False, random_state=3)
    y_fit = np.where(sd < 0, -1, y)
    target = sd < 0
    plain = LogisticRegression().fit(X[~target], y[~target]).score(X[target], y[target])
    adapted = make_da_pipeline(OptimalTransportMapping(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    assert adapted.score(X[target], y[target]) > plain + 0.05


@pytest.mark.parametrize("method", ["lpl1", "group_lasso"])
def test_class_regularised_methods_need_source_class_labels(method, data):
    X, y, sd, _ = data
    with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
        OptimalTransportMapping(method).fit(X, None, sample_domain=sd)
    with pytest.raises(ValueError, match=f"method='{method}'.*needs class labels.*'continuous'"):
        OptimalTransportMapping(method).fit(X, np.where(sd > 0, X[:, 0], np.nan), sample_domain=sd)


def test_no_target_rows_is_a_clear_error(data):
    X, y, sd, _ = data
    with pytest.raises(ValueError, match="OptimalTransportMapping needs target rows"):
        OptimalTransportMapping().fit(X, y, sample_domain=np.ones_like(sd))


@pytest.mark.filterwarnings("ignore:Warning. numerical errors")
def test_an_underflowing_coupling_is_a_clear_error(data):
    X, y, sd, _ = data
    with pytest.raises(ValueError, match="OptimalTransportMapping: .*reg_e=1e-06.*norm='max'"):
        OptimalTransportMapping("lpl1", reg_e=1e-6).fit(X * 100, y, sample_domain=sd)


def test_missing_pot_names_the_extra(data, monkeypatch):
    X, y, sd, _ = data
    monkeypatch.setitem(sys.modules, "ot", None)  # makes `import ot` raise ImportError
    with pytest.raises(ImportError, match=r"OptimalTransportMapping needs POT.*pip install 'sktransfer\[ot\]'"):
        OptimalTransportMapping().fit(X, y, sample_domain=sd)


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
@parametrize_with_checks([DomainCheckWrapper(OptimalTransportMapping("group_lasso"))])
def test_class_regularised_method_passes_sklearn_checks(estimator, check):
    """test_common runs the checks on the default ("exact"), which needs no labels; the
    class-regularised solvers need y (a tag the checks read)."""
    check(estimator)
