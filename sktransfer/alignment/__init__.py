"""Feature-based domain adaptation: map source and target rows into a shared space."""

from ._coral import CORAL
from ._feature_augmentation import FeatureAugmentation
from ._gfk import GeodesicFlowKernel
from ._jda import BalancedDistributionAdaptation, JointDistributionAdaptation
from ._ot import OptimalTransportMapping
from ._subspace import SubspaceAlignment
from ._tca import TransferComponentAnalysis

__all__ = [
    "CORAL",
    "BalancedDistributionAdaptation",
    "FeatureAugmentation",
    "GeodesicFlowKernel",
    "JointDistributionAdaptation",
    "OptimalTransportMapping",
    "SubspaceAlignment",
    "TransferComponentAnalysis",
]
