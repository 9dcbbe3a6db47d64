"""Gradient reversal (sign and magnitude through autograd) and the DANN schedule."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from sktransfer.deep._adaptation import _reversal
from sktransfer.deep._adaptation._reversal import dann_schedule, grad_reverse


@pytest.mark.parametrize("coeff", [1.0, 0.3, 2.5, 0.0])
def test_identity_forward_and_reversed_scaled_gradient(coeff):
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64, requires_grad=True)
    upstream = torch.tensor([[0.7, -1.1], [2.0, 0.25]], dtype=torch.float64)
    y = grad_reverse(x, coeff)
    assert torch.equal(y, x)
    y.backward(upstream)
    np.testing.assert_array_equal(x.grad.numpy(), -coeff * upstream.numpy())


def test_reversal_inside_a_graph_flips_only_what_is_below_it():
    w = torch.tensor(3.0, requires_grad=True)
    x = torch.tensor(2.0, requires_grad=True)
    (w * grad_reverse(x * x, 0.5)).backward()  # d/dx = -0.5 * w * 2x, d/dw = x^2 (untouched)
    assert x.grad.item() == -0.5 * 3.0 * 4.0
    assert w.grad.item() == 4.0


def test_gradcheck_with_coeff_minus_one_is_the_plain_gradient():
    x = torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: grad_reverse(a, -1.0).pow(2).sum(), (x,))


def test_gradient_reversal_class_is_importable_by_name():
    cls = _reversal.GradientReversal
    assert issubclass(cls, torch.autograd.Function)
    x = torch.ones(2, requires_grad=True)
    cls.apply(x, 2.0).sum().backward()
    assert x.grad.tolist() == [-2.0, -2.0]
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _reversal.Nope  # noqa: B018


def test_importing_the_losses_does_not_import_torch():
    code = ("import sys; import sktransfer.deep._adaptation._reversal, sktransfer.deep._adaptation._divergence, "
            "sktransfer.deep._adaptation._adversarial, sktransfer.deep._adaptation._conditional, "
            "sktransfer.deep._adaptation._confusion; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_schedule_values():
    """Ganin and Lempitsky (2015), sec. 5.2.2: 2 / (1 + exp(-gamma p)) - 1."""
    assert dann_schedule(0.0) == 0.0
    assert dann_schedule(1.0) == pytest.approx(2 / (1 + math.exp(-10)) - 1, rel=1e-15)
    assert dann_schedule(1.0) == pytest.approx(0.99991, abs=1e-5)
    assert dann_schedule(0.5, gamma=2.0) == pytest.approx(2 / (1 + math.exp(-1)) - 1, rel=1e-15)
    assert dann_schedule(0.7, gamma=0.0) == 0.0


def test_schedule_is_increasing_in_progress():
    values = [dann_schedule(p) for p in np.linspace(0, 1, 101)]
    assert all(b > a for a, b in zip(values, values[1:]))
    assert 0.0 <= min(values) and max(values) < 1.0


@pytest.mark.parametrize(("args", "error", "match"), [
    ((-0.1,), ValueError, r"progress in \[0, 1\]"),
    ((1.5,), ValueError, r"progress in \[0, 1\]"),
    ((0.5, -1.0), ValueError, "gamma >= 0"),
    ((float("nan"),), ValueError, "finite progress"),
    (("half",), TypeError, "progress as a real number"),
])
def test_schedule_rejects_bad_values(args, error, match):
    with pytest.raises(error, match=match):
        dann_schedule(*args)


def test_grad_reverse_rejects_bad_inputs():
    with pytest.raises(TypeError, match="takes a torch tensor; got list"):
        grad_reverse([1.0, 2.0])
    with pytest.raises(TypeError, match="coeff as a real number"):
        grad_reverse(torch.ones(2), torch.tensor(1.0))
    with pytest.raises(ValueError, match="finite coeff"):
        grad_reverse(torch.ones(2), float("inf"))
