"""MEDA against the authors' MEDA.py (and MEDA.m's graph Laplacian), and its properties.

Reference: ``jindongwang/transferlearning`` at commit
f951df1188858f6eb561b89e37deb93295ff1c82:
``code/traditional/MEDA/MEDA.py`` (re-written below line by line, GFK from
``code/traditional/GFK/GFK.py``, see ``tests/alignment/test_gfk.py``). That
port has no Laplacian (``L = 0``), so the ``rho > 0`` check adds the one of
``code/traditional/MEDA/matlab/MEDA.m`` and ``lapgraph.m`` (cosine k-NN
graph, cosine weights, ``L = I - D^-1/2 W D^-1/2``). Two quirks of the port
are kept out of the way rather than copied: ``YY[0, 1:] = 0`` drops the label
of the first source row unless it is class 1 (the data puts class 1 first),
and a class no target row is pseudo-labelled with divides by zero (the data
never leaves one empty). The port's ``gamma=1`` is passed explicitly (our
default, 0.5, is the MATLAB code's ``sigma = 1``).
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics, svm
from sklearn.neighbors import KNeighborsClassifier

from sktransfer import mask_target_labels
from sktransfer.datasets import make_domain_shift
from sktransfer.transductive import MEDA
from sktransfer.transductive._meda_terms import cosine_knn_laplacian

from ..alignment.test_gfk import authors_gfk


# ------------------------------------------------------------------ the authors' code
def kernel(ker, X1, X2, gamma):
    K = None
    if not ker or ker == 'primal':
        K = X1
    elif ker == 'linear':
        if X2 is not None:
            K = metrics.pairwise.linear_kernel(np.asarray(X1).T, np.asarray(X2).T)
        else:
            K = metrics.pairwise.linear_kernel(np.asarray(X1).T)
    elif ker == 'rbf':
        if X2 is not None:
            K = metrics.pairwise.rbf_kernel(np.asarray(X1).T, np.asarray(X2).T, gamma)
        else:
            K = metrics.pairwise.rbf_kernel(np.asarray(X1).T, None, gamma)
    return K


def proxy_a_distance(source_X, target_X):
    nb_source = np.shape(source_X)[0]
    nb_target = np.shape(target_X)[0]
    train_X = np.vstack((source_X, target_X))
    train_Y = np.hstack((np.zeros(nb_source, dtype=int), np.ones(nb_target, dtype=int)))
    clf = svm.LinearSVC(random_state=0)
    clf.fit(train_X, train_Y)
    y_pred = clf.predict(train_X)
    error = metrics.mean_absolute_error(train_Y, y_pred)
    dist = 2 * (1 - 2 * error)
    return dist


def lapgraph_cosine_knn(fea, k):
    """lapgraph.m with Metric='Cosine', NeighborMode='KNN', WeightMode='Cosine' (self-connected)."""
    feaNorm = np.sum(fea**2, axis=1) ** .5
    fea = fea / np.maximum(1e-12, feaNorm)[:, None]
    dist = fea @ fea.T
    idx = np.argsort(-dist, axis=1, kind="stable")[:, :k + 1]  # [dump idx] = sort(-dist, 2)
    W = np.zeros_like(dist)
    for i in range(fea.shape[0]):
        W[i, idx[i]] = dist[i, idx[i]]
    return np.maximum(W, W.T)


class AuthorsMEDA:
    def __init__(self, kernel_type='primal', dim=30, lamb=1, rho=1.0, eta=0.1, p=10, gamma=1, T=10,
                 laplacian=False):
        self.kernel_type = kernel_type
        self.dim = dim
        self.lamb = lamb
        self.rho = rho
        self.eta = eta
        self.gamma = gamma
        self.p = p
        self.T = T
        self.laplacian = laplacian  # MEDA.m's L instead of the port's L = 0

    def estimate_mu(self, _X1, _Y1, _X2, _Y2):
        adist_m = proxy_a_distance(_X1, _X2)
        C = len(np.unique(_Y1))
        epsilon = 1e-3
        list_adist_c = []
        for i in range(1, C + 1):
            ind_i, ind_j = np.where(_Y1 == i), np.where(_Y2 == i)
            Xsi = _X1[ind_i[0], :]
            Xtj = _X2[ind_j[0], :]
            adist_i = proxy_a_distance(Xsi, Xtj)
            list_adist_c.append(adist_i)
        adist_c = sum(list_adist_c) / C
        mu = adist_c / (adist_c + adist_m)
        if mu > 1:
            mu = 1
        if mu < epsilon:
            mu = 0
        return mu

    def fit_predict(self, Xs, Ys, Xt, Yt):
        _, Xs_new, Xt_new = authors_gfk(Xs, Xt, self.dim)
        Xs_new, Xt_new = Xs_new.T, Xt_new.T
        X = np.hstack((Xs_new, Xt_new))
        n, m = Xs_new.shape[1], Xt_new.shape[1]
        C = len(np.unique(Ys))
        self.mus = []
        YY = np.zeros((n, C))
        for c in range(1, C + 1):
            ind = np.where(Ys == c)
            YY[ind, c - 1] = 1
        YY = np.vstack((YY, np.zeros((m, C))))
        YY[0, 1:] = 0

        X /= np.linalg.norm(X, axis=0)
        L = 0  # Graph Laplacian is on the way...
        if self.laplacian:
            W = lapgraph_cosine_knn(X.T, self.p)
            Dw = np.diag(np.sqrt(1 / np.sum(W, axis=0)))
            L = np.eye(n + m) - Dw @ W @ Dw
        knn_clf = KNeighborsClassifier(n_neighbors=1)
        knn_clf.fit(X[:, :n].T, Ys.ravel())
        Cls = knn_clf.predict(X[:, n:].T)
        K = kernel(self.kernel_type, X, X2=None, gamma=self.gamma)
        E = np.diagflat(np.vstack((np.ones((n, 1)), np.zeros((m, 1)))))
        for t in range(1, self.T + 1):  # noqa: B007 (the original prints t)
            mu = self.estimate_mu(Xs_new.T, Ys, Xt_new.T, Cls)
            self.mus.append(mu)
            e = np.vstack((1 / n * np.ones((n, 1)), -1 / m * np.ones((m, 1))))
            M = e * e.T * C
            N = 0
            for c in range(1, C + 1):
                e = np.zeros((n + m, 1))
                tt = Ys == c
                e[np.where(tt == True)] = 1 / len(Ys[np.where(Ys == c)])  # noqa: E712
                yy = Cls == c
                ind = np.where(yy == True)  # noqa: E712
                inds = [item + n for item in ind]
                e[tuple(inds)] = -1 / len(Cls[np.where(Cls == c)])
                e[np.isinf(e)] = 0
                N += np.dot(e, e.T)
            M = (1 - mu) * M + mu * N
            M /= np.linalg.norm(M, 'fro')
            left = np.dot(E + self.lamb * M + self.rho * L, K) + self.eta * np.eye(n + m, n + m)
            Beta = np.dot(np.linalg.inv(left), np.dot(E, YY))
            F = np.dot(K, Beta)
            Cls = np.argmax(F, axis=1) + 1
            Cls = Cls[n:]
        self.Beta = Beta
        return Cls


# ------------------------------------------------------------------ data
def shifted_classes(seed, ns=60, nt=50, d=10, n_classes=3):
    """Three overlapping classes; the target is a rotated, rescaled, shifted copy; each
    domain z-scored on its own (the papers' protocol). Class 0 comes first."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=1.0, size=(n_classes, d))
    ys = np.r_[0, rng.integers(0, n_classes, ns - 1)]
    yt = rng.integers(0, n_classes, nt)
    Xs = means[ys] + rng.normal(size=(ns, d))
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    Xt = (means[yt] + rng.normal(size=(nt, d))) @ (0.5 * np.eye(d) + 0.5 * rotation) * 1.5 + 1.0

    def zscore(X):
        return (X - X.mean(axis=0)) / X.std(axis=0)

    return zscore(Xs), ys, zscore(Xt), yt


def _stacked(Xs, ys, Xt):
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]
    return X, np.r_[ys, -np.ones(len(Xt), int)], sd


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_matches_the_authors_code(seed, rho):
    Xs, ys, Xt, yt = shifted_classes(seed)
    ref = AuthorsMEDA(kernel_type="rbf", dim=5, lamb=10, rho=rho, eta=0.1, p=10, gamma=1, T=10,
                      laplacian=rho > 0)
    expected = ref.fit_predict(Xs, ys + 1, Xt, yt + 1) - 1
    X, y, sd = _stacked(Xs, ys, Xt)
    meda = MEDA(n_components=5, gamma=1.0, rho=rho).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(meda.transduction_[sd < 0], expected)
    np.testing.assert_array_equal(meda.mu_, ref.mus)
    np.testing.assert_allclose(meda.dual_coef_, ref.Beta, atol=1e-10)
    np.testing.assert_array_equal(meda.predict(Xt), expected)
    assert 0.4 < np.mean(expected == yt) < 1.0  # a task with errors left to make


def test_laplacian_matches_lapgraph():
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(30, 4))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    W = lapgraph_cosine_knn(Z, 5)
    Dw = np.diag(np.sqrt(1 / W.sum(axis=0)))
    np.testing.assert_allclose(cosine_knn_laplacian(Z, 5), np.eye(30) - Dw @ W @ Dw, atol=1e-15)


def test_adaptive_factor_stays_in_the_unit_interval_and_fixed_mu_is_used():
    for seed in range(2):
        Xs, ys, Xt, _ = shifted_classes(seed + 10)
        X, y, sd = _stacked(Xs, ys, Xt)
        meda = MEDA(n_components=4).fit(X, y, sample_domain=sd)
        assert meda.mu_.shape == (10,) and meda.n_iter_ == 10
        assert np.all((meda.mu_ >= 0) & (meda.mu_ <= 1))
    fixed = MEDA(n_components=4, mu=0.25, max_iter=3).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(fixed.mu_, [0.25] * 3)


def test_deterministic_and_row_order_free():
    Xs, ys, Xt, _ = shifted_classes(5)
    X, y, sd = _stacked(Xs, ys, Xt)
    first = MEDA(n_components=4).fit(X, y, sample_domain=sd)
    again = MEDA(n_components=4).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(first.dual_coef_, again.dual_coef_)
    np.testing.assert_array_equal(first.transduction_, again.transduction_)
    # Target rows before source rows: the same problem, so the same labels.
    order = np.r_[np.flatnonzero(sd < 0), np.flatnonzero(sd > 0)]
    swapped = MEDA(n_components=4).fit(X[order], y[order], sample_domain=sd[order])
    np.testing.assert_array_equal(swapped.transduction_, first.transduction_[order])


def test_predict_on_new_rows_uses_the_kernel_classifier():
    Xs, ys, Xt, _ = shifted_classes(6)
    X, y, sd = _stacked(Xs, ys, Xt)
    meda = MEDA(n_components=4, kernel="linear").fit(X, y, sample_domain=sd)
    new = Xt[:7] + 0.01
    Z = new @ meda.projection_
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    scores = Z @ meda.X_fit_.T @ meda.dual_coef_
    np.testing.assert_allclose(meda.decision_function(new), scores, atol=1e-12)
    np.testing.assert_array_equal(meda.predict(new), meda.classes_[scores.argmax(axis=1)])


def test_string_labels_and_labelled_target_rows_are_handled():
    Xs, ys, Xt, yt = shifted_classes(7)
    X, y, sd = _stacked(Xs, ys, Xt)
    names = np.array(["cat", "dog", "emu"], dtype=object)
    meda = MEDA(n_components=4).fit(X, names[np.r_[ys, yt]], sample_domain=sd)
    reference = MEDA(n_components=4).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(meda.transduction_, names[reference.transduction_])


def test_beats_a_source_only_nearest_neighbour():
    """On make_domain_shift's subspace shift (a rotation), averaged over seeds."""
    ours, baseline = [], []
    for seed in range(4):
        X, y_true, sd = make_domain_shift(n_samples=60, n_classes=3, shift="subspace",
                                          mask_target=False, random_state=seed)
        target = sd < 0
        meda = MEDA(n_components=2).fit(X, mask_target_labels(y_true, sd), sample_domain=sd)
        ours.append(meda.score(X[target], y_true[target]))
        nn = KNeighborsClassifier(n_neighbors=1).fit(X[~target], y_true[~target])
        baseline.append(nn.score(X[target], y_true[target]))
    assert np.mean(ours) > np.mean(baseline) + 0.05, (ours, baseline)


def test_errors_name_the_problem():
    Xs, ys, Xt, _ = shifted_classes(8)
    X, y, sd = _stacked(Xs, ys, Xt)
    with pytest.raises(ValueError, match="MEDA needs at least two classes"):
        MEDA().fit(X, np.where(sd > 0, 0, -1), sample_domain=sd)
    with pytest.raises(ValueError, match="MEDA requires y to be passed"):
        MEDA().fit(X, None, sample_domain=sd)
    with pytest.raises(ValueError, match="MEDA: the target rows are all identical"):
        MEDA().fit(np.vstack([Xs, np.ones_like(Xt)]), y, sample_domain=sd)
    with pytest.raises(ValueError, match="Unknown label type"):
        MEDA().fit(X, np.where(sd > 0, np.linspace(0, 1, len(sd)), -1), sample_domain=sd)
