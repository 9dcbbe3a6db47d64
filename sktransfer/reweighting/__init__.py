"""Instance-based transfer: importance weights for source rows.

Each weighter estimates the density ratio ``p_target(x) / p_source(x)`` from
source and target rows and gives it to the source rows as weights (under label
shift, :class:`BBSEWeighter` and :class:`MMDTarSWeighter` estimate the class
ratio ``p_target(y) / p_source(y)`` instead, the same ratio when only the class
priors differ), either as
a step of :func:`~sktransfer.make_da_pipeline` (the weights reach the final
estimator as ``sample_weight``) or through :class:`ImportanceWeightedEstimator`.
"""

from .._sample_weights import effective_sample_size
from ._density import KDEWeighter
from ._discriminative import DiscriminativeWeighter
from ._importance_weighted import ImportanceWeightedEstimator
from ._kliep import KLIEP
from ._kmm import KMM
from ._label_shift import BBSEWeighter
from ._lsif import RULSIF, ULSIF
from ._mmd_target_shift import MMDTarSWeighter
from ._nearest_neighbor import NearestNeighborWeighter

__all__ = [
    "KLIEP",
    "KMM",
    "RULSIF",
    "ULSIF",
    "BBSEWeighter",
    "DiscriminativeWeighter",
    "ImportanceWeightedEstimator",
    "KDEWeighter",
    "MMDTarSWeighter",
    "NearestNeighborWeighter",
    "effective_sample_size",
]
