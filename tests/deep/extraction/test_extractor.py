"""DeepFeatureExtractor: the abstract base of the extractors refuses to be used itself."""

from __future__ import annotations

import pytest

from sktransfer.deep import DeepFeatureExtractor, ImageFeatureExtractor, TextFeatureExtractor


def test_the_base_class_cannot_be_instantiated():
    """fit used to fail with AttributeError: 'DeepFeatureExtractor' object has no attribute 'pooling'."""
    with pytest.raises(TypeError, match=r"DeepFeatureExtractor is the abstract base class .* Use "
                                        r"ImageFeatureExtractor for images or TextFeatureExtractor for texts"):
        DeepFeatureExtractor()


def test_the_extractors_are_still_instances_of_it():
    for cls in (ImageFeatureExtractor, TextFeatureExtractor):
        assert isinstance(cls(), DeepFeatureExtractor)
