"""The multi-task network pieces: a shared trunk, one head per task, and the masked multi-task loss.

The task heads sit side by side in one module whose output is the
concatenation of their logits, so the fine-tuning network (``_finetune._net``:
``body`` then ``head``), its prediction runtime, its pickling and its
training loop see one output of ``sum(n_classes)`` columns; the loss and
``predict`` cut it back into tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

from .._finetune._net import build_head
from .._torch import import_torch


def shared_trunk(spec: Sequence[int], n_in: int, *, dropout: float, owner: str) -> tuple[list[Any], int]:
    """Linear-ReLU-Dropout blocks of widths ``spec`` on ``n_in`` inputs; returns the layers and the output width.

    An empty ``spec`` is no trunk: the heads read the body's features directly.
    """
    torch = import_torch(owner)
    if isinstance(spec, (str, bytes)) or not all(
            isinstance(h, Integral) and not isinstance(h, bool) and h > 0 for h in spec):
        raise ValueError(f"{owner}: shared must be a tuple of positive ints (hidden sizes of the shared layers), "
                         f"got {spec!r}.")
    layers: list[Any] = []
    width = n_in
    for h in spec:
        layers += [torch.nn.Linear(width, int(h)), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
        width = int(h)
    return layers, width


def task_heads(heads: Sequence[Any], n_in: int) -> Any:
    """One module holding ``heads`` (each reading ``n_in`` features), whose output is their logits side by side.

    ``in_features`` and ``out_features`` (the sum of the heads' outputs) are
    those a single last linear layer would have, which is what the
    fine-tuning network's prediction and pickling read.
    """
    torch = import_torch("multi-task fine-tuning")

    class TaskHeads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = torch.nn.ModuleList(heads)
            self.in_features = n_in

        @property
        def widths(self) -> list[int]:
            """Output columns of each task, in task order."""
            return [head[-1].out_features for head in self.heads]

        @property
        def out_features(self) -> int:
            return sum(self.widths)

        def add(self, head: Any) -> None:
            """Append the head of a new task (its columns come last)."""
            self.heads.append(head)

        def forward(self, x: Any) -> Any:
            return torch.cat([head(x) for head in self.heads], dim=1)

    return TaskHeads()


def multitask_head(shared: Sequence[int], head: Any, n_in: int, widths: Sequence[int], *, dropout: float,
                   owner: str) -> Any:
    """The network's head: the shared trunk, then one head per task (``build_head(head, ...)``) side by side."""
    torch = import_torch(owner)
    layers, width = shared_trunk(shared, n_in, dropout=dropout, owner=owner)
    heads = [build_head(head, width, int(n), dropout=dropout, owner=owner) for n in widths]
    return torch.nn.Sequential(*layers, task_heads(heads, width))


class MultiTaskLoss:
    """``sum_t weights[t] * CE_t``: each task's mean cross-entropy over the rows of the batch labelled for it.

    ``outputs`` are the tasks' logits side by side (``widths`` columns each)
    and ``targets`` a ``(n_rows, n_tasks)`` integer tensor of class indices,
    ``-1`` where a row has no label for a task. A task with no labelled row
    in the batch adds 0 (not NaN), and an unlabelled entry adds nothing to
    its task, neither to the sum nor to the count.

    Parameters
    ----------
    widths : sequence of int
        Classes of each task.
    weights : sequence of float
        Weight of each task's term.
    """

    def __init__(self, widths: Sequence[int], weights: Sequence[float]):
        self.widths, self.weights = [int(w) for w in widths], [float(w) for w in weights]

    def __call__(self, outputs: Any, targets: Any) -> Any:
        torch = import_torch("multi-task fine-tuning")
        total = outputs.new_zeros(())
        start = 0
        for t, (width, weight) in enumerate(zip(self.widths, self.weights)):
            logits, start = outputs[:, start:start + width], start + width
            if weight == 0:
                continue
            y = targets[:, t]
            labelled = (y >= 0).to(logits.dtype)
            # Unlabelled entries read class 0 and are multiplied by 0: no data-dependent indexing, no host sync.
            ce = torch.nn.functional.cross_entropy(logits, y.clamp(min=0), reduction="none")
            total = total + weight * (ce * labelled).sum() / labelled.sum().clamp(min=1)
        return total
