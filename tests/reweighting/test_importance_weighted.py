"""ImportanceWeightedEstimator: weights in, a weighted fit out, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from sktransfer.datasets import make_domain_shift
from sktransfer.exceptions import DegenerateWeightsWarning
from sktransfer.reweighting import KLIEP, KMM, DiscriminativeWeighter, ImportanceWeightedEstimator


class _FixedWeighter(BaseEstimator):
    """Test weighter that returns given weights for the source rows."""

    def __init__(self, value=1.0):
        self.value = value

    def fit(self, X, y=None, sample_domain=None):
        sd = np.asarray(sample_domain)
        self.weights_ = np.where(sd > 0, self.value, 0.0)
        if callable(self.value):
            self.weights_ = np.where(sd > 0, self.value(np.asarray(X)), 0.0)
        return self

    def compute_weights(self, X, sample_domain=None):
        return np.full(len(X), 1.0)


def test_fits_the_estimator_on_labelled_source_rows_with_the_weighter_weights():
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    model = ImportanceWeightedEstimator(LogisticRegression(), KMM()).fit(X, y, sample_domain=sd)
    expected_w = clone(KMM()).fit(X, y, sample_domain=sd).weights_[sd > 0]
    np.testing.assert_allclose(model.weights_, expected_w)
    reference = LogisticRegression().fit(X[sd > 0], y[sd > 0], sample_weight=expected_w)
    np.testing.assert_allclose(model.estimator_.coef_, reference.coef_)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))
    np.testing.assert_array_equal(model.classes_, [0, 1])
    w = model.weights_
    assert model.effective_sample_size_ == pytest.approx(w.sum() ** 2 / (w**2).sum())


def test_weighting_helps_under_covariate_shift():
    """A misspecified (linear) model under covariate shift is the textbook case
    for importance weighting (Shimodaira 2000): the weighted fit scores better
    on the target rows than the unweighted one."""
    X, y, sd = make_domain_shift(
        n_samples=400, task="regression", shift_strength=1.5, noise=0.1, random_state=0
    )
    _, y_true, _ = make_domain_shift(
        n_samples=400, task="regression", shift_strength=1.5, noise=0.1,
        mask_target=False, random_state=0,
    )
    target = sd < 0
    plain = Ridge().fit(X[sd > 0], y[sd > 0]).score(X[target], y_true[target])
    weighted = ImportanceWeightedEstimator(Ridge(), KLIEP(random_state=0))
    # The weights keep 19% of the rows' worth, under the warning's 20%: weighting still
    # helps here, the exception the warning's measurement allows for.
    with pytest.warns(DegenerateWeightsWarning, match="effective sample size"):
        weighted.fit(X, y, sample_domain=sd)
    score = weighted.score(X[target], y_true[target])
    assert score > plain + 0.05


def test_regressor_has_no_predict_proba_and_scores_r2():
    X, y, sd = make_domain_shift(n_samples=40, task="regression", random_state=1)
    model = ImportanceWeightedEstimator(Ridge(), KMM()).fit(X, y, sample_domain=sd)
    assert not hasattr(model, "predict_proba")
    assert model.predict(X).shape == (80,)
    assert model.__sklearn_tags__().estimator_type == "regressor"


def test_default_is_a_weighted_logistic_regression():
    X, y, sd = make_domain_shift(n_samples=40, random_state=2)
    model = ImportanceWeightedEstimator().fit(X, y)  # domains from the mask
    assert isinstance(model.estimator_, LogisticRegression)
    assert isinstance(model.weighter_, DiscriminativeWeighter)
    assert model.decision_function(X).shape == (80,)


def test_grid_search_over_the_weighter_and_the_estimator():
    X, y, sd = make_domain_shift(n_samples=60, random_state=3)
    search = GridSearchCV(
        ImportanceWeightedEstimator(LogisticRegression(), KMM()),
        {"estimator__C": [0.1, 1.0], "weighter__B": [2.0, 1000.0]},
        cv=3,
    )
    search.fit(X, y, sample_domain=sd)
    assert set(search.best_params_) == {"estimator__C", "weighter__B"}


def test_estimator_without_sample_weight_is_refused():
    X, y, sd = make_domain_shift(n_samples=30, random_state=4)
    with pytest.raises(TypeError, match="fit takes sample_weight"):
        ImportanceWeightedEstimator(KNeighborsClassifier(), KMM()).fit(X, y, sample_domain=sd)


@pytest.mark.parametrize(
    "value, match",
    [
        (0.0, "every weight of the labelled source rows is 0"),
        (-1.0, "negative weights"),
        (np.nan, "non-finite"),
    ],
)
def test_bad_weights_are_refused(value, match):
    X, y, sd = make_domain_shift(n_samples=30, random_state=5)
    model = ImportanceWeightedEstimator(LogisticRegression(), _FixedWeighter(value))
    with pytest.raises(ValueError, match=match):
        model.fit(X, y, sample_domain=sd)


def test_weights_on_a_few_rows_warn():
    X, y, sd = make_domain_shift(n_samples=100, random_state=6)
    spiky = _FixedWeighter(lambda X: (np.arange(len(X)) % 50 == 0) * 100.0 + 1e-6)
    model = ImportanceWeightedEstimator(DecisionTreeClassifier(random_state=0), spiky)
    with pytest.warns(DegenerateWeightsWarning, match="effective sample size"):
        model.fit(X, y, sample_domain=sd)


def test_y_is_required():
    X, _, sd = make_domain_shift(n_samples=20, random_state=7)
    with pytest.raises(ValueError, match="requires y"):
        ImportanceWeightedEstimator().fit(X, None, sample_domain=sd)


def test_score_leaves_masked_rows_out():
    """As DAPipeline.score: a masked label cannot be scored."""
    X, y, sd = make_domain_shift(n_samples=40, random_state=8)
    model = ImportanceWeightedEstimator(LogisticRegression(), KMM()).fit(X, y, sample_domain=sd)
    source = sd > 0
    assert model.score(X, y) == pytest.approx(model.score(X[source], y[source]))
    with pytest.raises(ValueError, match="needs labelled rows"):
        model.score(X[~source], y[~source])


@pytest.mark.parametrize(
    "value, match",
    [(0.0, "every weight of the labelled source rows is 0"), (-1.0, "negative weights")],
)
def test_pipeline_refuses_bad_weights_too(value, match):
    from sktransfer import make_da_pipeline

    X, y, sd = make_domain_shift(n_samples=30, random_state=9)
    pipe = make_da_pipeline(_FixedWeighter(value), LogisticRegression())
    with pytest.raises(ValueError, match=f"DAPipeline: .*{match}"):
        pipe.fit(X, y, sample_domain=sd)


def test_pipeline_warns_on_concentrated_weights():
    from sktransfer import make_da_pipeline

    X, y, sd = make_domain_shift(n_samples=100, random_state=10)
    spiky = _FixedWeighter(lambda X: (np.arange(len(X)) % 50 == 0) * 100.0 + 1e-6)
    with pytest.warns(DegenerateWeightsWarning, match="DAPipeline: .*effective sample size"):
        make_da_pipeline(spiky, DecisionTreeClassifier(random_state=0)).fit(X, y, sample_domain=sd)


def test_sample_weight_multiplies_the_importance_weights():
    """The user's row weights multiply the weighter's (fit had no sample_weight before)."""
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    w = np.random.default_rng(0).uniform(0.1, 2.0, len(y))
    model = ImportanceWeightedEstimator(LogisticRegression(), _FixedWeighter(2.0))
    model.fit(X, y, sample_domain=sd, sample_weight=w)
    np.testing.assert_allclose(model.weights_, 2.0 * w[sd > 0])
    reference = LogisticRegression().fit(X[sd > 0], y[sd > 0], sample_weight=2.0 * w[sd > 0])
    np.testing.assert_allclose(model.estimator_.coef_, reference.coef_)
    with pytest.raises(ValueError, match="ImportanceWeightedEstimator: sample_weight must hold one weight"):
        model.fit(X, y, sample_domain=sd, sample_weight=w[:5])


def test_labelled_target_rows_train_at_weight_one_as_in_the_pipeline():
    """The target labels a user gives are used, as the pipeline uses them: the same weights, the same
    fit. (They only informed the weighter: a class held by target rows alone was never predicted.)"""
    from sktransfer import make_da_pipeline

    X, y_true, sd = make_domain_shift(150, n_features=4, n_classes=3, mask_target=False, random_state=0)
    y = np.where(sd < 0, -1, y_true)
    labelled_target = np.flatnonzero(sd < 0)[::5]
    y[labelled_target] = y_true[labelled_target]
    # A fourth class that only labelled target rows hold, in a corner of its own.
    y[labelled_target[:4]] = 3
    X[labelled_target[:4], 0] += 8.0
    model = ImportanceWeightedEstimator(LogisticRegression(), KLIEP(random_state=0)).fit(X, y, sample_domain=sd)
    pipe = make_da_pipeline(KLIEP(random_state=0), LogisticRegression()).fit(X, y, sample_domain=sd)
    rows = np.flatnonzero(y != -1)
    np.testing.assert_allclose(model.weights_, pipe.sample_weight_)
    np.testing.assert_allclose(model.weights_, np.where(sd < 0, 1.0, model.weighter_.weights_)[rows])
    np.testing.assert_allclose(model.estimator_.coef_, pipe[-1].coef_)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2, 3])
    np.testing.assert_array_equal(model.predict(X[labelled_target[:4]]), 3)
