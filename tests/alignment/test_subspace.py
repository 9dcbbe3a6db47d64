"""SubspaceAlignment against the formulas of Fernando et al. (2013)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from sktransfer.alignment import SubspaceAlignment


def _data(seed=0, n_s=60, n_t=50, d=5):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(n_s, d)) @ np.diag([5, 3, 2, 1, 0.5])[:d, :d]
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    Xt = rng.normal(size=(n_t, d)) @ np.diag([5, 3, 2, 1, 0.5])[:d, :d] @ rotation + 2.0
    sd = np.r_[np.ones(n_s, int), -np.ones(n_t, int)]
    return np.vstack([Xs, Xt]), sd, Xs, Xt


@pytest.mark.parametrize("k", [1, 2, 4])
def test_matches_the_paper_formula(k):
    """Reference: the paper's Algorithm 1 with PCA per domain (scikit-learn's PCA,
    full SVD): X_a = X_s P_s P_s^T P_t, target X_t P_t (both centred by their domain)."""
    X, sd, Xs, Xt = _data()
    Ps = PCA(k, svd_solver="full").fit(Xs).components_.T
    Pt = PCA(k, svd_solver="full").fit(Xt).components_.T
    out = SubspaceAlignment(n_components=k).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(out[sd > 0], (Xs - Xs.mean(0)) @ Ps @ (Ps.T @ Pt), atol=1e-8)
    np.testing.assert_allclose(out[sd < 0], (Xt - Xt.mean(0)) @ Pt, atol=1e-8)


def test_wide_data_uses_the_small_gram_and_matches_pca():
    rng = np.random.default_rng(1)
    Xs, Xt = rng.normal(size=(8, 30)), rng.normal(size=(9, 30)) + 1
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(8, int), -np.ones(9, int)]
    est = SubspaceAlignment(n_components=3).fit(X, sample_domain=sd)
    np.testing.assert_allclose(est.components_source_.T, PCA(3, svd_solver="full").fit(Xs).components_, atol=1e-8)


def test_shifted_copy_of_the_source_coincides_after_alignment():
    """Target = source + a constant: each domain is centred on its own mean and the
    subspaces are equal (M = I), so mapped source rows equal mapped target rows."""
    rng = np.random.default_rng(2)
    Xs = rng.normal(size=(200, 3)) * [4.0, 2.0, 1.0]
    X, sd = np.vstack([Xs, Xs + [5.0, -3.0, 1.0]]), np.r_[np.ones(200, int), -np.ones(200, int)]
    est = SubspaceAlignment(n_components=2)
    out = est.fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(est.alignment_, np.eye(2), atol=1e-8)
    np.testing.assert_allclose(out[sd > 0], out[sd < 0], atol=1e-8)


def test_n_components_default_and_clipping():
    X, sd, *_ = _data(d=5)
    assert SubspaceAlignment().fit(X, sample_domain=sd).n_components_ == 5
    est = SubspaceAlignment(n_components=50).fit(X, sample_domain=sd)
    assert est.n_components_ == 5 and est.transform(X).shape == (110, 5)
    assert list(est.get_feature_names_out()) == [f"subspacealignment{i}" for i in range(5)]


def test_alignment_matrix_is_ps_transpose_pt():
    X, sd, *_ = _data(3)
    est = SubspaceAlignment(n_components=2).fit(X, sample_domain=sd)
    np.testing.assert_allclose(est.alignment_, est.components_source_.T @ est.components_target_)
