"""Deep transfer: frozen pretrained backbones as scikit-learn transformers.

Importing this package does not import PyTorch; the first ``fit`` does, and
without the ``[torch]`` extra it raises an ImportError saying what to install.
"""

from ._backbones import clear_backbone_cache
from ._extractor import DeepFeatureExtractor, SkippedItemsWarning
from ._image_extractor import ImageFeatureExtractor
from ._text_extractor import TextFeatureExtractor

__all__ = [
    "DeepFeatureExtractor",
    "ImageFeatureExtractor",
    "SkippedItemsWarning",
    "TextFeatureExtractor",
    "clear_backbone_cache",
]
