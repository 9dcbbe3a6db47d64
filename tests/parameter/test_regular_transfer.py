"""RegularTransferRegressor against the normal equations of its objective, and its limits."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from scipy.sparse.linalg import lsqr
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.neighbors import KNeighborsRegressor

from sktransfer.parameter import RegularTransferRegressor


def _data(n_source=80, n_target=15, n_features=3, random_state=0):
    """Source and target linear models with close but different weights."""
    rng = np.random.RandomState(random_state)
    w_source = rng.normal(size=n_features)
    w_target = w_source + 0.3 * rng.normal(size=n_features)
    Xs = rng.normal(size=(n_source, n_features))
    Xt = rng.normal(size=(n_target, n_features))
    ys = Xs @ w_source + 0.5 + 0.1 * rng.normal(size=n_source)
    yt = Xt @ w_target - 0.2 + 0.1 * rng.normal(size=n_target)
    X = np.vstack([Xs, Xt])
    y = np.r_[ys, yt]
    sd = np.r_[np.ones(n_source, int), -np.ones(n_target, int)]
    return X, y, sd


def _normal_equations(Xt, yt, theta_s, alpha, w=None):
    """argmin sum w (y - Z theta)^2 + alpha ||theta - theta_s||^2 with Z = [X, 1]:
    (Z^T W Z + alpha I) theta = Z^T W y + alpha theta_s."""
    Z = np.hstack([Xt, np.ones((len(Xt), 1))])
    W = np.diag(np.ones(len(Xt)) if w is None else w)
    A = Z.T @ W @ Z + alpha * np.eye(Z.shape[1])
    return np.linalg.solve(A, Z.T @ W @ yt + alpha * theta_s)


@pytest.mark.parametrize("n_target, n_features", [(15, 3), (4, 6)], ids=["primal", "dual"])
@pytest.mark.parametrize("alpha", [0.1, 1.0, 30.0])
def test_matches_the_closed_form(alpha, n_target, n_features):
    """Reference: the normal equations of the penalised least squares, solved in the test."""
    X, y, sd = _data(n_target=n_target, n_features=n_features)
    model = RegularTransferRegressor(alpha=alpha).fit(X, y, sample_domain=sd)
    source = Ridge().fit(X[sd > 0], y[sd > 0])
    np.testing.assert_allclose(model.source_coef_, source.coef_, rtol=1e-12)
    theta_s = np.r_[source.coef_, source.intercept_]
    theta = _normal_equations(X[sd < 0], y[sd < 0], theta_s, alpha)
    np.testing.assert_allclose(model.coef_, theta[:-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, theta[-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.predict(X), X @ theta[:-1] + theta[-1], rtol=1e-9, atol=1e-12)


def test_large_alpha_keeps_the_source_model():
    X, y, sd = _data()
    model = RegularTransferRegressor(alpha=1e12).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(model.coef_, model.source_coef_, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, model.source_intercept_, atol=1e-8)
    np.testing.assert_allclose(model.source_coef_, Ridge().fit(X[sd > 0], y[sd > 0]).coef_)


def test_zero_alpha_is_least_squares_on_the_target_rows():
    X, y, sd = _data()
    ols = LinearRegression().fit(X[sd < 0], y[sd < 0])
    for alpha in (0.0, 1e-10):
        model = RegularTransferRegressor(alpha=alpha).fit(X, y, sample_domain=sd)
        np.testing.assert_allclose(model.coef_, ols.coef_, rtol=1e-7)
        np.testing.assert_allclose(model.intercept_, ols.intercept_, rtol=1e-7)


def test_zero_alpha_with_fewer_rows_than_parameters_is_the_fit_closest_to_the_source():
    X, y, sd = _data(n_target=3, n_features=6)
    model = RegularTransferRegressor(alpha=0.0).fit(X, y, sample_domain=sd)
    Xt = X[sd < 0]
    np.testing.assert_allclose(model.predict(Xt), y[sd < 0], atol=1e-10)  # interpolates
    Z = np.hstack([Xt, np.ones((3, 1))])
    step = np.r_[model.coef_ - model.source_coef_, model.intercept_ - model.source_intercept_]
    # Minimum norm: the step lies in the row space of Z.
    np.testing.assert_allclose(Z.T @ np.linalg.lstsq(Z.T, step, rcond=None)[0], step, atol=1e-10)


def test_without_intercept():
    X, y, sd = _data()
    model = RegularTransferRegressor(alpha=2.0, fit_intercept=False).fit(X, y, sample_domain=sd)
    assert model.intercept_ == 0.0 and model.source_intercept_ == 0.0
    assert model.source_estimator_.fit_intercept is False
    Xt, yt = X[sd < 0], y[sd < 0]
    expected = np.linalg.solve(Xt.T @ Xt + 2.0 * np.eye(3), Xt.T @ yt + 2.0 * model.source_coef_)
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-10)


def test_sample_weight_weights_target_rows_and_reaches_the_source_estimator():
    """Reference: the weighted normal equations; integer weights equal repeated rows."""
    X, y, sd = _data()
    rng = np.random.RandomState(1)
    w = rng.randint(1, 4, size=len(y)).astype(float)
    model = RegularTransferRegressor(alpha=1.0).fit(X, y, sample_domain=sd, sample_weight=w)
    source = Ridge().fit(X[sd > 0], y[sd > 0], sample_weight=w[sd > 0])
    np.testing.assert_allclose(model.source_coef_, source.coef_, rtol=1e-10)
    theta = _normal_equations(X[sd < 0], y[sd < 0], np.r_[source.coef_, source.intercept_], 1.0, w[sd < 0])
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], theta, rtol=1e-9)
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    repeated = RegularTransferRegressor(alpha=1.0).fit(X[rows], y[rows], sample_domain=sd[rows])
    np.testing.assert_allclose(repeated.coef_, model.coef_, rtol=1e-9)


def test_masked_target_rows_are_ignored():
    X, y, sd = _data()
    Xu = np.vstack([X, np.random.RandomState(2).normal(size=(5, 3))])
    yu = np.r_[y, np.full(5, np.nan)]
    sdu = np.r_[sd, -np.ones(5, int)]
    a = RegularTransferRegressor().fit(X, y, sample_domain=sd)
    b = RegularTransferRegressor().fit(Xu, yu, sample_domain=sdu)
    np.testing.assert_allclose(a.coef_, b.coef_)


class _Stub(RegressorMixin, BaseEstimator):
    """Fits nothing; exposes a coef_ of the shape it is given."""

    def __init__(self, shape=(3,)):
        self.shape = shape

    def fit(self, X, y):
        self.coef_ = np.zeros(self.shape)
        self.intercept_ = 0.0
        return self

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize(
    "source, error, match",
    [
        (KNeighborsRegressor(), TypeError, "linear source_estimator with coef_"),
        (_Stub(shape=(4,)), ValueError, "expected 3 coefficients"),
        (_Stub(shape=(2, 3)), ValueError, "fits one output"),
    ],
    ids=["no_coef", "wrong_width", "two_outputs"],
)
def test_source_estimator_must_be_a_linear_model(source, error, match):
    X, y, sd = _data()
    with pytest.raises(error, match=match):
        RegularTransferRegressor(source_estimator=source).fit(X, y, sample_domain=sd)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sample_weight": np.ones(5)}, ValueError, r"one weight per row of X, shape \(95,\)"),
        ({"sample_weight": -np.ones(95)}, ValueError, "finite and non-negative"),
        ({"sample_weight": np.r_[np.ones(80), np.zeros(15)]}, ValueError, "every labelled target row has"),
        ({"source_estimator": _Stub()}, TypeError, "source_estimator to be an estimator whose fit takes sample_weight"),
    ],
    ids=["length", "negative", "zero_target", "source_without_weights"],
)
def test_bad_sample_weight(kwargs, error, match):
    X, y, sd = _data()
    params = {"source_estimator": kwargs.pop("source_estimator")} if "source_estimator" in kwargs else {}
    w = kwargs.get("sample_weight", np.ones(95))
    with pytest.raises(error, match=match):
        RegularTransferRegressor(**params).fit(X, y, sample_domain=sd, sample_weight=w)


def test_scalar_sample_weight_is_uniform():
    X, y, sd = _data()
    a = RegularTransferRegressor().fit(X, y, sample_domain=sd, sample_weight=2.0)
    b = RegularTransferRegressor().fit(X, y, sample_domain=sd, sample_weight=np.full(95, 2.0))
    np.testing.assert_allclose(a.coef_, b.coef_)


def test_needs_sample_domain_target_labels_and_y():
    X, y, sd = _data()
    with pytest.raises(ValueError, match="RegularTransferRegressor needs sample_domain"):
        RegularTransferRegressor().fit(X, y)
    y_masked = y.copy()
    y_masked[sd < 0] = np.nan
    with pytest.raises(ValueError, match="needs some labelled target rows"):
        RegularTransferRegressor().fit(X, y_masked, sample_domain=sd)
    with pytest.raises(ValueError, match="requires y to be passed"):
        RegularTransferRegressor().fit(X, None, sample_domain=sd)


def test_matches_lsqr_damped_around_the_source():
    """Reference: scipy's lsqr with damp=sqrt(alpha) started at the source parameters,
    which damps the step from x0 (how ADAPT's RegularTransferLR solves it)."""
    X, y, sd = _data()
    model = RegularTransferRegressor(alpha=4.0).fit(X, y, sample_domain=sd)
    Z = np.hstack([X[sd < 0], np.ones(((sd < 0).sum(), 1))])
    theta_s = np.r_[model.source_coef_, model.source_intercept_]
    theta = lsqr(Z, y[sd < 0], damp=2.0, x0=theta_s, atol=1e-14, btol=1e-14)[0]
    np.testing.assert_allclose(np.r_[model.coef_, model.intercept_], theta, rtol=1e-8)


ADAPT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from sklearn.linear_model import Ridge
    from adapt.parameter_based import RegularTransferLR
    d = json.loads(sys.stdin.read())
    Xs, ys, Xt, yt = (np.array(d[k]) for k in ("Xs", "ys", "Xt", "yt"))
    src = Ridge().fit(Xs, ys)
    model = RegularTransferLR(src, lambda_=d["lambda"], verbose=0).fit(Xt, yt)
    coef, intercept = np.ravel(model.coef_).tolist(), float(np.ravel(model.intercept_)[0])
    print(json.dumps({"coef": coef, "intercept": intercept}))
    """
)


def test_matches_adapt_regular_transfer_lr():
    """Reference: ADAPT's RegularTransferLR, run in a subprocess when installed. It
    solves with lsqr(damp=lambda_, x0=source), i.e. penalty lambda_^2 ||theta - theta_s||^2
    with the intercept penalised, so alpha = lambda_^2."""
    probe = subprocess.run([sys.executable, "-c", "import adapt"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("adapt is not installed")
    import json

    X, y, sd = _data()
    lam = 2.0
    payload = {
        "Xs": X[sd > 0].tolist(), "ys": y[sd > 0].tolist(),
        "Xt": X[sd < 0].tolist(), "yt": y[sd < 0].tolist(), "lambda": lam,
    }
    proc = subprocess.run(
        [sys.executable, "-c", ADAPT_SCRIPT], input=json.dumps(payload),
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    ref = json.loads(proc.stdout.strip().splitlines()[-1])
    model = RegularTransferRegressor(alpha=lam**2).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(model.coef_, ref["coef"], rtol=1e-4)
    np.testing.assert_allclose(model.intercept_, ref["intercept"], rtol=1e-4)


def test_score_is_r2_on_the_labelled_rows():
    pd = pytest.importorskip("pandas")
    X, y, sd = _data()
    model = RegularTransferRegressor().fit(X, y, sample_domain=sd)
    y_masked = y.copy()
    y_masked[:10] = np.nan
    expected = r2_score(y[10:], model.predict(X[10:]))
    assert model.score(X, y_masked) == pytest.approx(expected)
    assert model.score(pd.DataFrame(X), y_masked) == pytest.approx(expected)
    with pytest.raises(ValueError, match="RegularTransferRegressor.score needs labelled rows"):
        model.score(X, np.full(len(y), np.nan))


def test_score_keeps_a_real_target_value_of_minus_one():
    """A regressor reads NaN as its only mask: a target of exactly -1 is scored,
    even among integer values (counts, ratings) that look like class labels."""
    X, y, sd = _data()
    model = RegularTransferRegressor().fit(X, y, sample_domain=sd)
    y_minus_one = np.round(y)
    y_minus_one[:10] = -1.0
    assert model.score(X, y_minus_one) == pytest.approx(r2_score(y_minus_one, model.predict(X)))



def _step(model, X, y, sd):
    """The target design Z = [X_t, 1], the source parameters and the residual r = y_t - Z theta_s."""
    Z = np.hstack([X[sd < 0], np.ones(((sd < 0).sum(), 1))])
    theta_s = np.r_[model.source_coef_, model.source_intercept_]
    return Z, theta_s, y[sd < 0] - Z @ theta_s


def test_a_large_offset_is_solved_without_linalg_errors_or_warnings():
    """X + 1e12 made Z^T Z + alpha I singular to working precision (scipy's LinAlgError).
    Reference: the problem as one ordinary least squares, [Z; sqrt(alpha) I] s = [r; 0],
    solved by numpy's lstsq (no normal equations). The offset makes the problem's condition
    number about 1e12, so two float64 solvers agree to about 1e-4, not more."""
    X, y, sd = _data()
    X = X + 1e12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = RegularTransferRegressor(alpha=1.0).fit(X, y, sample_domain=sd)
    Z, theta_s, r = _step(model, X, y, sd)
    stacked = np.vstack([Z, np.eye(Z.shape[1])])
    theta = theta_s + np.linalg.lstsq(stacked, np.r_[r, np.zeros(Z.shape[1])], rcond=None)[0]
    np.testing.assert_allclose(model.coef_, theta[:-1], rtol=1e-3)
    np.testing.assert_allclose(model.intercept_, theta[-1], rtol=1e-9)


@pytest.mark.parametrize(
    "n_target, n_features, scale", [(15, 3, 1e150), (15, 3, 1e-150), (4, 6, 1e-150)], ids=["1e150", "1e-150", "dual-1e-150"]
)
def test_extreme_feature_scales_are_solved_without_linalg_errors_or_warnings(n_target, n_features, scale):
    """X * 1e150 made Z^T Z + alpha I ill-conditioned (a leaked LinAlgWarning); an SVD of Z
    instead was off by 20% there and by orders of magnitude at 1e-150. Reference: with
    w = v / scale the problem is a ridge on the unscaled [X_t, 1] whose penalty is
    alpha / scale^2 on v and alpha on the intercept; its normal equations are well scaled."""
    X, y, sd = _data(n_target=n_target, n_features=n_features)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = RegularTransferRegressor(alpha=1.0).fit(X * scale, y, sample_domain=sd)
    Z, theta_s, r = _step(model, X * scale, y, sd)
    unscaled = np.hstack([X[sd < 0], np.ones(((sd < 0).sum(), 1))])
    penalty = np.diag(np.r_[np.full(X.shape[1], 1.0 / scale**2), 1.0])
    v = np.linalg.solve(unscaled.T @ unscaled + penalty, unscaled.T @ r)
    np.testing.assert_allclose(model.coef_, theta_s[:-1] + v[:-1] / scale, rtol=1e-8)
    np.testing.assert_allclose(model.intercept_, theta_s[-1] + v[-1], rtol=1e-8)
