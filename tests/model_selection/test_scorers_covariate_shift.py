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


def _squared_features_weighter():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from sktransfer.reweighting import DiscriminativeWeighter

    squares = FunctionTransformer(lambda Z: np.hstack([Z, Z**2]))
    return DiscriminativeWeighter(make_pipeline(StandardScaler(), squares, StandardScaler(),
                                                LogisticRegression(max_iter=1000)))


def test_a_variance_shift_needs_squared_features_in_the_weighter():
    """Target N((1, 0), 0.5^2 I) against source N(0, I): the log ratio is quadratic in x.

    The default (log-linear) weighter extrapolates along the mean shift and
    its IW estimate, 0.705, is further from the target accuracy (0.849) than
    the unweighted source accuracy (0.920); with squared features the
    discriminator can fit the ratio and IW gives 0.882 (0.884 with the true
    ratio, whose finite-sample error this is). A recipe, not the default:
    the default stays log-linear until that is measured on the real-data
    selection benchmark.
    """
    rng = np.random.default_rng(0)
    n = 2000
    Xs, Xt = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) * 0.5 + [1.0, 0.0]
    X = np.vstack([Xs, Xt])
    y = (X[:, 1] + np.sin(2 * X[:, 0]) > 0).astype(int)
    sd = np.r_[np.ones(n), -np.ones(n)].astype(int)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(Xs, y[:n])
    source_acc, target_acc = model.score(Xs, y[:n]), model.score(Xt, y[n:])
    y_masked = np.where(sd > 0, y, -1)
    default = ImportanceWeightedScorer()(model, X, y_masked, sample_domain=sd)
    squared = ImportanceWeightedScorer(weighter=_squared_features_weighter())(model, X, y_masked, sample_domain=sd)
    assert abs(squared - target_acc) < 0.04
    assert abs(squared - target_acc) < abs(source_acc - target_acc) < abs(default - target_acc)
