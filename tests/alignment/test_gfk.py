"""GeodesicFlowKernel against the authors' GFK.py, and the kernel's closed forms.

Reference: ``jindongwang/transferlearning`` at commit
f951df1188858f6eb561b89e37deb93295ff1c82, ``code/traditional/GFK/GFK.py``
(the Python GFK that ``code/traditional/MEDA/MEDA.py`` imports; the same
``GFK_core`` as ``code/traditional/MEDA/matlab/GFK_Map.m``). It is re-written
below line by line, with two substitutions for libraries that are not
installable here: ``bob.learn.linear.PCATrainer`` (an SVD PCA of the centred
rows) and ``bob.math.gsvd`` (for ``[A; B]`` with orthonormal columns, as here,
the generalised SVD is the CS decomposition: ``A = V1 C X^T`` from the SVD of
``A``, ``B X = V2 S``).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import fractional_matrix_power, null_space, subspace_angles

from sktransfer.alignment import GeodesicFlowKernel
from sktransfer.alignment._gfk import geodesic_flow_factor, principal_axes


# ------------------------------------------------------------------ the authors' code
def _train_pca(data, subspace_dim):
    """GFK.train_pca: PCA (bob's SVD trainer), axes up to 99% of the variance."""
    centred = data - data.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variances = s**2 / (data.shape[0] - 1)
    cummulated = np.cumsum(variances) / np.sum(variances)
    for index in range(len(cummulated)):
        if cummulated[index] > subspace_dim:
            subspace_dim = index
            break
    subspace_dim = index
    return vt.T[:, :subspace_dim]


def _gsvd(A, B):
    """bob.math.gsvd(A, B) -> (U, V, X, C, S) with A = U C X^T, B = V S X^T, for orthonormal [A; B]."""
    U, c, Wt = np.linalg.svd(A)
    BW = B @ Wt.T
    s = np.linalg.norm(BW, axis=0)
    V = np.hstack([BW / s, null_space((BW / s).T)])
    S = np.zeros((B.shape[0], A.shape[1]))
    S[np.arange(s.size), np.arange(s.size)] = s
    return U, V, Wt.T, np.diag(c), S


def authors_gfk(Xs, Xt, dim, eps=1e-20):
    """GFK.fit(Xs, Xt) of GFK.py, norm_inputs=None: returns (G, Xs_new, Xt_new)."""
    Ps = _train_pca(Xs, 0.99)
    Pt = _train_pca(Xt, 0.99)
    Ps = np.hstack((Ps, null_space(Ps.T)))
    Pt = Pt[:, :dim]
    N = Ps.shape[1]
    dim = Pt.shape[1]
    QPt = np.dot(Ps.T, Pt)
    A = QPt[0:dim, :].copy()
    B = QPt[dim:, :].copy()
    [V1, V2, V, Gam, Sig] = _gsvd(A, B)
    V2 = -V2
    I = np.eye(V1.shape[1])
    I_check = np.dot(Gam.T, Gam) + np.dot(Sig.T, Sig)
    assert np.sum(abs(I - I_check)) < 1e-10
    theta = np.arccos(np.diagonal(Gam))
    B1 = np.diag(0.5 * (1 + (np.sin(2 * theta) / (2. * np.maximum(theta, 1e-20)))))
    B2 = np.diag(0.5 * ((np.cos(2 * theta) - 1) / (2 * np.maximum(theta, eps))))
    B3 = B2
    B4 = np.diag(0.5 * (1 - (np.sin(2 * theta) / (2. * np.maximum(theta, eps)))))
    delta1_1 = np.hstack((V1, np.zeros(shape=(dim, N - dim))))
    delta1_2 = np.hstack((np.zeros(shape=(N - dim, dim)), V2))
    delta1 = np.vstack((delta1_1, delta1_2))
    delta2_1 = np.hstack((B1, B2, np.zeros(shape=(dim, N - 2 * dim))))
    delta2_2 = np.hstack((B3, B4, np.zeros(shape=(dim, N - 2 * dim))))
    delta2_3 = np.zeros(shape=(N - 2 * dim, N))
    delta2 = np.vstack((delta2_1, delta2_2, delta2_3))
    delta3_1 = np.hstack((V1, np.zeros(shape=(dim, N - dim))))
    delta3_2 = np.hstack((np.zeros(shape=(N - dim, dim)), V2))
    delta3 = np.vstack((delta3_1, delta3_2)).T
    delta = np.linalg.multi_dot([delta1, delta2, delta3])
    G = np.linalg.multi_dot([Ps, delta, Ps.T])
    sqG = np.real(fractional_matrix_power(G, 0.5))  # scipy.real in the original
    Xs_new, Xt_new = np.dot(sqG, Xs.T).T, np.dot(sqG, Xt.T).T
    return G, Xs_new, Xt_new


# ------------------------------------------------------------------ data
def _domains(seed, ns=60, nt=50, d=10):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(ns, d)) @ rng.normal(size=(d, d))
    Xt = rng.normal(size=(nt, d)) @ rng.normal(size=(d, d)) + 0.5
    sd = np.r_[np.ones(ns, int), -np.ones(nt, int)]
    return Xs, Xt, np.vstack([Xs, Xt]), sd


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("dim", [2, 5])
def test_kernel_and_embedding_match_the_authors_code(seed, dim):
    Xs, Xt, X, sd = _domains(seed)
    G_ref, Zs_ref, Zt_ref = authors_gfk(Xs, Xt, dim)
    gfk = GeodesicFlowKernel(n_components=dim).fit(X, sample_domain=sd)
    G = gfk.projection_ @ gfk.projection_.T
    np.testing.assert_allclose(G, G_ref, atol=1e-10)
    # The embeddings differ by an orthogonal map (2d columns vs the code's G^1/2 x),
    # so their Gram matrices, hence distances and norms, agree.
    Z, Z_ref = gfk.transform(X), np.vstack([Zs_ref, Zt_ref])
    np.testing.assert_allclose(Z @ Z.T, Z_ref @ Z_ref.T, rtol=1e-9, atol=1e-9 * np.abs(Z_ref).max() ** 2)
    assert Z.shape == (110, 2 * dim)
    np.testing.assert_allclose(np.sort(gfk.principal_angles_),
                               np.sort(subspace_angles(gfk.components_source_, gfk.components_target_)),
                               atol=1e-7)


def test_identical_subspaces_give_the_projection_onto_them():
    rng = np.random.default_rng(3)
    basis = np.linalg.qr(rng.normal(size=(6, 2)))[0]
    Xs, Xt = rng.normal(size=(40, 2)) @ basis.T, rng.normal(size=(30, 2)) * 3 @ basis.T
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(40, int), -np.ones(30, int)]
    gfk = GeodesicFlowKernel(n_components=2).fit(X, sample_domain=sd)
    np.testing.assert_allclose(gfk.principal_angles_, 0, atol=1e-7)
    np.testing.assert_allclose(gfk.projection_ @ gfk.projection_.T, basis @ basis.T, atol=1e-12)


def test_orthogonal_subspaces_closed_form():
    """theta = pi/2: G = (p p^T + q q^T) / 2 + (p q^T + q p^T) / pi (Gong et al., equation 6)."""
    p, q = np.eye(4)[:, :1], np.eye(4)[:, 1:2]
    theta, F = geodesic_flow_factor(p, q)
    np.testing.assert_allclose(theta, [np.pi / 2])
    expected = (p @ p.T + q @ q.T) / 2 + (p @ q.T + q @ p.T) / np.pi
    np.testing.assert_allclose(F @ F.T, expected, atol=1e-15)


def test_more_components_than_half_the_features():
    """The authors' code needs d <= n_features / 2; the closed form does not."""
    Xs, Xt, X, sd = _domains(4, d=6)
    gfk = GeodesicFlowKernel(n_components=5).fit(X, sample_domain=sd)
    G = gfk.projection_ @ gfk.projection_.T
    assert np.linalg.eigvalsh(G).min() > -1e-12
    assert np.sum(gfk.principal_angles_ < 1e-7) >= 2 * 5 - 6  # shared directions
    np.testing.assert_allclose(G, G.T, atol=1e-14)


def test_principal_axes_drop_directions_without_variance():
    rng = np.random.default_rng(5)
    X = np.column_stack([rng.normal(size=(20, 2)), np.full(20, 4.0)])
    assert principal_axes(X, 3).shape == (3, 2)
    assert principal_axes(X * 1e-300, 3).shape == (3, 2)  # scale-free
    assert principal_axes(np.ones((5, 3)), 2).shape == (3, 0)


def test_source_and_target_rows_are_mapped_alike():
    Xs, Xt, X, sd = _domains(6)
    gfk = GeodesicFlowKernel(n_components=3).fit(X, sample_domain=sd)
    np.testing.assert_array_equal(gfk.transform(X, sample_domain=sd), gfk.transform(X))
    np.testing.assert_array_equal(gfk.fit_transform(X, sample_domain=sd), gfk.transform(X))
    assert list(gfk.get_feature_names_out()) == [f"geodesicflowkernel{i}" for i in range(6)]


def test_n_components_is_clipped_to_the_variance_of_each_domain():
    rng = np.random.default_rng(7)
    Xs = rng.normal(size=(30, 5))
    Xt = np.column_stack([rng.normal(size=(30, 2)), np.zeros((30, 3))])
    gfk = GeodesicFlowKernel(n_components=4).fit(np.vstack([Xs, Xt]), sample_domain=np.r_[[1] * 30, [-1] * 30])
    assert gfk.n_components_ == 2 and gfk.projection_.shape == (5, 4)


def test_a_domain_without_variance_is_refused():
    rng = np.random.default_rng(8)
    X = np.vstack([rng.normal(size=(10, 3)), np.ones((4, 3))])
    with pytest.raises(ValueError, match="GeodesicFlowKernel: the target rows are all identical"):
        GeodesicFlowKernel().fit(X, sample_domain=np.r_[[1] * 10, [-1] * 4])
