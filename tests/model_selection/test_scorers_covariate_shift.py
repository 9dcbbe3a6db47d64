"""IW and DEV under a strong covariate shift, where the true density ratio is known.

``make_domain_shift(shift="covariate", shift_strength=2)`` draws source rows
from ``N(0, I)`` and target rows from ``N(2 u, I)``: the true ratio
``exp(2 u.x - 2)`` is far from uniform (Kish's effective sample size of the
2000 source rows is 8 with the true ratio). A depth-3 tree fitted on the
source is right on 90.6% of the source rows but 67.9% of the target rows. The
scorers' default weighter (a standardised logistic regression) must carry
that shift: weights far from uniform, close to the true ratio, and estimates of
the target accuracy (IW) and target log loss (DEV) near the truth, nearer than
the unweighted source figures.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import log_loss
from sklearn.tree import DecisionTreeClassifier

from sktransfer.datasets import make_domain_shift
from sktransfer.model_selection import DeepEmbeddedValidationScorer, ImportanceWeightedScorer
from sktransfer.model_selection._scorer_base import default_weighter


@pytest.fixture(scope="module")
def shifted():
    X, y, sd, ratio = make_domain_shift(2000, shift="covariate", shift_strength=2.0, noise=0.0,
                                        mask_target=False, return_density_ratio=True, random_state=0)
    src = sd > 0
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[src], y[src])
    return X, y, sd, ratio, model, np.where(src, y, -1)


def test_default_weights_carry_the_shift(shifted):
    X, _, sd, ratio, _, y_masked = shifted
    w = default_weighter().fit(X, y_masked, sample_domain=sd).weights_[sd > 0]
    ess = w.sum() ** 2 / np.sum(w**2)
    assert ess < 0.1 * w.size  # 88 of 2000: far from uniform weights
    assert np.corrcoef(np.log(w), np.log(ratio[sd > 0]))[0, 1] > 0.95  # 0.98


def test_importance_weighted_accuracy_tracks_the_target_accuracy(shifted):
    X, y, sd, _, model, y_masked = shifted
    source_acc = model.score(X[sd > 0], y[sd > 0])
    target_acc = model.score(X[sd < 0], y[sd < 0])
    assert source_acc - target_acc > 0.2  # 0.906 vs 0.679
    iw = ImportanceWeightedScorer()(model, X, y_masked, sample_domain=sd)
    assert abs(iw - target_acc) < 0.02  # 0.674
    assert abs(iw - target_acc) < abs(source_acc - target_acc) / 10


def test_dev_tracks_the_target_log_loss(shifted):
    X, y, sd, _, model, y_masked = shifted
    source_loss = log_loss(y[sd > 0], model.predict_proba(X[sd > 0]))
    target_loss = log_loss(y[sd < 0], model.predict_proba(X[sd < 0]))
    dev = -DeepEmbeddedValidationScorer()(model, X, y_masked, sample_domain=sd)
    assert target_loss - source_loss > 0.1  # 0.240 vs 0.349
    assert abs(dev - target_loss) < 0.02  # 0.350
    assert abs(dev - target_loss) < abs(source_loss - target_loss) / 5
