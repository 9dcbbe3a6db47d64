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

from .._backbones._base import Backbone
from .._extraction._inputs import InputReader
from .._runtime import Runtime
from ._augment import add_feature_noise, augment_images

#: share of the device's free memory that training inputs may take before they stay in (pinned) host memory
DEVICE_SHARE = 0.25


@dataclass
class TrainingData:
    """Prepared inputs and how to turn rows of them into model-ready batches."""

    kind: str  # "features", "images" or "texts"
    inputs: Any  # float32 array or tensor, uint8 NxHxWx3 tensor, or list of str
    reader: InputReader | None = None  # reads images and texts (see sktransfer.deep._extraction._inputs)
    backbone: Backbone | None = None
    placement: str = "host"  # "device", "pinned" or "host": where the inputs live (see place)

    def __len__(self) -> int:
        return len(self.inputs)

    def place(self, runtime: Runtime) -> None:
        """Put the inputs where batches are cheapest to take from.

        On CUDA, features and decoded images move to the device once when they
        take at most ``DEVICE_SHARE`` of its free memory: a batch is then a
        gather on the device, and an epoch never waits for the host. Larger
        inputs stay on the host in pinned memory, so that every batch copies
        asynchronously. Texts are tokenised per batch and stay where they are.
        """
        import torch

        if self.kind == "texts":
            return
        if not isinstance(self.inputs, torch.Tensor):
            self.inputs = torch.from_numpy(np.ascontiguousarray(self.inputs))
        self.placement = placement_for(self.inputs.element_size() * self.inputs.nelement(), runtime)
        if self.placement == "device":
            self.inputs = self.inputs.to(runtime.device)
        elif self.placement == "pinned":
            self.inputs = pin(self.inputs)

    def batch(self, rows: Any, runtime: Runtime, *, train: bool, augment: Any = None, noise_std: float = 0.0,
              generator: Any = None) -> Any:
        """Model-ready inputs of ``rows`` (a LongTensor on the inputs' device, or an index array)."""
        import torch

        if self.kind == "texts":
            return self.reader.prepare(self.reader.host_batch(self.inputs, rows, self.backbone), self.backbone,
                                       runtime)
        x = self.inputs[torch.as_tensor(rows)]
        if self.placement == "pinned":
            x = pin(x)
        x = x.to(runtime.device, non_blocking=True)
        if self.kind == "features":
            return add_feature_noise(x, noise_std, generator) if train else x
        if train and augment is not None:
            x = augment_images(x, augment, generator)
        return self.reader.prepare(x, self.backbone, runtime)


def placement_for(nbytes: int, runtime: Runtime) -> str:
    """``"device"``, ``"pinned"`` or ``"host"``: where ``nbytes`` of training inputs should live."""
    if not runtime.is_cuda:
        return "host"
    return "device" if nbytes <= DEVICE_SHARE * free_device_memory(runtime.device) else "pinned"


def free_device_memory(device: Any) -> int:
    """Bytes free on a CUDA device."""
    import torch

    return torch.cuda.mem_get_info(device)[0]


def pin(tensor: Any) -> Any:
    """A page-locked copy of a host tensor (asynchronous host-to-device copies need one)."""
    return tensor.pin_memory()


def iterate(data: TrainingData, targets: Any, rows: np.ndarray, batch_size: int, runtime: Runtime, *,
            train: bool, rng: np.random.RandomState | None = None, augment: Any = None,
            noise_std: float = 0.0, generator: Any = None) -> Iterator[tuple[Any, Any]]:
    """``(inputs, targets)`` batches over ``rows``, shuffled when ``rng`` is given.

    ``targets`` is a tensor on the device; rows are gathered where the inputs
    live, so that inputs placed on the device never pass through the host.
    ``generator`` drives the augmentation and the noise.
    """
    import torch

    order = rows[rng.permutation(len(rows))] if rng is not None else rows
    here = data.inputs.device if data.placement == "device" else torch.device("cpu")
    order_t = torch.as_tensor(order, dtype=torch.long).to(here)
    order_dev = order_t.to(targets.device, non_blocking=True)
    for start in range(0, len(order), batch_size):
        stop = min(start + batch_size, len(order))
        if train and stop - start == 1 and batch_size > 1 and len(order) > 1:
            continue  # a lone last row would give a batch without a batch standard deviation for the noise
        x = data.batch(order_t[start:stop], runtime, train=train, augment=augment, noise_std=noise_std,
                       generator=generator)
        yield x, targets[order_dev[start:stop]]


def all_str(X: Any) -> bool:
    if isinstance(X, np.ndarray) and X.dtype.kind in "uifb":
        return False
    try:
        return len(X) > 0 and all(isinstance(x, (str, os.PathLike)) for x in X)
    except TypeError:
        return False


def all_files(X: Any) -> bool:
    return all(os.path.isfile(os.fspath(x)) for x in list(X)[:20])
