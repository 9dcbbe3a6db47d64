"""sktransfer: transfer learning and domain adaptation as scikit-learn estimators.

Importing sktransfer has no side effects: it changes no scikit-learn setting
and does not import PyTorch (``sktransfer.deep`` does, lazily).
"""

import logging

from ._version import __version__
from .domain import check_domains, mask_target_labels, split_domains, stack_domains
from .pipeline import DAPipeline, make_da_pipeline

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DAPipeline",
    "__version__",
    "check_domains",
    "make_da_pipeline",
    "mask_target_labels",
    "split_domains",
    "stack_domains",
]
