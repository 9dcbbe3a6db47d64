"""A backbone's parameters as blocks from the input to the output.

Fine-tuning freezes all but the last ``n_trainable_blocks`` of them and gives
each a learning rate decayed by depth. timm models use their own grouping
(``group_matcher``, the one ``timm.optim`` uses for layer-wise decay); other
backbones use their readable layers (``tap_names``), with whatever parameters
come before the first one (a stem) as block 0. :func:`parameter_groups` turns
them into the optimiser's groups, with the learning rates decayed by depth.
"""

from __future__ import annotations

from typing import Any

from .._backbones._base import Backbone


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


def parameter_groups(net: Any, *, n_trainable_blocks: int | str, lr: float, lr_decay: float,
                     weight_decay: float) -> tuple[list[dict], list[list[Any]]]:
    """The optimiser's groups for ``net`` (a head on a backbone, see ``_net``), and the trainable blocks.

    The head trains at ``lr``; trainable block ``r`` from the top at
    ``lr * lr_decay**r``; every group has ``weight_decay``. Every backbone
    parameter is frozen here; the blocks (top first) open epoch by epoch
    (``_training.Unfreezing``).

    Returns
    -------
    groups : list of dict
        ``params``, ``lr``, ``name`` and ``weight_decay`` of each group, head first.
    blocks : list of list of Parameter
        The trainable blocks, top first.
    """
    groups = [{"params": list(net.head.parameters()), "lr": lr, "name": "head", "weight_decay": weight_decay}]
    blocks: list[list[Any]] = []
    if net.adapter is not None:
        named = dict(net.adapter.module.named_parameters())
        all_blocks = parameter_blocks(net.adapter)
        for p in net.adapter.module.parameters():
            p.requires_grad_(False)
        trainable = trainable_block_indices(len(all_blocks), n_trainable_blocks)
        for depth, i in enumerate(reversed(trainable), start=1):
            params = [named[n] for n in all_blocks[i]]
            blocks.append(params)
            groups.append({"params": params, "lr": lr * lr_decay ** depth, "name": f"block{i}",
                           "weight_decay": weight_decay})
    return groups, blocks


def named_block_parameters(net: Any, blocks: list[list[Any]]) -> dict[str, Any]:
    """The parameters of ``blocks`` by their names in the network's backbone (``net.body``)."""
    ids = {id(p) for params in blocks for p in params}
    return {n: p for n, p in net.body.named_parameters() if id(p) in ids}
