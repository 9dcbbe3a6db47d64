"""The size rule of a warm-started target phase, per kind of estimator."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import ElasticNet, LogisticRegression

from sktransfer.parameter._finetune_phases import run_epochs, warm_start_budget

X = np.random.RandomState(0).normal(size=(40, 2))
y_class = (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize(
    "estimator, y, expected",
    [
        (GradientBoostingClassifier(n_estimators=5), y_class, {"n_estimators": 8}),
        # Early stopping fits fewer trees than n_estimators: count from those fitted.
        (
            GradientBoostingClassifier(n_estimators=500, n_iter_no_change=1, validation_fraction=0.5,
                                       random_state=0),
            y_class,
            None,
        ),
        (HistGradientBoostingRegressor(max_iter=4), X[:, 0], {"max_iter": 7}),
        (RandomForestRegressor(n_estimators=2), X[:, 0], {"n_estimators": 5}),
        (LogisticRegression(), y_class, {"max_iter": 3}),  # max_iter per fit: 3 more iterations
        (ElasticNet(), X[:, 0], {"max_iter": 3}),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else "",
)
def test_budget(estimator, y, expected):
    estimator.fit(X, y)
    if expected is None:
        expected = {"n_estimators": estimator.n_estimators_ + 3}
        assert estimator.n_estimators_ < 500
    assert warm_start_budget(estimator, 3) == expected


def test_no_size_parameter_gives_no_budget():
    class Bare:
        def get_params(self, deep=False):
            return {"warm_start": False}

    assert warm_start_budget(Bare(), 3) == {}


def test_run_epochs_passes_classes_to_every_call():
    seen = []

    class Spy:
        def partial_fit(self, X, y, classes=None):
            seen.append((len(X), classes))

    run_epochs(Spy(), X, y_class, 3, np.random.RandomState(0), {"classes": [0, 1]})
    assert seen == [(40, [0, 1])] * 3
