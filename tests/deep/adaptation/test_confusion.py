"""Minimum Class Confusion against a numpy transcription of Jin et al. (2020), eq. 1-6."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep._adaptation._confusion import mcc_loss

LOGITS = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [-1.0, 3.0, 0.0], [1.5, 1.4, -0.5]])


def numpy_mcc(z, temperature, weights=None):
    """Eq. 1 (rescaling), 2-3 (weights, unless given), 4 (correlation), 5 (row normalisation), 6 (loss)."""
    e = np.exp(z / temperature)
    p = e / e.sum(axis=1, keepdims=True)
    n, c = p.shape
    if weights is None:
        h = -np.sum(p * np.log(p), axis=1)
        weights = n * (1 + np.exp(-h)) / np.sum(1 + np.exp(-h))
    m = np.zeros((c, c))
    for j in range(c):
        for k in range(c):
            m[j, k] = sum(weights[i] * p[i, j] * p[i, k] for i in range(n))
    m = m / m.sum(axis=1, keepdims=True)
    return sum(m[j, k] for j in range(c) for k in range(c) if j != k) / c, weights


@pytest.mark.parametrize("temperature", [2.5, 1.0, 0.7])
def test_mcc_on_4x3_logits_against_numpy(temperature):
    expected, _ = numpy_mcc(LOGITS, temperature)
    assert mcc_loss(torch.tensor(LOGITS), temperature).item() == pytest.approx(expected, rel=1e-12)


def test_default_temperature_is_the_papers():
    assert mcc_loss(torch.tensor(LOGITS)).item() == mcc_loss(torch.tensor(LOGITS), 2.5).item()


def test_gradient_flows_through_probabilities_only():
    """The authors detach the weights, so the gradient is that of the loss with the weights frozen
    at their value: compared with central differences of the numpy loss with frozen weights."""
    z = torch.tensor(LOGITS, requires_grad=True)
    mcc_loss(z, 2.5).backward()
    _, frozen = numpy_mcc(LOGITS, 2.5)
    eps = 1e-6
    numeric = np.zeros_like(LOGITS)
    for idx in np.ndindex(LOGITS.shape):
        up, down = LOGITS.copy(), LOGITS.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (numpy_mcc(up, 2.5, frozen)[0] - numpy_mcc(down, 2.5, frozen)[0]) / (2 * eps)
    np.testing.assert_allclose(z.grad.numpy(), numeric, rtol=1e-6, atol=1e-9)


def test_bounds():
    certain = torch.tensor([[30.0, 0.0, 0.0], [0.0, 30.0, 0.0], [0.0, 0.0, 30.0]])
    assert mcc_loss(certain, 1.0).item() == pytest.approx(0.0, abs=1e-10)
    uniform = torch.zeros(5, 4)
    assert mcc_loss(uniform).item() == pytest.approx(3 / 4, rel=1e-6)  # every entry 1/4, (4 - 1) / 4
    rng = np.random.default_rng(0)
    for _ in range(5):
        value = mcc_loss(torch.tensor(rng.normal(size=(6, 4)) * 3)).item()
        assert 0.0 <= value <= 3 / 4 + 1e-12


def test_float32_matches_float64():
    assert mcc_loss(torch.tensor(LOGITS, dtype=torch.float32)).item() == pytest.approx(
        mcc_loss(torch.tensor(LOGITS)).item(), rel=1e-5)


def test_extreme_logits_stay_finite():
    z = torch.tensor([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = mcc_loss(z)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_mcc_rejects_bad_inputs():
    with pytest.raises(ValueError, match="temperature > 0"):
        mcc_loss(torch.zeros(2, 3), 0.0)
    with pytest.raises(TypeError, match="temperature as a real number"):
        mcc_loss(torch.zeros(2, 3), None)
    with pytest.raises(ValueError, match=r"target_logits as a 2-D tensor"):
        mcc_loss(torch.zeros(3))
    with pytest.raises(ValueError, match=r"at least 1 row\(s\) in target_logits; got 0"):
        mcc_loss(torch.zeros(0, 3))
    with pytest.raises(TypeError, match="takes torch tensors, but target_logits is a list"):
        mcc_loss([[0.0, 1.0]])
