"""The one runtime every forward pass goes through.

It resolves ``device``/``precision``, runs the model in eval mode under
``torch.inference_mode()`` and autocast, feeds it batch by batch, halves the
batch when CUDA runs out of memory (and retries the same rows), and returns
float32 NumPy. Extractors and fine-tuners hold no inference loops of their own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._torch import import_torch

logger = logging.getLogger(__name__)

PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Rows per forward call when batch_size="auto": a start that the OOM backoff
# halves until it fits. GPUs start large. CPUs are faster with small batches
# that stay in cache, and texts sorted by length pad less in small batches:
# on 2 EPYC cores EfficientNet-Lite0 ran 64 img/s at 16 against 49 at 64, and
# MiniLM on texts of 10-122 tokens 96 texts/s at 32 against 66 at 128. Audio: wav2vec2-base
# ran 10 s clips on one core as fast one at a time as eight at once, and eight such clips hold
# 0.5 GB in its first convolution's output alone, so the CPU start is small.
_AUTO_BATCH = {("cuda", "image"): 512, ("cuda", "text"): 1024, ("cpu", "image"): 16, ("cpu", "text"): 32,
               ("cuda", "audio"): 64, ("cpu", "audio"): 4}


@dataclass(frozen=True)
class Runtime:
    """Where and how a forward pass runs (resolved from the estimator's params)."""

    device: Any  # torch.device
    dtype: Any  # torch.dtype used by autocast; torch.float32 means no autocast
    channels_last: bool = False

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def autocast(self) -> contextlib.AbstractContextManager:
        """Autocast to ``dtype`` on ``device``, or nothing for fp32."""
        torch = import_torch("the deep runtime")
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)


def resolve_device(device: str, *, owner: str) -> Any:
    """``"auto"`` → CUDA if present, else MPS, else CPU; an absent device raises."""
    torch = import_torch(owner)
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"{owner} was given device={device!r} but CUDA is not available; "
            "use device='auto' or 'cpu'."
        )
    if resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{owner} was given device={device!r} but MPS is not available; use 'auto' or 'cpu'.")
    return resolved


def resolve_precision(precision: str, device: Any, *, owner: str) -> Any:
    """``"auto"`` → bf16 on CUDA GPUs that support it, fp16 on older GPUs, fp32 elsewhere."""
    torch = import_torch(owner)
    if precision not in PRECISIONS:
        raise ValueError(f"{owner}: precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def resolve_runtime(device: str, precision: str, channels_last: bool, *, owner: str) -> Runtime:
    """Resolve the estimator's runtime parameters once per call."""
    dev = resolve_device(device, owner=owner)
    return Runtime(dev, resolve_precision(precision, dev, owner=owner), bool(channels_last))


def training_runtime(runtime: Runtime, images: bool) -> Runtime:
    """The runtime of fine-tuning: channels-last for ``images``, on every device.

    Convolutions in bf16 run on the GPU's tensor cores in NHWC, and oneDNN's
    CPU convolutions are faster in it too: a ResNet-50 training epoch took
    4.5 s channels-last against 5.5 s in NCHW on 2 CPU cores.
    """
    return dataclasses.replace(runtime, channels_last=images)


def resolve_batch_size(batch_size: int | str, runtime: Runtime, modality: str) -> int:
    """The rows per forward call: ``batch_size`` itself, or the auto start for the device."""
    if batch_size != "auto":
        return int(batch_size)
    kind = "cuda" if runtime.is_cuda else "cpu"
    return _AUTO_BATCH[(kind, modality)]


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an accelerator out-of-memory error worth retrying smaller."""
    torch = import_torch("the deep runtime")
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def n_rows(inputs: Any) -> int:
    """Rows in a batch: a tensor, or a dict of tensors sharing their first dimension."""
    if isinstance(inputs, dict):
        return len(next(iter(inputs.values())))
    return len(inputs)


def take_rows(inputs: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a tensor or of every tensor in a dict."""
    if isinstance(inputs, dict):
        return {k: v[start:stop] for k, v in inputs.items()}
    return inputs[start:stop]


class BatchRunner:
    """Run ``forward`` over batches, halving the chunk size on out-of-memory.

    Parameters
    ----------
    forward : callable
        Takes a batch already on the device and returns a ``(rows, d)`` tensor.
    runtime : Runtime
        Device, autocast dtype and memory format.
    batch_size : int
        Rows per forward call to start with.
    owner : str
        Named in errors and log lines.
    """

    def __init__(self, forward: Callable[[Any], Any], runtime: Runtime, batch_size: int, *, owner: str):
        self.forward = forward
        self.runtime = runtime
        self.batch_size = max(int(batch_size), 1)
        self.owner = owner
        self.n_backoffs = 0

    def __call__(self, batch: Any) -> np.ndarray:
        """Features of every row of ``batch`` (host or device tensors), as float32 NumPy."""
        torch = import_torch(self.owner)
        outputs, start, total = [], 0, n_rows(batch)
        with torch.inference_mode(), self.runtime.autocast():
            while start < total:
                stop = min(start + self.batch_size, total)
                try:
                    out = self.forward(take_rows(batch, start, stop))
                except Exception as exc:
                    if not is_out_of_memory(exc) or self.batch_size == 1:
                        raise
                    self._back_off(stop - start, torch)
                    continue  # retry the same rows, smaller
                outputs.append(out.float().cpu().numpy())
                start = stop
        return np.concatenate(outputs) if outputs else np.empty((0, 0), np.float32)

    def _back_off(self, rows: int, torch: Any) -> None:
        self.batch_size = max(min(self.batch_size, rows) // 2, 1)
        self.n_backoffs += 1
        if self.runtime.is_cuda:
            torch.cuda.empty_cache()
        if self.n_backoffs == 1:
            logger.info("%s: out of memory; batch size lowered to %d", self.owner, self.batch_size)


def prefetch(iterable: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Iterate ``iterable`` in a background thread, ``depth`` items ahead.

    On a GPU, the host work of the next batch (slicing, pinning, collating)
    then overlaps the forward pass of this one; torch releases the GIL while it
    waits for the device. Exceptions reach the consumer; stopping early stops
    the thread.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in iterable:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((done, None))
        except BaseException as exc:  # handed to the consumer
            q.put((done, exc))

    thread = threading.Thread(target=produce, name="sktransfer-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = q.get()
            if exc is not None:
                raise exc
            if item is done:
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(timeout=0.05)


def run_batches(
    runner: BatchRunner, batches: Iterable[tuple[np.ndarray, Any]], total: int, *, progress: bool, desc: str
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(row_indices, features)`` per loaded batch, with a tqdm bar if asked.

    On CUDA the batches are prepared one ahead in a background thread.
    """
    if runner.runtime.is_cuda:
        batches = prefetch(batches)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="item")
    try:
        for rows, batch in batches:
            feats = runner(batch)
            if bar is not None:
                bar.update(len(rows))
            yield rows, feats
    finally:
        if bar is not None:
            bar.close()
