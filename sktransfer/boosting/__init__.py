"""Instance transfer by boosting: learn which source rows to trust from a few labelled target rows."""

from ._tradaboost import TrAdaBoostClassifier
from ._tradaboost_r2 import TrAdaBoostRegressor
from ._two_stage import TwoStageTrAdaBoostRegressor

__all__ = ["TrAdaBoostClassifier", "TrAdaBoostRegressor", "TwoStageTrAdaBoostRegressor"]
