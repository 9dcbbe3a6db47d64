"""Transductive domain adaptation: classifiers that label the target rows they are fitted on."""

from ._easytl import EasyTL
from ._meda import MEDA

__all__ = ["EasyTL", "MEDA"]
