"""Deep CORAL and multi-kernel MMD against hand computations in numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep._adaptation._divergence import coral_loss, mmd_loss


def _t(a):
    return torch.tensor(np.asarray(a, dtype=np.float64))


def test_coral_on_3x2_matrices_by_hand():
    """Sun and Saenko (2016), eq. 1-3, written out for two 3 x 2 batches."""
    xs = np.array([[1.0, 2.0], [3.0, 0.0], [2.0, 4.0]])
    xt = np.array([[0.0, 1.0], [1.0, 1.0], [5.0, -1.0]])

    def cov(x):  # unbiased, entry by entry
        m = x.mean(axis=0)
        return np.array([[sum((x[k, i] - m[i]) * (x[k, j] - m[j]) for k in range(3)) / 2 for j in range(2)]
                         for i in range(2)])

    expected = ((cov(xs) - cov(xt)) ** 2).sum() / (4 * 2**2)
    assert cov(xs)[0, 1] == pytest.approx(-1.0)  # the hand formula itself: (-1*0 + 1*-2 + 0*2) / 2
    assert coral_loss(_t(xs), _t(xt)).item() == pytest.approx(expected, rel=1e-12)


def test_coral_zero_between_translated_domains_and_symmetric():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(6, 3))
    assert coral_loss(_t(xs), _t(xs + 5.0)).item() == pytest.approx(0.0, abs=1e-12)
    xt = rng.normal(size=(4, 3)) * 2
    assert coral_loss(_t(xs), _t(xt)).item() == pytest.approx(coral_loss(_t(xt), _t(xs)).item(), rel=1e-12)


def test_coral_gradcheck():
    rng = np.random.default_rng(1)
    xs = _t(rng.normal(size=(4, 3))).requires_grad_()
    xt = _t(rng.normal(size=(5, 3))).requires_grad_()
    assert torch.autograd.gradcheck(coral_loss, (xs, xt))


def _mmd_double_loop(xs, xt, bandwidths):
    """Biased MMD^2 with k(x, y) = sum_m exp(-|x - y|^2 / b_m), one pair at a time."""
    def k(a, b):
        return sum(np.exp(-np.sum((a - b) ** 2) / bw) for bw in bandwidths)

    ns, nt = len(xs), len(xt)
    ss = sum(k(xs[i], xs[j]) for i in range(ns) for j in range(ns)) / ns**2
    tt = sum(k(xt[i], xt[j]) for i in range(nt) for j in range(nt)) / nt**2
    st = sum(k(xs[i], xt[j]) for i in range(ns) for j in range(nt)) / (ns * nt)
    return ss + tt - 2 * st


def test_mmd_fixed_sigma_against_double_loop():
    rng = np.random.default_rng(2)
    xs, xt = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)) + 0.7
    # kernel_num=5, kernel_mul=2: bandwidths sigma * 2^(m - 2), m = 0..4
    expected = _mmd_double_loop(xs, xt, [1.5 * 2.0 ** (m - 2) for m in range(5)])
    assert mmd_loss(_t(xs), _t(xt), sigma=1.5).item() == pytest.approx(expected, rel=1e-10)
    expected3 = _mmd_double_loop(xs, xt, [0.8 * 3.0 ** (m - 1) for m in range(3)])
    assert mmd_loss(_t(xs), _t(xt), kernel_mul=3.0, kernel_num=3, sigma=0.8).item() == pytest.approx(expected3,
                                                                                                     rel=1e-10)


def test_mmd_default_sigma_is_mean_distinct_pair_distance_and_carries_the_gradient():
    rng = np.random.default_rng(3)
    xs, xt = rng.normal(size=(4, 2)), rng.normal(size=(3, 2)) + 1.0
    pooled = np.vstack([xs, xt])
    n = len(pooled)
    sigma = sum(np.sum((pooled[i] - pooled[j]) ** 2) for i in range(n) for j in range(n) if i != j) / (n * n - n)
    expected = _mmd_double_loop(xs, xt, [sigma * 2.0 ** (m - 2) for m in range(5)])
    a, b = _t(xs).requires_grad_(), _t(xt).requires_grad_()
    loss = mmd_loss(a, b)
    assert loss.item() == pytest.approx(expected, rel=1e-10)
    loss.backward()
    # the loss is scale invariant: its gradient is orthogonal to scaling every feature (Euler's theorem
    # for a function homogeneous of degree 0), so shrinking the features never lowers it ...
    radial = float((a.grad * a).sum() + (b.grad * b).sum())
    assert radial == pytest.approx(0.0, abs=1e-12)
    assert mmd_loss(3.7 * _t(xs), 3.7 * _t(xt)).item() == pytest.approx(expected, rel=1e-10)
    # ... while with the bandwidth held constant (the authors' detached form) it does: a shrink direction
    a2, b2 = _t(xs).requires_grad_(), _t(xt).requires_grad_()
    mmd_loss(a2, b2, sigma=float(sigma)).backward()
    assert float((a2.grad * a2).sum() + (b2.grad * b2).sum()) > 1e-3


def test_mmd_zero_for_equal_batches_and_finite_for_constant_rows():
    rng = np.random.default_rng(4)
    x = _t(rng.normal(size=(5, 3)))
    assert mmd_loss(x, x.clone()).item() == pytest.approx(0.0, abs=1e-12)
    same = torch.ones(4, 3)
    assert mmd_loss(same, same.clone()).item() == 0.0


def test_mmd_gradcheck():
    rng = np.random.default_rng(5)
    xs = _t(rng.normal(size=(4, 3))).requires_grad_()
    xt = _t(rng.normal(size=(3, 3)) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: mmd_loss(a, b, sigma=2.0), (xs, xt))


def test_float32_agrees_with_float64():
    rng = np.random.default_rng(6)
    xs, xt = rng.normal(size=(8, 4)) + 100.0, rng.normal(size=(6, 4)) + 100.5
    for f in (coral_loss, mmd_loss):
        lo = f(torch.tensor(xs, dtype=torch.float32), torch.tensor(xt, dtype=torch.float32)).item()
        assert lo == pytest.approx(f(_t(xs), _t(xt)).item(), rel=1e-4)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"kernel_num": 0}, "kernel_num as an int >= 1"),
    ({"kernel_num": 2.0}, "kernel_num as an int >= 1"),
    ({"kernel_mul": 0.0}, "kernel_mul > 0"),
    ({"sigma": -1.0}, "sigma > 0"),
    ({"sigma": float("nan")}, "finite sigma"),
])
def test_mmd_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mmd_loss(torch.zeros(2, 2), torch.ones(2, 2), **kwargs)


def test_mmd_rejects_non_number_sigma():
    with pytest.raises(TypeError, match="sigma as a real number"):
        mmd_loss(torch.zeros(2, 2), torch.ones(2, 2), sigma="auto")


@pytest.mark.parametrize("loss", [coral_loss, mmd_loss])
def test_bad_inputs(loss):
    with pytest.raises(TypeError, match="takes torch tensors, but fs is a ndarray"):
        loss(np.zeros((3, 2)), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"ft as a 2-D tensor .* got shape \(3,\)"):
        loss(torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(TypeError, match="floating-point fs"):
        loss(torch.zeros(3, 2, dtype=torch.int64), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="as many columns; got 2 and 3"):
        loss(torch.zeros(3, 2), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="one dtype"):
        loss(torch.zeros(3, 2), torch.zeros(3, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="at least one column"):
        loss(torch.zeros(3, 0), torch.zeros(3, 0))


def test_coral_needs_two_rows_per_domain():
    with pytest.raises(ValueError, match=r"coral_loss needs at least 2 row\(s\) in ft; got 1"):
        coral_loss(torch.zeros(3, 2), torch.zeros(1, 2))
    with pytest.raises(ValueError, match=r"mmd_loss needs at least 1 row\(s\) in fs; got 0"):
        mmd_loss(torch.zeros(0, 2), torch.zeros(1, 2))
