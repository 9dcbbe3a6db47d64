"""TransferComponentAnalysis against the eigenproblem of Pan et al. (2011)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg
from sklearn.decomposition import PCA
from sklearn.metrics.pairwise import rbf_kernel

from sktransfer.alignment import TransferComponentAnalysis, _tca


def _data(seed=0, n_s=20, n_t=15, d=3):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(n_s, d))
    Xt = rng.normal(size=(n_t, d)) * 1.5 + 0.7
    sd = np.r_[np.ones(n_s, int), -np.ones(n_t, int)]
    return np.vstack([Xs, Xt]), sd


def _principal_angles(A, B):
    return linalg.subspace_angles(A, B)


def test_exact_solution_matches_the_paper_eigenproblem():
    """Reference: the leading eigenvectors of (K L K + mu I)^-1 K H K (the paper's
    equation 11), built from explicit K, L, H and solved with scipy.linalg.eig
    (non-symmetric), which normalises differently: compare eigenvalues and the
    spanned embedding subspace."""
    X, sd = _data()
    n, k, mu, gamma = X.shape[0], 3, 0.5, 0.3
    K = rbf_kernel(X, gamma=gamma)
    e = np.where(sd > 0, 1 / (sd > 0).sum(), -1 / (sd < 0).sum())[:, None]
    L, H = e @ e.T, np.eye(n) - np.ones((n, n)) / n
    vals, vecs = linalg.eig(linalg.solve(K @ L @ K + mu * np.eye(n), K @ H @ K))
    order = np.argsort(-vals.real)[:k]
    ref_embedding = K @ vecs[:, order].real

    est = TransferComponentAnalysis(n_components=k, gamma=gamma, mu=mu, approximation="exact")
    out = est.fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(est.eigenvalues_, vals.real[order], rtol=1e-6)
    assert _principal_angles(out, ref_embedding).max() < 1e-6
    # Normalisation: W^T (K L K + mu I) W = I.
    W = est.projection_
    np.testing.assert_allclose(W.T @ (K @ L @ K + mu * np.eye(n)) @ W, np.eye(k), atol=1e-8)


def test_nystroem_with_every_row_as_landmark_equals_exact():
    X, sd = _data(1)
    common = dict(n_components=4, gamma=0.5, mu=1.0)
    exact = TransferComponentAnalysis(approximation="exact", **common).fit_transform(X, sample_domain=sd)
    nys = TransferComponentAnalysis(approximation="nystroem", n_landmarks=X.shape[0], random_state=0, **common)
    approx = nys.fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(np.abs(approx), np.abs(exact), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(nys.transform(X[:5]), approx[:5])


def test_linear_kernel_primal_equals_exact():
    X, sd = _data(2, d=4)
    common = dict(n_components=3, kernel="linear", mu=0.1)
    exact = TransferComponentAnalysis(approximation="exact", **common)
    out_exact = exact.fit_transform(X, sample_domain=sd)
    primal = TransferComponentAnalysis(**common)
    out_primal = primal.fit_transform(X, sample_domain=sd)
    assert exact.approximation_ == "exact" and primal.approximation_ == "primal"
    np.testing.assert_allclose(np.abs(out_primal), np.abs(out_exact), rtol=1e-6, atol=1e-8)
    assert primal.projection_.shape == (4, 3)


def test_recovers_the_shared_subspace():
    """Two informative directions shared by both domains and a third along which
    the domains' means differ (+3 / -3). Pooled PCA picks the shifted direction
    first; TCA must discard it and keep the shared plane."""
    rng = np.random.default_rng(3)
    n = 150
    shared = rng.normal(size=(2 * n, 2)) * [2.0, 1.5]
    offset = np.r_[np.full(n, 3.0), np.full(n, -3.0)] + rng.normal(scale=0.3, size=2 * n)
    X = np.column_stack([shared, offset])
    sd = np.r_[np.ones(n, int), -np.ones(n, int)]
    assert np.argmax(np.abs(PCA(1).fit(X).components_[0])) == 2
    est = TransferComponentAnalysis(n_components=2, kernel="linear", mu=1.0).fit(X, sample_domain=sd)
    angles = _principal_angles(est.projection_, np.eye(3)[:, :2])
    assert angles.max() < 0.05
    # And the domains' means meet in the embedding.
    out = est.transform(X)
    gap = np.abs(out[sd > 0].mean(0) - out[sd < 0].mean(0)).max()
    assert gap < 0.05 * out.std(0).min()


def test_auto_switches_to_landmarks_past_the_threshold(monkeypatch):
    X, sd = _data(4, n_s=40, n_t=40)
    monkeypatch.setattr(_tca, "MAX_EXACT_SAMPLES", 50)
    est = TransferComponentAnalysis(n_components=2, n_landmarks=30, random_state=0).fit(X, sample_domain=sd)
    assert est.approximation_ == "nystroem"
    assert est.landmarks_.shape == (30, 3) and not hasattr(est, "X_fit_")
    assert est.transform(X).shape == (80, 2)
    monkeypatch.setattr(_tca, "MAX_EXACT_SAMPLES", 100)
    assert TransferComponentAnalysis(n_components=2).fit(X, sample_domain=sd).approximation_ == "exact"


def test_landmark_solution_is_close_to_exact_with_enough_landmarks():
    X, sd = _data(5, n_s=150, n_t=150)
    common = dict(n_components=2, gamma=0.2, mu=1.0)
    exact = TransferComponentAnalysis(approximation="exact", **common).fit_transform(X, sample_domain=sd)
    approx = TransferComponentAnalysis(
        approximation="nystroem", n_landmarks=120, random_state=0, **common
    ).fit_transform(X, sample_domain=sd)
    assert _principal_angles(exact, approx).max() < 0.1


def test_n_components_are_clipped_and_gamma_resolved():
    X, sd = _data(6)
    est = TransferComponentAnalysis(n_components=100, kernel="linear").fit(X, sample_domain=sd)
    assert est.n_components_ == 3  # primal problem has n_features dimensions
    est = TransferComponentAnalysis(n_components=100, approximation="exact").fit(X, sample_domain=sd)
    assert est.n_components_ == X.shape[0]
    assert est.gamma_ == pytest.approx(1.0 / (X.shape[1] * X.var()))


@pytest.mark.parametrize("kernel", ["rbf", "laplacian", "poly", "sigmoid", "cosine", "linear"])
def test_every_kernel_runs(kernel):
    X, sd = _data(7)
    out = TransferComponentAnalysis(n_components=2, kernel=kernel).fit_transform(X, sample_domain=sd)
    assert out.shape == (35, 2) and np.isfinite(out).all()


def test_bad_parameters_are_refused():
    X, sd = _data()
    with pytest.raises(ValueError, match="'mu' parameter"):
        TransferComponentAnalysis(mu=0).fit(X, sample_domain=sd)
    with pytest.raises(ValueError, match="'kernel' parameter"):
        TransferComponentAnalysis(kernel="gaussian").fit(X, sample_domain=sd)


def test_lanczos_path_equals_the_dense_path(monkeypatch):
    """Large problems use scipy's eigsh on matrix-vector products; force it on a small
    one and compare with the dense solver."""
    from sktransfer import _linalg

    X, sd = _data(8, n_s=60, n_t=50)
    common = dict(n_components=5, gamma=0.3, mu=1.0, approximation="exact")
    dense = TransferComponentAnalysis(**common).fit(X, sample_domain=sd)
    monkeypatch.setattr(_linalg, "MAX_DENSE_EIGEN", 10)
    lanczos = TransferComponentAnalysis(**common).fit(X, sample_domain=sd)
    np.testing.assert_allclose(lanczos.eigenvalues_, dense.eigenvalues_, rtol=1e-8)
    np.testing.assert_allclose(lanczos.transform(X), dense.transform(X), rtol=1e-6, atol=1e-8)


def test_auto_linear_solves_the_smaller_problem():
    """Fewer rows than features: the n x n kernel (dual) is the smaller problem and gives the same map."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 100))
    sd = np.r_[np.ones(20, int), -np.ones(20, int)]
    auto = TransferComponentAnalysis(kernel="linear", n_components=3).fit(X, sample_domain=sd)
    primal = TransferComponentAnalysis(kernel="linear", n_components=3, approximation="nystroem").fit(
        X, sample_domain=sd)
    assert auto.approximation_ == "exact" and primal.approximation_ == "primal"
    np.testing.assert_allclose(np.abs(auto.transform(X)), np.abs(primal.transform(X)), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "params, scale, match",
    [
        # (gamma <x, y> + 1)^3 overflows: the kernel matrix itself is inf.
        ({"kernel": "poly", "gamma": 1e300}, 1.0, r"kernel matrix came out non-finite.*kernel='poly' with gamma_=1e\+300"),
        # Linear kernel values of 1e200 are fine, their products in K H K are not.
        ({"kernel": "linear", "approximation": "exact"}, 1e100, r"matrix K H K came out non-finite.*StandardScaler"),
        ({"kernel": "linear"}, 1e100, r"(Gram matrix|matrix K H K) .*non-finite.*'linear' kernel squares"),
    ],
    ids=["poly-huge-gamma", "linear-exact-large-rows", "linear-primal-large-rows"],
)
def test_overflowing_eigenproblems_raise_naming_the_cause(params, scale, match):
    """These ended in LAPACK's 'array must not contain infs or NaNs'."""
    X, sd = _data()
    tca = TransferComponentAnalysis(n_components=2, random_state=0, **params)
    with pytest.raises(ValueError, match=f"TransferComponentAnalysis: .*{match}"):
        tca.fit(X * scale, sample_domain=sd)


def test_an_infinite_coef0_is_refused():
    """It was accepted (and ignored by the rbf kernel, or made 'poly' values inf)."""
    X, sd = _data()
    with pytest.raises(ValueError, match="'coef0' parameter of TransferComponentAnalysis"):
        TransferComponentAnalysis(coef0=np.inf).fit(X, sample_domain=sd)
