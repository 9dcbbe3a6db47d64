"""Choosing a model when the target has no (or few) labels.

Splitters that keep every domain in every fold (:class:`DomainShuffleSplit`,
:class:`LeaveOneDomainOut`) and scorers for ``GridSearchCV(scoring=...)``
that need no target labels (:class:`ImportanceWeightedScorer`,
:class:`PredictionEntropyScorer`, :class:`DeepEmbeddedValidationScorer`,
:class:`SoftNeighborhoodDensityScorer`, :class:`CircularValidationScorer`,
:class:`MutualInformationScorer`, :class:`EnsembleAgreementScorer`,
:class:`NeighborhoodConsistencyScorer`) or
use the few there are (:class:`SupervisedScorer`), and
:class:`TransferabilityScorer`, which ranks pretrained features for a labelled
target task without training a head. :class:`TransferAdvisor` fits candidate
adaptations, ranks them with these scorers and negative-transfer checks, and
says which to use and why.
"""

from ._advisor import TransferAdvisor
from ._ensemble_scorers import EnsembleAgreementScorer
from ._neighbor_consistency import NeighborhoodConsistencyScorer
from ._prediction_scorers import (
    MutualInformationScorer,
    PredictionEntropyScorer,
    SoftNeighborhoodDensityScorer,
)
from ._scorers import ImportanceWeightedScorer, SupervisedScorer
from ._split import DomainShuffleSplit, LeaveOneDomainOut
from ._transferability_scorer import TransferabilityScorer
from ._validation_scorers import CircularValidationScorer, DeepEmbeddedValidationScorer

__all__ = [
    "CircularValidationScorer",
    "DeepEmbeddedValidationScorer",
    "DomainShuffleSplit",
    "EnsembleAgreementScorer",
    "ImportanceWeightedScorer",
    "LeaveOneDomainOut",
    "MutualInformationScorer",
    "NeighborhoodConsistencyScorer",
    "PredictionEntropyScorer",
    "SoftNeighborhoodDensityScorer",
    "SupervisedScorer",
    "TransferAdvisor",
    "TransferabilityScorer",
]
