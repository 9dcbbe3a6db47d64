"""What fine-tuning trains on: inputs decoded once, served as shuffled device batches.

Three kinds: ``features`` (a float matrix: feature inputs, or embeddings of a
frozen backbone from the extractor and its cache), ``images`` (uint8 at the
backbone's input size, decoded once, augmented per batch on the device) and
``texts`` (tokenised per batch).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._augment import add_feature_noise, augment_images
from ._backbones import Backbone
from ._runtime import Runtime


@dataclass
class TrainingData:
    """Prepared inputs and how to turn rows of them into model-ready batches."""

    kind: str  # "features", "images" or "texts"
    inputs: Any  # float32 array, uint8 NxHxWx3 tensor, or list of str
    extractor: Any = None  # gives _prepare (images) and max_length (texts)
    backbone: Backbone | None = None

    def __len__(self) -> int:
        return len(self.inputs)

    def batch(self, rows: np.ndarray, runtime: Runtime, *, train: bool, augment: Any = None,
              noise_std: float = 0.0) -> Any:
        import torch

        if self.kind == "features":
            x = torch.as_tensor(self.inputs[rows]).to(runtime.device, non_blocking=True)
            return add_feature_noise(x, noise_std) if train else x
        if self.kind == "images":
            x = self.inputs[torch.as_tensor(rows)].to(runtime.device, non_blocking=True)
            if train and augment is not None:
                x = augment_images(x, augment)
            return self.extractor._prepare(x, self.backbone, runtime)
        enc = self.backbone.tokenize([self.inputs[r] for r in rows], self.extractor.max_length)
        return {k: v.to(runtime.device, non_blocking=True) for k, v in enc.items()}


def iterate(data: TrainingData, targets: Any, rows: np.ndarray, batch_size: int, runtime: Runtime, *,
            train: bool, rng: np.random.RandomState | None = None, augment: Any = None,
            noise_std: float = 0.0) -> Iterator[tuple[Any, Any]]:
    """``(inputs, targets)`` batches over ``rows``, shuffled when ``rng`` is given."""
    import torch

    order = rows[rng.permutation(len(rows))] if rng is not None else rows
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        if train and len(chunk) == 1 and batch_size > 1 and len(order) > 1:
            continue  # a lone last row would give a batch without a batch standard deviation for the noise
        x = data.batch(chunk, runtime, train=train, augment=augment, noise_std=noise_std)
        yield x, torch.as_tensor(targets[chunk]).to(runtime.device)


def decode_images(extractor: Any, X: Any, backbone: Backbone) -> Any:
    """Every image of ``X`` decoded, resized and cropped once, as one NxHxWx3 uint8 CPU tensor."""
    import torch

    items = extractor._check_input(X)
    host = Runtime(torch.device("cpu"), torch.float32)
    skipped: list[str] = []
    out = torch.empty((len(items), *backbone.config.size, 3), dtype=torch.uint8)
    for rows, batch in extractor._batches(items, np.arange(len(items)), backbone, host, skipped):
        out[torch.as_tensor(rows)] = batch
    if skipped:
        raise ValueError(f"Cannot train on unreadable images: {skipped[:5]}")
    return out


def all_str(X: Any) -> bool:
    if isinstance(X, np.ndarray) and X.dtype.kind in "uifb":
        return False
    try:
        return len(X) > 0 and all(isinstance(x, (str, os.PathLike)) for x in X)
    except TypeError:
        return False


def all_files(X: Any) -> bool:
    return all(os.path.isfile(os.fspath(x)) for x in list(X)[:20])


def is_classifier_like(est: Any) -> bool:
    return hasattr(est, "classes_")
