"""NearestNeighborWeighter's coarse cells (max_samples): exact below the cap, a histogram of the ratio above."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import NearestNeighborWeighter


def _data(n=400, seed=0):
    return make_domain_shift(n_samples=n, n_features=3, shift_strength=1.5, random_state=seed)


@pytest.mark.parametrize("max_samples", ["auto", None, 400, 10_000])
def test_every_source_row_a_site_is_the_exact_estimator(max_samples):
    """Loog's weights: 1 + the target rows whose nearest source row it is, scaled to mean 1."""
    X, y, sd = _data()
    Xs, Xt = X[sd > 0], X[sd < 0]
    assert len(Xs) == 400
    nn = NearestNeighborWeighter(max_samples=max_samples).fit(X, y, sample_domain=sd)
    d = ((Xt[:, None] - Xs[None]) ** 2).sum(-1)
    counts = np.bincount(d.argmin(1), minlength=len(Xs)) + 1.0
    np.testing.assert_allclose(nn.weights_[sd > 0], counts * len(Xs) / counts.sum(), rtol=1e-12)


def test_cells_weigh_their_source_rows_by_target_votes_per_row():
    X, y, sd = _data(n=600, seed=1)
    Xs, Xt = X[sd > 0], X[sd < 0]
    nn = NearestNeighborWeighter(max_samples=25, smoothing=0.5, random_state=0).fit(X, y, sample_domain=sd)
    sites = nn.neighbors_._fit_X
    assert len(sites) == 25 and all((Xs == s).all(1).any() for s in sites)  # sites are source rows
    cell_s = ((Xs[:, None] - sites[None]) ** 2).sum(-1).argmin(1)
    cell_t = ((Xt[:, None] - sites[None]) ** 2).sum(-1).argmin(1)
    members, votes = np.bincount(cell_s, minlength=25), np.bincount(cell_t, minlength=25)
    per_row = np.where(members > 0, votes / np.maximum(members, 1), 0) + 0.5
    expected = per_row[cell_s] * len(Xs) / per_row[cell_s].sum()
    np.testing.assert_allclose(nn.weights_[sd > 0], expected, rtol=1e-12)
    assert nn.weights_[sd > 0].mean() == pytest.approx(1.0)
    # a new row takes its cell's weight; the training source rows get weights_ back
    np.testing.assert_allclose(nn.compute_weights(Xs), nn.weights_[sd > 0])


def test_cells_follow_the_true_ratio_on_a_covariate_shift():
    """Coarser cells trade resolution for variance: their weights still rank the source rows
    like the exact ones do (Spearman with the true density ratio)."""
    from scipy.stats import spearmanr

    X, y, sd, ratio = make_domain_shift(n_samples=4000, n_features=2, shift_strength=1.5,
                                        return_density_ratio=True, random_state=3)
    src = sd > 0
    exact = NearestNeighborWeighter(max_samples=None).fit(X, y, sample_domain=sd).weights_[src]
    cells = NearestNeighborWeighter(max_samples=200, random_state=0).fit(X, y, sample_domain=sd).weights_[src]
    rho_exact = spearmanr(exact, ratio[src]).statistic
    rho_cells = spearmanr(cells, ratio[src]).statistic
    assert rho_cells > 0.8 and rho_cells > rho_exact


def test_the_sample_of_sites_follows_random_state_and_survives_clone_and_pickle():
    X, y, sd = _data(n=600, seed=2)
    a = NearestNeighborWeighter(max_samples=30, random_state=4).fit(X, y, sample_domain=sd)
    b = clone(a).fit(X, y, sample_domain=sd)
    c = NearestNeighborWeighter(max_samples=30, random_state=5).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.weights_, b.weights_)
    assert not np.array_equal(a.weights_, c.weights_)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(a)).compute_weights(X[:5]), a.compute_weights(X[:5]))


@pytest.mark.parametrize("bad", [0, -1, 2.5, "all"])
def test_bad_max_samples_is_refused(bad):
    X, y, sd = _data()
    with pytest.raises(ValueError, match="max_samples"):
        NearestNeighborWeighter(max_samples=bad).fit(X, y, sample_domain=sd)


@pytest.mark.parametrize("max_samples", [None, 40])
def test_identical_source_rows_are_one_cell_and_no_vote_is_lost(max_samples):
    """Discrete features repeat rows (Office-Caltech SURF and the Amazon reviews hold 78 and 447 such
    source rows over their tasks). As separate sites the first copy took every vote (weights 15 and 0.5
    for seven equal rows, and compute_weights disagreed with weights_), and among sampled sites the votes
    of copies owning no source row were dropped (116 of 180)."""
    rng = np.random.default_rng(0)
    Xs = rng.integers(0, 3, size=(60, 2)).astype(float)
    Xt = rng.integers(1, 4, size=(60, 2)).astype(float)
    X, sd = np.vstack([Xs, Xt]), np.r_[np.ones(60, int), -np.ones(60, int)]
    nn = NearestNeighborWeighter(n_neighbors=3, smoothing=0.0, max_samples=max_samples, random_state=0)
    w = nn.fit(X, sample_domain=sd).weights_[:60]
    for row in np.unique(Xs, axis=0):
        same = (Xs == row).all(axis=1)
        assert np.ptp(w[same]) == 0
    np.testing.assert_allclose(nn.compute_weights(Xs), w)
    # Every target vote reaches a source row: the unnormalised weights sum to the votes cast.
    sites = nn.neighbors_.kneighbors(Xs, n_neighbors=1, return_distance=False)[:, 0]
    votes = np.bincount(nn.neighbors_.kneighbors(Xt, return_distance=False).ravel(), minlength=len(nn._cell_weights))
    assert votes[np.setdiff1d(np.arange(len(votes)), sites)].sum() == 0
