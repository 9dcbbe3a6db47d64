"""The one place that imports PyTorch, lazily, with an install hint when it is absent."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import warnings
from types import ModuleType

_EXTRA_HINT = "pip install 'sktransfer[torch]'"
#: loaded by TensorFlow >= 2.20 when it puts its symbols (its LLVM among them) in the process's global table
_TF_GLOBAL_SYMBOLS = "tensorflow.python.pywrap_dlopen_global_flags"


def block_triton_beside_tensorflow() -> bool:
    """Keep PyTorch from importing Triton into a process where TensorFlow's symbols are global; True when it did.

    TensorFlow >= 2.20 wheels load their library with ``RTLD_GLOBAL``, and a
    Triton imported after them binds its LLVM calls to TensorFlow's copy and
    crashes the process with a segmentation fault
    (tensorflow/tensorflow#124205). PyTorch imports Triton lazily, on a
    torchvision import or the first optimiser, so a user who imported
    TensorFlow (or ADAPT, which does) before an extractor lost the process.
    Where TensorFlow is loaded that way and Triton is installed but not yet
    imported, Triton's import is blocked for this process (``import triton``
    then raises ImportError, which PyTorch reads as Triton absent) and a
    RuntimeWarning says so: PyTorch runs without it, only ``torch.compile``'s
    GPU code generation needs it.
    """
    if "triton" in sys.modules or _TF_GLOBAL_SYMBOLS not in sys.modules:
        return False
    if importlib.util.find_spec("triton") is None:
        return False
    sys.modules["triton"] = None  # type: ignore[assignment]  # the import system's "not importable" marker
    warnings.warn(
        "TensorFlow is loaded with its symbols global, and importing Triton after it crashes the "
        "process (tensorflow/tensorflow#124205), so sktransfer blocked the Triton import for this "
        "process: PyTorch runs without Triton (torch.compile cannot generate GPU kernels). To keep "
        "Triton, import torch and triton before tensorflow.",
        RuntimeWarning,
        stacklevel=3,
    )
    return True


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
    block_triton_beside_tensorflow()
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
