"""The optional POT dependency (Python Optimal Transport), imported when first needed.

Importing sktransfer never imports POT: only fitting an optimal-transport
estimator does, so the package works without the ``[ot]`` extra.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_pot"]


def import_pot(owner: str) -> ModuleType:
    """The ``ot`` module, or an ``ImportError`` naming ``owner`` and the extra to install.

    Parameters
    ----------
    owner : str
        The estimator that needs POT, named in the error.

    Returns
    -------
    ot : module
        POT's top-level module.
    """
    try:
        return importlib.import_module("ot")
    except ImportError as exc:
        raise ImportError(
            f"{owner} needs POT (Python Optimal Transport), which is not installed: "
            "pip install 'sktransfer[ot]' (or pip install pot)."
        ) from exc
