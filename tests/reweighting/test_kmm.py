"""KMM: its constraints, its optimum (against a generic QP solver), its scale path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from sktransfer._kernels import kernel, median_heuristic_gamma
from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import KMM, _kmm
from sktransfer.reweighting._qp import project_box_slab


def _domains(n=40, seed=0, n_features=2):
    X, y, sd = make_domain_shift(n_samples=n, n_features=n_features, random_state=seed)
    return X, y, sd, X[sd > 0], X[sd < 0]


@pytest.mark.parametrize("B, eps", [(1000.0, None), (3.0, 0.05), (1.5, 0.0)])
def test_weights_satisfy_the_box_and_the_slab(B, eps):
    X, y, sd, Xs, _ = _domains()
    kmm = KMM(B=B, eps=eps, max_iter=5000).fit(X, y, sample_domain=sd)
    b = kmm.weights_[sd > 0]
    n_s = b.shape[0]
    eps_used = (np.sqrt(n_s) - 1) / np.sqrt(n_s) if eps is None else eps
    assert b.min() >= 0.0 and b.max() <= B + 1e-12
    assert abs(b.sum() - n_s) <= n_s * eps_used + 1e-8


def test_a_box_below_the_slab_is_refused():
    """No weights at most B < 1 - eps can average 1 within eps: the projection returned every weight at B
    (mean 0.5 with B = 0.5) without a word. B = 1 - eps exactly is feasible (every weight at B)."""
    X, y, sd, _, _ = _domains()
    with pytest.raises(ValueError, match="B=0.5 is below 1 - eps = 0.99"):
        KMM(B=0.5, eps=0.01).fit(X, y, sample_domain=sd)
    b = KMM(B=0.99, eps=0.01, max_iter=5000).fit(X, y, sample_domain=sd).weights_[sd > 0]
    assert abs(b.mean() - 1.0) <= 0.01 + 1e-9


@pytest.mark.parametrize("reg", [0.0, 1.0])
def test_solution_matches_a_generic_qp_solver(reg):
    """Reference: scipy's SLSQP on the paper's program (Huang et al. 2007, eq. 6),
    written out here from the paper, plus the ridge ``reg``."""
    X, y, sd, Xs, Xt = _domains(n=30, seed=1)
    n_s, n_t = Xs.shape[0], Xt.shape[0]
    gamma = median_heuristic_gamma(X)
    K = kernel(Xs, Xs, "rbf", gamma) + reg * np.eye(n_s)
    kappa = (n_s / n_t) * kernel(Xs, Xt, "rbf", gamma).sum(axis=1)
    B, eps = 10.0, 0.1
    reference = minimize(
        lambda b: 0.5 * b @ K @ b - kappa @ b,
        np.ones(n_s),
        jac=lambda b: K @ b - kappa,
        bounds=[(0.0, B)] * n_s,
        constraints=[
            {"type": "ineq", "fun": lambda b: n_s * (1 + eps) - b.sum()},
            {"type": "ineq", "fun": lambda b: b.sum() - n_s * (1 - eps)},
        ],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 2000},
    )
    kmm = KMM(gamma=gamma, reg=reg, B=B, eps=eps, tol=1e-12, max_iter=200_000)
    b = kmm.fit(X, y, sample_domain=sd).weights_[sd > 0]
    objective = 0.5 * b @ K @ b - kappa @ b
    assert objective <= reference.fun + 1e-7 * abs(reference.fun)
    np.testing.assert_allclose(b, reference.x, atol=1e-3)


def test_projection_onto_box_and_slab_is_the_euclidean_projection():
    """Reference: the same projection as a QP solved by SLSQP."""
    rng = np.random.default_rng(0)
    v = rng.normal(2.0, 3.0, size=12)
    # the last three have upper >= the sum they project onto: the sorting path (the simplex)
    for upper, lo, hi in [(4.0, 5.0, 8.0), (4.0, 30.0, 40.0), (4.0, 0.0, 100.0),
                          (1.0, 1.0, 1.0), (4.0, 0.5, 2.0), (60.0, 45.0, 50.0)]:
        p = project_box_slab(v, upper, lo, hi)
        ref = minimize(
            lambda b: 0.5 * np.sum((b - v) ** 2), np.clip(v, 0, upper), jac=lambda b: b - v,
            bounds=[(0, upper)] * 12, method="SLSQP", options={"ftol": 1e-14},
            constraints=[{"type": "ineq", "fun": lambda b, hi=hi: hi - b.sum()},
                         {"type": "ineq", "fun": lambda b, lo=lo: b.sum() - lo}],
        )
        np.testing.assert_allclose(p, ref.x, atol=1e-6)


def test_nystroem_with_every_row_as_landmark_is_the_exact_solution():
    """With all rows as landmarks the Nyström kernel equals the exact one on them."""
    X, y, sd, Xs, Xt = _domains(n=30, seed=2)
    common = dict(gamma=0.5, tol=1e-12, max_iter=100_000)
    exact = KMM(approximation="exact", **common).fit(X, y, sample_domain=sd)
    approx = KMM(approximation="nystroem", n_landmarks=X.shape[0], random_state=0, **common)
    approx.fit(X, y, sample_domain=sd)
    assert approx.approximation_ == "nystroem"
    np.testing.assert_allclose(approx.weights_, exact.weights_, atol=1e-4)


def test_auto_switches_to_nystroem_past_the_threshold(monkeypatch):
    X, y, sd, _, _ = _domains(n=60, seed=3)
    monkeypatch.setattr(_kmm, "MAX_EXACT_SOURCE", 50)
    kmm = KMM(random_state=0).fit(X, y, sample_domain=sd)
    assert kmm.approximation_ == "nystroem"
    monkeypatch.setattr(_kmm, "MAX_EXACT_SOURCE", 100)
    assert KMM().fit(X, y, sample_domain=sd).approximation_ == "exact"


def test_new_rows_get_kernel_smoothed_weights():
    X, y, sd, Xs, _ = _domains(n=25, seed=4)
    kmm = KMM(gamma=1.0).fit(X, y, sample_domain=sd)
    b = kmm.weights_[sd > 0]
    new = np.array([[0.3, -0.2], [50.0, 50.0]])
    K = kernel(new, Xs, "rbf", 1.0)
    expected_first = K[0] @ b / K[0].sum()
    w = kmm.compute_weights(new)
    assert w[0] == pytest.approx(expected_first)
    assert w[1] == pytest.approx(b.mean())  # far from every source row: the mean


def test_unconverged_solver_warns():
    X, y, sd, _, _ = _domains()
    with pytest.warns(ConvergenceWarning, match="increase max_iter"):
        KMM(reg=0.0, max_iter=2, tol=0.0).fit(X, y, sample_domain=sd)


def test_the_default_converges_quietly():
    X, y, sd, _, _ = _domains(n=100)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        kmm = KMM().fit(X, y, sample_domain=sd)
    assert kmm.n_iter_ < 1000


@pytest.mark.parametrize("approximation", ["exact", "nystroem"])
def test_two_fits_with_the_same_random_state_are_bit_identical(approximation):
    """The exact path's step size comes from eigsh, whose default start vector
    is random: the weights of two fits used to differ in the last bits."""
    X, y, sd, _, _ = _domains(n=150)
    kmm = KMM(approximation=approximation, n_landmarks=50, random_state=0)
    first = kmm.fit(X, y, sample_domain=sd).weights_.copy()
    np.testing.assert_array_equal(kmm.fit(X, y, sample_domain=sd).weights_, first)


def test_default_bandwidth_path_builds_the_kernel_from_the_heuristics_distances():
    """On at most 1,000 rows the default reuses the median heuristic's squared
    distances for its kernel (no second pass over the features): the weights
    equal those of KMM handed the same gamma, whose kernel is scikit-learn's
    rbf_kernel (the reference)."""
    X, y, sd, Xs, Xt = _domains(n=200, seed=4, n_features=5)
    default = KMM(tol=1e-10, max_iter=20_000).fit(X, y, sample_domain=sd)
    given = KMM(gamma=median_heuristic_gamma(X), tol=1e-10, max_iter=20_000).fit(X, y, sample_domain=sd)
    assert default.gamma_ == given.gamma_
    np.testing.assert_allclose(default.weights_, given.weights_, rtol=1e-8, atol=1e-10)
