"""A backbone's parameters as blocks from the input to the output.

Fine-tuning freezes all but the last ``n_trainable_blocks`` of them and gives
each a learning rate decayed by depth. timm models use their own grouping
(``group_matcher``, the one ``timm.optim`` uses for layer-wise decay); other
backbones use their readable layers (``tap_names``), with whatever parameters
come before the first one (a stem) as block 0.
"""

from __future__ import annotations

from typing import Any

from ._backbones._base import Backbone


def parameter_blocks(backbone: Backbone) -> list[list[str]]:
    """Names of the trainable parameters of ``backbone.module``, one list per block, input first.

    The classifier of a timm model is left out: fine-tuning puts a new head on
    the pooled output and never runs the old one.
    """
    module = backbone.module
    names = [n for n, _ in module.named_parameters()]
    if backbone.modality == "text":  # a BERT pooler is never run: mean pooling reads the hidden states
        names = [n for n in names if not n.startswith("pooler.")]
    if hasattr(module, "group_matcher") and hasattr(module, "pretrained_cfg"):
        return _timm_blocks(module, names)
    blocks: list[list[str]] = []
    seen: set[str] = set()
    for tap in backbone.tap_names[:-1]:
        prefix = tap + "."
        block = [n for n in names if n.startswith(prefix) and n not in seen]
        if block:
            blocks.append(block)
            seen.update(block)
    stem = [n for n in names if n not in seen]
    return ([stem] if stem else []) + blocks


def _timm_blocks(module: Any, names: list[str]) -> list[list[str]]:
    from timm.models import group_parameters

    classifier = module.pretrained_cfg.get("classifier") or ""
    heads = classifier if isinstance(classifier, (list, tuple)) else [classifier]
    groups = group_parameters(module, module.group_matcher(coarse=True))
    blocks = []
    for _, params in sorted(groups.items()):
        kept = [p for p in params if not any(h and (p == h or p.startswith(h + ".")) for h in heads)]
        if kept:
            blocks.append(kept)
    return blocks


def trainable_block_indices(n_blocks: int, n_trainable_blocks: int | str) -> list[int]:
    """Indices (input first) of the last ``n_trainable_blocks`` blocks; ``"all"`` is every block."""
    k = n_blocks if n_trainable_blocks == "all" else min(int(n_trainable_blocks), n_blocks)
    return list(range(n_blocks - k, n_blocks))


def batchnorm_layers(module: Any, parameter_names: set[str]) -> set[str]:
    """Names of the BatchNorm layers of ``module`` whose parameters are among ``parameter_names``."""
    import torch

    return {name for name, m in module.named_modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
            and any(f"{name}.{p}" in parameter_names for p, _ in m.named_parameters(recurse=False))}
