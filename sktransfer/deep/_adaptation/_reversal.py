"""Gradient reversal (Ganin and Lempitsky 2015) and the schedule of its coefficient."""

from __future__ import annotations

import functools
import math
from typing import Any

from .._torch import import_torch
from ._inputs import check_coefficient


@functools.cache
def _gradient_reversal_class() -> Any:
    """Build the autograd Function once, on first use, so that importing this module needs no torch."""
    torch = import_torch("grad_reverse")

    class GradientReversal(torch.autograd.Function):
        """Identity on the forward pass; multiplies the gradient by ``-coeff`` on the backward pass."""

        @staticmethod
        def forward(ctx: Any, x: Any, coeff: float) -> Any:
            ctx.coeff = coeff
            return x.view_as(x)

        @staticmethod
        def backward(ctx: Any, grad_output: Any) -> tuple[Any, None]:
            return grad_output * -ctx.coeff, None

    return GradientReversal


def __getattr__(name: str) -> Any:
    # ``GradientReversal`` is importable by name (``GradientReversal.apply(x, coeff)``) without
    # importing torch at module import
    if name == "GradientReversal":
        return _gradient_reversal_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def grad_reverse(x: Any, coeff: float = 1.0) -> Any:
    r"""Gradient reversal layer: the identity forward, :math:`-\lambda` times the gradient backward.

    .. math::

        R_\lambda(x) = x, \qquad \frac{\partial R_\lambda}{\partial x} = -\lambda I.

    Placed between a feature extractor and a domain discriminator, one
    minimisation trains the discriminator to tell the domains apart and the
    feature extractor to confuse it (Ganin and Lempitsky 2015, sec. 3.2).

    Parameters
    ----------
    x : torch.Tensor
        Any tensor.
    coeff : float, default=1.0
        The factor :math:`\lambda` of the reversed gradient, usually ``dann_schedule(progress)``.
        ``coeff=-1`` passes the gradient unchanged (useful to check the rest of a graph).

    Returns
    -------
    y : torch.Tensor
        A view of ``x`` with the same values.

    References
    ----------
    Yaroslav Ganin and Victor Lempitsky (2015). Unsupervised domain adaptation by
    backpropagation. ICML 2015.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.deep._adaptation._reversal import grad_reverse
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> grad_reverse(x, 0.5).sum().backward()
    >>> x.grad
    tensor([-0.5000, -0.5000])
    """
    coeff = check_coefficient(coeff, "coeff", "grad_reverse")
    torch = import_torch("grad_reverse")
    if not torch.is_tensor(x):
        raise TypeError(f"grad_reverse takes a torch tensor; got {type(x).__name__}.")
    return _gradient_reversal_class().apply(x, coeff)


def dann_schedule(progress: float, gamma: float = 10.0) -> float:
    r"""The DANN coefficient of the reversed gradient, rising from 0 to nearly 1 over training.

    .. math::

        \lambda_p = \frac{2}{1 + \exp(-\gamma p)} - 1,

    with :math:`p` the training progress, from 0 (start) to 1 (end), and
    :math:`\gamma = 10` in the paper (Ganin and Lempitsky 2015, sec. 5.2.2). The
    slow start keeps the discriminator's noisy early gradients away from the features.

    Parameters
    ----------
    progress : float
        Share of training done, in [0, 1] (e.g. step / total steps).
    gamma : float, default=10.0
        Steepness, >= 0; 0 keeps the coefficient at 0.

    Returns
    -------
    coeff : float
        In [0, 1): 0 at ``progress=0``, 0.99991 at ``progress=1`` with ``gamma=10``.

    References
    ----------
    Yaroslav Ganin and Victor Lempitsky (2015). Unsupervised domain adaptation by
    backpropagation. ICML 2015.

    Examples
    --------
    >>> from sktransfer.deep._adaptation._reversal import dann_schedule
    >>> dann_schedule(0.0), round(dann_schedule(1.0), 5)
    (0.0, 0.99991)
    """
    progress = check_coefficient(progress, "progress", "dann_schedule")
    gamma = check_coefficient(gamma, "gamma", "dann_schedule")
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"dann_schedule needs progress in [0, 1] (share of training done); got {progress}.")
    if gamma < 0:
        raise ValueError(f"dann_schedule needs gamma >= 0; got {gamma}.")
    return 2.0 / (1.0 + math.exp(-gamma * progress)) - 1.0
