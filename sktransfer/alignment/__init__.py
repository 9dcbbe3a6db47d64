"""Feature-based domain adaptation: map source and target rows into a shared space."""

from ._coral import CORAL
from ._feature_augmentation import FeatureAugmentation
from ._subspace import SubspaceAlignment
from ._tca import TransferComponentAnalysis

__all__ = ["CORAL", "FeatureAugmentation", "SubspaceAlignment", "TransferComponentAnalysis"]
