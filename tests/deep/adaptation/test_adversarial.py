"""DANN: the domain discriminator builder and the loss, against a numpy cross-entropy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep._adaptation._adversarial import dann_loss, domain_discriminator


def linear_discriminator(w, b):
    """A float64 Linear(d, 1) with the given weights: its logits are x @ w + b."""
    layer = torch.nn.Linear(len(w), 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(np.asarray(w, dtype=np.float64)[None, :]))
        layer.bias.fill_(b)
    return layer


def numpy_dann(xs, xt, w, b):
    """Half the mean BCE of the source rows (label 1) plus half that of the target rows (label 0)."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    zs, zt = xs @ w + b, xt @ w + b
    return 0.5 * np.mean(-np.log(sig(zs))) + 0.5 * np.mean(-np.log(1 - sig(zt)))


def test_dann_loss_against_numpy_bce_unequal_batches():
    rng = np.random.default_rng(0)
    xs, xt = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)) + 0.5
    w, b = np.array([0.4, -1.2, 0.7]), 0.3
    loss = dann_loss(linear_discriminator(w, b), torch.tensor(xs), torch.tensor(xt), coeff=0.7)
    assert loss.item() == pytest.approx(numpy_dann(xs, xt, w, b), rel=1e-12)


def test_equal_batches_give_the_mean_over_the_pooled_batch():
    rng = np.random.default_rng(1)
    xs, xt = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    w, b = np.array([1.0, -0.5]), -0.2
    z = np.r_[xs @ w + b, xt @ w + b]
    labels = np.r_[np.ones(4), np.zeros(4)]
    pooled = np.mean(-(labels * np.log(1 / (1 + np.exp(-z))) + (1 - labels) * np.log(1 - 1 / (1 + np.exp(-z)))))
    assert dann_loss(linear_discriminator(w, b), torch.tensor(xs), torch.tensor(xt)).item() == pytest.approx(
        pooled, rel=1e-12)


def test_features_get_the_reversed_gradient_and_the_discriminator_the_plain_one():
    rng = np.random.default_rng(2)
    xs, xt = rng.normal(size=(3, 2)), rng.normal(size=(2, 2))
    w, b = np.array([0.8, -0.3]), 0.1
    grads = {}
    for coeff in (-1.0, 0.6):
        disc = linear_discriminator(w, b)
        a, c = torch.tensor(xs, requires_grad=True), torch.tensor(xt, requires_grad=True)
        dann_loss(disc, a, c, coeff=coeff).backward()
        grads[coeff] = (a.grad.numpy(), c.grad.numpy(), disc.weight.grad.numpy().copy())
    # coeff = -1 is the plain gradient of the loss; coeff reverses and scales it for the features only
    np.testing.assert_allclose(grads[0.6][0], -0.6 * grads[-1.0][0], rtol=1e-12)
    np.testing.assert_allclose(grads[0.6][1], -0.6 * grads[-1.0][1], rtol=1e-12)
    np.testing.assert_allclose(grads[0.6][2], grads[-1.0][2], rtol=1e-12)
    # the plain gradient by hand: d/dxs_i = -(1 - sig(z_i)) w / (2 ns), d/dxt_j = sig(z_j) w / (2 nt)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    np.testing.assert_allclose(grads[-1.0][0], -(1 - sig(xs @ w + b))[:, None] * w / 6, rtol=1e-12)
    np.testing.assert_allclose(grads[-1.0][1], sig(xt @ w + b)[:, None] * w / 4, rtol=1e-12)


def test_dann_gradcheck():
    rng = np.random.default_rng(3)
    disc = domain_discriminator(3, hidden=(4,), dropout=0.0, random_state=0).double()
    a = torch.tensor(rng.normal(size=(3, 3)), requires_grad=True)
    c = torch.tensor(rng.normal(size=(4, 3)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: dann_loss(disc, x, y, coeff=-1.0), (a, c))


def test_discriminator_layout():
    net = domain_discriminator(6, hidden=(5, 4), dropout=0.25, random_state=0)
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, torch.nn.Linear)] == [(6, 5), (5, 4), (4, 1)]
    assert net[2].p == 0.25
    assert net(torch.zeros(7, 6)).shape == (7, 1)
    logistic = domain_discriminator(3, hidden=())
    assert len(logistic) == 1 and logistic[0].in_features == 3
    default = domain_discriminator(2)
    assert [m.out_features for m in default if isinstance(m, torch.nn.Linear)] == [1024, 1024, 1]


def test_discriminator_seed_is_reproducible_and_leaves_the_global_generator():
    state = torch.random.get_rng_state()
    a = domain_discriminator(4, hidden=(3,), random_state=7)
    b = domain_discriminator(4, hidden=(3,), random_state=7)
    c = domain_discriminator(4, hidden=(3,), random_state=8)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize(("args", "kwargs", "error", "match"), [
    ((0,), {}, ValueError, "in_features and every hidden width as ints >= 1"),
    ((3, (4, 0)), {}, ValueError, "in_features and every hidden width"),
    ((3.0,), {}, ValueError, "in_features and every hidden width"),
    ((3,), {"dropout": 1.0}, ValueError, r"dropout in \[0, 1\)"),
    ((3,), {"random_state": 1.5}, TypeError, "random_state as an int or None"),
])
def test_discriminator_rejects_bad_parameters(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        domain_discriminator(*args, **kwargs)


def test_dann_loss_rejects_bad_inputs():
    disc = domain_discriminator(2, hidden=(3,))
    with pytest.raises(ValueError, match="as many columns"):
        dann_loss(disc, torch.zeros(2, 2), torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"one logit per row, shape \(4, 1\) or \(4,\).*got \(4, 2\)"):
        dann_loss(torch.nn.Linear(2, 2), torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="one logit per row.*got list"):
        dann_loss(lambda x: [0.0] * 4, torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(TypeError, match="coeff as a real number"):
        dann_loss(disc, torch.zeros(2, 2), torch.zeros(2, 2), coeff=None)


def test_one_dimensional_logits_are_accepted():
    xs, xt = torch.zeros(2, 3), torch.ones(3, 3)
    flat = dann_loss(lambda x: x.sum(dim=1), xs, xt)
    column = dann_loss(lambda x: x.sum(dim=1, keepdim=True), xs, xt)
    assert flat.item() == column.item()
