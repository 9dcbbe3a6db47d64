"""TwoStageTrAdaBoostRegressor: Pardoe & Stone's Algorithm 3, step by step."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import config_context
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.preprocessing import StandardScaler

from sktransfer import make_da_pipeline
from sktransfer.boosting import TwoStageTrAdaBoostRegressor
from sktransfer.boosting._tradaboost_r2 import r2_alpha, regression_loss
from sktransfer.boosting._weights import boost
from sktransfer.datasets import make_domain_shift

from .test_tradaboost import partly_wrong_source
from .test_tradaboost_r2 import rmse


@pytest.fixture(scope="module")
def labelled_target():
    """Concept-shifted regression with the targets of the first 15 target rows kept."""
    X, y, sd = make_domain_shift(
        n_samples=60, shift="concept", task="regression", mask_target=False, random_state=0
    )
    y = y.copy()
    y[75:] = np.nan
    return X, y, sd


@pytest.fixture(scope="module")
def fitted(labelled_target):
    X, y, sd = labelled_target
    return TwoStageTrAdaBoostRegressor(n_steps=6, n_estimators=4, random_state=0).fit(
        X, y, sample_domain=sd
    )


def test_target_share_grows_linearly_to_one(fitted):
    """Step s (0-based) of S: the target holds m/(n+m) + s/(S-1) (1 - m/(n+m)) of the weight."""
    start = 15 / 75
    expected = start + np.arange(6) / 5 * (1 - start)
    np.testing.assert_allclose(fitted.target_share_, expected)
    assert fitted.target_share_[-1] == pytest.approx(1.0)


def test_the_step_with_the_lowest_cv_error_is_kept(fitted, labelled_target):
    X, y, sd = labelled_target
    assert fitted.cv_errors_.shape == (6,)
    assert fitted.best_step_ == np.argmin(fitted.cv_errors_)
    assert fitted.sample_weight_.sum() == pytest.approx(1.0)
    assert np.all(fitted.sample_weight_[np.isnan(y)] == 0)
    share = fitted.sample_weight_[sd < 0].sum()
    assert share == pytest.approx(fitted.target_share_[fitted.best_step_])


def test_kept_model_is_adaboost_r2_with_frozen_source_weights(fitted):
    """AdaBoost.R2': the source weights stay, the target weights are reweighted as AdaBoost.R2."""
    assert 1 <= len(fitted.estimators_) <= 4
    np.testing.assert_allclose(
        fitted.estimator_weights_, [r2_alpha(max(e, 1e-10)) for e in fitted.estimator_errors_]
    )


def test_frozen_source_boosting_keeps_source_weights():
    rng = np.random.RandomState(0)
    X = rng.standard_normal((40, 2))
    y = X[:, 0] + 0.1 * rng.standard_normal(40)
    source = np.arange(40) < 30
    w = np.full(40, 1 / 40)
    out = boost(
        Ridge(), X, y, source, w, n_estimators=3, learning_rate=1.0, rng=rng,
        row_loss=regression_loss("linear"), alpha_of=r2_alpha, chance=0.5, mode="frozen_source", owner="test",
    )
    np.testing.assert_allclose(out.last_weights[source], w[source])
    assert out.last_weights[~source].sum() == pytest.approx(w[~source].sum())


def test_one_step_is_adaboost_r2_on_uniform_weights(labelled_target):
    X, y, sd = labelled_target
    reg = TwoStageTrAdaBoostRegressor(n_steps=1, n_estimators=3, random_state=0)
    reg.fit(X, y, sample_domain=sd)
    assert reg.best_step_ == 0
    np.testing.assert_allclose(reg.target_share_, [0.2])


def test_beats_target_only_and_pooled_when_part_of_the_source_is_wrong():
    """As for TrAdaBoost.R2: at least 5% lower RMSE than Ridge on target rows or pooled rows."""
    scores = []
    for seed in range(3):
        X, y, sd, X_test, y_test = partly_wrong_source(seed, task="regression", n_target=15)
        target = sd < 0
        only = rmse(Ridge().fit(X[target], y[target]), X_test, y_test)
        pooled = rmse(Ridge().fit(X, y), X_test, y_test)
        reg = TwoStageTrAdaBoostRegressor(Ridge(), n_steps=5, n_estimators=5, random_state=seed)
        scores.append((only, pooled, rmse(reg.fit(X, y, sample_domain=sd), X_test, y_test)))
    only, pooled, ours = np.mean(scores, axis=0)
    assert ours < 0.95 * min(only, pooled), scores


@pytest.mark.parametrize("routing", [False, True])
def test_final_step_of_a_da_pipeline(labelled_target, routing):
    X, y, sd = labelled_target
    est = TwoStageTrAdaBoostRegressor(n_steps=3, n_estimators=3, random_state=0)
    with config_context(enable_metadata_routing=routing):
        pred = make_da_pipeline(StandardScaler(), est).fit(X, y, sample_domain=sd).predict(X)
    scaler = StandardScaler().fit(X)
    direct = TwoStageTrAdaBoostRegressor(n_steps=3, n_estimators=3, random_state=0)
    direct.fit(scaler.transform(X), y, sample_domain=sd)
    np.testing.assert_allclose(pred, direct.predict(scaler.transform(X)))


def test_needs_two_labelled_target_rows(labelled_target):
    X, y, sd = labelled_target
    y = y.copy()
    y[61:] = np.nan  # one labelled target row left
    with pytest.raises(ValueError, match="at least 2 labelled target rows"):
        TwoStageTrAdaBoostRegressor().fit(X, y, sample_domain=sd)


def test_needs_sample_domain(labelled_target):
    X, y, _ = labelled_target
    with pytest.raises(ValueError, match="needs sample_domain"):
        TwoStageTrAdaBoostRegressor().fit(X, y)


def test_base_estimator_must_take_sample_weight(labelled_target):
    X, y, sd = labelled_target
    with pytest.raises(TypeError, match="sample_weight"):
        TwoStageTrAdaBoostRegressor(KNeighborsRegressor()).fit(X, y, sample_domain=sd)


@pytest.mark.parametrize("params, match", [({"cv": 1}, "cv"), ({"n_steps": 0}, "n_steps")])
def test_bad_parameters(labelled_target, params, match):
    X, y, sd = labelled_target
    with pytest.raises(ValueError, match=match):
        TwoStageTrAdaBoostRegressor(**params).fit(X, y, sample_domain=sd)
