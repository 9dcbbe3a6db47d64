"""EnsembleAgreementScorer: the committee's vote by hand, its reuse per fold, routing, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sktransfer import make_da_pipeline
from sktransfer.alignment import CORAL
from sktransfer.datasets import make_domain_shift
from sktransfer.model_selection import DomainShuffleSplit, EnsembleAgreementScorer


class ColumnProba(ClassifierMixin, BaseEstimator):
    """Probabilities read from columns ``[start, start + 3)`` of X; counts its fits."""

    fits = 0

    def __init__(self, start=0):
        self.start = start

    def fit(self, X, y=None):
        type(self).fits += 1
        self.classes_ = np.array([0, 1, 2])
        return self

    def predict_proba(self, X):
        return np.asarray(X)[:, self.start:self.start + 3]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


def _fold():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.dirichlet(np.ones(3), size=40) for _ in range(3)])
    y = np.r_[rng.integers(0, 3, 20), -np.ones(20, dtype=int)]
    return X, y


def test_score_is_agreement_with_the_mean_probability_vote_on_target_rows():
    X, y = _fold()
    committee = [ColumnProba(0), ColumnProba(3), ColumnProba(6)]
    votes = (X[20:, 0:3] + X[20:, 3:6] + X[20:, 6:9]).argmax(1)
    for start in (0, 3, 6):
        model = ColumnProba(start).fit(X)
        expected = np.mean(model.predict(X[20:]) == votes)
        assert EnsembleAgreementScorer(committee)(model, X, y) == pytest.approx(expected, rel=1e-12)
    # a committee of the model alone agrees with it everywhere
    assert EnsembleAgreementScorer([ColumnProba(3)])(ColumnProba(3).fit(X), X, y) == 1.0


def test_the_committee_of_a_fold_is_fitted_once_for_every_candidate():
    X, y = _fold()
    scorer = EnsembleAgreementScorer([ColumnProba(0), ColumnProba(3)])
    ColumnProba.fits = 0
    for start in (0, 3, 6):
        scorer(ColumnProba(start).fit(X), X, y)
    assert ColumnProba.fits == 3 + 2  # three candidates, one committee of two
    scorer(ColumnProba(0).fit(X), X[:-1], y[:-1])  # another fold: a new committee
    assert ColumnProba.fits == 3 + 2 + 1 + 2


def test_domain_aware_committees_get_sample_domain_and_grid_search_works_with_routing_off_and_on():
    X, y, sd = make_domain_shift(n_samples=60, shift="subspace", random_state=0)
    grid = {"coral__reg": [0.1, 10.0]}
    committee = [make_da_pipeline(CORAL(reg=r), LogisticRegression()) for r in grid["coral__reg"]]

    def search():
        return GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression()), grid,
                            scoring=EnsembleAgreementScorer(committee),
                            cv=DomainShuffleSplit(n_splits=2, test_size=0.3, test_rows="all", random_state=0))

    off = search().fit(X, y, sample_domain=sd)
    with config_context(enable_metadata_routing=True):
        on = search().fit(X, y, sample_domain=sd)
    scores = off.cv_results_["mean_test_score"]
    assert np.all((scores > 0.5) & (scores <= 1.0))
    np.testing.assert_allclose(on.cv_results_["mean_test_score"], scores)


def test_pickle_clone_repr_and_errors():
    scorer = EnsembleAgreementScorer([LogisticRegression()])
    X, y = _fold()
    scorer(ColumnProba(0).fit(X), X, y)  # fills the committee cache
    assert repr(clone(scorer)) == repr(pickle.loads(pickle.dumps(scorer)))
    assert "_committees" not in pickle.loads(pickle.dumps(scorer)).__dict__
    assert clone(scorer).get_params()["estimators"][0] is not None
    with pytest.raises(ValueError, match="non-empty list"):
        EnsembleAgreementScorer([])(ColumnProba(0).fit(X), X, y)
    with pytest.raises(ValueError, match="this validation fold has none"):
        EnsembleAgreementScorer([ColumnProba(0)])(ColumnProba(0).fit(X), X[:20], y[:20])


def test_values_whose_squares_overflow_are_refused_by_name():
    """A committee that standardises X turned them into NaN and failed inside a member with scikit-learn's
    "Input X contains NaN", which names neither the cause nor the scorer."""
    from sklearn.preprocessing import StandardScaler

    X, y, sd = make_domain_shift(n_samples=40, random_state=0)
    committee = [make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())]
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="EnsembleAgreementScorer"):
        EnsembleAgreementScorer(committee)(pipe, X * 1e300, y, sample_domain=sd)
