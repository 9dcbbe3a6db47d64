"""Deep transfer: frozen pretrained backbones as scikit-learn transformers, and fine-tuning.

Importing this package does not import PyTorch; the first ``fit`` does, and
without the ``[torch]`` extra it raises an ImportError saying what to install.
"""

from ._adaptation._estimators import DomainAdaptationClassifier, DomainAdaptationRegressor
from ._backbones._registry import clear_backbone_cache
from ._distillation._estimator import DistillationClassifier
from ._extraction._audio_extractor import AudioFeatureExtractor
from ._extraction._cache import EmbeddingCacheWarning
from ._extraction._extractor import DeepFeatureExtractor, SkippedItemsWarning
from ._extraction._image_extractor import ImageFeatureExtractor
from ._extraction._text_extractor import TextFeatureExtractor
from ._finetune._augment import BatchAugmentation
from ._finetune._classifier import FineTuneClassifier
from ._finetune._regressor import FineTuneRegressor
from ._multitask._estimator import MultiTaskClassifier

__all__ = [
    "AudioFeatureExtractor",
    "BatchAugmentation",
    "DeepFeatureExtractor",
    "DistillationClassifier",
    "DomainAdaptationClassifier",
    "DomainAdaptationRegressor",
    "EmbeddingCacheWarning",
    "FineTuneClassifier",
    "FineTuneRegressor",
    "ImageFeatureExtractor",
    "MultiTaskClassifier",
    "SkippedItemsWarning",
    "TextFeatureExtractor",
    "clear_backbone_cache",
]
