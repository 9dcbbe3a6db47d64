"""Parameter transfer: start the target model from what the source model learnt, or learn both jointly.

PretrainFineTune and RegularTransfer* carry the source model's parameters
over; JDOT* fit one model on the source labels transported onto the target
rows by optimal transport (POT, the ``[ot]`` extra).
"""

from ._jdot import JDOTRegressor
from ._jdot_classifier import JDOTClassifier
from ._pretrain_finetune import PretrainFineTune
from ._regular_transfer import RegularTransferRegressor
from ._regular_transfer_classifier import RegularTransferClassifier

__all__ = [
    "JDOTClassifier",
    "JDOTRegressor",
    "PretrainFineTune",
    "RegularTransferClassifier",
    "RegularTransferRegressor",
]
