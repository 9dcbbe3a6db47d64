"""Stream image items to uint8 batches: a DataLoader for CPU decode, nvjpeg on CUDA."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ._backbones import ImageConfig
from ._images import ImageItems, ImageReadError, decode_jpeg_batch


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
            if self.raw_jpeg and self.items.is_jpeg(row):
                return row, "jpeg", self.items.read_bytes(row)
            return row, "pixels", self.items.load(row, self.config)
        except (ImageReadError, OSError) as exc:
            # Reported from the main process: a worker's exception would arrive wrapped in its traceback.
            return row, "error", f"{self.items.describe(row)} ({exc})"


def _collate(samples: list) -> list:
    return samples


def iter_image_batches(items: ImageItems, rows: np.ndarray, config: ImageConfig, *, batch_size: int,
                       num_workers: int, device: Any, on_error: str, skipped: list[str],
                       array: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, Any]]:
    """Yield ``(rows, NxHxWx3 uint8 tensor)`` batches, host-pinned on CUDA or on the device.

    ``array`` (one NxHxWxC uint8 array) is sliced without decoding; its resize, if
    any, happens on the device. Paths of JPEG files on CUDA are decoded by nvjpeg.
    """
    import torch

    cuda = device.type == "cuda"
    if array is not None:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start:start + batch_size]
            batch = torch.from_numpy(np.ascontiguousarray(array[chunk]))
            yield chunk, batch.pin_memory() if cuda else batch
        return
    raw_jpeg = cuda and items.kind == "path"
    dataset = _Decoded(items, rows, config, on_error, raw_jpeg)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                                         collate_fn=_collate, persistent_workers=False,
                                         prefetch_factor=4 if num_workers else None)
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
