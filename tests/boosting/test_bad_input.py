"""Inputs at the edge of float64 for the TrAdaBoost family: huge X, huge learning rates."""

from __future__ import annotations

import numpy as np
import pytest

from sktransfer.boosting import TrAdaBoostClassifier, TrAdaBoostRegressor, TwoStageTrAdaBoostRegressor
from sktransfer.datasets import make_domain_shift

ESTIMATORS = [TrAdaBoostClassifier, TrAdaBoostRegressor, TwoStageTrAdaBoostRegressor]


def _data(estimator):
    task = "classification" if estimator is TrAdaBoostClassifier else "regression"
    X, y, sd = make_domain_shift(n_samples=40, shift="concept", task=task, mask_target=False, random_state=0)
    y = y.astype(float) if task == "regression" else y.copy()
    y[55:] = np.nan if task == "regression" else -1  # 15 labelled target rows
    return X, y, sd


def _small(estimator, **params):
    if estimator is TwoStageTrAdaBoostRegressor:
        params.setdefault("n_steps", 3)
    return estimator(n_estimators=5, random_state=0, **params)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_values_too_large_to_square_are_refused(estimator):
    X, y, sd = _data(estimator)
    with pytest.raises(ValueError, match=f"{estimator.__name__}: X has values up to .* too large to square"):
        _small(estimator).fit(X * 1e300, y, sample_domain=sd)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
@pytest.mark.parametrize("learning_rate", [1e10, 1e300, 7e306])
def test_huge_learning_rates_fit_and_predict(estimator, learning_rate):
    """The regressors' weights came out NaN (scikit-learn's 'Input sample_weight contains NaN')
    from learning_rate=1e10 on; the votes overflowed near the float64 limit."""
    X, y, sd = _data(estimator)
    model = _small(estimator, learning_rate=learning_rate).fit(X, y, sample_domain=sd)
    assert np.all(np.isfinite(model.sample_weight_)) and model.sample_weight_.sum() == pytest.approx(1.0)
    assert np.all(np.isfinite(model.estimator_weights_))
    output = model.decision_function(X) if estimator is TrAdaBoostClassifier else model.predict(X)
    assert np.all(np.isfinite(output))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_a_learning_rate_whose_round_weights_overflow_is_refused(estimator):
    X, y, sd = _data(estimator)
    with pytest.raises(ValueError, match=rf"{estimator.__name__}: learning_rate=1e\+307 is too large.*at most 7.8"):
        _small(estimator, learning_rate=1e307).fit(X, y, sample_domain=sd)
