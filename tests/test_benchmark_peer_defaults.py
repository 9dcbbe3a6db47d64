"""The suite's -given rows that take a peer's default reproduce that peer's weights.

ADAPT 0.4's formulas, written out here (ADAPT needs TensorFlow, which the test
environment does not install): ``NearestNeighborsWeighting.fit_weights``
counts how often each source row is among the 5 nearest source rows of a
target row (adapt/instance_based/_nearestneighborsweighting.py), and
``IWC.fit_weights`` fits a LogisticRegression with source rows labelled 1 and
weighs each by ``1 / p - 1`` (adapt/instance_based/_iwc.py). The suite
rescales every weight vector to mean 1 before the SVM, so the weights must
agree up to a factor.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors

from benchmarks._reweighting_office import PEER_DEFAULTS, _weighter


@pytest.fixture
def domains():
    rng = np.random.RandomState(0)
    return rng.normal(size=(80, 4)), rng.normal(0.5, 1.0, size=(60, 4))


def _mean_one(w):
    w = np.asarray(w, float)
    return w / w.mean()


def test_nearest_neighbor_given_is_adapts_neighbour_count(domains):
    Xs, Xt = domains
    assert PEER_DEFAULTS["NearestNeighbor"][0] == "ADAPT"
    ours = _weighter("ours", "NearestNeighbor-given", Xs, Xt)()
    nearest = NearestNeighbors(n_neighbors=5).fit(Xs).kneighbors(Xt, return_distance=False)
    adapt = np.bincount(nearest.ravel(), minlength=len(Xs))
    np.testing.assert_allclose(_mean_one(ours), _mean_one(adapt), atol=1e-12)
    assert (ours == 0).any()  # unsmoothed: rows no target row votes for get nothing


def test_discriminative_given_is_adapts_iwc(domains):
    Xs, Xt = domains
    assert PEER_DEFAULTS["Discriminative"][0] == "ADAPT"
    ours = _weighter("ours", "Discriminative-given", Xs, Xt)()
    p_source = LogisticRegression().fit(np.vstack([Xs, Xt]), np.r_[np.ones(len(Xs)), np.zeros(len(Xt))]
                                        ).predict_proba(Xs)[:, 1]
    np.testing.assert_allclose(_mean_one(ours), _mean_one(1 / p_source - 1), rtol=1e-6)


def test_the_default_rows_differ_from_the_peer_default_rows(domains):
    # (Discriminative's differ only where a probability passes the default clip of 0.01, not here)
    Xs, Xt = domains
    for method in ("KDE", "NearestNeighbor"):
        default = _weighter("ours", method, Xs, Xt)()
        given = _weighter("ours", method + "-given", Xs, Xt)()
        assert not np.allclose(_mean_one(default), _mean_one(given)), method
