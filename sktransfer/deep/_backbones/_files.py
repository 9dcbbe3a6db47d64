"""Local files as backbones: which specs are paths, and loading weight and model files safely.

A string is a local path only when it says so (:func:`local_path`): a bare
name such as ``"resnet50"`` never reads a file or folder of that name in the
working directory. A file that holds a whole model (a pickle or TorchScript)
runs code when loaded, so :func:`load_module_file` loads one only with
``allow_pickle=True``; anything else is read with ``weights_only=True``.
"""

from __future__ import annotations

import os
import pickle
import warnings
from typing import Any

from .._torch import import_torch

#: file names that are local checkpoints even without a folder in front
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".pts", ".ckpt", ".bin", ".safetensors")


def local_path(spec: str | os.PathLike) -> str | None:
    """The file or folder a backbone spec names, or None for a registry name.

    A spec is a path when it clearly is one: a ``pathlib.Path`` (any
    ``os.PathLike``), a string starting with ``"file:"`` (the rest is the
    path), one that holds a path separator (``"./resnet50"``,
    ``"models/net.pt"``), or a file name ending in a checkpoint suffix
    (``.pt``, ``.pth``, ``.pts``, ``.ckpt``, ``.bin``, ``.safetensors``). A
    bare name (``"resnet50"``) is never looked up in the working directory.
    """
    if not isinstance(spec, str):
        return os.fspath(spec)
    if spec.startswith("file:"):
        return spec[len("file:"):]
    separators = [sep for sep in (os.sep, os.altsep, "/") if sep]
    if any(sep in spec for sep in separators) or spec.lower().endswith(CHECKPOINT_SUFFIXES):
        return spec
    return None


def load_state_dict_file(module: Any, path: str, *, spec: str) -> None:
    """Load a state-dict file (``torch.save`` or safetensors) into ``module`` strictly; a mismatch names the keys."""
    torch = import_torch(spec)
    if path.lower().endswith(".safetensors"):
        from safetensors.torch import load_file

        state = load_file(path, device="cpu")
    else:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
            raise ValueError(
                f"The weights file {path!r} for backbone {spec!r} is not a state dict that loads with "
                f"weights_only=True ({type(exc).__name__}); it holds other pickled objects, which could run "
                "code, and is not loaded. Save the weights alone: torch.save(model.state_dict(), path)."
            ) from exc
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"The weights in {path!r} do not fit backbone {spec!r}: {exc}") from exc


def load_module_file(path: str, *, owner: str, allow_pickle: bool = False) -> Any:
    """The model in a file from ``torch.save(model)`` or TorchScript: both run code when loaded.

    Only with ``allow_pickle`` is such a file unpickled. Without it the file is
    read with ``weights_only=True``, which loads tensors and plain containers
    only: a state dict then gets the advice to pass it as ``weights``, a whole
    model the advice to opt in. The registry wraps the model in an adapter.
    """
    torch = import_torch(owner)
    if path.lower().endswith(".safetensors"):  # tensors only, never a model
        raise ValueError(
            f"{owner}: {path!r} holds weights, not a model. A state dict needs its architecture: pass "
            "backbone='timm:NAME' (or 'torchvision:NAME') with weights=the path."
        )
    if allow_pickle:
        try:
            with warnings.catch_warnings():  # torch>=2.9 deprecates TorchScript; still read such files
                warnings.simplefilter("ignore", FutureWarning)
                obj = torch.jit.load(path, map_location="cpu")
        except (RuntimeError, ValueError):
            obj = torch.load(path, map_location="cpu", weights_only=False)
    else:
        try:
            with warnings.catch_warnings():  # torch.load names TorchScript archives before refusing them
                warnings.filterwarnings("ignore", message=".*TorchScript archive", category=UserWarning)
                obj = torch.load(path, map_location="cpu", weights_only=True)
        except (pickle.UnpicklingError, RuntimeError, AttributeError, ValueError, EOFError) as exc:
            reason = str(exc).split(".")[0].replace("\x1b[1m", "").replace("\x1b[0m", "")[:120]
            raise ValueError(
                f"{owner}: {path!r} cannot be read as weights only ({type(exc).__name__}: {reason}): it holds a "
                "whole pickled model or a TorchScript archive, and loading either runs code stored in the file. "
                "If you trust the file, pass allow_pickle=True. Otherwise save its weights alone "
                "(torch.save(model.state_dict(), path)) and pass backbone='timm:NAME' (or 'torchvision:NAME') "
                "with weights=the path."
            ) from exc
    if not isinstance(obj, torch.nn.Module):
        raise ValueError(
            f"{owner}: {path!r} holds a {type(obj).__name__}, not a model. A state dict needs its "
            "architecture: pass backbone='timm:NAME' (or 'torchvision:NAME') with weights=the path."
        )
    return obj
