"""Reference training loops of ``benchmarks/finetune.py``, sharing nothing with ``sktransfer.deep``.

* :func:`tutorial_loop`: the PyTorch tutorial's loop ("Training a classifier",
  "Transfer learning for computer vision"): a ``DataLoader`` over a
  ``TensorDataset`` of decoded uint8 images, batch 32, shuffled; each batch
  converted to float and normalised on the CPU, then ``.to(device)``;
  ``model.train()``, fp32, ``optimizer.zero_grad()``, ``loss.backward()``,
  ``optimizer.step()``, ``running_loss += loss.item()``.
* :func:`tuned_loop`: the same training written for speed by hand, to show
  what the hardware allows: uint8 batches moved to the device from pinned
  memory and normalised there, channels-last, bf16 autocast, a large batch,
  and no host synchronisation inside the epoch (batches are contiguous
  slices, not shuffled: the benchmark's images are random). Its model runs
  in eval mode, as ``FineTuneClassifier``'s backbone does while it trains
  (BatchNorm uses its running statistics), so that it does the estimator's
  work and the gap between the two is the estimator's overhead.

Both return the wall time of every epoch (the device synchronised at its end)
and the mean loss of each epoch.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

TUTORIAL_BATCH = 32


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def tutorial_loop(model: Any, images: np.ndarray, labels: np.ndarray, device: Any, *, mean, std,
                  epochs: int, batch_size: int = TUTORIAL_BATCH, lr: float = 1e-3,
                  seed: int = 0) -> tuple[list[float], list[float]]:
    """Train ``model`` on NxHxWx3 uint8 ``images`` the tutorial way; returns (seconds, loss) per epoch."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    dataset = TensorDataset(torch.from_numpy(images).permute(0, 3, 1, 2), torch.from_numpy(labels))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    mean = torch.tensor(mean).view(1, 3, 1, 1)
    std = torch.tensor(std).view(1, 3, 1, 1)
    model = model.to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    seconds, losses = [], []
    for _ in range(epochs):
        _sync(device)
        start = time.perf_counter()
        model.train()
        running_loss, n = 0.0, 0
        for inputs, targets in loader:
            inputs = (inputs.float() / 255.0 - mean) / std  # ToTensor + Normalize, on the CPU
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, targets)
            loss.backward()
            optimizer.step()
            running_loss += loss.item() * len(targets)
            n += len(targets)
        _sync(device)
        seconds.append(time.perf_counter() - start)
        losses.append(running_loss / max(n, 1))
    return seconds, losses


def tuned_loop(model: Any, images: np.ndarray, labels: np.ndarray, device: Any, *, mean, std, epochs: int,
               batch_size: int, lr: float = 1e-3, precision: str = "bf16",
               seed: int = 0) -> tuple[list[float], list[float]]:
    """The same training, written for throughput (see the module docstring)."""
    import torch

    torch.manual_seed(seed)
    cuda = device.type == "cuda"
    x_host = torch.from_numpy(images)
    y_host = torch.from_numpy(labels)
    if cuda:
        x_host, y_host = x_host.pin_memory(), y_host.pin_memory()
    mean = torch.tensor(mean, device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(std, device=device).view(1, 3, 1, 1) * 255
    model = model.to(device).to(memory_format=torch.channels_last)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[precision]
    seconds, losses = [], []
    for _ in range(epochs):
        _sync(device)
        start = time.perf_counter()
        model.eval()  # BatchNorm on running statistics, as in FineTuneClassifier; gradients still flow
        total = torch.zeros((), device=device)
        for lo in range(0, len(x_host), batch_size):
            # contiguous slices, not shuffled: the images are random, so their order is moot, and a slice of
            # pinned memory copies asynchronously while the previous step runs
            rows = slice(lo, min(lo + batch_size, len(x_host)))
            x = x_host[rows].to(device, non_blocking=True)
            y = y_host[rows].to(device, non_blocking=True)
            x = ((x.permute(0, 3, 1, 2).float() - mean) / std).contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
                loss = criterion(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.detach() * len(y)
        _sync(device)
        seconds.append(time.perf_counter() - start)
        losses.append(float(total) / len(x_host))
    return seconds, losses
