"""Backbone declares every attribute it carries, and training copies leave the shared one alone."""

from __future__ import annotations

import numpy as np
import torch

from sktransfer.deep import FineTuneClassifier, TextFeatureExtractor

from ..conftest import TINY, make_images


def test_every_attribute_a_backbone_carries_after_use_is_set_when_it_is_made(backbone_of, tiny):
    """The extractor's probe, compiled forward functions, normalisation and fine-tuning write only
    attributes the backbone already has (they used to add them through __dict__)."""
    from sktransfer.deep import clear_backbone_cache

    clear_backbone_cache()
    backbone = backbone_of()
    at_birth = set(vars(backbone))
    images = make_images(2, 40, 52, seed=0)
    tiny().fit(images).transform(images)
    tiny(layer=1, pooling="avgmax").fit(images).transform(images)
    backbone.normalisation(torch.device("cpu"))
    _ = backbone.fingerprint
    FineTuneClassifier(TINY, weights="random", n_trainable_blocks=1, max_epochs=1, random_state=0).fit(
        make_images(4, 160, 160, seed=1), np.array([0, 1, 0, 1]))
    assert backbone_of() is backbone and set(vars(backbone)) == at_birth
    assert backbone.widths  # the probes were recorded where declared
    assert {"original", "widths", "compiled", "source", "tap_names", "module", "name"} <= at_birth


def test_text_backbones_declare_their_tokenizer_settings(backbone_of):
    backbone = backbone_of("all-MiniLM-L6-v2", "pretrained", "text")
    at_birth = set(vars(backbone))
    TextFeatureExtractor(layer=2).fit(["a text", "another"]).transform(["a text"])
    assert set(vars(backbone)) == at_birth
    assert {"tokenizer", "max_length", "st_pooling", "normalize", "layers_name"} <= at_birth
    assert backbone.config is None and backbone.modality == "text"


def test_a_training_copy_owns_its_weights_and_starts_without_compiled_functions(backbone_of):
    shared = backbone_of()
    shared.compiled[("probe",)] = object()
    fingerprint = shared.fingerprint
    copy = shared.training_copy()
    assert copy.compiled == {} and shared.compiled
    assert copy.module is not shared.module and copy.widths == shared.widths and copy.widths is not shared.widths
    with torch.no_grad():
        next(copy.module.parameters()).add_(1.0)
    assert shared.fingerprint == fingerprint and copy.fingerprint != fingerprint
    del shared.compiled[("probe",)]


def test_a_training_copy_of_a_user_module_refers_to_it_without_copying_it():
    from sktransfer.deep._backbones._registry import resolve_backbone

    user = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    shared = resolve_backbone(user, "pretrained", "image", owner="test")
    copy = shared.training_copy()
    assert shared.original is user and copy.original is user
    assert copy.module is not shared.module and copy.module is not user


def test_a_fingerprint_covers_the_architecture_and_a_text_adapters_pooling_and_tokenizer(backbone_of):
    """Equal weights read another way are another model: the fingerprint says so."""
    import copy

    user = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1))
    other = torch.nn.Sequential(user[0], torch.nn.Tanh(), torch.nn.AdaptiveMaxPool2d(1))
    shared = backbone_of(user, "pretrained")
    assert backbone_of(other, "pretrained").fingerprint != shared.fingerprint

    text = backbone_of("all-MiniLM-L6-v2", "pretrained", "text")
    for change in ({"st_pooling": "cls"}, {"normalize": not text.normalize}):
        variant = copy.copy(text)  # the same module and weights
        variant._fingerprint = None
        vars(variant).update(change)
        assert variant.fingerprint != text.fingerprint, change
    variant = copy.copy(text)
    variant._fingerprint, variant.tokenizer = None, copy.deepcopy(text.tokenizer)
    assert variant.fingerprint == text.fingerprint
    variant._fingerprint = None
    variant.tokenizer.add_tokens(["sktransferword"])
    assert variant.fingerprint != text.fingerprint
