"""OptimalTransportMapping("sinkhorn") solves in scaling form where that is exact, else in the log domain."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sktransfer.alignment import OptimalTransportMapping, _sinkhorn
from sktransfer.datasets import make_domain_shift

ot = pytest.importorskip("ot")


@pytest.fixture(scope="module")
def data():
    X, y, sd = make_domain_shift(n_samples=120, n_features=20, n_classes=3, shift="subspace", random_state=1)
    X_new = X[sd > 0][:7] + np.random.default_rng(1).normal(scale=0.1, size=(7, X.shape[1]))
    return X, y, sd, X_new


def _pot_reference(X, sd, **params):
    """POT's SinkhornTransport.fit itself: the log-domain solver, whatever the cost."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ot.da.SinkhornTransport(tol=1e-8, **params).fit(Xs=X[sd > 0], Xt=X[sd < 0])


@pytest.mark.parametrize("params", [{"norm": "max", "reg_e": 0.01}, {"norm": "median", "reg_e": 0.05},
                                    {"reg_e": 2.0}])
def test_scaling_form_gives_pots_log_domain_plan_and_map(params, data):
    """Reference: POT's own SinkhornTransport (log domain). Where cost / reg_e stays under
    MAX_SCALED_COST the scaling form runs and gives the same plan, the same map of the
    training source rows and the same continuous map of new source rows (measured: 1e-15)."""
    X, y, sd, X_new = data
    ref = _pot_reference(X, sd, **params)
    assert ref.cost_.max() / params["reg_e"] <= _sinkhorn.MAX_SCALED_COST
    ours = OptimalTransportMapping("sinkhorn", **params).fit(X, y, sample_domain=sd)
    assert ours.transport_.method == "sinkhorn"
    scale = ref.coupling_.max()
    np.testing.assert_allclose(ours.coupling_, ref.coupling_, rtol=0, atol=1e-9 * scale)
    # the potentials are defined up to a constant (u c, v / c give the same plan)
    log_v, ref_log_v = ours.transport_.log_["log_v"], ref.log_["log_v"]
    np.testing.assert_allclose(log_v - log_v.mean(), ref_log_v - ref_log_v.mean(), atol=1e-6)
    np.testing.assert_allclose(ours.transform(X, sample_domain=sd)[sd > 0], ref.transform(Xs=X[sd > 0]), atol=1e-9)
    np.testing.assert_allclose(ours.transform(X_new, sample_domain=1), ref.transform(Xs=X_new), atol=1e-9)


def test_large_cost_over_reg_runs_the_log_domain_solver(data):
    """cost / reg_e far past MAX_SCALED_COST (raw squared distances, reg_e = 0.05): exp(-cost / reg_e)
    would underflow in scaling form, so POT's log-domain solver runs, as POT's own fit does."""
    X, y, sd, X_new = data
    ref = _pot_reference(X, sd, reg_e=0.05)
    assert ref.cost_.max() / 0.05 > 10 * _sinkhorn.MAX_SCALED_COST
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = OptimalTransportMapping("sinkhorn", reg_e=0.05).fit(X, y, sample_domain=sd)
    assert ours.transport_.method == "sinkhorn_log"
    np.testing.assert_array_equal(ours.coupling_, ref.coupling_)
    np.testing.assert_array_equal(ours.transform(X_new, sample_domain=1), ref.transform(Xs=X_new))


def test_scaling_form_that_meets_a_non_finite_number_falls_back_to_the_log_domain(data, monkeypatch):
    """With the threshold lifted, the scaling form on raw costs underflows (POT warns of numerical
    errors): its result is discarded and the log-domain plan is used, with no warning of the failed try."""
    X, y, sd, _ = data
    monkeypatch.setattr(_sinkhorn, "MAX_SCALED_COST", np.inf)
    ref = _pot_reference(X, sd, reg_e=0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = OptimalTransportMapping("sinkhorn", reg_e=0.05).fit(X, y, sample_domain=sd)
    assert ours.transport_.method == "sinkhorn_log"
    assert not any("numerical errors" in str(w.message) for w in caught)
    np.testing.assert_array_equal(ours.coupling_, ref.coupling_)


def test_unconverged_scaling_form_still_warns(data):
    """The scaling form's own warnings (here: too few iterations) reach the user."""
    X, y, sd, _ = data
    with pytest.warns(UserWarning, match="Sinkhorn did not converge"):
        est = OptimalTransportMapping("sinkhorn", norm="max", reg_e=0.01, max_iter=2).fit(X, y, sample_domain=sd)
    assert est.transport_.method == "sinkhorn"
