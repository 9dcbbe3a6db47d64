"""CORAL against the closed form of Sun et al. (2016), Algorithm 1."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg
from sklearn.covariance import ledoit_wolf

from sktransfer.alignment import CORAL


def _data(seed=0, n_s=80, n_t=70, d=4):
    rng = np.random.default_rng(seed)
    Xs = rng.normal(size=(n_s, d)) @ rng.normal(size=(d, d))
    Xt = rng.normal(size=(n_t, d)) @ rng.normal(size=(d, d)) + 1.0
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(n_s, int), -np.ones(n_t, int)]
    return X, sd, Xs, Xt


@pytest.mark.parametrize("reg", [0.0, 1.0, 0.1])
def test_matches_the_paper_formula(reg):
    """Reference: Algorithm 1 of the paper, C_s = cov(D_s) + eye, D_s* = D_s C_s^-1/2 C_t^1/2,
    computed here with scipy.linalg.sqrtm (a different algorithm than ours)."""
    X, sd, Xs, Xt = _data()
    Cs = np.cov(Xs, rowvar=False) + reg * np.eye(4)
    Ct = np.cov(Xt, rowvar=False) + reg * np.eye(4)
    expected = Xs @ linalg.inv(linalg.sqrtm(Cs)).real @ linalg.sqrtm(Ct).real
    out = CORAL(reg=reg, center=False).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(out[sd > 0], expected, rtol=1e-8, atol=1e-8)
    centred = CORAL(reg=reg).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(
        centred[sd > 0], (Xs - Xs.mean(0)) @ linalg.inv(linalg.sqrtm(Cs)).real @ linalg.sqrtm(Ct).real + Xt.mean(0),
        rtol=1e-8, atol=1e-8,
    )
    np.testing.assert_array_equal(out[sd < 0], Xt)  # target rows untouched


def test_auto_uses_ledoit_wolf():
    X, sd, Xs, Xt = _data(1)
    est = CORAL(reg="auto").fit(X, sample_domain=sd)
    np.testing.assert_allclose(est.cov_source_, ledoit_wolf(Xs)[0])
    np.testing.assert_allclose(est.cov_target_, ledoit_wolf(Xt)[0])


@pytest.mark.parametrize("center", [True, False])
def test_mapped_source_has_the_target_covariance(center):
    X, sd, Xs, Xt = _data(2, n_s=200, n_t=200)
    out = CORAL(reg=0.0, center=center).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(np.cov(out[sd > 0], rowvar=False), np.cov(Xt, rowvar=False), rtol=1e-8, atol=1e-8)
    if center:
        np.testing.assert_allclose(out[sd > 0].mean(0), Xt.mean(0), atol=1e-10)


def test_identical_domains_give_the_identity():
    rng = np.random.default_rng(3)
    Xs = rng.normal(size=(50, 3)) + 4.0
    X = np.vstack([Xs, Xs])
    sd = np.r_[np.ones(50, int), -np.ones(50, int)]
    est = CORAL(reg=1.0).fit(X, sample_domain=sd)
    np.testing.assert_allclose(est.transform_matrix_, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(est.transform(Xs, sample_domain=1), Xs, atol=1e-10)


def test_transform_maps_only_source_rows():
    X, sd, Xs, Xt = _data(4)
    est = CORAL(reg=1.0, center=False).fit(X, sample_domain=sd)
    np.testing.assert_array_equal(est.transform(Xt), Xt)
    np.testing.assert_allclose(est.transform(Xs, sample_domain=1), Xs @ est.transform_matrix_)


def test_rank_deficient_source_does_not_blow_up():
    X, sd, Xs, Xt = _data(5, n_s=3, d=6)  # 3 source rows, 6 features: singular covariance
    out = CORAL(reg=0.0).fit_transform(X, sample_domain=sd)
    assert np.isfinite(out).all()


def test_float32_input_stays_float32():
    X, sd, *_ = _data(6)
    assert CORAL().fit_transform(X.astype(np.float32), sample_domain=sd).dtype == np.float32


def test_bad_reg_is_refused():
    X, sd, *_ = _data()
    with pytest.raises(ValueError, match="'reg' parameter of CORAL must be"):
        CORAL(reg=-1).fit(X, sample_domain=sd)


@pytest.mark.parametrize("reg", [0.0, 0.5, "auto"])
def test_wide_domains_use_the_low_rank_path_with_the_same_result(reg):
    """Fewer rows than features: the powers come from the thin SVD. Reference:
    scipy.linalg.sqrtm on the explicit (pseudo-inverse for reg=0) covariances."""
    rng = np.random.default_rng(7)
    Xs, Xt = rng.normal(size=(12, 30)), rng.normal(size=(9, 30)) * 2 + 1
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(12, int), -np.ones(9, int)]
    est = CORAL(reg=reg, center=False).fit(X, sample_domain=sd)
    Cs, Ct = est.cov_source_, est.cov_target_
    if reg == 0.0:
        inv_root = np.real(linalg.sqrtm(np.linalg.pinv(Cs, hermitian=True)))
    else:
        inv_root = linalg.inv(np.real(linalg.sqrtm(Cs)))
    expected = inv_root @ np.real(linalg.sqrtm(Ct))
    np.testing.assert_allclose(est.transform_matrix_, expected, atol=1e-6)


def test_a_negligible_reg_on_a_singular_covariance_acts_as_reg_0():
    """reg=1e-300 is below the rounding level of any covariance: it used to
    put 1e-300^-1/2 = 1e150 on the null space of a rank-deficient source
    covariance, blowing rounding errors up to 1e135. It is now reg=0, whose
    pseudo-inverse leaves the null space out."""
    X, sd, Xs, Xt = _data(d=3)
    X = np.c_[X, X[:, 0] + X[:, 1]]  # the fourth feature is a sum: rank 3
    reference = CORAL(reg=0.0).fit_transform(X, sample_domain=sd)
    mapped = CORAL(reg=1e-300).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(mapped, reference, rtol=1e-9, atol=1e-9)
    assert np.abs(mapped).max() < 10 * np.abs(X).max()


def test_auto_shrinkage_is_scale_free_on_large_values():
    """Ledoit-Wolf sums fourth powers: at 1e100 they overflowed and the
    shrinkage came out NaN. CORAL's map commutes with scaling the rows."""
    X, sd, _, _ = _data()
    scale = 1e100
    np.testing.assert_allclose(
        CORAL(reg="auto").fit_transform(X * scale, sample_domain=sd) / scale,
        CORAL(reg="auto").fit_transform(X, sample_domain=sd),
        rtol=1e-9, atol=1e-12,
    )


@pytest.mark.parametrize("n_features", [4, 200])
def test_a_non_finite_map_raises_naming_reg(monkeypatch, n_features):
    """The last line of defence: a map that came out NaN or inf is never
    stored, whether it is one d x d matrix (4 features) or kept factored
    (200 features, more than either domain's rows); the error names reg and
    how to change it."""
    from sktransfer._gram_powers import GramEigen, SymmetricLowRank

    def overflowing(self, p):
        d = self.V.shape[0]
        return SymmetricLowRank(np.eye(d), np.full(d, np.inf), 0.0)

    monkeypatch.setattr(GramEigen, "power", overflowing)
    X, sd, _, _ = _data(d=n_features)
    with pytest.raises(ValueError, match=r"CORAL: the transform matrix .* non-finite.*reg=0\.0.*reg='auto'"):
        CORAL(reg=0.0).fit(X, sample_domain=sd)


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_domains_apply_the_factored_map_as_the_dense_one(center, dtype):
    """With fewer rows than features the map is applied as two low-rank-plus-
    identity factors, never as a d x d matrix; reference: the rows times the
    dense transform_matrix_ (built on request), which the paper formula test
    checks against scipy's sqrtm."""
    rng = np.random.default_rng(11)
    Xs, Xt = rng.normal(size=(40, 300)), rng.normal(size=(25, 300)) * 1.5 + 0.5
    X, sd = np.vstack([Xs, Xt]).astype(dtype), np.r_[np.ones(40, int), -np.ones(25, int)]
    est = CORAL(reg=0.5, center=center).fit(X, sample_domain=sd)
    assert isinstance(est._map, tuple) and all(f.V.shape[1] <= 40 for f in est._map)
    A = est.transform_matrix_
    rows = X[sd > 0].astype(np.float64)
    expected = (rows - est.mean_source_) @ A + est.mean_target_ if center else rows @ A
    out = est.transform(X, sample_domain=sd)
    assert out.dtype == dtype
    np.testing.assert_allclose(out[sd > 0], expected, rtol=1e-5 if dtype == np.float32 else 1e-10,
                               atol=1e-5 if dtype == np.float32 else 1e-10)
    np.testing.assert_array_equal(out[sd < 0], X[sd < 0])


def test_wide_domains_never_hold_a_d_by_d_matrix():
    """100 + 80 rows of 3,000 features: one 3,000 x 3,000 float64 matrix is
    72 MB; the factored fit and transform stay under half of it."""
    import tracemalloc

    rng = np.random.default_rng(12)
    X = rng.normal(size=(180, 3000))
    sd = np.r_[np.ones(100, int), -np.ones(80, int)]
    tracemalloc.start()
    try:
        CORAL().fit(X, sample_domain=sd).transform(X, sample_domain=sd)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 0.5 * 3000**2 * 8  # measured 23 MB; 374 MB while the map was dense
