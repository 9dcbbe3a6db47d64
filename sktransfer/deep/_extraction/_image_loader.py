"""Stream image items to uint8 batches: a DataLoader for CPU decode, nvjpeg on CUDA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._backbones._base import ImageConfig
from ._images import JPEG_MAGIC, ImageItems, ImageReadError, decode_jpeg_batch


class _Decoded:
    """Dataset over the rows to compute: each item decoded, resized and cropped (or raw JPEG bytes)."""

    def __init__(self, items: ImageItems, rows: np.ndarray, config: ImageConfig, on_error: str, raw_jpeg: bool):
        self.items, self.rows, self.config = items, rows, config
        self.on_error, self.raw_jpeg = on_error, raw_jpeg

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, j: int) -> tuple[int, str, Any]:
        row = int(self.rows[j])
        try:
            if self.raw_jpeg:  # read once: JPEG bytes go to nvjpeg, anything else is decoded here
                data = self.items.read_bytes(row)
                if data[:3] == JPEG_MAGIC:
                    return row, "jpeg", data
                return row, "pixels", self.items.load(row, self.config, data=data)
            return row, "pixels", self.items.load(row, self.config)
        except (ImageReadError, OSError) as exc:
            # Reported from the main process: a worker's exception would arrive wrapped in its traceback.
            return row, "error", f"{self.items.describe(row)} ({exc})"


def _collate(samples: list) -> list:
    return samples


# Pinned host buffers cycled by the array path: the batch in the forward pass,
# two queued by the prefetch thread and the one being filled.
_RING = 4


def _array_batches(array: np.ndarray, rows: np.ndarray, batch_size: int, cuda: bool) -> Iterator[tuple]:
    """Slices of an NxHxWx3 uint8 array: views on the CPU; on CUDA one copy into a ring of pinned buffers."""
    import torch

    ring = [torch.empty((batch_size, *array.shape[1:]), dtype=torch.uint8).pin_memory()
            for _ in range(min(_RING, -(-len(rows) // batch_size)))] if cuda else []
    for k, start in enumerate(range(0, len(rows), batch_size)):
        chunk = rows[start:start + batch_size]
        contiguous = chunk[-1] - chunk[0] + 1 == len(chunk)
        src = array[chunk[0]:chunk[-1] + 1] if contiguous else array[chunk]
        if cuda:
            buf = ring[k % len(ring)][:len(chunk)]
            buf.numpy()[...] = src
            yield chunk, buf
        else:
            yield chunk, torch.from_numpy(src if src.flags.writeable and src.flags.c_contiguous else np.array(src))


def iter_image_batches(items: ImageItems, rows: np.ndarray, config: ImageConfig, *, batch_size: int,
                       num_workers: int, device: Any, on_error: str, skipped: list[str],
                       array: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, Any]]:
    """Yield ``(rows, NxHxWx3 uint8 tensor)`` batches, host-pinned on CUDA or on the device.

    ``array`` (one NxHxWx3 uint8 array already at the input size) is sliced
    without decoding. Paths of JPEG files on CUDA are decoded by nvjpeg.
    """
    import torch

    cuda = device.type == "cuda"
    if array is not None:
        yield from _array_batches(array, rows, batch_size, cuda)
        return
    raw_jpeg = cuda and items.kind == "path"
    dataset = _Decoded(items, rows, config, on_error, raw_jpeg)
    # A generator of its own: without one, each DataLoader iteration draws its workers' base seed
    # from the global torch RNG, and transform would shift the caller's random stream.
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                                         collate_fn=_collate, persistent_workers=False,
                                         prefetch_factor=4 if num_workers else None,
                                         generator=torch.Generator())
    for samples in loader:
        bad = [s[2] for s in samples if s[1] == "error"]
        if bad and on_error == "raise":
            raise ImageReadError(f"Cannot read {bad[0]}. Pass on_error='skip' to leave such rows NaN.")
        good = [s for s in samples if s[1] != "error"]
        skipped.extend(bad)
        if not good:
            continue
        if raw_jpeg:
            good = _decode_on_device(good, items, config, device, on_error, skipped)
            got = np.asarray([s[0] for s in good], dtype=np.intp)
            if len(good):
                yield got, _assemble_on_device(good, config, device)
        else:
            got = np.asarray([s[0] for s in good], dtype=np.intp)
            batch = torch.from_numpy(np.stack([s[2] for s in good]))
            yield got, batch.pin_memory() if cuda else batch


def _decode_on_device(samples: list, items: ImageItems, config: ImageConfig, device: Any, on_error: str,
                      skipped: list[str]) -> list:
    """Decode the JPEG bytes of a batch in one nvjpeg call.

    If the batch call fails (a corrupt file), each JPEG falls back to the CPU decoder,
    which names the bad file (or skips it, with ``on_error="skip"``).
    """
    jpeg = [j for j, s in enumerate(samples) if s[1] == "jpeg"]
    if not jpeg:
        return samples
    try:
        decoded = decode_jpeg_batch([samples[j][2] for j in jpeg], config, device)
    except RuntimeError:
        out = []
        for row, kind, data in samples:
            if kind == "jpeg":
                try:
                    data, kind = items.load(row, config), "pixels"
                except ImageReadError as exc:
                    if on_error == "raise":
                        raise
                    skipped.append(f"{items.describe(row)} ({exc})")
                    continue
            out.append((row, kind, data))
        return out
    out = list(samples)
    for j, img in zip(jpeg, decoded):
        out[j] = (samples[j][0], "device", img)
    return out


def _assemble_on_device(samples: list, config: ImageConfig, device: Any) -> Any:
    """One NxHxWx3 uint8 tensor on the device from decoded and CPU-decoded items."""
    import torch

    out = torch.empty((len(samples), *config.size, 3), dtype=torch.uint8, device=device)
    for j, (_, kind, data) in enumerate(samples):
        out[j] = data if kind == "device" else torch.from_numpy(data).to(device)
    return out
