"""EasyTL against the authors' Python code (pyEasyTL), and the linear program's properties.

Reference: ``jindongwang/transferlearning`` at commit
f951df1188858f6eb561b89e37deb93295ff1c82, ``code/traditional/pyEasyTL/``:
``EasyTL.py`` (``EasyTL``, ``get_class_center``), ``intra_alignment.py``
(``CORAL_map``) and ``label_prop.py`` (``scipy.optimize.linprog``; the
default ``label_prop_v2.py`` solves the same program with PuLP, which is not
installed here), re-written below line by line. They port the MATLAB code of
``code/traditional/EasyTL/`` (``EasyTL.m``, ``CORAL_map.m``,
``label_prop.m``). The data is z-scored per domain, the papers' protocol, on
which the authors' CORAL (no centring) and ours (which also moves the source
mean onto the target mean) coincide.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.optimize import linprog
from sklearn.neighbors import KNeighborsClassifier

from sktransfer import mask_target_labels
from sktransfer.datasets import make_domain_shift
from sktransfer.transductive import EasyTL
from sktransfer.transductive._easytl import intra_domain_program


# ------------------------------------------------------------------ the authors' code
def CORAL_map(Xs, Xt):
    Ds = Xs.copy()
    Dt = Xt.copy()
    cov_src = np.ma.cov(Ds.T) + np.eye(Ds.shape[1])
    cov_tar = np.ma.cov(Dt.T) + np.eye(Dt.shape[1])
    Cs = scipy.linalg.sqrtm(np.linalg.inv(np.array(cov_src)))
    Ct = scipy.linalg.sqrtm(np.array(cov_tar))
    Xs_new = np.linalg.multi_dot([Ds, Cs, Ct])
    return Xs_new


def get_class_center(Xs, Ys, Xt, dist):
    source_class_center = np.array([])
    Dct = np.array([])
    for i in np.unique(Ys):
        sel_mask = Ys == i
        X_i = Xs[sel_mask.flatten()]
        mean_i = np.mean(X_i, axis=0)
        if len(source_class_center) == 0:
            source_class_center = mean_i.reshape(-1, 1)
        else:
            source_class_center = np.hstack((source_class_center, mean_i.reshape(-1, 1)))
        if dist == "euclidean":
            Dct_c = np.sqrt(np.nansum((mean_i - Xt)**2, axis=1))
        elif dist == "sqeuc":
            Dct_c = np.nansum((mean_i - Xt)**2, axis=1)
        if len(Dct) == 0:
            Dct = Dct_c.reshape(-1, 1)
        else:
            Dct = np.hstack((Dct, Dct_c.reshape(-1, 1)))
    return source_class_center, Dct


def label_prop(C, nt, Dct, lp="linear"):
    intcon = C * nt
    Aeq = np.zeros([nt, intcon])
    Beq = np.ones([nt, 1])
    for i in range(nt):
        Aeq[i, i*C:(i+1)*C] = 1
    D_vec = np.reshape(Dct, (1, intcon))
    CC = np.asarray(D_vec, dtype=np.double)
    A = np.array([])
    B = -1 * np.ones([C, 1])
    for i in range(C):
        all_zeros = np.zeros([1, intcon])
        for j in range(i, C * nt, C):
            all_zeros[0][j] = -1
        if i == 0:
            A = all_zeros
        else:
            A = np.vstack((A, all_zeros))
    # scipy now wants 1-D c, b_ub and b_eq; the default method is HiGHS.
    res = linprog(CC.ravel(), A, B.ravel(), Aeq, Beq.ravel(), bounds=tuple((0, 1) for _ in range(intcon)))
    Mct_vec = res.get("x")[0:C*nt]
    Mcj = Mct_vec.reshape((C, nt), order="F").T
    return Mcj


def authors_easytl(Xs, Ys, Xt, Yt, intra_align="coral", dist="euclidean", lp="linear"):
    """EasyTL.py's EasyTL, returning (y_pred, Mcj) instead of (acc, y_pred), without prints."""
    C = len(np.unique(Ys))
    if C > np.max(Ys):
        Ys += 1
        Yt += 1
    m = len(Yt)
    if intra_align == "coral":
        Xs = CORAL_map(Xs, Xt)
    _, Dct = get_class_center(Xs, Ys, Xt, dist)
    Mcj = label_prop(C, m, Dct, lp)
    y_pred = np.argmax(Mcj, axis=1) + 1
    return y_pred, Mcj


# ------------------------------------------------------------------ data
def _zscore(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def shifted_classes(seed, ns=60, nt=50, d=10, n_classes=3):
    """Three overlapping classes; the target a rotated, rescaled, shifted copy; z-scored per domain."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=1.0, size=(n_classes, d))
    ys = rng.integers(0, n_classes, ns)
    yt = rng.integers(0, n_classes, nt)
    Xs = means[ys] + rng.normal(size=(ns, d))
    rotation = np.linalg.qr(rng.normal(size=(d, d)))[0]
    Xt = (means[yt] + rng.normal(size=(nt, d))) @ (0.5 * np.eye(d) + 0.5 * rotation) * 1.5 + 1.0
    return _zscore(Xs), ys, _zscore(Xt), yt


def _stacked(Xs, ys, Xt):
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(len(Xs), int), -np.ones(len(Xt), int)]
    return X, np.r_[ys, -np.ones(len(Xt), int)], sd


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("alignment, dist", [("coral", "euclidean"), (None, "euclidean"), ("coral", "sqeuc")])
def test_matches_the_authors_code(seed, alignment, dist):
    Xs, ys, Xt, yt = shifted_classes(seed)
    expected, M_ref = authors_easytl(Xs, ys.copy(), Xt, yt.copy(), alignment or "raw", dist)
    X, y, sd = _stacked(Xs, ys, Xt)
    metric = {"euclidean": "euclidean", "sqeuc": "sqeuclidean"}[dist]
    model = EasyTL(alignment=alignment, metric=metric).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(model.transduction_[sd < 0], expected - 1)
    np.testing.assert_allclose(model.assignment_, M_ref, atol=1e-9)
    assert 0.4 < np.mean(expected - 1 == yt) < 1.0  # a task with errors left to make


def _one_class_far_away(seed):
    """Target rows around classes 0 and 1 only, class 2 far off: no target row is nearest
    to class 2's centre, so the class-size constraint must act. Each domain centred."""
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 6.0]])
    ys, yt = np.repeat([0, 1, 2], 15), np.repeat([0, 1], 8)
    Xs = centres[ys] + rng.normal(scale=0.7, size=(45, 2))
    Xt = centres[yt] + rng.normal(scale=0.7, size=(16, 2)) + [0.5, 2.0]
    return Xs - Xs.mean(axis=0), ys, Xt - Xt.mean(axis=0), yt


@pytest.mark.parametrize("seed", [0, 1])
def test_class_size_constraint_matches_the_authors_code_when_it_acts(seed):
    Xs, ys, Xt, yt = _one_class_far_away(seed)
    X, y, sd = _stacked(Xs, ys, Xt)
    model = EasyTL(alignment=None).fit(X, y, sample_domain=sd)
    nearest = model.predict(Xt)
    assert not np.any(nearest == 2)  # without the constraint class 2 would be empty
    expected, M_ref = authors_easytl(Xs, ys.copy(), Xt, yt.copy(), "raw")
    np.testing.assert_array_equal(model.transduction_[sd < 0], expected - 1)
    np.testing.assert_allclose(model.assignment_, M_ref, atol=1e-9)
    moved = model.transduction_[sd < 0] != nearest
    assert moved.sum() == 1 and model.transduction_[sd < 0][moved] == 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_program_solution_is_a_feasible_assignment(seed):
    rng = np.random.default_rng(seed)
    costs = rng.random((25, 4)) ** 3
    costs[:, 3] += 2.0  # class 3 is nobody's nearest
    M = intra_domain_program(costs)
    assert np.all((M >= -1e-12) & (M <= 1 + 1e-12))
    np.testing.assert_allclose(M.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(M.sum(axis=0) >= 1 - 1e-9)
    np.testing.assert_allclose(M, np.round(M), atol=1e-9)  # a vertex of a transportation polytope
    # The optimum: nearest classes, then the row that loses least moves to class 3.
    nearest = costs[:, :3].min(axis=1)
    best = nearest.sum() + np.min(costs[:, 3] - nearest)
    np.testing.assert_allclose(np.sum(M * costs), best, rtol=1e-9)


def test_program_is_scale_free():
    costs = np.random.default_rng(4).random((12, 3))
    M = intra_domain_program(costs)
    np.testing.assert_array_equal(intra_domain_program(costs * 1e150), M)
    np.testing.assert_array_equal(intra_domain_program(costs * 1e-300), M)


def test_deterministic_and_predict_is_the_nearest_centre():
    Xs, ys, Xt, _ = shifted_classes(5)
    X, y, sd = _stacked(Xs, ys, Xt)
    first = EasyTL().fit(X, y, sample_domain=sd)
    again = EasyTL().fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(first.assignment_, again.assignment_)
    distances = np.linalg.norm(Xt[:, None, :] - first.centers_[None], axis=2)
    np.testing.assert_allclose(first.decision_function(Xt), -distances, atol=1e-12)
    np.testing.assert_array_equal(first.predict(Xt), distances.argmin(axis=1))
    # Source rows given as such are mapped with CORAL first, like the training rows.
    mapped = first.alignment_.transform(Xs, sample_domain=1)
    np.testing.assert_array_equal(first.predict(Xs, sample_domain=1), first.predict(mapped))


def test_beats_a_source_only_nearest_neighbour():
    """On make_domain_shift's subspace shift (a rotation), averaged over seeds."""
    ours, baseline = [], []
    for seed in range(5):
        X, y_true, sd = make_domain_shift(n_samples=60, n_classes=3, shift="subspace",
                                          mask_target=False, random_state=seed)
        target = sd < 0
        model = EasyTL().fit(X, mask_target_labels(y_true, sd), sample_domain=sd)
        ours.append(np.mean(model.transduction_[target] == y_true[target]))
        nn = KNeighborsClassifier(n_neighbors=1).fit(X[~target], y_true[~target])
        baseline.append(nn.score(X[target], y_true[target]))
    assert np.mean(ours) > np.mean(baseline) + 0.05, (ours, baseline)


def test_errors_name_the_problem():
    Xs, ys, Xt, _ = shifted_classes(8)
    X, y, sd = _stacked(Xs, ys, Xt)
    with pytest.raises(ValueError, match="needs at least as many target rows as classes; got 2"):
        EasyTL().fit(X[:62], y[:62], sample_domain=sd[:62])
    with pytest.raises(ValueError, match="EasyTL needs at least two classes"):
        EasyTL().fit(X, np.where(sd > 0, 4, -1), sample_domain=sd)
    with pytest.raises(ValueError, match="EasyTL requires y to be passed"):
        EasyTL().fit(X, None, sample_domain=sd)
