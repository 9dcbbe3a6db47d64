"""TrAdaBoostRegressor (TrAdaBoost.R2): Pardoe & Stone's formulas, transfer, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from sktransfer import make_da_pipeline
from sktransfer.boosting import TrAdaBoostRegressor
from sktransfer.datasets import make_domain_shift

from .test_tradaboost import partly_wrong_source


def rmse(model, X, y) -> float:
    return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))


@pytest.fixture(scope="module")
def labelled_target():
    """Concept-shifted regression with the targets of the first 15 target rows kept."""
    X, y, sd = make_domain_shift(
        n_samples=60, shift="concept", task="regression", mask_target=False, random_state=0
    )
    y = y.copy()
    y[75:] = np.nan
    return X, y, sd


@pytest.mark.parametrize("base", [DecisionTreeRegressor(max_depth=3), Ridge()])
def test_first_round_is_the_plain_estimator_on_uniform_weights(base):
    """Round 1 trains on uniform weights: it must equal the base estimator fitted unweighted."""
    X, y, sd = make_domain_shift(
        n_samples=50, task="regression", shift_strength=0.0, mask_target=False, random_state=1
    )
    reg = TrAdaBoostRegressor(base, n_estimators=3, random_state=0).fit(X, y, sample_domain=sd)
    first = reg.estimators_[0]
    params = {"random_state": first.random_state} if "random_state" in base.get_params() else {}
    plain = clone(base).set_params(**params).fit(X, y)
    np.testing.assert_allclose(first.predict(X), plain.predict(X), rtol=1e-8)


@pytest.mark.parametrize("loss", ["linear", "square", "exponential"])
@pytest.mark.parametrize("learning_rate", [1.0, 0.5])
def test_one_round_by_hand(labelled_target, loss, learning_rate):
    """Pardoe & Stone (2010) Algorithm 2, one round written out.

    D = max_i |y_i - h(x_i)| over all labelled rows; e_i = r/D, (r/D)^2 or 1 - exp(-r/D);
    eps = sum_target w e / sum_target w; beta_t = eps / (1 - eps);
    target: w beta_t^(-lr e); source: w beta^(lr e), beta = 1 / (1 + sqrt(2 ln n / N)).
    """
    X, y, sd = labelled_target
    keep = ~np.isnan(y)
    N = 2
    reg = TrAdaBoostRegressor(
        n_estimators=N, loss=loss, learning_rate=learning_rate, random_state=0
    ).fit(X, y, sample_domain=sd)
    Xk, yk, source = X[keep], y[keep], sd[keep] > 0
    r = np.abs(reg.estimators_[0].predict(Xk) - yk)
    e = {"linear": r / r.max(), "square": (r / r.max()) ** 2, "exponential": 1 - np.exp(-r / r.max())}[loss]
    w = np.full(len(yk), 1 / len(yk))
    eps = np.sum(w[~source] * e[~source]) / np.sum(w[~source])
    beta_t = eps / (1 - eps)
    beta = 1 / (1 + math.sqrt(2 * math.log(source.sum()) / N))
    new = np.where(source, w * beta ** (learning_rate * e), w * beta_t ** (-learning_rate * e))
    assert reg.estimator_errors_[0] == pytest.approx(eps)
    assert reg.estimator_weights_[0] == pytest.approx(learning_rate * math.log(1 / beta_t))
    np.testing.assert_allclose(reg.sample_weight_[keep], new / new.sum())
    assert np.all(reg.sample_weight_[~keep] == 0)


def test_prediction_is_the_weighted_median_of_the_second_half(labelled_target):
    X, y, sd = labelled_target
    reg = TrAdaBoostRegressor(n_estimators=5, random_state=0).fit(X, y, sample_domain=sd)
    preds = np.array([e.predict(X) for e in reg.estimators_])[2:]  # rounds 3, 4, 5
    weights = reg.estimator_weights_[2:]
    for j in range(0, len(X), 17):
        order = np.argsort(preds[:, j], kind="stable")
        cumulative = np.cumsum(weights[order])
        expected = preds[order, j][np.searchsorted(cumulative, cumulative[-1] / 2)]
        assert reg.predict(X[j : j + 1])[0] == expected


def test_staged_predict_ends_at_predict(labelled_target):
    X, y, sd = labelled_target
    reg = TrAdaBoostRegressor(n_estimators=6, random_state=0).fit(X, y, sample_domain=sd)
    staged = list(reg.staged_predict(X))
    assert len(staged) == 6
    np.testing.assert_array_equal(staged[0], reg.estimators_[0].predict(X))
    np.testing.assert_array_equal(staged[-1], reg.predict(X))


def test_beats_target_only_and_pooled_when_part_of_the_source_is_wrong():
    """A quarter of the source follows a linear concept turned by 135 degrees; 15 labelled target rows.

    Averaged over three seeds the RMSE must be at least 5% below both Ridge
    on the target rows alone and Ridge on all rows pooled (here about 0.12
    against 0.13 and 0.38).
    """
    scores = []
    for seed in range(3):
        X, y, sd, X_test, y_test = partly_wrong_source(seed, task="regression", n_target=15)
        target = sd < 0
        only = rmse(Ridge().fit(X[target], y[target]), X_test, y_test)
        pooled = rmse(Ridge().fit(X, y), X_test, y_test)
        reg = TrAdaBoostRegressor(Ridge(), random_state=seed).fit(X, y, sample_domain=sd)
        scores.append((only, pooled, rmse(reg, X_test, y_test)))
    only, pooled, ours = np.mean(scores, axis=0)
    assert ours < 0.95 * min(only, pooled), scores


@pytest.mark.parametrize("routing", [False, True])
def test_final_step_of_a_da_pipeline(labelled_target, routing):
    X, y, sd = labelled_target
    with config_context(enable_metadata_routing=routing):
        pipe = make_da_pipeline(StandardScaler(), TrAdaBoostRegressor(random_state=0))
        pred = pipe.fit(X, y, sample_domain=sd).predict(X)
    scaler = StandardScaler().fit(X)
    direct = TrAdaBoostRegressor(random_state=0).fit(scaler.transform(X), y, sample_domain=sd)
    assert pipe[-1].sample_weight_.shape == (len(y),)
    np.testing.assert_allclose(pred, direct.predict(scaler.transform(X)))


def test_needs_labelled_target_rows(labelled_target):
    X, y, sd = labelled_target
    y = y.copy()
    y[sd < 0] = np.nan
    with pytest.raises(ValueError, match="needs some labelled target rows"):
        TrAdaBoostRegressor().fit(X, y, sample_domain=sd)


def test_needs_sample_domain(labelled_target):
    X, y, _ = labelled_target
    with pytest.raises(ValueError, match="needs sample_domain"):
        TrAdaBoostRegressor().fit(X, y)


def test_base_estimator_must_take_sample_weight(labelled_target):
    X, y, sd = labelled_target
    with pytest.raises(TypeError, match="KNeighborsRegressor.fit does not"):
        TrAdaBoostRegressor(KNeighborsRegressor()).fit(X, y, sample_domain=sd)


def test_unknown_loss(labelled_target):
    X, y, sd = labelled_target
    with pytest.raises(ValueError, match="loss"):
        TrAdaBoostRegressor(loss="huber").fit(X, y, sample_domain=sd)
