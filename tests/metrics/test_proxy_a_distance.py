"""Proxy A-distance: 0 for indistinguishable domains, 2 for separable ones, always in [0, 2]."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from sktransfer.metrics import proxy_a_distance


def _domains(shift, seed=0, m=300, n=300, d=3):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(m, d)), rng.normal(loc=shift, size=(n, d))


@pytest.mark.parametrize("seed", range(3))
def test_near_zero_for_the_same_distribution(seed):
    Xs, Xt = _domains(0.0, seed)
    pad = proxy_a_distance(Xs, Xt, random_state=seed)
    assert isinstance(pad, float)
    assert 0.0 <= pad < 0.3


def test_unequal_domain_sizes_do_not_inflate_it():
    # Plain accuracy would reward predicting "source" everywhere (err = 40/440); the
    # class-balanced error stays at 0.5.
    Xs, Xt = _domains(0.0, m=400, n=40)
    assert proxy_a_distance(Xs, Xt, random_state=0) < 0.3


def test_near_two_for_separated_domains():
    Xs, Xt = _domains(6.0)
    assert proxy_a_distance(Xs, Xt, random_state=0) > 1.95


def test_grows_with_the_shift_and_stays_in_range():
    values = [proxy_a_distance(*_domains(shift, seed=1), random_state=0) for shift in (0.0, 0.5, 1.0, 3.0)]
    assert all(0.0 <= v <= 2.0 for v in values)
    assert values == sorted(values)


@pytest.mark.parametrize("estimator", [DecisionTreeClassifier(max_depth=3, random_state=0), LinearSVC()])
def test_any_classifier(estimator):
    Xs, Xt = _domains(3.0)
    assert 1.5 < proxy_a_distance(Xs, Xt, estimator=estimator, random_state=0) <= 2.0


def test_reproducible_and_accepts_a_splitter():
    Xs, Xt = _domains(0.5)
    assert proxy_a_distance(Xs, Xt, random_state=3) == proxy_a_distance(Xs, Xt, random_state=3)
    pad = proxy_a_distance(Xs, Xt, cv=KFold(4, shuffle=True, random_state=0))
    assert 0.0 <= pad <= 2.0


def test_folds_are_capped_by_the_smaller_domain():
    Xs, Xt = _domains(8.0, m=50, n=3)
    assert proxy_a_distance(Xs, Xt, cv=5, random_state=0) > 1.5


@pytest.mark.parametrize(
    "Xs, Xt, kwargs, match",
    [
        (np.ones((5, 2)), np.ones((5, 3)), {}, "Xs has 2 features but Xt has 3"),
        (np.ones((5, 2)), np.ones((1, 2)), {}, "at least 2 rows in each domain, but Xt has 1"),
        (np.full((5, 2), np.nan), np.ones((5, 2)), {}, "Xs contains NaN"),
        (np.ones((5, 2)), np.ones((5, 2)), {"estimator": LinearRegression()}, "must be a scikit-learn classifier"),
        (np.ones((5, 2)), np.ones((5, 2)), {"cv": 1}, "cv must be at least 2"),
    ],
)
def test_bad_inputs_raise_helpful_errors(Xs, Xt, kwargs, match):
    with pytest.raises(ValueError, match=match):
        proxy_a_distance(Xs, Xt, **kwargs)
