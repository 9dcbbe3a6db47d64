"""Minimum Class Confusion (MCC): how often a batch's predictions mix classes, on target rows."""

from __future__ import annotations

from typing import Any

from .._torch import import_torch
from ._inputs import check_coefficient, check_matrix


def mcc_loss(target_logits: Any, temperature: float = 2.5) -> Any:
    r"""Minimum Class Confusion loss of target predictions (Jin et al. 2020).

    With :math:`P = \mathrm{softmax}(Z / T)` the rescaled probabilities of the
    :math:`n` rows and :math:`C` classes (eq. 1), and :math:`H_i` the entropy of row :math:`i`,

    .. math::

        w_i = \frac{n \, (1 + e^{-H_i})}{\sum_k (1 + e^{-H_k})}, \qquad
        M = (P \odot w)^\top P, \qquad
        \tilde{M}_{jj'} = \frac{M_{jj'}}{\sum_{j''} M_{jj''}}, \qquad
        \ell_{MCC} = \frac{1}{C} \sum_j \sum_{j' \neq j} \tilde{M}_{jj'}
        = \frac{\sum_{jj'} \tilde{M}_{jj'} - \operatorname{tr} \tilde{M}}{C},

    the uncertainty reweighting (eq. 2-3), class correlation (eq. 4), category
    normalisation (eq. 5) and loss (eq. 6) of the paper. The weights are
    detached from the graph, as in the authors' code: the gradient flows
    through :math:`P` only.

    Parameters
    ----------
    target_logits : torch.Tensor of shape (n_target, n_classes)
        Logits (not probabilities) of target rows.
    temperature : float, default=2.5
        Temperature :math:`T` > 0 of the probability rescaling (2.5 in the paper).

    Returns
    -------
    loss : torch.Tensor
        A scalar tensor in [0, (C - 1) / C]: 0 when every row is certain and
        no two rows mix classes.

    Notes
    -----
    The entropy is computed exactly from the log-softmax; the authors' code adds
    :math:`10^{-5}` inside the logarithm. :math:`M` is symmetric, so normalising
    its rows or its columns (as the authors' broadcast does) gives the same loss.

    References
    ----------
    Ying Jin, Ximei Wang, Mingsheng Long and Jianmin Wang (2020). Minimum class
    confusion for versatile domain adaptation. ECCV 2020.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.deep._adaptation._confusion import mcc_loss
    >>> certain = torch.tensor([[50.0, 0.0], [0.0, 50.0]])
    >>> round(mcc_loss(certain).item(), 6)
    0.0
    >>> round(mcc_loss(torch.zeros(2, 2)).item(), 4)
    0.5
    """
    owner = "mcc_loss"
    check_matrix(target_logits, "target_logits", owner)
    temperature = check_coefficient(temperature, "temperature", owner, positive=True)
    torch = import_torch(owner)
    n, n_classes = target_logits.shape
    log_p = torch.log_softmax(target_logits / temperature, dim=1)
    p = log_p.exp()
    with torch.no_grad():
        w = 1.0 + torch.exp((p * log_p).sum(dim=1))  # 1 + exp(-H)
        w = n * w / w.sum()
    confusion = (p * w[:, None]).T @ p
    confusion = confusion / confusion.sum(dim=1, keepdim=True)
    return (confusion.sum() - confusion.trace()) / n_classes
