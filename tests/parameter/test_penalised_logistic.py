"""The objective of RegularTransferClassifier: its gradient and its numerical range."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import check_grad

from sktransfer.parameter._penalised_logistic import penalised_logistic_loss


@pytest.mark.parametrize("k, n_classes", [(1, 2), (3, 3)], ids=["binary", "multinomial"])
def test_gradient_matches_finite_differences(k, n_classes):
    """Reference: scipy.optimize.check_grad on the objective with intercept column."""
    rng = np.random.RandomState(0)
    X = np.hstack([rng.normal(size=(20, 4)), np.ones((20, 1))])
    y = rng.randint(n_classes, size=20)
    Y = y.astype(float) if k == 1 else np.eye(n_classes)[y]
    w = rng.uniform(0.5, 2.0, size=20)
    theta_s = rng.normal(size=(k, 5))
    theta = rng.normal(size=k * 5)
    args = (X, Y, w, theta_s, 0.7)
    err = check_grad(
        lambda t: penalised_logistic_loss(t, *args)[0], lambda t: penalised_logistic_loss(t, *args)[1], theta
    )
    assert err < 1e-5 * np.linalg.norm(penalised_logistic_loss(theta, *args)[1])


def test_loss_is_stable_for_large_scores():
    X = np.array([[1000.0], [-1000.0]])
    Y, theta_s = np.array([0.0, 1.0]), np.zeros((1, 1))
    value, grad = penalised_logistic_loss(np.array([1.0]), X, Y, np.ones(2), theta_s, 0.0)
    assert np.isfinite(value) and np.isfinite(grad).all()
    np.testing.assert_allclose(value, 2000.0)
