"""Parameter transfer: start the target model from what the source model learnt."""

from ._pretrain_finetune import PretrainFineTune
from ._regular_transfer import RegularTransferRegressor
from ._regular_transfer_classifier import RegularTransferClassifier

__all__ = ["PretrainFineTune", "RegularTransferClassifier", "RegularTransferRegressor"]
