"""Label-shift weighters (BBSEWeighter, MMDTarSWeighter): references and behaviour."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import StratifiedKFold

from sktransfer import make_da_pipeline
from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import (
    BBSEWeighter,
    DiscriminativeWeighter,
    ImportanceWeightedEstimator,
    MMDTarSWeighter,
)

WEIGHTERS = [BBSEWeighter(random_state=0), MMDTarSWeighter()]
IDS = ["BBSE", "MMDTarS"]


def _prior_shift(n: int, n_classes: int, strength: float, seed: int):
    """make_domain_shift's prior shift with y masked, and the true labels."""
    X, y, sd = make_domain_shift(n_samples=n, shift="prior", n_classes=n_classes, shift_strength=strength,
                                 mask_target=False, random_state=seed)
    return X, np.where(sd < 0, -1, y), sd, y


def _lipton_bbse(Xs, ys, Xt, n_folds, seed):
    """Black Box Shift Estimation written out with numpy (Lipton et al. 2018, eq. 3-4):
    C[i, j] = p_s(h(x) = i, y = j) on held-out source rows, mu[i] = p_t(h(x) = i),
    w = C^{-1} mu clipped at 0; held out by stratified folds, each weighted by its size."""
    k, n_s = ys.max() + 1, ys.size
    C, mu = np.zeros((k, k)), np.zeros(k)
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=np.random.RandomState(seed))
    for train, held in folds.split(Xs, ys):
        h = LogisticRegression().fit(Xs[train], ys[train])
        np.add.at(C, (h.predict(Xs[held]), ys[held]), 1.0 / n_s)
        mu += np.bincount(h.predict(Xt), minlength=k) / Xt.shape[0] * held.size / n_s
    return np.maximum(np.linalg.solve(C, mu), 0.0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_bbse_matches_a_numpy_reimplementation_of_lipton_et_al(n_classes):
    """Reference: ``_lipton_bbse`` above, on the same folds; known prior shift (make_domain_shift,
    shift="prior"). Measured max abs difference of the class weights: 0 to 1e-15."""
    X, y, sd, _ = _prior_shift(300, n_classes, 1.5, seed=0)
    ours = BBSEWeighter(cv=5, random_state=0).fit(X, y, sample_domain=sd)
    ref = _lipton_bbse(X[sd > 0], y[sd > 0], X[sd < 0], 5, seed=0)
    np.testing.assert_allclose(ours.class_weights_, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.weights_[sd > 0], ref[y[sd > 0]], rtol=1e-12)


def test_mmd_target_shift_matches_the_closed_form_for_two_classes():
    """Reference: with two classes theta = (t, 1 - t) and the MMD is a parabola in t,
    minimised at t = <mu_0 - mu_1, mu_t - mu_1> / ||mu_0 - mu_1||^2 (clipped to [0, 1]),
    with the kernel means from sklearn's rbf_kernel. Measured abs difference: < 1e-9."""
    X, y, sd, _ = _prior_shift(150, 2, 1.5, seed=1)
    ours = MMDTarSWeighter(gamma=0.3).fit(X, y, sample_domain=sd)
    Xs, ys, Xt = X[sd > 0], y[sd > 0], X[sd < 0]
    rows = {0: Xs[ys == 0], 1: Xs[ys == 1], "t": Xt}

    def dot(p, q):  # <mu_p, mu_q>: the mean kernel value between two sets of rows
        return rbf_kernel(rows[p], rows[q], gamma=0.3).mean()

    t_star = (dot(0, "t") - dot(1, "t") - dot(0, 1) + dot(1, 1)) / (dot(0, 0) - 2 * dot(0, 1) + dot(1, 1))
    assert 0 < t_star < 1
    np.testing.assert_allclose(ours.target_priors_, [t_star, 1 - t_star], atol=1e-9)


def test_mmd_target_shift_solves_its_program_on_the_simplex():
    """Reference: scipy's SLSQP on min theta^T G theta - 2 c^T theta over the simplex, with
    G and c from sklearn's rbf_kernel (three classes). Measured abs difference: < 1e-6."""
    X, y, sd, _ = _prior_shift(150, 3, 2.0, seed=2)
    ours = MMDTarSWeighter(gamma=0.5).fit(X, y, sample_domain=sd)
    Xs, ys, Xt = X[sd > 0], y[sd > 0], X[sd < 0]
    G = np.array([[rbf_kernel(Xs[ys == a], Xs[ys == b], gamma=0.5).mean() for b in range(3)] for a in range(3)])
    c = np.array([rbf_kernel(Xs[ys == a], Xt, gamma=0.5).mean() for a in range(3)])
    res = minimize(lambda th: th @ G @ th - 2 * c @ th, np.full(3, 1 / 3), method="SLSQP", bounds=[(0, 1)] * 3,
                   constraints={"type": "eq", "fun": lambda th: th.sum() - 1}, options={"ftol": 1e-15})
    np.testing.assert_allclose(ours.target_priors_, res.x, atol=1e-6)


def test_mmd_target_shift_default_bandwidth_builds_its_kernel_from_the_heuristics_distances():
    """With gamma=None on at most 1,000 rows the kernel means come from the median
    heuristic's squared distances (no second pass over the features): the priors
    equal those of the weighter handed the same gamma, whose kernel means are
    scikit-learn's rbf_kernel in class blocks (the reference)."""
    from sktransfer._kernels import median_heuristic_gamma

    X, y, sd, _ = _prior_shift(300, 3, 2.0, seed=4)
    default = MMDTarSWeighter().fit(X, y, sample_domain=sd)
    given = MMDTarSWeighter(gamma=median_heuristic_gamma(X)).fit(X, y, sample_domain=sd)
    assert default.gamma_ == given.gamma_
    np.testing.assert_allclose(default.target_priors_, given.target_priors_, atol=1e-9)


def test_mmd_target_shift_nystroem_with_every_row_as_landmark_is_exact(monkeypatch):
    """Nyström features reproduce the kernel exactly between landmarks, so with every row a
    landmark the classes' mean features give the exact kernel means and the same priors.
    Above MAX_EXACT_SOURCE source rows "auto" takes this path (at 100,000 x 256 the exact
    means took 74 s in benchmarks/results/scale.md)."""
    from sktransfer.reweighting import _mmd_target_shift

    X, y, sd, _ = _prior_shift(150, 3, 2.0, seed=2)
    exact = MMDTarSWeighter(gamma=0.5).fit(X, y, sample_domain=sd)
    nystroem = MMDTarSWeighter(gamma=0.5, approximation="nystroem", n_landmarks=len(X), random_state=0)
    nystroem.fit(X, y, sample_domain=sd)
    assert (exact.approximation_, nystroem.approximation_) == ("exact", "nystroem")
    np.testing.assert_allclose(nystroem.target_priors_, exact.target_priors_, atol=1e-6)
    monkeypatch.setattr(_mmd_target_shift, "MAX_EXACT_SOURCE", 10)
    few = MMDTarSWeighter(gamma=0.5, n_landmarks=50, random_state=0).fit(X, y, sample_domain=sd)
    assert few.approximation_ == "nystroem"
    np.testing.assert_allclose(few.target_priors_, exact.target_priors_, atol=0.05)


_SKADA_SCRIPT = """
import json, sys, numpy as np
from skada import MMDTarSReweightAdapter
X, y, sd = (np.array(a) for a in json.loads(sys.argv[1]))
adapter = MMDTarSReweightAdapter(gamma=float(sys.argv[2]), tol=1e-10, max_iter=100000)
print(json.dumps(np.asarray(adapter.fit(X, y, sample_domain=sd).alpha_).ravel().tolist()))
"""


@pytest.mark.skipif(importlib.util.find_spec("skada") is None, reason="skada is not installed")
def test_mmd_target_shift_is_close_to_skadas():
    """Reference: skada's MMDTarSReweightAdapter (run in a subprocess: importing skada switches
    metadata routing on), same data and bandwidth, three classes. Its program bounds the class
    weights by 10 and lets the priors sum to 1 +- 10 / (4 sqrt(n_s)) instead of exactly 1 (see
    MMDTarSWeighter's Notes), so the two agree closely but not exactly: measured max abs
    difference of the class weights 0.005."""
    X, y, sd, _ = _prior_shift(150, 3, 1.5, seed=0)
    ours = MMDTarSWeighter().fit(X, y, sample_domain=sd)
    env = {**os.environ, "POT_BACKEND_DISABLE_PYTORCH": "1"}
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", _SKADA_SCRIPT,
                           json.dumps([X.tolist(), y.tolist(), sd.tolist()]), repr(ours.gamma_)],
                          capture_output=True, text=True, check=True, env=env)
    np.testing.assert_allclose(ours.class_weights_, json.loads(proc.stdout), atol=0.02)


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_recovers_the_true_class_ratio(weighter):
    """Three classes, target priors proportional to 4^(-1.5 k / 2), 1000 rows per domain.
    Over seeds 0-5 the largest error was 0.11 on the ratios and 0.036 on the priors
    (both weighters); the truth is the sample's p_t(k) / p_s(k)."""
    X, y, sd, y_true = _prior_shift(1000, 3, 1.5, seed=0)
    fitted = clone(weighter).fit(X, y, sample_domain=sd)
    p_s = np.bincount(y_true[sd > 0]) / (sd > 0).sum()
    p_t = np.bincount(y_true[sd < 0]) / (sd < 0).sum()
    np.testing.assert_allclose(fitted.class_weights_, p_t / p_s, atol=0.15)
    np.testing.assert_allclose(fitted.target_priors_, p_t, atol=0.05)


@pytest.mark.parametrize("seed", [0, 1])
def test_label_shift_weights_beat_a_covariate_weighter_on_a_prior_shift(seed):
    """Importance-weighted logistic regression, target accuracy. Under prior shift the class
    weights make the weighted source joint p_t(y) p(x | y) = p_t(x, y); covariate weights
    p_t(x) / p_s(x) match only p(x) and keep p_s(y | x). Measured (seeds 0, 1):
    Discriminative 0.858 / 0.877, BBSE 0.917 / 0.935, MMDTarS 0.917 / 0.938."""
    X, y, sd, y_true = _prior_shift(400, 2, 2.0, seed=seed)
    target = sd < 0

    def accuracy(weighter):
        model = ImportanceWeightedEstimator(LogisticRegression(), weighter).fit(X, y, sample_domain=sd)
        return model.score(X[target], y_true[target])

    covariate = accuracy(DiscriminativeWeighter())
    for weighter in WEIGHTERS:
        assert accuracy(clone(weighter)) >= covariate + 0.03, type(weighter).__name__


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_weights_flow_like_other_weighters(weighter):
    """Source rows get their class's weight, target rows 0; a pipeline and
    ImportanceWeightedEstimator hand the same weights to the model; compute_weights on new
    rows gives sum_k p_s(k | x) w_k, between the smallest and largest class weight."""
    X, y, sd, _ = _prior_shift(100, 3, 1.5, seed=3)
    fitted = clone(weighter).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(fitted.weights_[sd < 0], 0.0)
    np.testing.assert_allclose(fitted.weights_[sd > 0], fitted.class_weights_[y[sd > 0]])
    new = fitted.compute_weights(X[:7])
    assert np.all(new >= fitted.class_weights_.min() - 1e-12) and np.all(new <= fitted.class_weights_.max() + 1e-12)
    np.testing.assert_array_equal(fitted.compute_weights(X[:7], sample_domain=-1), 0.0)
    iwe = ImportanceWeightedEstimator(LogisticRegression(), clone(weighter)).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(iwe.weights_, fitted.weights_[sd > 0])
    pipe = make_da_pipeline(clone(weighter), LogisticRegression()).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(pipe.predict_proba(X), iwe.predict_proba(X))


def test_bbse_with_a_classifier_without_predict_proba():
    X, y, sd, _ = _prior_shift(100, 2, 1.5, seed=0)
    fitted = BBSEWeighter(RidgeClassifier(), random_state=0).fit(X, y, sample_domain=sd)
    assert set(np.round(fitted.compute_weights(X[:20]), 12)) <= set(np.round(fitted.class_weights_, 12))


def test_bbse_with_a_tiny_class_fits_in_sample():
    """A class with one source row cannot be held out: one classifier, in sample."""
    X, y, sd, _ = _prior_shift(60, 2, 1.0, seed=0)
    y = y.copy()
    y[np.flatnonzero((sd > 0) & (y == 1))[1:]] = 0
    fitted = BBSEWeighter(random_state=0).fit(X, y, sample_domain=sd)
    assert fitted.confusion_matrix_.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("weighter", WEIGHTERS, ids=IDS)
def test_bad_input_gets_clear_errors(weighter):
    X, y, sd, _ = _prior_shift(40, 2, 1.0, seed=0)
    name = type(weighter).__name__
    with pytest.raises(ValueError, match=f"{name} requires y to be passed"):
        clone(weighter).fit(X, None, sample_domain=sd)
    with pytest.raises(ValueError, match=f"{name} needs target rows"):
        clone(weighter).fit(X, y, sample_domain=np.ones_like(sd))
    with pytest.raises(ValueError, match=f"{name} needs labelled source rows"):
        clone(weighter).fit(X, np.full(y.shape, -1), sample_domain=sd)
    with pytest.raises(ValueError, match=f"{name} needs class labels.*'continuous'"):
        clone(weighter).fit(X, np.where(sd > 0, X[:, 0], np.nan), sample_domain=sd)


def test_prior_is_another_name_for_the_target_shift():
    """make_domain_shift(shift="prior") is the label-shift case, shift="target"."""
    prior = make_domain_shift(n_samples=30, shift="prior", n_classes=3, random_state=0)
    target = make_domain_shift(n_samples=30, shift="target", n_classes=3, random_state=0)
    for a, b in zip(prior, target):
        np.testing.assert_array_equal(a, b)
