"""The scorers' default weighter shared between candidates on one fold (TransferAdvisor's speed-up)."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from sktransfer import make_da_pipeline
from sktransfer.alignment import CORAL, SubspaceAlignment
from sktransfer.datasets import make_domain_shift
from sktransfer.model_selection import DeepEmbeddedValidationScorer, ImportanceWeightedScorer
from sktransfer.model_selection import _shared_weights as shared
from sktransfer.reweighting import KMM, DiscriminativeWeighter


def _fold():
    X, y, sd = make_domain_shift(n_samples=120, shift="covariate", random_state=0)
    return X, np.where(sd < 0, -1, y), sd


def _count_fits(monkeypatch) -> list:
    fits = []
    real = shared.default_weighter

    def counting(cv=None):
        fits.append(cv)
        return real(cv=cv)

    monkeypatch.setattr(shared, "default_weighter", counting)
    return fits


def test_candidates_with_one_representation_share_one_fit_and_the_same_scores(monkeypatch):
    X, y, sd = _fold()
    models = [make_da_pipeline(LogisticRegression()), make_da_pipeline(DiscriminativeWeighter(), LogisticRegression()),
              make_da_pipeline(KMM(), LogisticRegression()), make_da_pipeline(CORAL(), LogisticRegression()),
              make_da_pipeline(SubspaceAlignment(n_components=1), LogisticRegression())]
    for model in models:
        model.fit(X, y, sample_domain=sd)
    scorers = [ImportanceWeightedScorer(), DeepEmbeddedValidationScorer()]
    alone = [[scorer(model, X, y, sample_domain=sd) for scorer in scorers] for model in models]
    fits = _count_fits(monkeypatch)
    with shared.shared_default_weighters():
        together = [[scorer(model, X, y, sample_domain=sd) for scorer in scorers] for model in models]
    assert together == alone  # the same weights, to the bit
    # importance weighting reads the input rows: one fit for all five models; DEV reads each
    # representation of the rows as target rows: the input itself for no adaptation, the two
    # weighters and CORAL (whose target-side map is the identity), a projection for SA
    assert sorted(fits, key=str) == sorted([None, 5, 5], key=str)
    fits.clear()
    for model in models:  # outside the context: a fit per call, as before
        scorers[0](model, X, y, sample_domain=sd)
    assert fits == [None] * 5


def test_a_weighter_the_user_passes_is_fitted_every_time(monkeypatch):
    X, y, sd = _fold()
    model = make_da_pipeline(LogisticRegression()).fit(X, y, sample_domain=sd)
    calls = []
    real_fit = DiscriminativeWeighter.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(1)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(DiscriminativeWeighter, "fit", counting_fit)
    scorer = ImportanceWeightedScorer(weighter=DiscriminativeWeighter(clip=0.05))
    with shared.shared_default_weighters():
        scorer(model, X, y, sample_domain=sd)
        scorer(model, X, y, sample_domain=sd)
    assert len(calls) == 2
