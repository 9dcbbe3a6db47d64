"""How images are read: paths, PIL images, arrays and tensors to uint8 batches, then normalised on the device."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._backbones._base import Backbone
from .._runtime import Runtime, resolve_batch_size
from ._image_loader import iter_image_batches
from ._images import ImageItems, ImageReadError, check_images
from ._inputs import InputReader


class ImageReader(InputReader):
    """The :class:`InputReader` of images.

    Parameters
    ----------
    owner : str
        The estimator named in errors.
    batch_size : int or "auto"
        Images per batch (``"auto"``: by device, see ``resolve_batch_size``).
    num_workers : int or "auto"
        DataLoader workers decoding files or PIL images.
    on_error : {"raise", "skip"}
        Whether an unreadable image raises or is skipped (listed in ``skipped``).
    """

    modality = "image"

    def __init__(self, owner: str, *, batch_size: int | str = "auto", num_workers: int | str = "auto",
                 on_error: str = "raise"):
        super().__init__(owner)
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.on_error = on_error

    def check(self, X: Any) -> ImageItems:
        # Only arrays already at the input size skip decoding; the rest are resized by
        # the same PIL code as files, so an image gives the same features whatever its kind
        # (up to libjpeg's reduced-scale decoding of JPEG files over twice the target size).
        return check_images(X, owner=self.owner)

    def content_keys(self, items: ImageItems) -> list[bytes | None]:
        keys = []
        for i in range(len(items)):
            try:
                keys.append(items.content_key(i))
            except ImageReadError:
                if self.on_error == "raise":
                    raise
                keys.append(None)  # unreadable: a cache miss, then skipped (NaN) by the loader
        return keys

    def workers(self, runtime: Runtime) -> int:
        """Decoding workers for ``runtime`` (``"auto"``: up to 8 on CUDA, a few on the CPU, 0 in a daemon).

        A daemonic process (a Dask worker, a ``multiprocessing.Pool`` worker)
        cannot start child processes, so there ``"auto"`` decodes in the process
        and an explicit count raises instead of torch's bare assertion.
        """
        daemon = multiprocessing.current_process().daemon
        if self.num_workers != "auto":
            if self.num_workers and daemon:
                raise ValueError(
                    f"{self.owner}: num_workers={self.num_workers} cannot start DataLoader workers here: this "
                    "process is a daemon (a Dask worker or a multiprocessing.Pool worker, say), and daemonic "
                    "processes cannot have children. Use num_workers='auto' or 0, which decode in this process, "
                    "or start non-daemonic Dask workers (dask config distributed.worker.daemon: False).")
            return int(self.num_workers)
        if daemon:
            return 0
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        if runtime.is_cuda:
            return min(8, cpus)
        # On the CPU the model's own threads want the cores; decoding gets a few.
        return 0 if cpus < 2 else max(1, min(4, cpus // 4))

    def batches(self, items: ImageItems, rows: np.ndarray, backbone: Backbone, runtime: Runtime,
                skipped: list[str]) -> Iterator[tuple[np.ndarray, Any]]:
        cfg = backbone.config
        array = items.array if items.array is not None and items.array.shape[1:3] == cfg.size else None
        return iter_image_batches(
            items, rows, cfg, batch_size=resolve_batch_size(self.batch_size, runtime, "image"),
            num_workers=self.workers(runtime) if array is None else 0, device=runtime.device,
            on_error=self.on_error, skipped=skipped, array=array)

    def host_batch(self, items: ImageItems, rows: np.ndarray, backbone: Backbone) -> Any:
        """NxHxWx3 uint8 CPU tensor at the input size, decoded through the loader; an unreadable image raises."""
        import torch

        rows = np.asarray(rows, dtype=np.intp)
        host = Runtime(torch.device("cpu"), torch.float32)
        position = {int(row): j for j, row in enumerate(rows)}
        skipped: list[str] = []
        out = torch.empty((len(rows), *backbone.config.size, 3), dtype=torch.uint8)
        for got, batch in self.batches(items, rows, backbone, host, skipped):
            out[torch.as_tensor([position[int(r)] for r in got])] = batch
        if skipped:
            raise ValueError(f"Cannot train on unreadable images: {skipped[:5]}")
        return out

    @staticmethod
    def prepare(batch: Any, backbone: Backbone, runtime: Runtime) -> Any:
        """uint8 NxHxWx3 at the input size (host or device) → normalised float NCHW on the device."""
        import torch

        x = batch.to(runtime.device, non_blocking=True).permute(0, 3, 1, 2)
        mean, std = backbone.normalisation(x.device)
        x = (x.float() - mean) / std
        return x.contiguous(memory_format=torch.channels_last if runtime.channels_last else torch.contiguous_format)

    def probe(self, backbone: Backbone) -> Any:
        import torch

        return torch.zeros((1, *backbone.config.size, 3), dtype=torch.uint8)

    def preprocess_config(self, backbone: Backbone) -> dict:
        c = backbone.config
        return {"size": c.size, "resize": c.resize, "mean": c.mean, "std": c.std, "interpolation": c.interpolation}
