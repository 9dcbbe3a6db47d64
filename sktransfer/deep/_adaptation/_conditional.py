"""Conditional domain-adversarial training (CDAN, CDAN+E): the discriminator sees features x predictions."""

from __future__ import annotations

from numbers import Integral
from typing import Any

from .._torch import import_torch
from ._adversarial import domain_cross_entropy
from ._inputs import check_coefficient, check_pair
from ._reversal import grad_reverse

#: Largest ``in_features * n_classes`` the CDAN paper feeds to the discriminator as the full outer
#: product ("4096 is the largest number of units in typical deep networks"); above it, the paper
#: uses the randomized multilinear map (``random_multilinear_matrices``).
MULTILINEAR_MAX_FEATURES = 4096


def multilinear_map(features: Any, probabilities: Any, random_matrices: tuple[Any, Any] | None = None) -> Any:
    r"""CDAN's conditioning map of features :math:`f` and class probabilities :math:`g`.

    Without ``random_matrices``, the flattened outer product
    :math:`T_\otimes(f, g) = g \otimes f`, shape (n, n_classes * d), class-major
    (column ``c * d + j`` holds :math:`g_c f_j`, as ``torch.bmm(g[:, :, None], f[:, None, :])``
    in the authors' code). With ``random_matrices = (R_f, R_g)``, the randomized map
    :math:`T_\odot(f, g) = (f R_f) \odot (g R_g) / \sqrt{k}`, shape (n, k)
    (Long et al. 2018, eq. 6-7).

    Parameters
    ----------
    features : torch.Tensor of shape (n, d)
        Features.
    probabilities : torch.Tensor of shape (n, n_classes)
        Class probabilities of the same rows.
    random_matrices : (torch.Tensor, torch.Tensor) or None, default=None
        :math:`R_f` of shape (d, k) and :math:`R_g` of shape (n_classes, k), from
        ``random_multilinear_matrices``; moved to the device and dtype of ``features``.

    Returns
    -------
    mapped : torch.Tensor of shape (n, n_classes * d) or (n, k)

    Examples
    --------
    >>> import torch
    >>> from sktransfer.deep._adaptation._conditional import multilinear_map
    >>> multilinear_map(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.25, 0.75]]))
    tensor([[0.2500, 0.5000, 0.7500, 1.5000]])
    """
    n, d = features.shape
    n_classes = probabilities.shape[1]
    if random_matrices is None:
        return (probabilities[:, :, None] * features[:, None, :]).reshape(n, n_classes * d)
    rf, rg = random_matrices
    if rf.ndim != 2 or rg.ndim != 2 or rf.shape[0] != d or rg.shape[0] != n_classes or rf.shape[1] != rg.shape[1]:
        raise ValueError(
            f"multilinear_map needs random_matrices of shapes ({d}, k) and ({n_classes}, k) for {d} features "
            f"and {n_classes} classes; got {tuple(rf.shape)} and {tuple(rg.shape)}. Make them with "
            f"random_multilinear_matrices({d}, {n_classes})."
        )
    rf = rf.to(device=features.device, dtype=features.dtype)
    rg = rg.to(device=features.device, dtype=features.dtype)
    return (features @ rf) * (probabilities @ rg) / rf.shape[1] ** 0.5


def random_multilinear_matrices(
    in_features: int, n_classes: int, randomized_dim: int = 1024, *, random_state: int | None = None
) -> tuple[Any, Any]:
    """The fixed Gaussian matrices of CDAN's randomized multilinear map, drawn once per training run.

    Use them when ``in_features * n_classes > MULTILINEAR_MAX_FEATURES`` (4096, the
    paper's threshold); the discriminator then takes ``randomized_dim`` inputs
    (1024 in the authors' code).

    Parameters
    ----------
    in_features : int
        Width ``d`` of the features.
    n_classes : int
        Number of classes.
    randomized_dim : int, default=1024
        Output width ``k`` of the map.
    random_state : int or None, default=None
        Seed of a private ``torch.Generator`` (the global one is not touched);
        ``None`` seeds it from the operating system.

    Returns
    -------
    rf, rg : torch.Tensor
        float32 CPU tensors of shapes (in_features, randomized_dim) and
        (n_classes, randomized_dim), standard normal entries, ``rf`` drawn first.

    Examples
    --------
    >>> from sktransfer.deep._adaptation._conditional import random_multilinear_matrices
    >>> rf, rg = random_multilinear_matrices(256, 31, random_state=0)
    >>> tuple(rf.shape), tuple(rg.shape)
    ((256, 1024), (31, 1024))
    """
    sizes = (in_features, n_classes, randomized_dim)
    if any(isinstance(s, bool) or not isinstance(s, Integral) or s < 1 for s in sizes):
        raise ValueError(f"random_multilinear_matrices needs in_features, n_classes and randomized_dim as ints "
                         f">= 1; got {sizes}.")
    torch = import_torch("random_multilinear_matrices")
    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(int(random_state))
    rf = torch.randn((in_features, randomized_dim), generator=generator)
    rg = torch.randn((n_classes, randomized_dim), generator=generator)
    return rf, rg


def cdan_loss(
    discriminator: Any, fs: Any, ft: Any, ps: Any, pt: Any, coeff: float = 1.0, *,
    entropy_conditioning: bool = False, random_matrices: tuple[Any, Any] | None = None,
) -> Any:
    r"""CDAN's domain loss: the discriminator sees features conditioned on the class predictions.

    .. math::

        \ell_{CDAN} = \frac{1}{2} \left( \sum_{i=1}^{n_s} w^s_i \, \mathrm{BCE}(D(h^s_i), 1)
        + \sum_{j=1}^{n_t} w^t_j \, \mathrm{BCE}(D(h^t_j), 0) \right),
        \qquad h = R_\lambda(T(f, \bar{g})),

    with :math:`T` = ``multilinear_map``, :math:`\bar g` the probabilities detached
    from the graph and :math:`R_\lambda` = ``grad_reverse`` with :math:`\lambda` =
    ``coeff``: the reversed gradient reaches the features, scaled by the
    predictions, as in the authors' code. Without entropy conditioning (CDAN),
    :math:`w^s_i = 1/n_s` and :math:`w^t_j = 1/n_t`: each domain's mean
    cross-entropy weighs 1/2. With it (CDAN+E, eq. 9 of the paper), each row
    weighs :math:`1 + e^{-H(g)}` (:math:`H` the entropy of its prediction),
    normalised to sum to 1 within its domain; the normalisers are detached and
    the gradient through :math:`H` to the predictions is reversed (scaled by
    ``-coeff``), both as in the authors' code.

    Parameters
    ----------
    discriminator : callable
        Maps (n, n_classes * d) tensors (or (n, k) with ``random_matrices``) to n
        logits, e.g. ``domain_discriminator(n_classes * d)``. Called once on the pooled batch.
    fs, ft : torch.Tensor of shapes (n_source, d) and (n_target, d)
        Source and target features.
    ps, pt : torch.Tensor of shapes (n_source, n_classes) and (n_target, n_classes)
        Softmax probabilities of the same rows (the paper's :math:`g`), not logits.
    coeff : float, default=1.0
        Factor of the reversed gradient, e.g. ``dann_schedule(progress)``.
    entropy_conditioning : bool, default=False
        Weight rows by the certainty of their prediction (CDAN+E).
    random_matrices : (torch.Tensor, torch.Tensor) or None, default=None
        Use the randomized map with these matrices (``random_multilinear_matrices``);
        the paper does when ``d * n_classes > 4096`` (``MULTILINEAR_MAX_FEATURES``).

    Returns
    -------
    loss : torch.Tensor
        A scalar tensor; source rows are labelled 1, target rows 0.

    Notes
    -----
    The entropy is exact (:math:`0 \log 0 = 0`); the authors' code adds
    :math:`10^{-5}` inside the logarithm. skada's CDAN sums (not averages) the two
    domains' mean cross-entropies, labels source rows 0, and builds the map from
    the network's raw outputs without detaching them.

    References
    ----------
    Mingsheng Long, Zhangjie Cao, Jianmin Wang and Michael I. Jordan (2018).
    Conditional adversarial domain adaptation. NeurIPS 2018.

    Examples
    --------
    >>> import torch
    >>> from sktransfer.deep._adaptation._conditional import cdan_loss
    >>> def discriminator(h):
    ...     return h.sum(dim=1, keepdim=True)
    >>> fs, ft = torch.ones(2, 3), -torch.ones(2, 3)
    >>> p = torch.full((2, 2), 0.5)
    >>> round(cdan_loss(discriminator, fs, ft, p, p).item(), 4)
    0.0486
    """
    owner = "cdan_loss"
    check_pair(fs, ft, ("fs", "ft"), owner)
    check_pair(ps, pt, ("ps", "pt"), owner)
    for f, p, names in ((fs, ps, "fs and ps"), (ft, pt, "ft and pt")):
        if f.shape[0] != p.shape[0]:
            raise ValueError(f"{owner} needs one prediction per feature row, but {names} have "
                             f"{f.shape[0]} and {p.shape[0]} rows.")
    if ps.device != fs.device:
        raise ValueError(f"{owner} needs the features and the predictions on one device; got {fs.device} "
                         f"and {ps.device}.")
    coeff = check_coefficient(coeff, "coeff", owner)
    torch = import_torch(owner)
    ns, nt = fs.shape[0], ft.shape[0]
    g = torch.cat([ps, pt]).to(fs.dtype)
    mapped = multilinear_map(torch.cat([fs, ft]), g.detach(), random_matrices)
    logits = discriminator(grad_reverse(mapped, coeff))
    weights = None
    if entropy_conditioning:
        w = 1.0 + torch.exp(-grad_reverse(_entropy(g), coeff))
        weights = (w[:ns] / w[:ns].sum().detach(), w[ns:] / w[ns:].sum().detach())
    return domain_cross_entropy(logits, ns, nt, owner, weights)


def _entropy(p: Any) -> Any:
    """Row entropies of probabilities, 0 log 0 taken as 0 (the clamp keeps the log and its gradient finite)."""
    torch = import_torch("cdan_loss")
    return -(p * torch.log(p.clamp_min(torch.finfo(p.dtype).tiny))).sum(dim=1)
