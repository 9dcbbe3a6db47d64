"""FeatureAugmentation: Daumé (2007)'s map, checked block by block."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from sktransfer.alignment import FeatureAugmentation
from sktransfer.pipeline import make_da_pipeline


def test_blocks_follow_the_paper():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 2))
    sd = np.array([1, 2, 1, -1, -1, -2])
    y = np.array([0, 1, 0, 1, -1, -1])
    out = FeatureAugmentation().fit_transform(X, y, sample_domain=sd)
    src, tgt = sd > 0, sd < 0
    np.testing.assert_array_equal(out[:, :2], X)
    np.testing.assert_array_equal(out[src, 2:4], X[src])
    np.testing.assert_array_equal(out[src, 4:], 0)
    np.testing.assert_array_equal(out[tgt, 2:4], 0)
    np.testing.assert_array_equal(out[tgt, 4:], X[tgt])


def test_needs_sample_domain_and_target_labels():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="FeatureAugmentation needs sample_domain"):
        FeatureAugmentation().fit(X, [0, 1, -1, -1])
    with pytest.raises(ValueError, match="needs some labelled target rows"):
        FeatureAugmentation().fit(X, [0, 1, -1, -1], sample_domain=[1, 1, -1, -1])


def test_a_few_target_labels_fix_a_concept_shift():
    """Source and target disagree on the label of x > 0; a handful of labelled
    target rows let the target block learn the correction."""
    rng = np.random.default_rng(1)
    Xs, Xt = rng.normal(size=(200, 1)), rng.normal(size=(200, 1))
    ys, yt = (Xs[:, 0] > 0).astype(int), (Xt[:, 0] < 0).astype(int)
    few = np.r_[np.flatnonzero(yt == 0)[:5], np.flatnonzero(yt == 1)[:5]]
    X = np.vstack([Xs, Xt[few]])
    y = np.r_[ys, yt[few]]
    sd = np.r_[np.ones(200, int), -np.ones(10, int)]
    pipe = make_da_pipeline(FeatureAugmentation(), LogisticRegression(C=100)).fit(X, y, sample_domain=sd)
    assert pipe.score(Xt, yt) > 0.9
    source_only = LogisticRegression().fit(Xs, ys)
    assert source_only.score(Xt, yt) < 0.1
