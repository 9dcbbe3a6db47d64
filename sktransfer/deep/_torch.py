"""The one place that imports PyTorch, lazily, with an install hint when it is absent."""

from __future__ import annotations

import importlib
from types import ModuleType

_EXTRA_HINT = "pip install 'sktransfer[torch]'"


def import_optional(module: str, *, needed_by: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that says what to install.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"torch"`` or ``"timm"``.
    needed_by : str
        Who needs it, named in the error (an estimator or a backbone spec).

    Returns
    -------
    module : ModuleType
        The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # the extra is missing or broken
        top = module.split(".")[0]
        raise ImportError(
            f"{needed_by} needs {top}, which could not be imported ({exc}). "
            f"Install the deep-learning extra: {_EXTRA_HINT}"
        ) from exc


def import_torch(needed_by: str) -> ModuleType:
    """Import torch, or raise the install hint naming ``needed_by``."""
    return import_optional("torch", needed_by=needed_by)
