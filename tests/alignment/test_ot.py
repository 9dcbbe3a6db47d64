"""OptimalTransportMapping: against POT's ot.da classes and skada's OT mapping adapters."""

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


def test_exact_transport_gets_the_full_network_simplex_budget(data):
    """EMDTransport's own 100,000 iterations stop short of the optimum on a few thousand
    degenerate rows a domain (JDOT on the suite's Amazon reviews); the default budget is
    POT's ot.solve one, and a budget too small is named in a ConvergenceWarning (and here in the error: rows left without mass)."""
    from sktransfer._pot import EMD_MAX_ITER

    X, y, sd, _ = data
    assert OptimalTransportMapping("exact")._transport().max_iter == EMD_MAX_ITER == 1_000_000
    assert OptimalTransportMapping("exact", max_iter=7)._transport().max_iter == 7
    with pytest.warns(ConvergenceWarning, match=r"stopped after max_iter=3 iterations before the optimal plan"):
        with pytest.raises(ValueError, match=r"received no mass.*stopped before optimality at max_iter=3"):
            OptimalTransportMapping("exact", max_iter=3).fit(X, y, sample_domain=sd)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        OptimalTransportMapping("exact").fit(X, y, sample_domain=sd)  # the default budget: no warning


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


# --- max_samples: the coupling between subsamples past a size (issue 21) ---------------------


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
@pytest.mark.parametrize("method", METHODS)
def test_every_row_is_used_unchanged_up_to_the_cap(method, data):
    """Below the cap (the default "auto": 2,500 rows per domain; an int as large as the
    domains; None) nothing is drawn: the same coupling, map and out-of-sample map, bit for
    bit, and the indices are every source and target row."""
    X, y, sd, X_new = data
    fits = []
    for max_samples in ("auto", 40, None):
        est = OptimalTransportMapping(method, max_samples=max_samples, random_state=0)
        fits.append((est, est.fit_transform(X, y, sample_domain=sd), est.transform(X_new, sample_domain=1)))
    (ref, mapped, new), *others = fits
    np.testing.assert_array_equal(ref.source_indices_, np.flatnonzero(sd > 0))
    np.testing.assert_array_equal(ref.target_indices_, np.flatnonzero(sd < 0))
    for est, mapped_other, new_other in others:
        np.testing.assert_array_equal(est.coupling_, ref.coupling_)
        np.testing.assert_array_equal(mapped_other, mapped)
        np.testing.assert_array_equal(new_other, new)


def _blobs(n_per_class: int, seed: int = 0):
    """Three Gaussian classes in 2-d (means 4 apart, unit spread); the target is the source
    moved by (3, 2), its labels masked. Returns X, y (masked), sample_domain, true target y."""
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    labels = np.repeat(np.arange(3), n_per_class)
    Xs = means[labels] + rng.normal(size=(labels.size, 2))
    Xt = means[labels] + rng.normal(size=(labels.size, 2)) + np.array([3.0, 2.0])
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(labels.size, int), -np.ones(labels.size, int)]
    return X, np.r_[labels, -np.ones(labels.size, int)], sd, labels


@pytest.mark.filterwarnings("ignore:Sinkhorn did not converge")
@pytest.mark.parametrize("method", METHODS)
def test_subsampled_coupling_maps_every_source_row_toward_the_target(method):
    """600 rows per domain, the coupling between 150-row subsamples: every source row, in
    the subsample or not, moves by POT's out-of-sample rule. That brings the source mean
    onto the target's up to the subsample's sampling error (a gap of 3.64 before; after,
    measured over random_state 0-5: 0.02 to 0.36, 0 with every row) and keeps the classes
    apart: each mapped source row is nearest its own class's target mean for 0.91 to 0.98
    of them (0.96 to 0.98 with every row, 0.59 unmapped)."""
    X, y, sd, labels = _blobs(200)
    est = OptimalTransportMapping(method, max_samples=150, random_state=0)
    mapped = est.fit_transform(X, y, sample_domain=sd)
    assert est.coupling_.shape == (150, 150)
    assert est.source_indices_.shape == est.target_indices_.shape == (150,)
    assert np.all(np.diff(est.source_indices_) > 0) and np.all(sd[est.source_indices_] > 0)
    assert np.all(np.diff(est.target_indices_) > 0) and np.all(sd[est.target_indices_] < 0)
    np.testing.assert_array_equal(mapped[sd < 0], X[sd < 0])
    src, tgt = mapped[sd > 0], X[sd < 0]
    before = np.linalg.norm(X[sd > 0].mean(0) - tgt.mean(0))
    assert np.linalg.norm(src.mean(0) - tgt.mean(0)) < 0.15 * before
    target_means = np.array([tgt[labels == k].mean(0) for k in range(3)])
    nearest = np.argmin(((src[:, None] - target_means[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == labels) > 0.9
    # transform on the training rows repeats fit_transform
    np.testing.assert_array_equal(est.transform(X, sample_domain=sd), mapped)


def test_subsampled_map_is_pots_out_of_sample_rule():
    """The rule, written out (Ferradans et al. 2014): a source row takes the barycentric
    displacement of its nearest subsampled source row, so the subsampled rows themselves
    get the barycentric map; new rows go the same way."""
    X, y, sd, _ = _blobs(100)
    est = OptimalTransportMapping(max_samples=30, random_state=1)
    mapped = est.fit_transform(X, y, sample_domain=sd)
    xs, xt = X[est.source_indices_], X[est.target_indices_]
    bary = (est.coupling_ / est.coupling_.sum(axis=1, keepdims=True)) @ xt

    def rule(rows):
        nn = np.argmin(((rows[:, None] - xs[None]) ** 2).sum(-1), axis=1)
        return bary[nn] + rows - xs[nn]

    np.testing.assert_allclose(mapped[sd > 0], rule(X[sd > 0]), atol=1e-12)
    np.testing.assert_allclose(mapped[est.source_indices_], bary, atol=1e-12)
    X_new = np.random.default_rng(0).normal(size=(7, 2)) * 3
    np.testing.assert_allclose(est.transform(X_new, sample_domain=1), rule(X_new), atol=1e-12)
    np.testing.assert_array_equal(est.transform(X_new), X_new)  # target rows stay


@pytest.mark.parametrize("method", ["lpl1", "group_lasso"])
def test_class_regularised_subsample_keeps_every_class(method):
    """The source subsample is stratified: classes in proportion (13.3, 6.6, 0.1 of 20, by the
    largest remainder 13, 7, 0), and the class of 3 rows in 603 still gets a row, on top."""
    rng = np.random.default_rng(0)
    ys = np.r_[np.zeros(400, int), np.ones(200, int), np.full(3, 2)]
    Xs = rng.normal(size=(ys.size, 2)) + ys[:, None] * 3.0
    Xt = rng.normal(size=(300, 2)) + 1.0
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(ys.size, int), -np.ones(300, int)]
    y = np.r_[ys, -np.ones(300, int)]
    est = OptimalTransportMapping(method, max_samples=20, random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(np.bincount(y[est.source_indices_]), [13, 7, 1])
    assert est.target_indices_.size == 20


def test_stratified_quotas():
    from sktransfer._sampling import stratified_rows as _stratified_rows

    rng = np.random.RandomState(0)
    codes = np.repeat([0.0, 1.0, 2.0], [50, 30, 20])
    rows = _stratified_rows(codes, 10, rng)
    np.testing.assert_array_equal(np.bincount(codes[rows].astype(int)), [5, 3, 2])
    assert np.all(np.diff(rows) > 0)
    # more classes than rows: one of each
    many = np.repeat(np.arange(8.0), 3)
    np.testing.assert_array_equal(np.bincount(many[_stratified_rows(many, 5, rng)].astype(int)), np.ones(8))


def test_auto_subsamples_a_domain_past_2500_rows():
    """"auto" keeps a domain of 2,500 rows whole and draws 1,000 rows of one of 2,501; a
    small domain beside a large one is kept whole."""
    rng = np.random.default_rng(0)
    for n_source, expected in [(2500, 2500), (2501, 1000)]:
        X = np.vstack([rng.normal(size=(n_source, 2)), rng.normal(size=(40, 2)) + 1])
        sd = np.r_[np.ones(n_source, int), -np.ones(40, int)]
        est = OptimalTransportMapping(random_state=0).fit(X, sample_domain=sd)
        assert est.coupling_.shape == (expected, 40)
        assert est.target_indices_.size == 40


def test_subsample_follows_random_state_and_survives_clone_and_pickle():
    import pickle

    from sklearn.base import clone

    X, y, sd, _ = _blobs(100)
    est = OptimalTransportMapping("sinkhorn", max_samples=25, random_state=3)
    mapped = est.fit_transform(X, y, sample_domain=sd)
    again = clone(est)
    assert again.get_params() == est.get_params()
    np.testing.assert_array_equal(again.fit_transform(X, y, sample_domain=sd), mapped)
    np.testing.assert_array_equal(again.source_indices_, est.source_indices_)
    other = clone(est).set_params(random_state=4).fit(X, y, sample_domain=sd)
    assert not np.array_equal(other.source_indices_, est.source_indices_)
    loaded = pickle.loads(pickle.dumps(est))
    X_new = X[sd > 0][:5] + 0.1
    np.testing.assert_array_equal(loaded.transform(X_new, sample_domain=1), est.transform(X_new, sample_domain=1))
