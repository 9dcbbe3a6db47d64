"""The one fine-tuning loop: optimiser, schedule, penalty, epochs, early stopping.

Estimators describe *what* trains (parameter groups, which blocks are
unfrozen at which epoch); this module runs it. Hooks (``on_epoch_end``) let a
caller record history or stop, as skorch's callbacks do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._runtime import Runtime
from ._torch import import_torch


def warmup_cosine(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up over ``warmup`` steps, then cosine decay to 0."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def make_optimizer(groups: list[dict], *, weight_decay: float, total_steps: int, warmup_fraction: float):
    """AdamW over ``groups`` (each with its own ``lr``) and a per-step warm-up + cosine schedule."""
    torch = import_torch("fine-tuning")
    optimizer = torch.optim.AdamW(groups, weight_decay=weight_decay, fused=fused_on(groups))
    warmup = int(round(warmup_fraction * total_steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, total_steps, warmup))
    return optimizer, scheduler


def fused_on(groups: list[dict]) -> bool | None:
    """True when every parameter is on a CUDA device: AdamW then updates them all in one fused kernel.

    None (torch's default, the per-device ``foreach`` loop) elsewhere.
    """
    params = [p for g in groups for p in g["params"]]
    return True if params and all(p.is_cuda for p in params) else None


def host_copy(state: Any) -> Any:
    """``state`` (a tensor, or dicts and lists of them) with every tensor copied to the CPU.

    What outlives a training run (the best epoch's weights, the optimizer's
    moments) is kept this way: off the device, and loadable on any machine.
    """
    if hasattr(state, "detach"):
        return state.detach().to("cpu", copy=True)
    if isinstance(state, dict):
        return {k: host_copy(v) for k, v in state.items()}
    if isinstance(state, list):
        return [host_copy(v) for v in state]
    return state


class L2SP:
    """Li et al.'s L2-SP penalty: ``alpha/2 ||w - w0||^2`` on backbone weights, ``beta/2 ||w||^2`` on the head.

    ``w0`` are the pretrained values ``start`` (by name), or the current values
    when the penalty is built if ``start`` is None.
    """

    def __init__(self, backbone_params: dict[str, Any], head_params: Iterable[Any], alpha: float, beta: float,
                 start: dict[str, Any] | None = None):
        self.start = {n: (p if start is None else start[n]).detach().to(p.device, copy=True)
                      for n, p in backbone_params.items()}
        self.backbone_params = backbone_params
        self.head_params = list(head_params)
        self.alpha, self.beta = alpha, beta

    def __call__(self) -> Any:
        total = 0.0
        for name, p in self.backbone_params.items():
            if p.requires_grad:
                total = total + 0.5 * self.alpha * (p - self.start[name]).pow(2).sum()
        for p in self.head_params:
            total = total + 0.5 * self.beta * p.pow(2).sum()
        return total


@dataclass
class EarlyStopping:
    """Keep the state of the epoch with the best validation loss; stop after ``patience`` worse ones."""

    patience: int
    best_loss: float = float("inf")
    best_epoch: int = -1
    best_state: dict | None = None
    bad_epochs: int = 0

    def update(self, epoch: int, loss: float, model: Any) -> bool:
        """Record an epoch; returns True when training should stop."""
        if loss < self.best_loss - 1e-12:
            self.best_loss, self.best_epoch, self.bad_epochs = loss, epoch, 0
            self.best_state = host_copy(model.state_dict())
            return False
        self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def restore(self, model: Any) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


@dataclass
class Loop:
    """One training run's moving parts.

    Parameters
    ----------
    model : nn.Module
        Maps a prepared batch to outputs.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``.
    runtime : Runtime
        Device and autocast dtype.
    grad_clip : float or None
        Max gradient norm.
    penalty : callable or None
        Extra loss term (e.g. :class:`L2SP`).
    """

    model: Any
    loss_fn: Callable
    runtime: Runtime
    grad_clip: float | None = 1.0
    penalty: Callable | None = None
    on_epoch_end: list[Callable] = field(default_factory=list)

    def train_epoch(self, batches: Iterable[tuple[Any, Any]], optimizer: Any, scheduler: Any) -> float:
        """One pass over ``batches`` of ``(prepared inputs, targets)``; returns the mean loss."""
        torch = import_torch("fine-tuning")
        # fp16 (GPUs without bf16) needs loss scaling against gradient underflow; bf16 does not.
        scaler = torch.amp.GradScaler(self.runtime.device.type) if self.runtime.dtype == torch.float16 else None
        total, count = None, 0
        for inputs, targets in batches:
            with self.runtime.autocast():
                outputs = self.model(inputs)
                loss = self.loss_fn(outputs.float(), targets)
            full = loss + self.penalty() if self.penalty is not None else loss
            optimizer.zero_grad(set_to_none=True)
            (scaler.scale(full) if scaler is not None else full).backward()
            if scaler is not None:
                scaler.unscale_(optimizer)
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(
                    [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None], self.grad_clip)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            scheduler.step()
            n = len(targets)
            # Summed on the device: reading the loss every step would wait for the GPU every step.
            total = loss.detach() * n if total is None else total + loss.detach() * n
            count += n
        return float(total) / count if count else 0.0

    def evaluate(self, batches: Iterable[tuple[Any, Any]]) -> tuple[float, np.ndarray]:
        """Mean loss and stacked float32 outputs over ``batches``, without gradients."""
        torch = import_torch("fine-tuning")
        was_training = self.model.training
        self.model.eval()
        outs, total, count = [], 0.0, 0
        with torch.inference_mode(), self.runtime.autocast():
            for inputs, targets in batches:
                out = self.model(inputs).float()
                total += float(self.loss_fn(out, targets)) * len(targets)
                count += len(targets)
                outs.append(out.cpu().numpy())
        self.model.train(was_training)
        return total / max(count, 1), np.concatenate(outs)

    def end_epoch(self, record: dict) -> bool:
        """Run the hooks; any returning True stops training."""
        return any(bool(hook(record)) for hook in self.on_epoch_end)
