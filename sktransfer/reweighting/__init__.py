"""Instance-based transfer: importance weights for source rows.

Each weighter estimates the density ratio ``p_target(x) / p_source(x)`` from
source and target rows and gives it to the source rows as weights, either as
a step of :func:`~sktransfer.make_da_pipeline` (the weights reach the final
estimator as ``sample_weight``) or through :class:`ImportanceWeightedEstimator`.
"""

from .._sample_weights import effective_sample_size
from ._density import KDEWeighter, NearestNeighborWeighter
from ._discriminative import DiscriminativeWeighter
from ._importance_weighted import ImportanceWeightedEstimator
from ._kliep import KLIEP
from ._kmm import KMM
from ._lsif import RULSIF, ULSIF

__all__ = [
    "KLIEP",
    "KMM",
    "RULSIF",
    "ULSIF",
    "DiscriminativeWeighter",
    "ImportanceWeightedEstimator",
    "KDEWeighter",
    "NearestNeighborWeighter",
    "effective_sample_size",
]
