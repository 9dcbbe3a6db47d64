"""JointDistributionAdaptation and BalancedDistributionAdaptation against the authors' code."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.linalg
import sklearn.metrics
from scipy import linalg
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from sktransfer import _linalg
from sktransfer._sampling import stratified_rows
from sktransfer.alignment import (
    BalancedDistributionAdaptation,
    JointDistributionAdaptation,
    TransferComponentAnalysis,
    _jda_base,
)
from sktransfer.alignment._jda_base import mmd_factor


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """The matrices here are about 100 x 100: BLAS threads only add overhead, and on a
    loaded 2-core machine much of it (the file took 39 s instead of 7)."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


# ----------------------------------------------------------------------------- the authors' code
# A re-implementation of the authors' Python code, github.com/jindongwang/transferlearning at
# commit f951df1188858f6eb561b89e37deb93295ff1c82: code/traditional/BDA/BDA.py (last changed in
# 456d5a3125e5ddde776948e5e8698c44cc67510e) and code/traditional/JDA/JDA.py (last changed in
# 66e4b9a5747636f1e94512c8397683b3dc44d2ef), which differ only in how M is built (the `mode`
# branches). It follows them line by line (X holds one column per row), with two corrections,
# both as the MATLAB originals beside them (JDA.m, matlab/BDA.m) do it:
# - M0 is built once before the loop. The Python files rebuild it in the loop from `e`, which
#   the class loop has overwritten with the last class's vector.
# - A class with no target pseudo-label gets no target entries; the Python files divide by
#   zero there (ZeroDivisionError), MATLAB assigns -1/0 to an empty index set.


def _author_kernel(ker, X1, X2, gamma):
    K = None
    if not ker or ker == "primal":
        K = X1
    elif ker == "linear":
        K = sklearn.metrics.pairwise.linear_kernel(np.asarray(X1).T)
    elif ker == "rbf":
        K = sklearn.metrics.pairwise.rbf_kernel(np.asarray(X1).T, None, gamma)
    return K


def author_fit_predict(Xs, Ys, Xt, kernel_type="primal", dim=30, lamb=1, mu=0.5, gamma=1, T=10, mode="BDA"):
    """``mode``: "JDA" (JDA.py), "BDA" or "WBDA" (BDA.py). Returns every iteration's
    pseudo-labels, the last embedding (source rows, then target rows) and its eigenvalues."""
    X = np.hstack((Xs.T, Xt.T))
    X /= np.linalg.norm(X, axis=0)
    m, n = X.shape
    ns, nt = len(Xs), len(Xt)
    e = np.vstack((1 / ns * np.ones((ns, 1)), -1 / nt * np.ones((nt, 1))))
    C = len(np.unique(Ys))
    H = np.eye(n) - 1 / n * np.ones((n, n))
    M0 = e * e.T * C  # correction: once, before the loop
    Y_tar_pseudo = None
    history = []
    for _ in range(T):
        N = 0
        if Y_tar_pseudo is not None and len(Y_tar_pseudo) == nt:
            for c in range(1, C + 1):
                e = np.zeros((n, 1))
                Ns = len(Ys[np.where(Ys == c)])
                Nt = len(Y_tar_pseudo[np.where(Y_tar_pseudo == c)])
                if mode == "WBDA":
                    Ps = Ns / len(Ys)
                    Pt = Nt / len(Y_tar_pseudo)
                    alpha = Pt / Ps
                    mu = 1
                else:
                    alpha = 1
                tt = Ys == c
                e[np.where(tt)] = 1 / Ns
                yy = Y_tar_pseudo == c
                ind = np.where(yy)
                inds = [item + ns for item in ind]
                if Nt:  # correction: no division by zero
                    e[tuple(inds)] = -alpha / Nt
                e[np.isinf(e)] = 0
                N = N + np.dot(e, e.T)
        M = M0 + N if mode == "JDA" else (1 - mu) * M0 + mu * N
        M /= np.linalg.norm(M, "fro")
        K = _author_kernel(kernel_type, X, None, gamma=gamma)
        n_eye = m if kernel_type == "primal" else n
        a, b = K @ M @ K.T + lamb * np.eye(n_eye), K @ H @ K.T
        w, V = scipy.linalg.eig(a, b)
        ind = np.argsort(w)
        A = V[:, ind[:dim]]
        Z = A.T @ K
        Z /= np.linalg.norm(Z, axis=0)
        Xs_new, Xt_new = Z[:, :ns].T, Z[:, ns:].T
        clf = KNeighborsClassifier(n_neighbors=1)
        clf.fit(Xs_new, Ys.ravel())
        Y_tar_pseudo = clf.predict(Xt_new)
        history.append(Y_tar_pseudo)
    return history, np.vstack((Xs_new, Xt_new)), w[ind[:dim]]


# ----------------------------------------------------------------------------- data
def _domains(seed=0, n_s=60, n_t=50, d=8, n_classes=3, target_share=None, separation=1.5):
    """Classes 1..C (the authors' code needs them); the target rotated, shrunk and shifted."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(n_classes, d)) * separation
    ys = np.arange(n_s) % n_classes + 1
    yt = rng.choice(n_classes, n_t, p=target_share) + 1
    Xs = centers[ys - 1] + rng.normal(size=(n_s, d))
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    Xt = (centers[yt - 1] + rng.normal(size=(n_t, d))) @ (0.6 * np.eye(d) + 0.4 * rotation) + 0.8
    return Xs, ys, Xt, yt


def _stacked(Xs, ys, Xt, normalise=True):
    X = np.vstack([Xs, Xt])
    if normalise:  # as the authors' code does to its input
        X = X / np.linalg.norm(X, axis=1, keepdims=True)
    y = np.r_[ys, -np.ones(len(Xt), int)]
    sd = np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]
    return X, y, sd


def _estimator(mode, **params):
    if mode == "JDA":
        return JointDistributionAdaptation(**params)
    return BalancedDistributionAdaptation(weighted=mode == "WBDA", **params)


# ----------------------------------------------------------------------------- cross-check
@pytest.mark.parametrize("kernel", ["primal", "rbf"])
@pytest.mark.parametrize(
    "mode, mu, target_share",
    [("JDA", 0.5, None), ("BDA", 0.3, None), ("WBDA", 1.0, None), ("WBDA", 1.0, [0.7, 0.25, 0.05])],
    ids=["JDA", "BDA", "W-BDA", "W-BDA-imbalanced"],
)
def test_matches_the_authors_code(kernel, mode, mu, target_share):
    """Reference: ``author_fit_predict`` above. The pseudo-labels after each of T
    iterations are the same, and the last embedding equals theirs up to the sign
    of each component (their eigenvectors come from scipy.linalg.eig, with unit
    norm; ours from a symmetric solver, rescaled to unit norm)."""
    Xs, ys, Xt, _ = _domains(1, target_share=target_share)
    T, dim, lamb, gamma = 5, 4, 0.5, 0.5
    history, Z_ref, w_ref = author_fit_predict(
        Xs.copy(), ys[:, None].copy(), Xt.copy(), kernel_type=kernel, dim=dim, lamb=lamb,
        mu=0.5 if mode == "WBDA" else mu, gamma=gamma, T=T, mode=mode,
    )
    # The check is not vacuous: the pseudo-labels move between iterations.
    assert not np.array_equal(history[0], history[-1])
    X, y, sd = _stacked(Xs, ys, Xt)
    # Their lambda is the absolute ridge; ours is relative to trace(F^T H F), F = X or K.
    F = X if kernel == "primal" else rbf_kernel(X, gamma=gamma)
    alpha = lamb / ((F - F.mean(0)) ** 2).sum()
    params = dict(n_components=dim, alpha=alpha, kernel="linear" if kernel == "primal" else "rbf", gamma=gamma)
    if mode != "JDA":
        params["mu"] = mu
    for t in range(1, T + 1):
        est = _estimator(mode, max_iter=t, **params)
        Z = est.fit_transform(X, y, sample_domain=sd)
        np.testing.assert_array_equal(est.pseudo_labels_, history[t - 1])
    assert est.approximation_ == ("primal" if kernel == "primal" else "exact")
    assert est.alpha_ == pytest.approx(lamb)
    np.testing.assert_allclose(np.abs(Z), np.abs(Z_ref.real), atol=1e-9)
    np.testing.assert_allclose(1 / est.eigenvalues_, w_ref.real, rtol=1e-8)


@pytest.mark.parametrize("mode", ["JDA", "BDA", "WBDA"])
def test_mmd_matrix_is_the_authors(mode):
    """M / ||M||_F as the authors build it (dense, per class), from our sparse factor;
    class 3 has no target pseudo-label."""
    ys = np.array([1, 2, 3, 1, 2, 3, 1, 1])
    pseudo = np.array([1, 1, 2, 1, 2])
    ns, nt, C, mu = len(ys), len(pseudo), 3, 0.3
    n = ns + nt
    e0 = np.r_[np.full(ns, 1 / ns), np.full(nt, -1 / nt)][:, None]
    N = 0
    for c in range(1, C + 1):
        e = np.zeros((n, 1))
        Ns, Nt = (ys == c).sum(), (pseudo == c).sum()
        alpha = (Nt / nt) / (Ns / ns) if mode == "WBDA" else 1
        e[np.flatnonzero(ys == c)] = 1 / Ns
        if Nt:
            e[ns + np.flatnonzero(pseudo == c)] = -alpha / Nt
        N = N + e @ e.T
    M = C * e0 @ e0.T + N if mode == "JDA" else (1 - mu) * C * e0 @ e0.T + mu * N
    M /= np.linalg.norm(M, "fro")
    S = mmd_factor(np.arange(n) < ns, ys - 1, pseudo - 1, C, 0.5 if mode == "JDA" else mu, mode == "WBDA")
    np.testing.assert_allclose((S @ S.T).toarray(), M, atol=1e-15)
    # The first iteration (no pseudo-labels): the marginal term alone.
    S0 = mmd_factor(np.arange(n) < ns, ys - 1, None, C, mu, False)
    np.testing.assert_allclose((S0 @ S0.T).toarray(), e0 @ e0.T / np.linalg.norm(e0 @ e0.T), atol=1e-15)


# ----------------------------------------------------------------------------- properties
def _class_mean_gap(Z, y_all, sd):
    """Squared distances between the source and target means of each class, over the
    pooled variance: a scale-free class-conditional MMD with a linear kernel."""
    gap = sum(
        np.sum((Z[(sd > 0) & (y_all == c)].mean(0) - Z[(sd < 0) & (y_all == c)].mean(0)) ** 2)
        for c in np.unique(y_all)
    )
    return gap / Z.var(0).sum()


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_class_conditional_mmd_shrinks(kernel):
    """A smaller ridge lets the MMD term shape the map more: the class means of the two
    domains meet (linear gap 0.08 of the unmapped one at alpha=1e-2, 0.03 at 1e-3; rbf
    0.09 and 0.005) while the pseudo-labels stay right."""
    Xs, ys, Xt, yt = _domains(6)
    X, y, sd = _stacked(Xs, ys, Xt, normalise=False)
    y_all = np.r_[ys, yt]  # true target labels, to measure only
    gaps = []
    for alpha in (1e-2, 1e-3):
        jda = JointDistributionAdaptation(n_components=3, kernel=kernel, max_iter=5, alpha=alpha)
        gaps.append(_class_mean_gap(jda.fit_transform(X, y, sample_domain=sd), y_all, sd))
        assert (jda.pseudo_labels_ == yt).mean() > 0.9
    assert gaps[1] < gaps[0] < 0.1 * _class_mean_gap(X, y_all, sd)
    assert gaps[1] < 0.05 * _class_mean_gap(X, y_all, sd)


def test_scaling_or_repeating_the_rows_changes_nothing():
    """The ridge is a fraction of the variance kept (``alpha_ = alpha * trace(X^T H X)``), so
    100 x X, or every row twice, gives the same map: both multiply the variance and MMD terms
    alike. With the authors' absolute lambda, 100 x X is regularised 10,000 times less, which
    is what let the MMD term mix the classes at 20,000 raw rows in benchmarks/scale.py."""
    Xs, ys, Xt, _ = _domains(6)
    X, y, sd = _stacked(Xs, ys, Xt, normalise=False)
    params = dict(n_components=3, max_iter=5)
    base = JointDistributionAdaptation(**params).fit(X, y, sample_domain=sd)
    assert base.alpha_ == pytest.approx(1e-4 * ((X - X.mean(0)) ** 2).sum())
    big = JointDistributionAdaptation(**params).fit(100 * X, y, sample_domain=sd)
    np.testing.assert_array_equal(big.pseudo_labels_, base.pseudo_labels_)
    np.testing.assert_allclose(big.transform(100 * X), base.transform(X), atol=1e-8)
    assert big.alpha_ == pytest.approx(100**2 * base.alpha_)
    twice = JointDistributionAdaptation(**params).fit(np.vstack([X, X]), np.r_[y, y], sample_domain=np.r_[sd, sd])
    np.testing.assert_array_equal(twice.pseudo_labels_, np.tile(base.pseudo_labels_, 2))
    np.testing.assert_allclose(twice.transform(X), base.transform(X), atol=1e-8)
    # The absolute ridge (the authors' lambda = base.alpha_) on 100 x X is another map.
    absolute = JointDistributionAdaptation(**{**params, "alpha": base.alpha_ / big.alpha_ * 1e-4})
    absolute.fit(100 * X, y, sample_domain=sd)
    assert absolute.alpha_ == pytest.approx(base.alpha_)
    assert np.abs(np.abs(absolute.transform(100 * X)) - np.abs(base.transform(X))).max() > 0.1


def test_jda_is_bda_with_mu_one_half():
    X, y, sd = _stacked(*_domains(3)[:3])
    for kernel in ("linear", "rbf"):
        jda = JointDistributionAdaptation(n_components=3, kernel=kernel, max_iter=4)
        bda = BalancedDistributionAdaptation(n_components=3, kernel=kernel, max_iter=4, mu=0.5)
        np.testing.assert_array_equal(jda.fit_transform(X, y, sample_domain=sd),
                                      bda.fit_transform(X, y, sample_domain=sd))
        np.testing.assert_array_equal(jda.pseudo_labels_, bda.pseudo_labels_)


def test_bda_with_mu_zero_is_tca():
    """With mu=0 only the marginal term is left: M = e e^T / |e|^2, TCA's L scaled, so
    BDA's problem is TCA's with mu_TCA = alpha_ |e|^2 (the ridge used) and eigenvalues times |e|^2. The
    pseudo-labels then change nothing and fitting stops after the second iteration."""
    Xs, ys, Xt, _ = _domains(4)
    X, y, sd = _stacked(Xs, ys, Xt)
    norm2 = 1 / len(Xs) + 1 / len(Xt)
    bda = BalancedDistributionAdaptation(n_components=4, kernel="rbf", gamma=0.5, alpha=3e-3, mu=0.0)
    bda.fit(X, y, sample_domain=sd)
    tca = TransferComponentAnalysis(n_components=4, gamma=0.5, mu=bda.alpha_ * norm2, approximation="exact")
    tca.fit(X, sample_domain=sd)
    assert bda.n_iter_ == 2
    np.testing.assert_allclose(bda.eigenvalues_ / norm2, tca.eigenvalues_, rtol=1e-8)
    assert linalg.subspace_angles(bda.projection_, tca.projection_).max() < 1e-6


def test_nystroem_with_every_row_as_landmark_equals_exact():
    X, y, sd = _stacked(*_domains(5)[:3])
    common = dict(n_components=4, kernel="rbf", gamma=0.5, max_iter=4)
    exact = JointDistributionAdaptation(approximation="exact", **common)
    nys = JointDistributionAdaptation(approximation="nystroem", n_landmarks=X.shape[0], random_state=0, **common)
    out_exact = exact.fit_transform(X, y, sample_domain=sd)
    out_nys = nys.fit_transform(X, y, sample_domain=sd)
    assert nys.approximation_ == "nystroem" and nys.landmarks_.shape == X.shape
    np.testing.assert_array_equal(nys.pseudo_labels_, exact.pseudo_labels_)
    np.testing.assert_allclose(np.abs(out_nys), np.abs(out_exact), atol=1e-6)
    np.testing.assert_allclose(nys.transform(X[:5]), out_nys[:5], atol=1e-10)


def test_auto_switches_to_landmarks_past_the_threshold(monkeypatch):
    X, y, sd = _stacked(*_domains(6)[:3])
    monkeypatch.setattr(_jda_base, "MAX_EXACT_SAMPLES", 100)
    est = JointDistributionAdaptation(2, kernel="rbf", n_landmarks=40, random_state=0).fit(X, y, sample_domain=sd)
    assert est.approximation_ == "nystroem" and est.landmarks_.shape == (40, 8)
    assert est.projection_.shape == (40, 2) and not hasattr(est, "X_fit_")
    monkeypatch.setattr(_jda_base, "MAX_EXACT_SAMPLES", 110)
    assert JointDistributionAdaptation(2, kernel="rbf").fit(X, y, sample_domain=sd).approximation_ == "exact"


def test_linear_kernel_with_more_features_than_rows_solves_through_the_gram(monkeypatch):
    """The same primal problem, solved in the n-dimensional row space; forcing the
    d x d feature-space solve (too many rows for the Gram path) gives the same map."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 50)) + np.r_[np.zeros(15), np.ones(15)][:, None]
    y = np.r_[np.arange(15) % 2, -np.ones(15, int)]
    gram = JointDistributionAdaptation(n_components=3).fit(X, y)
    monkeypatch.setattr(_jda_base, "MAX_EXACT_SAMPLES", 10)
    primal = JointDistributionAdaptation(n_components=3).fit(X, y)
    assert gram.projection_.shape == primal.projection_.shape == (50, 3)
    np.testing.assert_allclose(gram.projection_, primal.projection_, atol=1e-9)
    np.testing.assert_array_equal(gram.pseudo_labels_, primal.pseudo_labels_)


class _NeverThree(KNeighborsClassifier):
    """1-NN that never predicts class 3: a class with no target pseudo-label."""

    def predict(self, X):
        return np.where(super().predict(X) == 3, 1, super().predict(X))


def test_weighted_bda_copes_with_a_class_no_target_row_is_given():
    """W-BDA when no target row is pseudo-labelled 3: its weight P_t/P_s is 0 (the
    authors' Python code divides by zero there)."""
    Xs, ys, Xt, _ = _domains(8, n_t=60, target_share=[0.7, 0.3, 0.0])
    X, y, sd = _stacked(Xs, ys, Xt)
    est = BalancedDistributionAdaptation(n_components=3, estimator=_NeverThree(n_neighbors=1), weighted=True)
    out = est.fit_transform(X, y, sample_domain=sd)
    assert np.isfinite(out).all() and est.n_iter_ > 1 and set(est.pseudo_labels_) == {1, 2}


def test_pseudo_labels_come_from_the_fitted_estimator_on_the_embedding():
    X, y, sd = _stacked(*_domains(9)[:3])
    user = LogisticRegression(C=10.0)
    est = BalancedDistributionAdaptation(n_components=3, estimator=user, mu=0.7).fit(X, y, sample_domain=sd)
    assert not hasattr(user, "coef_") and est.estimator_ is not user
    assert isinstance(est.estimator_, LogisticRegression)
    np.testing.assert_array_equal(est.estimator_.predict(est.transform(X[sd < 0])), est.pseudo_labels_)
    np.testing.assert_allclose(np.linalg.norm(est.transform(X), axis=1), 1.0)


def test_float_labels_masked_with_nan_and_inferred_domains():
    Xs, ys, Xt, _ = _domains(10)
    X, _, sd = _stacked(Xs, ys, Xt)
    y = np.r_[ys.astype(float), np.full(len(Xt), np.nan)]
    est = JointDistributionAdaptation(n_components=3).fit(X, y)
    assert est.pseudo_labels_.dtype == float and set(est.pseudo_labels_) <= {1.0, 2.0, 3.0}
    np.testing.assert_array_equal(
        est.pseudo_labels_, JointDistributionAdaptation(n_components=3).fit(X, y, sample_domain=sd).pseudo_labels_
    )


def test_labels_as_a_column():
    X, y, sd = _stacked(*_domains(10)[:3])
    column = JointDistributionAdaptation(n_components=3).fit(X, y[:, None], sample_domain=sd)
    flat = JointDistributionAdaptation(n_components=3).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(column.pseudo_labels_, flat.pseudo_labels_)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        JointDistributionAdaptation(n_components=3).fit(X, np.c_[y, y], sample_domain=sd)


def test_deterministic_clonable_and_picklable():
    X, y, sd = _stacked(*_domains(11)[:3])
    est = BalancedDistributionAdaptation(n_components=3, kernel="rbf", approximation="nystroem",
                                         n_landmarks=30, random_state=0)
    first = clone(est).fit_transform(X, y, sample_domain=sd)
    np.testing.assert_array_equal(first, clone(est).fit_transform(X, y, sample_domain=sd))
    fitted = clone(est).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fitted)).transform(X), fitted.transform(X))
    assert list(fitted.get_feature_names_out()) == [f"balanceddistributionadaptation{i}" for i in range(3)]


@pytest.mark.parametrize("kernel", ["rbf", "laplacian", "poly", "sigmoid", "cosine", "linear"])
def test_every_kernel_runs(kernel):
    X, y, sd = _stacked(*_domains(12, n_s=20, n_t=15, d=3)[:3])
    out = JointDistributionAdaptation(n_components=2, kernel=kernel, max_iter=3).fit_transform(X, y, sample_domain=sd)
    assert out.shape == (35, 2) and np.isfinite(out).all()


def test_n_components_are_clipped():
    X, y, sd = _stacked(*_domains(13, d=5)[:3])
    assert JointDistributionAdaptation().fit(X, y, sample_domain=sd).n_components_ == 5
    est = JointDistributionAdaptation(kernel="rbf", max_iter=1).fit(X, y, sample_domain=sd)
    assert est.n_components_ == 100 and est.projection_.shape == (110, 100)


# ----------------------------------------------------------------------------- the pseudo-labeller's rows
@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_labeller_uses_every_source_row_up_to_the_threshold(kernel):
    """Below 10,000 source rows the default is the fit on every source row, bit for bit."""
    X, y, sd = _stacked(*_domains(18)[:3])
    common = dict(n_components=3, kernel=kernel, max_iter=5, random_state=0)
    auto = JointDistributionAdaptation(**common).fit(X, y, sample_domain=sd)
    every = JointDistributionAdaptation(max_labeller_rows=None, **common).fit(X, y, sample_domain=sd)
    capped = JointDistributionAdaptation(max_labeller_rows=60, **common).fit(X, y, sample_domain=sd)
    assert _jda_base.MAX_LABELLER_ROWS == 10_000
    for est in (auto, every, capped):
        assert est.labeller_rows_ == est.estimator_.n_samples_fit_ == 60
        np.testing.assert_array_equal(est.projection_, every.projection_)
        np.testing.assert_array_equal(est.pseudo_labels_, every.pseudo_labels_)


class _Recording(KNeighborsClassifier):
    """1-NN that keeps the rows and labels it was fitted on."""

    def fit(self, X, y):
        self.X_seen_, self.y_seen_ = np.array(X), np.array(y)
        return super().fit(X, y)


def _seen_rows(est, X):
    """Indices of the rows of ``X`` whose embedding ``est.estimator_`` (a ``_Recording``) was fitted on."""
    embedded = est.transform(X)
    return np.flatnonzero((np.abs(embedded[:, None] - est.estimator_.X_seen_) < 1e-12).all(axis=2).any(axis=1))


def test_labeller_past_the_threshold_is_a_stratified_sample(monkeypatch):
    Xs, ys, Xt, _ = _domains(19, n_s=90)
    X, y, sd = _stacked(Xs, ys, Xt)
    monkeypatch.setattr(_jda_base, "MAX_LABELLER_ROWS", 30)
    common = dict(n_components=3, max_iter=4, random_state=0)
    est = JointDistributionAdaptation(**common).fit(X, y, sample_domain=sd)
    assert est.labeller_rows_ == est.estimator_.n_samples_fit_ == 30
    np.testing.assert_array_equal(est.estimator_.classes_, [1, 2, 3])
    # "auto" leaves a given estimator every row; an int caps any estimator, with the same draw.
    given = JointDistributionAdaptation(estimator=_Recording(n_neighbors=1), **common).fit(X, y, sample_domain=sd)
    assert given.labeller_rows_ == given.estimator_.y_seen_.shape[0] == 90
    capped = JointDistributionAdaptation(estimator=_Recording(n_neighbors=1), max_labeller_rows=30, **common)
    capped.fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(capped.projection_, est.projection_)
    np.testing.assert_array_equal(np.bincount(capped.estimator_.y_seen_), [0, 10, 10, 10])
    # Its rows are embedded source rows with their labels, and its predictions are the pseudo-labels.
    seen = _seen_rows(capped, X)
    assert seen.shape[0] == 30 and (sd[seen] > 0).all()
    np.testing.assert_array_equal(y[seen], capped.estimator_.y_seen_)
    np.testing.assert_array_equal(capped.estimator_.predict(capped.transform(X[sd < 0])), capped.pseudo_labels_)
    logistic = BalancedDistributionAdaptation(estimator=LogisticRegression(), max_labeller_rows=45, **common)
    assert logistic.fit(X, y, sample_domain=sd).labeller_rows_ == 45


def test_labeller_sample_is_deterministic_with_random_state():
    X, y, sd = _stacked(*_domains(20, n_s=90)[:3])
    common = dict(n_components=3, max_iter=4, estimator=_Recording(n_neighbors=1), max_labeller_rows=30)
    fits = [JointDistributionAdaptation(random_state=seed, **common).fit(X, y, sample_domain=sd)
            for seed in (0, 0, 1)]
    np.testing.assert_array_equal(fits[0].estimator_.X_seen_, fits[1].estimator_.X_seen_)
    np.testing.assert_array_equal(fits[0].transform(X), fits[1].transform(X))
    assert not np.array_equal(_seen_rows(fits[0], X), _seen_rows(fits[2], X))
    # The Nyström landmarks are drawn first, as before the labeller's rows were.
    nys = dict(n_components=3, kernel="rbf", approximation="nystroem", n_landmarks=20, max_iter=2)
    capped = JointDistributionAdaptation(random_state=0, max_labeller_rows=30, **nys).fit(X, y, sample_domain=sd)
    every = JointDistributionAdaptation(random_state=0, **nys).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(capped.landmarks_, every.landmarks_)


def test_stratified_rows_keep_every_class_in_proportion():
    codes = np.repeat([0, 1, 2, 3], [700, 250, 49, 1])
    rng = np.random.RandomState(0).permutation(codes.shape[0])
    codes = codes[rng]
    rows = stratified_rows(codes, 100, np.random.RandomState(0))
    assert np.all(np.diff(rows) > 0)  # sorted, no repeats
    # 70, 25 and 4.9 -> 5 by the largest remainder, 0.1 -> 1 to keep the class: 101 rows.
    np.testing.assert_array_equal(np.bincount(codes[rows]), [70, 25, 5, 1])
    np.testing.assert_array_equal(stratified_rows(codes, 1000, np.random.RandomState(0)), np.arange(1000))
    np.testing.assert_array_equal(rows, stratified_rows(codes, 100, np.random.RandomState(0)))
    assert not np.array_equal(rows, stratified_rows(codes, 100, np.random.RandomState(1)))
    # More classes than rows asked for: one row of each.
    np.testing.assert_array_equal(np.bincount(codes[stratified_rows(codes, 2, np.random.RandomState(0))]),
                                  [1, 1, 1, 1])


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make, y_of, match",
    [
        (lambda: JointDistributionAdaptation(), lambda y: None, "requires y to be passed.*labels of the source rows"),
        (lambda: JointDistributionAdaptation(), lambda y: np.where(y >= 0, y + 0.5, -1.0),
         "Unknown label type 'continuous'.*JointDistributionAdaptation needs class labels"),
        (lambda: JointDistributionAdaptation(), lambda y: -np.ones_like(y), "needs labelled source rows"),
        (lambda: JointDistributionAdaptation(estimator=Ridge()), lambda y: y,
         "needs its estimator to predict source classes.*Ridge predicted"),
        (lambda: JointDistributionAdaptation(estimator=Ridge), lambda y: y, "needs an estimator instance.*Ridge()"),
        (lambda: JointDistributionAdaptation(estimator="knn"), lambda y: y, "'estimator' parameter"),
        (lambda: JointDistributionAdaptation(alpha=0), lambda y: y, "'alpha' parameter"),
        (lambda: JointDistributionAdaptation(max_iter=0), lambda y: y, "'max_iter' parameter"),
        (lambda: BalancedDistributionAdaptation(mu=1.5), lambda y: y, "'mu' parameter"),
        (lambda: BalancedDistributionAdaptation(weighted="yes"), lambda y: y, "'weighted' parameter"),
        (lambda: JointDistributionAdaptation(max_labeller_rows=0), lambda y: y, "'max_labeller_rows' parameter"),
        (lambda: JointDistributionAdaptation(max_labeller_rows="all"), lambda y: y,
         "'max_labeller_rows' parameter"),
        (lambda: BalancedDistributionAdaptation(max_labeller_rows=0.5), lambda y: y,
         "'max_labeller_rows' parameter"),
    ],
    ids=["y-none", "continuous", "no-source-labels", "regressor", "class-not-instance", "string",
         "alpha", "max-iter", "mu", "weighted", "labeller-rows-zero", "labeller-rows-string",
         "labeller-rows-float"],
)
def test_bad_input_gets_a_clear_error(make, y_of, match):
    X, y, sd = _stacked(*_domains(14, n_s=20, n_t=15, d=3)[:3])
    with pytest.raises((ValueError, TypeError), match=match):
        make().fit(X, y_of(y), sample_domain=sd)


def test_no_target_rows_is_refused():
    X, y, sd = _stacked(*_domains(14, n_s=20, n_t=15, d=3)[:3])
    with pytest.raises(ValueError, match="BalancedDistributionAdaptation needs target rows"):
        BalancedDistributionAdaptation().fit(X, np.abs(y), sample_domain=np.ones_like(sd))


def test_overflowing_kernels_raise_naming_the_cause():
    X, y, sd = _stacked(*_domains(14, n_s=20, n_t=15, d=3)[:3])
    est = JointDistributionAdaptation(2, kernel="poly", gamma=1e300)
    with pytest.raises(ValueError, match=r"JointDistributionAdaptation: .*non-finite.*kernel='poly'"):
        est.fit(X, y, sample_domain=sd)


# ----------------------------------------------------------------------------- the eigen-solver
def test_leading_eigenpairs_low_rank_solves_the_generalised_problem(monkeypatch):
    """Reference: scipy.linalg.eigh(A, reg I + P P^T), densely; then the Lanczos path."""
    rng = np.random.default_rng(15)
    G = rng.normal(size=(40, 40))
    A, P, reg = G @ G.T, rng.normal(size=(40, 4)), 0.7
    B = reg * np.eye(40) + P @ P.T
    vals_ref, W_ref = linalg.eigh(A, B)
    vals, W = _linalg.leading_eigenpairs_low_rank(lambda V: A @ V, 40, P, reg, 5)
    np.testing.assert_allclose(vals, vals_ref[::-1][:5], rtol=1e-10)
    np.testing.assert_allclose(W.T @ B @ W, np.eye(5), atol=1e-10)
    np.testing.assert_allclose(np.abs(W), np.abs(W_ref[:, ::-1][:, :5]), atol=1e-8)
    # A rank-deficient P (a repeated column) and the rank-one helper agree with it.
    b = P[:, 0]
    one = _linalg.leading_eigenpairs_rank_one(lambda V: A @ V, 40, b, reg, 5)
    two = _linalg.leading_eigenpairs_low_rank(lambda V: A @ V, 40, np.c_[b, b] / np.sqrt(2), reg, 5)
    np.testing.assert_allclose(two[0], one[0], rtol=1e-10)
    np.testing.assert_allclose(two[1], one[1], atol=1e-10)
    monkeypatch.setattr(_linalg, "MAX_DENSE_EIGEN", 10)
    lanczos = _linalg.leading_eigenpairs_low_rank(lambda V: A @ V, 40, P, reg, 5)
    np.testing.assert_allclose(lanczos[0], vals, rtol=1e-8)
    np.testing.assert_allclose(lanczos[1], W, atol=1e-8)


def test_lanczos_path_gives_the_same_fit(monkeypatch):
    X, y, sd = _stacked(*_domains(16)[:3])
    common = dict(n_components=4, kernel="rbf", gamma=0.5, max_iter=3)
    dense = JointDistributionAdaptation(**common).fit(X, y, sample_domain=sd)
    monkeypatch.setattr(_linalg, "MAX_DENSE_EIGEN", 20)
    lanczos = JointDistributionAdaptation(**common).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(lanczos.eigenvalues_, dense.eigenvalues_, rtol=1e-8)
    np.testing.assert_array_equal(lanczos.pseudo_labels_, dense.pseudo_labels_)
    np.testing.assert_allclose(lanczos.transform(X), dense.transform(X), atol=1e-7)


def test_rbf_kernel_is_sklearns():
    """The authors' rbf kernel is sklearn's rbf_kernel on the rows (their X holds columns)."""
    X = np.random.default_rng(17).normal(size=(6, 3))
    np.testing.assert_allclose(_author_kernel("rbf", X.T, None, 0.3), rbf_kernel(X, gamma=0.3))
