"""The distillation loss (Hinton et al. 2015), as a pure torch function and as the training loop's loss.

``alpha * T**2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged
over every row of the batch, plus ``(1 - alpha)`` times the cross-entropy of
the student's logits on the rows whose label is known (``-1`` marks the
others), averaged over those rows. The ``T**2`` keeps the gradient of the soft
term on the scale of the hard one when ``T`` changes (Hinton et al., section 2).
"""

from __future__ import annotations

from typing import Any

from .._torch import import_torch


def distillation_loss(student_logits: Any, teacher_logits: Any, labels: Any, *, temperature: float, alpha: float,
                      class_weight: Any = None) -> Any:
    """Hinton et al.'s distillation loss of one batch, a differentiable scalar tensor.

    Parameters
    ----------
    student_logits : torch.Tensor of shape (n_rows, n_classes)
        The student's logits.
    teacher_logits : torch.Tensor of shape (n_rows, n_classes)
        The teacher's logits (any per-row shift of them gives the same loss,
        so ``log(predict_proba)`` will do).
    labels : torch.Tensor of shape (n_rows,), int
        Class index of each row, ``-1`` where unknown: those rows get the
        distillation term only.
    temperature : float
        ``T > 0``; both distributions are ``softmax(logits / T)``.
    alpha : float
        Weight of the distillation term; ``1 - alpha`` weighs the cross-entropy.
    class_weight : torch.Tensor of shape (n_classes,) or None, default=None
        Weights of the classes in the cross-entropy (its mean is then the
        weighted mean, as ``torch.nn.CrossEntropyLoss`` takes it).

    Returns
    -------
    loss : torch.Tensor
        ``alpha * T**2 * KL + (1 - alpha) * CE``; the cross-entropy is 0 in a
        batch without a labelled row.
    """
    torch = import_torch("distillation")
    functional = torch.nn.functional
    t = float(temperature)
    kl = functional.kl_div(functional.log_softmax(student_logits / t, dim=1),
                           functional.log_softmax(teacher_logits / t, dim=1), reduction="batchmean",
                           log_target=True)
    known = labels >= 0
    safe = labels.clamp(min=0)
    per_row = functional.cross_entropy(student_logits, safe, weight=class_weight, reduction="none")
    row_weight = known.to(per_row.dtype) if class_weight is None else class_weight[safe] * known
    # Sums, not a boolean index: no host sync, and 0 (not NaN) when no row of the batch is labelled.
    ce = (per_row * known).sum() / row_weight.sum().clamp(min=1e-12)
    return alpha * t * t * kl + (1.0 - alpha) * ce


class DistillationLoss:
    """``loss(outputs, targets)`` for the training loop: targets pack the teacher's logits and the labels.

    ``targets`` has ``n_classes + 1`` columns: the teacher's logits, then the
    class index of the row (``-1`` where unknown) as a float. The training
    loop trains and validates with it (``Loop``'s ``loss_fn``), so early
    stopping watches the same loss.

    Parameters
    ----------
    temperature, alpha : float
        As in :func:`distillation_loss`.
    class_weight : torch.Tensor or None, default=None
        As in :func:`distillation_loss`.
    """

    def __init__(self, temperature: float, alpha: float, class_weight: Any = None):
        self.temperature, self.alpha, self.class_weight = temperature, alpha, class_weight

    def __call__(self, outputs: Any, targets: Any) -> Any:
        return distillation_loss(outputs, targets[:, :-1], targets[:, -1].long(), temperature=self.temperature,
                                 alpha=self.alpha, class_weight=self.class_weight)
