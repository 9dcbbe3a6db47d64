"""KLIEP, uLSIF/RuLSIF, KDE, nearest-neighbour and classifier weights against
the formulas of their papers, written out in each test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gaussian_kde  # noqa: F401  (documents the KDE convention below)
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from sktransfer._kernels import kernel
from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import (
    KLIEP,
    RULSIF,
    ULSIF,
    DiscriminativeWeighter,
    KDEWeighter,
    NearestNeighborWeighter,
)


def _data(n=60, seed=0, n_features=2):
    return make_domain_shift(n_samples=n, n_features=n_features, random_state=seed)


# ------------------------------------------------------------------ KLIEP
def test_kliep_meets_its_constraint_and_kkt_conditions():
    """Sugiyama et al. 2008, eq. (5): max mean_t log(A a) s.t. b.a = 1, a >= 0.
    At the optimum, with g = A^T (1 / (A a)) / n_t, g_l = mu b_l where a_l > 0
    and g_l <= mu b_l where a_l = 0 (KKT); mu = 1 since a.g = 1 = mu b.a."""
    X, y, sd = _data()
    kliep = KLIEP(gamma=0.5, n_centers=20, random_state=0).fit(X, y, sample_domain=sd)
    Xs, Xt = X[sd > 0], X[sd < 0]
    A = kernel(Xt, kliep.centers_, "rbf", 0.5)
    b = kernel(Xs, kliep.centers_, "rbf", 0.5).mean(axis=0)
    a = kliep.alpha_
    assert np.all(a >= 0)
    assert b @ a == pytest.approx(1.0)
    assert kliep.weights_[sd > 0].mean() == pytest.approx(1.0)
    g = A.T @ (1.0 / (A @ a)) / Xt.shape[0]
    active = a > 1e-6 * a.max()
    np.testing.assert_allclose(g[active] / b[active], 1.0, atol=1e-6)
    assert np.all(g[~active] / b[~active] <= 1 + 1e-6)


def test_kliep_chooses_the_bandwidth_with_the_best_held_out_likelihood():
    X, y, sd = _data(seed=1)
    kliep = KLIEP(gamma=[0.01, 0.3, 3.0], random_state=0).fit(X, y, sample_domain=sd)
    assert kliep.gammas_.tolist() == [0.01, 0.3, 3.0]
    assert kliep.gamma_ == kliep.gammas_[np.argmax(kliep.cv_scores_)]
    assert kliep.gamma_ != 0.01  # a far too wide kernel loses
    default = KLIEP(random_state=0).fit(X, y, sample_domain=sd)
    spread = default.gammas_ / default.gammas_[2]  # the authors' sigma = 0.6 .. 1.4
    np.testing.assert_allclose(spread, 1.0 / np.array([0.6, 0.8, 1.0, 1.2, 1.4]) ** 2)
    single = KLIEP(gamma=0.3, random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(single.cv_scores_, [0.0])  # one candidate: no CV


def test_kliep_new_rows_follow_the_kernel_model():
    X, y, sd = _data(seed=2)
    kliep = KLIEP(random_state=0).fit(X, y, sample_domain=sd)
    new = np.array([[0.0, 0.0], [1.0, 2.0]])
    expected = kernel(new, kliep.centers_, "rbf", kliep.gamma_) @ kliep.alpha_
    np.testing.assert_allclose(kliep.compute_weights(new), expected)


# ------------------------------------------------------------------ uLSIF / RuLSIF
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_lsif_solution_is_the_closed_form(alpha):
    """Kanamori et al. 2009, eq. (7), and Yamada et al. 2011, eq. (5):
    theta = max(0, (H + lambda I)^-1 h) with
    H = (1 - a) Phi_s^T Phi_s / n_s + a Phi_t^T Phi_t / n_t, h = mean Phi_t."""
    X, y, sd = _data(seed=3)
    model = (ULSIF(gamma=0.5, reg=0.1, random_state=0) if alpha == 0
             else RULSIF(alpha=alpha, gamma=0.5, reg=0.1, random_state=0))
    model.fit(X, y, sample_domain=sd)
    Phi_s = kernel(X[sd > 0], model.centers_, "rbf", 0.5)
    Phi_t = kernel(X[sd < 0], model.centers_, "rbf", 0.5)
    H = (1 - alpha) * Phi_s.T @ Phi_s / len(Phi_s) + alpha * Phi_t.T @ Phi_t / len(Phi_t)
    theta = np.maximum(np.linalg.solve(H + 0.1 * np.eye(len(H)), Phi_t.mean(axis=0)), 0)
    np.testing.assert_allclose(model.theta_, theta, rtol=1e-10)
    np.testing.assert_allclose(model.weights_[sd > 0], Phi_s @ theta, rtol=1e-10)


@pytest.mark.parametrize("entries", [None, 50])
def test_lsif_default_bandwidths_centre_on_the_median_distance_to_the_centres(entries, monkeypatch):
    """gamma=None searches 0.1 .. 10 times 1 / median of the positive squared
    distances from every row to the centres (a row on its own centre is 0 and
    left out); past _MEDIAN_ENTRIES, evenly spaced rows of each block."""
    from sklearn.metrics.pairwise import euclidean_distances

    from sktransfer.reweighting import _centres

    if entries is not None:
        monkeypatch.setattr(_centres, "_MEDIAN_ENTRIES", entries)
    X, y, sd = _data(seed=4)
    model = ULSIF(n_centers=10, random_state=0).fit(X, y, sample_domain=sd)
    blocks = [euclidean_distances(X[sd > 0], model.centers_, squared=True),
              euclidean_distances(X[sd < 0], model.centers_, squared=True)]
    if entries is not None:
        step = int(np.ceil(sum(b.size for b in blocks) / entries))
        blocks = [b[::step] for b in blocks]
    d = np.concatenate([b.ravel() for b in blocks])
    assert np.sum(d == 0) >= (0 if entries else 10)  # each centre is a target row
    np.testing.assert_allclose(model.gammas_, np.logspace(-1, 1, 5) / np.median(d[d > 0]), rtol=1e-12)
    given = ULSIF(gamma=[0.2, 0.7], reg=0.1, random_state=0).fit(X, y, sample_domain=sd)
    assert given.gammas_.tolist() == [0.2, 0.7]


def test_rulsif_with_alpha_zero_is_ulsif():
    X, y, sd = _data(seed=4)
    a = ULSIF(random_state=0).fit(X, y, sample_domain=sd)
    b = RULSIF(alpha=0.0, random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(a.weights_, b.weights_)
    np.testing.assert_allclose(a.cv_scores_, b.cv_scores_)


def test_lsif_grid_search_picks_the_lowest_held_out_loss():
    X, y, sd = _data(seed=5)
    model = ULSIF(gamma=[0.1, 1.0], reg=[1e-3, 1.0, 10.0], random_state=0)
    model.fit(X, y, sample_domain=sd)
    assert model.cv_scores_.shape == (2, 3)
    i, j = np.unravel_index(np.argmin(model.cv_scores_), (2, 3))
    assert (model.gamma_, model.reg_) == (model.gammas_[i], model.regs_[j])


@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_lsif_cv_scores_are_the_held_out_loss_of_each_fold(alpha):
    """The CV works on per-fold kernel moments; this recomputes it the direct
    way, refitting on each fold's training rows and scoring the held-out rows
    by ``(1 - a)/2 E_s[r^2] + a/2 E_t[r^2] - E_t[r]`` over the centres that are
    not held-out target rows, with the same draws of centres and folds, in float64."""
    from sktransfer._sampling import random_rows
    from sktransfer.reweighting._centres import fold_ids

    X, y, sd = _data(seed=7)
    gammas, regs, cv = [0.2, 1.0], [1e-3, 0.1, 3.0], 4
    model = (ULSIF(gamma=gammas, reg=regs, cv=cv, n_centers=30, random_state=0) if alpha == 0
             else RULSIF(alpha=alpha, gamma=gammas, reg=regs, cv=cv, n_centers=30, random_state=0))
    model.fit(X, y, sample_domain=sd)
    Xs, Xt = X[sd > 0], X[sd < 0]
    rng = np.random.RandomState(0)
    centres = random_rows(len(Xt), 30, rng)
    folds_s, folds_t = fold_ids(len(Xs), cv, rng), fold_ids(len(Xt), cv, rng)
    expected = np.zeros((2, 3))
    for i, gamma in enumerate(gammas):
        for fold in range(cv):
            cols = centres[folds_t[centres] != fold]
            Phi_s = kernel(Xs, Xt[cols], "rbf", gamma)
            Phi_t = kernel(Xt, Xt[cols], "rbf", gamma)
            s_in, t_in = folds_s != fold, folds_t != fold
            H = ((1 - alpha) * Phi_s[s_in].T @ Phi_s[s_in] / s_in.sum()
                 + alpha * Phi_t[t_in].T @ Phi_t[t_in] / t_in.sum())
            for j, lam in enumerate(regs):
                theta = np.maximum(np.linalg.solve(H + lam * np.eye(len(cols)),
                                                   Phi_t[t_in].mean(axis=0)), 0)
                rs, rt = Phi_s[~s_in] @ theta, Phi_t[~t_in] @ theta
                expected[i, j] += ((1 - alpha) / 2 * np.mean(rs**2) + alpha / 2 * np.mean(rt**2)
                                   - np.mean(rt)) / cv
    # The moments come from float32 kernel columns (measured: 7e-6 relative here); the pick is the same.
    np.testing.assert_allclose(model.cv_scores_, expected, rtol=1e-4, atol=1e-7)
    assert np.argmin(model.cv_scores_) == np.argmin(expected)


def test_rulsif_is_bounded_where_ulsif_is_not():
    """The relative ratio is at most 1 / alpha; on a strong shift the plain ratio is not."""
    X, y, sd = make_domain_shift(n_samples=150, shift_strength=2.5, random_state=6)
    plain = ULSIF(random_state=0).fit(X, y, sample_domain=sd).weights_.max()
    relative = RULSIF(alpha=0.5, random_state=0).fit(X, y, sample_domain=sd).weights_.max()
    assert relative <= 2.0 * 1.25 < plain


# ------------------------------------------------------------------ KDE
def test_kde_weights_are_the_ratio_of_gaussian_kernel_sums():
    """With a fixed bandwidth h the Gaussian KDE is mean_i N(x; x_i, h^2 I), so
    the ratio is mean_t exp(-|x - x_t|^2 / 2h^2) / mean_s exp(...); a training
    source row leaves its own kernel out of the source mean."""
    X, y, sd = _data(seed=7)
    h = 0.7
    kde = KDEWeighter(bandwidth=h).fit(X, y, sample_domain=sd)
    Xs, Xt = X[sd > 0], X[sd < 0]
    gamma = 1.0 / (2 * h * h)
    K_ss = kernel(Xs, Xs, "rbf", gamma)
    loo_source = (K_ss.sum(axis=1) - 1.0) / (len(Xs) - 1)
    expected = kernel(Xs, Xt, "rbf", gamma).mean(axis=1) / loo_source
    np.testing.assert_allclose(kde.weights_[sd > 0], expected, rtol=1e-8)
    new = np.array([[0.2, 0.1], [1.5, -0.5]])
    expected_new = kernel(new, Xt, "rbf", gamma).mean(axis=1) / kernel(new, Xs, "rbf", gamma).mean(axis=1)
    np.testing.assert_allclose(kde.compute_weights(new), expected_new, rtol=1e-8)


def test_kde_median_bandwidth_stays_smooth_in_many_dimensions():
    """800 features: Scott's h leaves a few huge weights; the median heuristic does not."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(150, 800)), rng.normal(0.1, 1.0, size=(150, 800))])
    sd = np.r_[np.ones(150, int), -np.ones(150, int)]
    scott = KDEWeighter("scott").fit(X, None, sample_domain=sd).effective_sample_size_
    median = KDEWeighter().fit(X, None, sample_domain=sd).effective_sample_size_
    assert median > 100 > 10 > scott


def test_kde_max_weight_caps_the_weights():
    X, y, sd = make_domain_shift(n_samples=60, shift_strength=3.0, random_state=8)
    w = KDEWeighter(max_weight=5.0).fit(X, y, sample_domain=sd).weights_
    assert w.max() <= 5.0


# ------------------------------------------------------------------ nearest neighbours
def test_nearest_neighbor_weights_count_target_rows_per_voronoi_cell():
    """Loog 2012: source rows at 0 and 10; target rows 1, 2, 9 fall in the cells
    of 0, 0 and 10: counts (2, 1), plus 1 smoothing (3, 2), scaled to mean 1."""
    X = np.array([[0.0], [10.0], [1.0], [2.0], [9.0]])
    sd = np.array([1, 1, -1, -1, -1])
    nn = NearestNeighborWeighter().fit(X, None, sample_domain=sd)
    np.testing.assert_allclose(nn.weights_, [1.2, 0.8, 0, 0, 0])
    np.testing.assert_allclose(nn.compute_weights([[3.0], [7.0]]), [1.2, 0.8])
    bare = NearestNeighborWeighter(smoothing=0.0).fit(X, None, sample_domain=sd)
    np.testing.assert_allclose(bare.weights_[:2], [4 / 3, 2 / 3])


# ------------------------------------------------------------------ classifier
def test_discriminative_weights_recover_a_logistic_ratio():
    """Gaussian covariate shift has a linear log-ratio, s u.x - s^2/2, which a
    logistic regression models exactly: the log-weights track it closely."""
    X, y, sd, ratio = make_domain_shift(
        n_samples=1000, return_density_ratio=True, random_state=9
    )
    weighter = DiscriminativeWeighter(LogisticRegression(C=1e4), cv=None, clip=0.0)
    w = weighter.fit(X, y, sample_domain=sd).weights_[sd > 0]
    np.testing.assert_allclose(np.log(w), np.log(ratio[sd > 0]), atol=0.35)


def test_discriminative_clip_bounds_the_weights_and_calibration_runs():
    X, y, sd = make_domain_shift(n_samples=80, shift_strength=3.0, random_state=10)
    w = DiscriminativeWeighter(clip=0.1).fit(X, y, sample_domain=sd).weights_
    assert w.max() <= 1.0 * 0.9 / 0.1 + 1e-12
    forest = DiscriminativeWeighter(
        RandomForestClassifier(n_estimators=20, random_state=0), calibration="sigmoid"
    )
    w = forest.fit(X, y, sample_domain=sd).weights_
    assert np.all(np.isfinite(w)) and w[sd > 0].min() > 0


def test_discriminative_weights_of_training_rows_are_out_of_fold():
    """A forest memorises its rows: in-sample odds are extreme, out-of-fold ones not."""
    X, y, sd = _data(n=100, seed=11)
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    in_sample = DiscriminativeWeighter(forest, cv=None).fit(X, y, sample_domain=sd)
    out_of_fold = DiscriminativeWeighter(forest, cv=5).fit(X, y, sample_domain=sd)
    spread = lambda w: np.std(np.log(w[sd > 0]))  # noqa: E731
    assert spread(out_of_fold.weights_) > 0
    assert not np.allclose(in_sample.weights_, out_of_fold.weights_)


def test_kde_densities_equal_scikit_learn_kernel_density():
    """Reference: sklearn's KernelDensity with the same rule, on new rows."""
    from sklearn.neighbors import KernelDensity

    X, y, sd = _data(seed=12, n_features=3)
    Xs, Xt = X[sd > 0], X[sd < 0]
    new = np.random.default_rng(0).normal(size=(7, 3))
    w = KDEWeighter(bandwidth="silverman").fit(X, y, sample_domain=sd).compute_weights(new)
    log_t = KernelDensity(bandwidth="silverman").fit(Xt).score_samples(new)
    log_s = KernelDensity(bandwidth="silverman").fit(Xs).score_samples(new)
    np.testing.assert_allclose(w, np.exp(log_t - log_s), rtol=1e-8)


def test_kde_densities_stay_exact_where_every_kernel_underflows():
    """Rows so far apart that exp(-||x - y||^2 / 2h^2) underflows for every pair
    (squared distances of 2,000-6,000 at h = 1, as between Office-Caltech SURF
    rows): the log densities, and so the weights, are the log-sum-exp of the
    exponents written out. scikit-learn's KernelDensity, which skada's
    DensityReweightAdapter calls, returns -772 to -778 for six of the first
    eight source rows of SURF C->A at h = 1.0, whose exact log densities under
    the target rows are -1,045 to -1,251 (BENCHMARKS.md's KDE note)."""
    from scipy.special import logsumexp

    rng = np.random.default_rng(3)
    Xs = rng.normal(scale=2.0, size=(40, 400))
    Xt = rng.normal(scale=2.0, size=(30, 400)) + 1.0
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(40, int), -np.ones(30, int)]
    kde = KDEWeighter(bandwidth=1.0).fit(X, None, sample_domain=sd)
    new = rng.normal(scale=2.0, size=(5, 400)) + 0.5

    def log_density(support, rows):
        sq = ((rows[:, None, :] - support[None]) ** 2).sum(axis=-1)
        assert sq.min() > 1500  # every kernel value is below exp(-750): 0 in float64
        return logsumexp(-0.5 * sq, axis=1) - np.log(len(support))

    expected = np.exp(log_density(Xt, new) - log_density(Xs, new))
    got = kde.compute_weights(new)
    # compute_weights is the ratio up to the scale that makes the source weights average 1
    np.testing.assert_allclose(got / got.sum(), expected / expected.sum(), rtol=1e-8)
    assert np.all(np.isfinite(kde.weights_))
