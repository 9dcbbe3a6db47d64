"""TransferAdvisor reading layers of a real (tiny, random-weight) ImageFeatureExtractor end to end."""

from __future__ import annotations

import numpy as np
from sklearn.preprocessing import StandardScaler

from sktransfer.alignment import CORAL
from sktransfer.deep import ImageFeatureExtractor
from sktransfer.model_selection import TransferAdvisor

from .conftest import make_images


def test_advisor_picks_a_layer_of_the_extractor_and_predicts_from_images(tiny):
    source, target = make_images(12, 160, 160, seed=5), make_images(12, 160, 160, seed=6)
    target = (0.6 * target).astype(np.uint8)  # a darker target domain
    X = np.concatenate([source, target])
    y = np.r_[np.arange(12) % 2, np.full(12, -1)]
    sd = np.r_[np.ones(12, int), np.full(12, -2)]
    candidates = {"no adaptation": [StandardScaler()], "CORAL": [StandardScaler(), CORAL()]}
    advisor = TransferAdvisor(candidates=candidates, extractor=tiny(), layers=[-2, -1], random_state=0)
    advisor.fit(X, y, sample_domain=sd)
    assert advisor.layer_ in (-2, -1)
    assert set(advisor.layer_scores_) == {-2, -1}
    assert all(0.0 <= share <= 1.0 for share in advisor.layer_scores_.values())
    reader = advisor.best_estimator_.steps[0][1]
    assert isinstance(reader, ImageFeatureExtractor) and reader.layer == advisor.layer_
    assert advisor.predict(target).shape == (12,)
    assert set(advisor.predict(target)) <= {0, 1}
