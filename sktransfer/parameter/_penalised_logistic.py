"""The objective of RegularTransferClassifier: logistic loss plus a pull towards the source."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax


def penalised_logistic_loss(
    theta: np.ndarray,
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray,
    theta_source: np.ndarray,
    alpha: float,
) -> tuple[float, np.ndarray]:
    """Logistic loss plus ``alpha ||theta - theta_source||^2``, and its gradient.

    ``theta`` is ``(k, p)`` flattened, with ``k = 1`` for the binary loss (``Y``
    of 0/1, shape ``(n,)``) and ``k = n_classes`` for the multinomial one
    (``Y`` one-hot, ``(n, k)``). An intercept is a column of ones in ``X``.
    """
    W = theta.reshape(theta_source.shape)
    scores = X @ W.T
    if W.shape[0] == 1:
        s = scores[:, 0]
        # log(1 + e^s) - y s = -log sigmoid(s) + (1 - y) s, stable for any s.
        loss = sample_weight @ (-log_expit(s) + (1.0 - Y) * s)
        grad_scores = (sample_weight * (expit(s) - Y))[:, None]
    else:
        loss = sample_weight @ (logsumexp(scores, axis=1) - np.sum(scores * Y, axis=1))
        grad_scores = sample_weight[:, None] * (softmax(scores, axis=1) - Y)
    diff = W - theta_source
    value = loss + alpha * np.sum(diff**2)
    grad = grad_scores.T @ X + 2.0 * alpha * diff
    return float(value), grad.ravel()
