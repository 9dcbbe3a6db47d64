"""The TrAdaBoost family starts its boosting from the user's sample_weight."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, LogisticRegression

from sktransfer.boosting import TrAdaBoostClassifier, TrAdaBoostRegressor, TwoStageTrAdaBoostRegressor
from sktransfer.datasets import make_domain_shift


def _data(task):
    X, y, sd = make_domain_shift(n_samples=50, shift="concept", task=task, mask_target=False, random_state=0)
    y = y.astype(float) if task == "regression" else y.copy()
    y[70:] = np.nan if task == "regression" else -1  # 20 labelled target rows, 30 masked
    return X, y, sd


CASES = [
    (TrAdaBoostClassifier(LogisticRegression(), n_estimators=3, random_state=0), "classification"),
    (TrAdaBoostRegressor(LinearRegression(), n_estimators=3, random_state=0), "regression"),
    (TwoStageTrAdaBoostRegressor(LinearRegression(), n_steps=3, n_estimators=3, random_state=0), "regression"),
]


@pytest.mark.parametrize("model, task", CASES, ids=lambda c: type(c).__name__ if not isinstance(c, str) else c)
def test_first_round_fits_the_user_weights(model, task):
    """Round 1's learner is the base estimator fitted with the user's weights of the labelled
    rows (rescaled to mean 1, as every round is); fit took no sample_weight before."""
    X, y, sd = _data(task)
    w = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    labelled = ~np.isnan(y) if task == "regression" else y != -1
    fitted = model.fit(X, y, sample_domain=sd, sample_weight=w)
    wl = w[labelled]
    base = LogisticRegression() if task == "classification" else LinearRegression()
    reference = base.fit(X[labelled], y[labelled], sample_weight=wl * (wl.size / wl.sum()))
    np.testing.assert_allclose(fitted.estimators_[0].coef_, reference.coef_, rtol=1e-6, atol=1e-8)
    if isinstance(fitted, TwoStageTrAdaBoostRegressor):  # its first step starts from the user's share
        target = sd[labelled] < 0
        assert fitted.target_share_[0] == pytest.approx(wl[target].sum() / wl.sum())


@pytest.mark.parametrize("model, task", CASES, ids=lambda c: type(c).__name__ if not isinstance(c, str) else c)
def test_constant_weights_change_nothing(model, task):
    X, y, sd = _data(task)
    plain = model.fit(X, y, sample_domain=sd).predict(X)
    weighted = model.fit(X, y, sample_domain=sd, sample_weight=np.full(len(y), 7.0)).predict(X)
    np.testing.assert_allclose(weighted, plain)


@pytest.mark.parametrize("model, task", CASES, ids=lambda c: type(c).__name__ if not isinstance(c, str) else c)
def test_zero_weight_is_a_row_left_out(model, task):
    """scikit-learn's convention. A zero-weight row still counted in beta's source-row count and in
    the mean-1 rescaling of every round (source_beta_ 0.366 against 0.417 with the rows dropped)."""
    X, y, sd = _data(task)
    w = np.ones(len(y))
    w[:30] = 0.0  # 30 of the 50 source rows
    keep = w > 0
    weighted = clone(model).fit(X, y, sample_domain=sd, sample_weight=w)
    dropped = clone(model).fit(X[keep], y[keep], sample_domain=sd[keep])
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X))
    np.testing.assert_allclose(weighted.estimators_[0].coef_, dropped.estimators_[0].coef_)
    if hasattr(dropped, "source_beta_"):
        assert weighted.source_beta_ == dropped.source_beta_
    np.testing.assert_allclose(weighted.sample_weight_[keep], dropped.sample_weight_)
    assert np.all(weighted.sample_weight_[~keep] == 0)


def test_bad_sample_weight_is_named():
    X, y, sd = _data("regression")
    with pytest.raises(ValueError, match="TrAdaBoostRegressor: sample_weight must hold one weight per row"):
        TrAdaBoostRegressor().fit(X, y, sample_domain=sd, sample_weight=np.ones(3))
    w = np.where(np.isnan(y), 1.0, 0.0)
    with pytest.raises(ValueError, match="sample_weight is 0 on every labelled row"):
        TrAdaBoostRegressor().fit(X, y, sample_domain=sd, sample_weight=w)


@pytest.mark.parametrize("model, task", CASES, ids=lambda c: type(c).__name__ if not isinstance(c, str) else c)
def test_zero_weight_on_every_labelled_target_row_is_refused(model, task):
    """Every round's error is a mean over the target rows' weights: it was numpy's
    ZeroDivisionError, or NaN weights for the two-stage regressor."""
    X, y, sd = _data(task)
    with pytest.raises(ValueError, match=f"{type(model).__name__}: sample_weight is 0 on every labelled target row"):
        model.fit(X, y, sample_domain=sd, sample_weight=(sd > 0).astype(float))


def test_two_stage_holds_out_only_target_rows_with_weight():
    """A fold holding out every target row with weight trained on nothing at the last step
    (source weight 0): NaN weights. Rows of weight 0 are now never held out."""
    X, y, sd = _data("regression")
    model = TwoStageTrAdaBoostRegressor(LinearRegression(), n_steps=3, n_estimators=3, cv=2, random_state=0)
    w = (sd > 0).astype(float)
    w[50] = 1.0
    with pytest.raises(ValueError, match=r"at least 2 labelled target rows \(with a positive sample_weight\)"):
        model.fit(X, y, sample_domain=sd, sample_weight=w)
    w[[51, 52]] = 1.0
    fitted = model.fit(X, y, sample_domain=sd, sample_weight=w)
    assert np.all(np.isfinite(fitted.cv_errors_)) and np.all(np.isfinite(fitted.sample_weight_))
