"""The interior-point solver of KLIEP's program, against scipy's SLSQP and the KKT conditions."""

import numpy as np
import pytest
from scipy.optimize import minimize

from sktransfer.reweighting._mixture_weights import simplex_log_likelihood


def _objective(A, beta):
    return float(np.mean(np.log(A @ beta)))


def _slsqp(A):
    """Reference: scipy's SLSQP on the simplex (KLIEP's solver before issue 21)."""
    n, m = A.shape

    def negative(beta):
        f = np.maximum(A @ beta, np.finfo(float).tiny)
        return -np.mean(np.log(f)), -(A.T @ (1 / f)) / n

    res = minimize(negative, np.full(m, 1 / m), jac=True, method="SLSQP", bounds=[(0, None)] * m,
                   constraints=[{"type": "eq", "fun": lambda b: b.sum() - 1, "jac": lambda b: np.ones(m)}],
                   options={"ftol": 1e-14, "maxiter": 2000})
    return np.maximum(res.x, 0) / np.maximum(res.x, 0).sum()


def _kernel_problem(seed, n=300, m=40, d=3, gamma=1.0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, d))
    centres = X[rng.choice(n, m, replace=False)] + 0.3 * rng.normal(size=(m, d))
    return np.exp(-gamma * ((X[:, None, :] - centres[None]) ** 2).sum(-1))


@pytest.mark.parametrize("seed", range(6))
def test_optimum_matches_slsqp_and_meets_kkt(seed):
    A = _kernel_problem(seed, gamma=[0.3, 1.0, 3.0][seed % 3])
    beta, converged, n_iter = simplex_log_likelihood(A)
    # 8 to 11 Newton steps (the float32 Newton matrix kept float64's counts)
    assert converged and n_iter <= 15
    assert beta.sum() == pytest.approx(1.0, abs=1e-9) and np.all(beta >= 0)
    # never worse than SLSQP driven to ftol 1e-14, and at most 1e-9 better
    assert _objective(A, beta) >= _objective(A, _slsqp(A)) - 1e-9
    # KKT: g = A^T (1 / A beta) / n equals 1 on the support and is at most 1 off it
    g = A.T @ (1 / (A @ beta)) / A.shape[0]
    support = beta > 1e-6
    assert support.any() and not support.all()  # the optimum is sparse on these problems
    np.testing.assert_allclose(g[support], 1.0, atol=1e-6)
    assert np.all(g[~support] <= 1 + 1e-6)


def test_rows_scale_freely_and_zero_rows_are_left_out():
    """log(c A_i beta) = log c + log(A_i beta): scaling a row moves the objective, not the optimum;
    a row that is 0 at every component (a kernel underflow) adds log 0 whatever beta is."""
    A = _kernel_problem(1)
    beta = simplex_log_likelihood(A)[0]
    scales = np.logspace(-300, 0, A.shape[0])
    scaled, _, _ = simplex_log_likelihood(A * scales[:, None])
    np.testing.assert_allclose(scaled, beta, atol=1e-8)
    with_zero, converged, _ = simplex_log_likelihood(np.vstack([A, np.zeros(A.shape[1])]))
    assert converged
    np.testing.assert_allclose(with_zero, beta, atol=1e-8)


def test_one_component_and_no_rows():
    np.testing.assert_allclose(simplex_log_likelihood(np.ones((5, 1)))[0], [1.0])
    beta, converged, n_iter = simplex_log_likelihood(np.zeros((4, 3)))
    assert converged and n_iter == 0
    np.testing.assert_allclose(beta, 1 / 3)


def test_reports_non_convergence():
    beta, converged, n_iter = simplex_log_likelihood(_kernel_problem(2), max_iter=2)
    assert not converged and n_iter == 2
    assert beta.sum() == pytest.approx(1.0) and np.all(beta >= 0)
