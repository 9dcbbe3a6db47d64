"""The network fine-tuning trains: a new head on a training copy of a backbone (or on feature inputs)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

from .._torch import import_torch


def build_head(spec: str | Sequence[int], n_in: int, n_out: int, *, dropout: float, owner: str) -> Any:
    """``"linear"``, or hidden sizes such as ``(256,)`` for Linear-ReLU-Dropout blocks, then Linear."""
    torch = import_torch(owner)
    nn = torch.nn
    if isinstance(spec, str):
        if spec != "linear":
            raise ValueError(f"{owner}: head must be 'linear' or a tuple of hidden sizes, got {spec!r}.")
        hidden: list[int] = []
    else:
        if not all(isinstance(h, Integral) and not isinstance(h, bool) and h > 0 for h in spec):
            raise ValueError(f"{owner}: head hidden sizes must be positive ints, got {spec!r}.")
        hidden = [int(h) for h in spec]
    layers: list[Any] = [nn.Dropout(dropout)] if dropout and not hidden else []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
        width = h
    layers.append(nn.Linear(width, n_out))
    return nn.Sequential(*layers)


def build_net(adapter: Any, head: str | Sequence[int], n_in: int, n_out: int, *, layer: int | str, pooling: str,
              dropout: float, owner: str) -> Any:
    """A new head (:func:`build_head`) on ``adapter`` at ``layer``, as one network (:func:`make_net`).

    ``adapter`` is a training copy of a backbone (``Backbone.training_copy``),
    whose features at ``layer`` are ``n_in`` wide, or None for feature inputs
    of width ``n_in``.
    """
    index = adapter.layer_index(layer, owner=owner) if adapter is not None else None
    return make_net(adapter, build_head(head, n_in, n_out, dropout=dropout, owner=owner), index, pooling)


def make_net(adapter: Any, head: Any, layer: int, pooling: str) -> Any:
    """``head(backbone features)``; with ``adapter=None`` the inputs already are features."""
    torch = import_torch("fine-tuning")

    class FineTuneNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = adapter.module if adapter is not None else torch.nn.Identity()
            self.head = head
            self.adapter, self.layer, self.pooling = adapter, layer, pooling
            self.training_norms: set[str] = set()  # BatchNorm layers of the body that train (batchnorm="train")

        def forward(self, x: Any) -> Any:
            if self.adapter is not None:
                x = self.adapter.features(x, self.layer, self.pooling)
            return self.head(x.float())

        def features_and_outputs(self, x: Any) -> tuple[Any, Any]:
            """The input of the head's last linear layer and the outputs (what domain losses read)."""
            if self.adapter is not None:
                x = self.adapter.features(x, self.layer, self.pooling)
            features = self.head[:-1](x.float())
            return features, self.head[-1](features)

        def train(self, mode: bool = True) -> Any:
            # The backbone stays in eval mode: BatchNorm keeps its pretraining
            # statistics and frozen blocks (weights and buffers) never change;
            # only the BatchNorm layers named in training_norms follow ``mode``.
            super().train(mode)
            self.body.eval()
            if mode and self.training_norms:
                for name, module in self.body.named_modules():
                    if name in self.training_norms:
                        module.train()
            return self

    return FineTuneNet()
