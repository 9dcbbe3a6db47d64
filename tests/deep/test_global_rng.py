"""Transforming, loading a backbone, predicting and unpickling leave the caller's global torch RNG as it
was: only fit draws random numbers, and it draws them from generators seeded by ``random_state``."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from sktransfer.deep import FineTuneClassifier, FineTuneRegressor, TextFeatureExtractor
from sktransfer.deep._backbones._registry import resolve_backbone

from .conftest import TINY, make_images


def _assert_rng_untouched(action):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    action()
    assert torch.equal(torch.get_rng_state(), before)


@pytest.fixture(scope="module")
def small_images():
    return make_images(4, 40, 52, seed=0)  # not the input size: decoded by the DataLoader path


@pytest.mark.parametrize("kind", ["arrays", "PIL images", "files"])
def test_image_transform_leaves_the_global_rng_alone(tiny, small_images, tmp_path, kind):
    X = {"arrays": small_images, "PIL images": [Image.fromarray(im) for im in small_images],
         "files": []}[kind]
    if kind == "files":
        for i, image in enumerate(small_images):
            X.append(tmp_path / f"{i}.png")
            Image.fromarray(image).save(X[-1])
    ext = tiny().fit(X)
    _assert_rng_untouched(lambda: ext.transform(X))


def test_text_transform_leaves_the_global_rng_alone():
    texts = ["a short text", "a somewhat longer text than that"]
    ext = TextFeatureExtractor(weights="random").fit(texts)
    _assert_rng_untouched(lambda: ext.transform(texts))


@pytest.mark.parametrize("spec, weights", [(TINY, "random"), ("efficientnet_lite0", "pretrained"),
                                           ("efficientnet_lite0", "random"), ("all-MiniLM-L6-v2", "random")])
def test_backbone_loading_leaves_the_global_rng_alone(fresh_backbone_cache, spec, weights):
    modality = "text" if spec == "all-MiniLM-L6-v2" else "image"
    _assert_rng_untouched(lambda: resolve_backbone(spec, weights, modality, owner="t"))


@pytest.mark.parametrize("n_trainable_blocks", [0, 1], ids=["frozen backbone", "trained block"])
def test_finetune_predict_and_unpickling_leave_the_global_rng_alone(small_images, n_trainable_blocks):
    X = [Image.fromarray(im) for im in small_images]
    clf = FineTuneClassifier(TINY, weights="random", n_trainable_blocks=n_trainable_blocks, max_epochs=1,
                             random_state=0).fit(X, [0, 1, 0, 1])
    _assert_rng_untouched(lambda: clf.predict(X))
    _assert_rng_untouched(lambda: clf.predict_proba(X))
    blob = pickle.dumps(clf)
    _assert_rng_untouched(lambda: pickle.loads(blob))


def test_finetune_regressor_on_features_predicts_without_touching_the_global_rng():
    X = np.random.default_rng(0).normal(size=(10, 3)).astype(np.float32)
    reg = FineTuneRegressor(None, max_epochs=2, random_state=0).fit(X, X[:, 0])
    _assert_rng_untouched(lambda: reg.predict(X))
