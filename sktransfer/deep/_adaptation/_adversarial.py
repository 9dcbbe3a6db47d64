"""Domain-adversarial training (DANN): the domain discriminator and its loss on reversed features."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

from .._torch import import_torch
from ._inputs import check_coefficient, check_pair
from ._reversal import grad_reverse


def domain_discriminator(
    in_features: int, hidden: Sequence[int] = (1024, 1024), *, dropout: float = 0.5, random_state: int | None = None
) -> Any:
    """A multilayer perceptron that outputs one logit per row: the evidence that the row is a source row.

    ``Linear(in_features, hidden[0]) - ReLU - Dropout - ... - Linear(hidden[-1], 1)``,
    the discriminator of DANN and CDAN (two hidden layers of 1024 units for
    Office-31). It ends with a logit, not a sigmoid: ``dann_loss`` and
    ``cdan_loss`` apply a numerically stable binary cross-entropy on logits.

    Parameters
    ----------
    in_features : int
        Width of its input (the features for DANN; ``in_features * n_classes``,
        or the randomized width, for CDAN).
    hidden : sequence of int, default=(1024, 1024)
        Widths of the hidden layers; empty gives a logistic regression.
    dropout : float, default=0.5
        Dropout probability after each hidden layer, in [0, 1).
    random_state : int or None, default=None
        Seed of the initial weights (PyTorch's default initialisation), drawn
        without touching the global torch generator; ``None`` draws from it.

    Returns
    -------
    discriminator : torch.nn.Sequential
        Maps (n, in_features) to (n, 1) logits.

    References
    ----------
    Yaroslav Ganin, Evgeniya Ustinova, Hana Ajakan, Pascal Germain, Hugo Larochelle,
    François Laviolette, Mario Marchand and Victor Lempitsky (2016). Domain-adversarial
    training of neural networks. JMLR 17(59).

    Examples
    --------
    >>> import torch
    >>> from sktransfer.deep._adaptation._adversarial import domain_discriminator
    >>> net = domain_discriminator(8, hidden=(16,), random_state=0)
    >>> net(torch.zeros(3, 8)).shape
    torch.Size([3, 1])
    """
    owner = "domain_discriminator"
    widths = [in_features, *hidden]
    if any(isinstance(w, bool) or not isinstance(w, Integral) or w < 1 for w in widths):
        raise ValueError(f"{owner} needs in_features and every hidden width as ints >= 1; got {in_features!r}, "
                         f"hidden={tuple(hidden)!r}.")
    dropout = check_coefficient(dropout, "dropout", owner)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"{owner} needs dropout in [0, 1); got {dropout}.")
    if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, Integral)):
        raise TypeError(f"{owner} needs random_state as an int or None; got {random_state!r}.")
    torch = import_torch(owner)
    nn = torch.nn

    def build() -> Any:
        layers: list[Any] = []
        for n_in, n_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU(), nn.Dropout(dropout)]
        return nn.Sequential(*layers, nn.Linear(widths[-1], 1))

    if random_state is None:
        return build()
    with torch.random.fork_rng(devices=[]):  # the modules are built on the CPU
        torch.manual_seed(int(random_state))
        return build()


def dann_loss(discriminator: Any, fs: Any, ft: Any, coeff: float = 1.0) -> Any:
    r"""DANN's domain loss: the discriminator's cross-entropy on gradient-reversed features.

    .. math::

        \ell_{DANN} = \frac{1}{2} \left( \frac{1}{n_s} \sum_{i=1}^{n_s} -\log \sigma(D(R_\lambda(f^s_i)))
        + \frac{1}{n_t} \sum_{j=1}^{n_t} -\log\left(1 - \sigma(D(R_\lambda(f^t_j)))\right) \right),

    source rows labelled 1 and target rows 0 (as in the CDAN authors' code), each
    domain's mean cross-entropy weighted 1/2 whatever the batch sizes (equal
    sizes give the mean over the pooled batch). :math:`R_\lambda` is
    ``grad_reverse`` with :math:`\lambda` = ``coeff``: minimising this loss trains
    the discriminator to separate the domains and, through the reversed gradient,
    the features to make them indistinguishable (Ganin and Lempitsky 2015, eq. 9-10).

    Parameters
    ----------
    discriminator : callable
        Maps an (n, d) tensor to n logits, shape (n, 1) or (n,), e.g.
        ``domain_discriminator(d)``. Called once on the pooled batch.
    fs : torch.Tensor of shape (n_source, d)
        Source features.
    ft : torch.Tensor of shape (n_target, d)
        Target features, same dtype and device.
    coeff : float, default=1.0
        Factor of the reversed gradient, e.g. ``dann_schedule(progress)``.

    Returns
    -------
    loss : torch.Tensor
        A scalar tensor; ``log 2`` when the discriminator outputs 0 everywhere.

    References
    ----------
    Yaroslav Ganin and Victor Lempitsky (2015). Unsupervised domain adaptation by
    backpropagation. ICML 2015.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.deep._adaptation._adversarial import dann_loss
    >>> discriminator = torch.nn.Linear(2, 1)
    >>> with torch.no_grad():
    ...     _ = discriminator.weight.zero_(), discriminator.bias.zero_()
    >>> round(dann_loss(discriminator, torch.ones(3, 2), torch.zeros(5, 2)).item(), 4)
    0.6931
    """
    check_pair(fs, ft, ("fs", "ft"), "dann_loss")
    coeff = check_coefficient(coeff, "coeff", "dann_loss")
    torch = import_torch("dann_loss")
    logits = discriminator(grad_reverse(torch.cat([fs, ft]), coeff))
    return domain_cross_entropy(logits, fs.shape[0], ft.shape[0], "dann_loss")


def domain_cross_entropy(logits: Any, n_source: int, n_target: int, owner: str,
                         weights: tuple[Any, Any] | None = None) -> Any:
    """Binary cross-entropy of domain logits, source rows first (label 1), then target rows (label 0).

    Without ``weights``, half the mean over the source rows plus half the mean
    over the target rows; with ``weights`` (source, target), each summing to 1,
    half the weighted sum of each.
    """
    torch = import_torch(owner)
    if not torch.is_tensor(logits) or logits.numel() != n_source + n_target or logits.ndim > 2:
        shape = tuple(logits.shape) if torch.is_tensor(logits) else type(logits).__name__
        raise ValueError(
            f"{owner} needs the discriminator to return one logit per row, shape ({n_source + n_target}, 1) "
            f"or ({n_source + n_target},), for {n_source} source and {n_target} target rows; got {shape}. "
            f"End it with a Linear(..., 1) layer, as domain_discriminator does."
        )
    logits = logits.reshape(-1)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    source = bce(logits[:n_source], torch.ones_like(logits[:n_source]), reduction="none")
    target = bce(logits[n_source:], torch.zeros_like(logits[n_source:]), reduction="none")
    if weights is None:
        return 0.5 * (source.mean() + target.mean())
    return 0.5 * ((weights[0] * source).sum() + (weights[1] * target).sum())
