"""The one training loop of the deep estimators: the step loop and the epoch loop.

Estimators describe *what* trains (parameter groups, the blocks opened at each
epoch, the batches, the loss); this module runs it, on two levels that other
estimators reuse with losses of their own:

- **Steps.** :func:`train_step` runs one optimisation step on the loss of one
  batch, computed by a callable ``batch_loss(batch) -> scalar tensor`` under
  autocast: the supervised loss of ``(inputs, targets)``
  (:func:`supervised_loss`), or one adding a term on, say, unlabelled target
  inputs carried in the same batch. :class:`Loop` runs the steps of an epoch
  (with a penalty such as :class:`L2SP`, gradient clipping and fp16 loss
  scaling) and evaluates.
- **Epochs.** :func:`run_epochs` opens the blocks of each epoch
  (:class:`Unfreezing`), trains one pass, validates, records one history row,
  keeps the best epoch (:class:`EarlyStopping`) and calls the epoch-end hooks
  (``Loop.on_epoch_end``, as skorch's callbacks do), any of which may stop it.

The optimiser is AdamW with a per-step warm-up and cosine schedule
(:func:`make_optimizer`); ``partial_fit`` keeps its learning rates
(:class:`ConstantSchedule`) and resumes its moments (:func:`resume_optimizer`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._runtime import Runtime
from .._torch import import_torch
from ._blocks import batchnorm_layers, named_block_parameters

logger = logging.getLogger(__name__)


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


class ConstantSchedule:
    """No schedule: ``partial_fit`` keeps the learning rates as they are."""

    def step(self) -> None:
        """Leave the learning rates unchanged."""


def resume_optimizer(optimizer: Any, saved: dict | None) -> None:
    """Load a previous partial_fit's optimizer state, keeping the current learning rates and decay.

    A state saved for other parameter groups (``set_params`` changed what
    trains) cannot be resumed; the optimizer then starts fresh.
    """
    if saved is None:
        return
    current = [{k: g[k] for k in ("lr", "weight_decay")} for g in optimizer.param_groups]
    try:
        optimizer.load_state_dict(saved)
    except ValueError:
        logger.info("partial_fit: the trained parameters changed; AdamW starts afresh")
        return
    for group, settings in zip(optimizer.param_groups, current):
        group.update(settings)


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


# -- steps ------------------------------------------------------------------------------------------
def supervised_loss(model: Any, loss_fn: Callable) -> Callable[[Any], Any]:
    """The loss of a batch ``(inputs, targets)``: ``loss_fn(model(inputs), targets)``, outputs in float32."""

    def batch_loss(batch: Any) -> Any:
        inputs, targets = batch[0], batch[1]
        return loss_fn(model(inputs).float(), targets)

    return batch_loss


def train_step(batch_loss: Callable[[Any], Any], batch: Any, optimizer: Any, scheduler: Any, runtime: Runtime, *,
               grad_clip: float | None = None, penalty: Callable[[], Any] | None = None, scaler: Any = None) -> Any:
    """One optimisation step on ``batch``; returns its loss (detached, without the penalty).

    Parameters
    ----------
    batch_loss : callable
        ``batch_loss(batch) -> scalar tensor``, run under the runtime's autocast.
    batch : object
        What ``batch_loss`` reads (e.g. ``(inputs, targets)``, or with target inputs too).
    optimizer, scheduler : torch optimizer and learning-rate scheduler
        Stepped once each.
    runtime : Runtime
        Device and autocast dtype.
    grad_clip : float or None, default=None
        Maximum norm of the gradients of the optimizer's parameters.
    penalty : callable or None, default=None
        ``penalty() -> scalar tensor`` added to the loss outside autocast (e.g. :class:`L2SP`).
    scaler : torch.amp.GradScaler or None, default=None
        Loss scaling (fp16).
    """
    torch = import_torch("training")
    with runtime.autocast():
        loss = batch_loss(batch)
    full = loss + penalty() if penalty is not None else loss
    optimizer.zero_grad(set_to_none=True)
    (scaler.scale(full) if scaler is not None else full).backward()
    if scaler is not None:
        scaler.unscale_(optimizer)
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(
            [p for g in optimizer.param_groups for p in g["params"] if p.grad is not None], grad_clip)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    scheduler.step()
    return loss.detach()


@dataclass
class Loop:
    """One training run's moving parts: the steps of an epoch, evaluation and the epoch-end hooks.

    Parameters
    ----------
    model : nn.Module
        Maps a prepared batch to outputs.
    loss_fn : callable
        ``loss_fn(outputs, targets) -> scalar tensor``: the loss of evaluation,
        and of training unless ``batch_loss`` is given.
    runtime : Runtime
        Device and autocast dtype.
    grad_clip : float or None
        Max gradient norm.
    penalty : callable or None
        Extra loss term (e.g. :class:`L2SP`).
    on_epoch_end : list of callable
        ``hook(record) -> bool`` after each epoch; True stops training.
    batch_loss : callable or None
        ``batch_loss(batch) -> scalar tensor`` for training batches; None is
        :func:`supervised_loss` on ``(inputs, targets)``. Each batch's loss
        weighs ``len(batch[1])`` rows in the epoch's mean.
    """

    model: Any
    loss_fn: Callable
    runtime: Runtime
    grad_clip: float | None = 1.0
    penalty: Callable | None = None
    on_epoch_end: list[Callable] = field(default_factory=list)
    batch_loss: Callable | None = None

    def train_epoch(self, batches: Iterable[Any], optimizer: Any, scheduler: Any) -> float:
        """One pass over ``batches`` (each ``(inputs, targets, ...)``); returns the mean loss per row."""
        torch = import_torch("training")
        batch_loss = self.batch_loss or supervised_loss(self.model, self.loss_fn)
        # fp16 (GPUs without bf16) needs loss scaling against gradient underflow; bf16 does not.
        scaler = torch.amp.GradScaler(self.runtime.device.type) if self.runtime.dtype == torch.float16 else None
        total, count = None, 0
        for batch in batches:
            loss = train_step(batch_loss, batch, optimizer, scheduler, self.runtime, grad_clip=self.grad_clip,
                              penalty=self.penalty, scaler=scaler)
            n = len(batch[1])
            # Summed on the device: reading the loss every step would wait for the GPU every step.
            total = loss * n if total is None else total + loss * n
            count += n
        return float(total) / count if count else 0.0

    def evaluate(self, batches: Iterable[tuple[Any, Any]]) -> tuple[float, np.ndarray]:
        """Mean loss and stacked float32 outputs over ``batches``, without gradients."""
        torch = import_torch("training")
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


# -- epochs -----------------------------------------------------------------------------------------
@dataclass
class Unfreezing:
    """Which backbone blocks of a fine-tuning network train at each epoch.

    The first ``head_epochs`` epochs train the head alone (when there are
    blocks); then every block opens at once, or one more per epoch, top first
    (``gradual``). A ``partial`` run (one ``partial_fit`` epoch) opens them all.
    Closed blocks have ``requires_grad=False``, so AdamW skips them.

    Parameters
    ----------
    blocks : list of list of Parameter
        The trainable blocks, top (output side) first.
    head_epochs : int, default=0
    gradual : bool, default=False
    partial : bool, default=False
    train_batchnorm : bool, default=False
        Whether the BatchNorm layers of the open blocks normalise with batch
        statistics (``batchnorm="train"``); otherwise the whole body stays in
        eval mode.
    """

    blocks: list[list[Any]]
    head_epochs: int = 0
    gradual: bool = False
    partial: bool = False
    train_batchnorm: bool = False

    def n_open(self, epoch: int) -> int:
        """How many trainable blocks (from the top) train at ``epoch``."""
        n_blocks = len(self.blocks)
        if self.partial:
            return n_blocks
        if n_blocks and epoch < self.head_epochs:
            return 0  # phase one: the new head alone
        if self.gradual:
            return min(n_blocks, epoch - (self.head_epochs if n_blocks else 0) + 1)
        return n_blocks

    def open(self, net: Any, epoch: int) -> int:
        """Set which blocks of ``net`` train at ``epoch`` (and their BatchNorm layers); returns how many."""
        n_open = self.n_open(epoch)
        for depth, params in enumerate(self.blocks):
            for p in params:
                p.requires_grad_(depth < n_open)
        if self.train_batchnorm and net.adapter is not None:
            net.training_norms = batchnorm_layers(net.body, set(named_block_parameters(net, self.blocks[:n_open])))
        return n_open

    def close(self, net: Any) -> None:
        """Freeze every block again and put all BatchNorm layers back in eval mode."""
        for params in self.blocks:
            for p in params:
                p.requires_grad_(False)
        net.training_norms = set()


def run_epochs(loop: Loop, optimizer: Any, scheduler: Any, *, epochs: int, unfreezing: Unfreezing,
               train_batches: Callable[[], Iterable[Any]], history: list[dict],
               validate: Callable[[], tuple[float, float]] | None = None, stopper: EarlyStopping | None = None,
               log: Callable[[dict], None] | None = None) -> None:
    """The epoch loop: open the epoch's blocks, train a pass, validate, record, stop; leave the model in eval mode.

    Parameters
    ----------
    loop : Loop
        The model, losses and hooks.
    optimizer, scheduler : torch optimizer and learning-rate scheduler
        Built once for the run (:func:`make_optimizer`).
    epochs : int
        The most epochs to run.
    unfreezing : Unfreezing
        The blocks open at each epoch.
    train_batches : callable
        ``train_batches()`` returns the training batches of one epoch (shuffled anew each call).
    history : list of dict
        Gets one record per epoch: ``epoch`` (counting from ``len(history)``),
        ``train_loss``, ``n_trainable_blocks``, ``lr`` (of the first group),
        ``val_loss`` and ``val_score`` with ``validate``, and ``seconds``.
    validate : callable or None, default=None
        ``validate() -> (loss, score)`` on held-out rows, after each epoch.
    stopper : EarlyStopping or None, default=None
        With ``validate``: keeps the best epoch's weights, stops after its
        patience and restores them at the end.
    log : callable or None, default=None
        ``log(record)`` after each epoch.
    """
    net = loop.model
    for epoch in range(epochs):
        n_open = unfreezing.open(net, epoch)
        net.train()
        start = time.perf_counter()
        loss = loop.train_epoch(train_batches(), optimizer, scheduler)
        record = {"epoch": len(history), "train_loss": loss, "n_trainable_blocks": n_open,
                  "lr": optimizer.param_groups[0]["lr"]}
        stop = False
        if validate is not None:
            val_loss, val_score = validate()
            record.update(val_loss=val_loss, val_score=val_score)
            if stopper is not None:
                stop = stopper.update(len(history), val_loss, net)
        record["seconds"] = time.perf_counter() - start
        history.append(record)
        if log is not None:
            log(record)
        if loop.end_epoch(record) or stop:
            break
    unfreezing.close(net)
    net.eval()
    if stopper is not None:
        stopper.restore(net)
