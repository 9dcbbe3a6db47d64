"""CDAN(+E): the multilinear maps and the loss, against numpy with a fixed linear discriminator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep._adaptation._adversarial import domain_discriminator
from sktransfer.deep._adaptation._conditional import (
    MULTILINEAR_MAX_FEATURES,
    cdan_loss,
    multilinear_map,
    random_multilinear_matrices,
)

from .test_adversarial import linear_discriminator


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def outer_rows(f, p):
    """Row i: [p_i0 f_i0, ..., p_i0 f_i(d-1), p_i1 f_i0, ...] (class-major), written as loops."""
    n, d = f.shape
    return np.array([[p[i, c] * f[i, j] for c in range(p.shape[1]) for j in range(d)] for i in range(n)])


def numpy_cdan(xs, xt, ps, pt, w, b, *, entropy=False, rand=None):
    if rand is None:
        hs, ht = outer_rows(xs, ps), outer_rows(xt, pt)
    else:
        rf, rg = rand
        hs = (xs @ rf) * (ps @ rg) / np.sqrt(rf.shape[1])
        ht = (xt @ rf) * (pt @ rg) / np.sqrt(rf.shape[1])
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    bs, bt = -np.log(sig(hs @ w + b)), -np.log(1 - sig(ht @ w + b))
    if not entropy:
        return 0.5 * (bs.mean() + bt.mean())
    ws, wt = entropy_weights(ps), entropy_weights(pt)
    return 0.5 * (np.sum(ws / ws.sum() * bs) + np.sum(wt / wt.sum() * bt))


def entropy_weights(p):
    """CDAN+E: 1 + exp(-H(p)), before the per-domain normalisation."""
    return 1 + np.exp(np.sum(p * np.log(p), axis=1))


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(4, 3)), rng.normal(size=(3, 3)) + 0.4
    ps, pt = softmax(rng.normal(size=(4, 2)) * 2), softmax(rng.normal(size=(3, 2)) * 2)
    w = rng.normal(size=6) * 0.5
    return xs, xt, ps, pt, w, -0.2


def test_multilinear_map_shape_and_order():
    f = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]])
    p = np.array([[0.2, 0.8], [0.6, 0.4]])
    out = multilinear_map(torch.tensor(f), torch.tensor(p))
    assert out.shape == (2, 6)
    np.testing.assert_allclose(out.numpy(), outer_rows(f, p), rtol=1e-15)
    # the authors' layout: torch.bmm(g.unsqueeze(2), f.unsqueeze(1)).view(n, -1)
    bmm = torch.bmm(torch.tensor(p).unsqueeze(2), torch.tensor(f).unsqueeze(1)).view(2, -1)
    assert torch.equal(out, bmm)


def test_randomized_map_by_hand():
    rng = np.random.default_rng(1)
    f, p = rng.normal(size=(3, 4)), softmax(rng.normal(size=(3, 2)))
    rf, rg = random_multilinear_matrices(4, 2, 5, random_state=0)
    out = multilinear_map(torch.tensor(f), torch.tensor(p), (rf, rg))
    rf64, rg64 = rf.double().numpy(), rg.double().numpy()
    expected = np.array([[(f[i] @ rf64[:, k]) * (p[i] @ rg64[:, k]) / np.sqrt(5) for k in range(5)] for i in range(3)])
    assert out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_random_matrices_seeded_privately():
    state = torch.random.get_rng_state()
    rf, rg = random_multilinear_matrices(3, 2, 4, random_state=5)
    rf2, rg2 = random_multilinear_matrices(3, 2, 4, random_state=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(rf, rf2) and torch.equal(rg, rg2)
    assert rf.shape == (3, 4) and rg.shape == (2, 4) and rf.dtype == torch.float32
    # rf is drawn first from a generator seeded with random_state (as skada's randomized layer does)
    gen = torch.Generator().manual_seed(5)
    assert torch.equal(rf, torch.randn((3, 4), generator=gen))
    assert torch.equal(rg, torch.randn((2, 4), generator=gen))
    unseeded = random_multilinear_matrices(3, 2, 4)[0]
    assert torch.equal(torch.random.get_rng_state(), state) and unseeded.shape == (3, 4)
    assert MULTILINEAR_MAX_FEATURES == 4096


@pytest.mark.parametrize("entropy", [False, True])
def test_cdan_value_against_numpy(batch, entropy):
    xs, xt, ps, pt, w, b = batch
    loss = cdan_loss(linear_discriminator(w, b), *map(torch.tensor, (xs, xt, ps, pt)), coeff=0.5,
                     entropy_conditioning=entropy)
    assert loss.item() == pytest.approx(numpy_cdan(xs, xt, ps, pt, w, b, entropy=entropy), rel=1e-12)


def test_cdan_randomized_value_against_numpy(batch):
    xs, xt, ps, pt, _, b = batch
    rf, rg = random_multilinear_matrices(3, 2, 8, random_state=1)
    w = np.random.default_rng(2).normal(size=8) * 0.3
    loss = cdan_loss(linear_discriminator(w, b), *map(torch.tensor, (xs, xt, ps, pt)), random_matrices=(rf, rg),
                     entropy_conditioning=True)
    rand = (rf.double().numpy(), rg.double().numpy())
    assert loss.item() == pytest.approx(numpy_cdan(xs, xt, ps, pt, w, b, entropy=True, rand=rand), rel=1e-12)


def test_entropy_weights_certain_rows_weigh_more():
    """w = 1 + exp(-H): 2 for a one-hot row, 1 + 1/C for a uniform one; normalised per domain."""
    p = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(p * np.log(p), axis=1)
    np.testing.assert_allclose(1 + np.exp(-h), [2.0, 4 / 3])
    # through cdan_loss: a discriminator that is certain and wrong on the first row only
    fs = torch.tensor([[1.0], [0.0]], dtype=torch.float64)
    ft = torch.zeros(1, 1, dtype=torch.float64)
    loss = cdan_loss(lambda h: -10 * h.sum(dim=1), fs, ft, torch.tensor(p), torch.full((1, 3), 1 / 3,
                     dtype=torch.float64), entropy_conditioning=True)
    bce = np.log1p(np.exp(10.0))  # row 1's logit is -10, label 1; others have logit 0
    ws = np.array([2.0, 4 / 3]) / (2.0 + 4 / 3)
    assert loss.item() == pytest.approx(0.5 * (ws[0] * bce + ws[1] * np.log(2)) + 0.5 * np.log(2), rel=1e-12)


def test_gradients_follow_the_authors_code(batch):
    """Features get the reversed gradient through the map; predictions get none there (detached),
    and with CDAN+E the reversed gradient through the entropy weights, normalisers held fixed."""
    xs, xt, ps, pt, w, b = batch
    coeff = 0.8
    tensors = [torch.tensor(a, requires_grad=True) for a in (xs, xt, ps, pt)]
    cdan_loss(linear_discriminator(w, b), *tensors, coeff=coeff).backward()
    assert tensors[2].grad is None and tensors[3].grad is None

    tensors = [torch.tensor(a, requires_grad=True) for a in (xs, xt, ps, pt)]
    cdan_loss(linear_discriminator(w, b), *tensors, coeff=coeff, entropy_conditioning=True).backward()
    # by hand: d/dp_ik of 0.5 * w(p_i) / S * bce_i, with dw/dp_k = exp(-H) (log p_k + 1), then times -coeff
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    for p, x, bce in ((ps, xs, lambda z: -np.log(sig(z))), (pt, xt, lambda z: -np.log(1 - sig(z)))):
        z = outer_rows(x, p) @ w + b
        wts = entropy_weights(p)
        dw = (wts - 1)[:, None] * (np.log(p) + 1)
        expected = -coeff * 0.5 * bce(z)[:, None] / wts.sum() * dw
        got = tensors[2].grad if p is ps else tensors[3].grad
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("entropy", [False, True])
def test_cdan_gradcheck_features(batch, entropy):
    xs, xt, ps, pt, _, _ = batch
    disc = domain_discriminator(6, hidden=(4,), dropout=0.0, random_state=0).double()
    fs, ft = torch.tensor(xs, requires_grad=True), torch.tensor(xt, requires_grad=True)
    p_s, p_t = torch.tensor(ps), torch.tensor(pt)
    assert torch.autograd.gradcheck(
        lambda a, c: cdan_loss(disc, a, c, p_s, p_t, coeff=-1.0, entropy_conditioning=entropy), (fs, ft))


def test_cdan_rejects_bad_inputs():
    f, p = torch.zeros(2, 3), torch.full((2, 2), 0.5)
    disc = domain_discriminator(6, hidden=())
    with pytest.raises(ValueError, match="ps and pt column by column, so they need as many columns; got 2 and 3"):
        cdan_loss(disc, f, f, p, torch.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="one prediction per feature row, but ft and pt have 2 and 3 rows"):
        cdan_loss(disc, f, f, p, torch.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="features and the predictions on one device"):
        cdan_loss(disc, f, f, torch.zeros(2, 2, device="meta"), torch.zeros(2, 2, device="meta"))
    with pytest.raises(ValueError, match=r"random_matrices of shapes \(3, k\) and \(2, k\)"):
        cdan_loss(disc, f, f, p, p, random_matrices=(torch.zeros(3, 4), torch.zeros(2, 5)))
    with pytest.raises(ValueError, match=r"one logit per row, shape \(4, 1\)"):
        cdan_loss(torch.nn.Linear(6, 2), f, f, p, p)
    with pytest.raises(ValueError, match=r"randomized_dim as ints >= 1; got \(3, 2, 0\)"):
        random_multilinear_matrices(3, 2, 0)
