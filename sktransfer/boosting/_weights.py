"""The arithmetic the TrAdaBoost family shares: losses, weight updates, votes.

One boosting loop (:func:`boost`) serves TrAdaBoost, TrAdaBoost.R2 and the
AdaBoost.R2' inner loop of the two-stage algorithm; they differ only in the
options passed to it, so no fit loop is written twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import logsumexp
from sklearn.base import clone

#: Errors are kept in [_EPS_FLOOR, chance * (1 - _EPS_FLOOR)] so that the
#: weight ln((1 - eps) / eps) of a learner is finite and positive.
_EPS_FLOOR = 1e-10

_MAX_SEED = np.iinfo(np.int32).max


def source_beta(n_source: int, n_estimators: int) -> float:
    """TrAdaBoost's fixed source factor ``1 / (1 + sqrt(2 ln n_source / N))``."""
    return 1.0 / (1.0 + math.sqrt(2.0 * math.log(n_source) / n_estimators))


def vote_start(n_learners: int) -> int:
    """0-based index of learner ``ceil(N / 2)``, the first that votes (Dai et al.)."""
    return max(math.ceil(n_learners / 2) - 1, 0)


def clip_error(eps: float, chance: float) -> float:
    """Keep a weighted error strictly inside (0, chance); see the estimators' Notes."""
    return float(np.clip(eps, _EPS_FLOOR, chance * (1.0 - _EPS_FLOOR)))


def adjusted_errors(residual: np.ndarray, loss: str) -> np.ndarray:
    """AdaBoost.R2's per-row loss in [0, 1] from absolute residuals (Drucker 1997)."""
    top = residual.max()
    if top <= 0:
        return np.zeros_like(residual)
    scaled = residual / top
    if loss == "square":
        return scaled**2
    if loss == "exponential":
        return 1.0 - np.exp(-scaled)
    return scaled


def weighted_median(predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per column, the smallest prediction whose cumulative weight reaches half.

    ``predictions`` has one row per learner, ``weights`` one entry per learner.
    """
    # The median ignores the weights' scale; dividing by the largest keeps the
    # cumulative sums finite for weights near the float64 limit.
    weights = weights / weights.max() if weights.size and weights.max() > 0 else weights
    order = np.argsort(predictions, axis=0, kind="stable")
    cumulative = np.cumsum(weights[order], axis=0)
    first = np.argmax(cumulative >= 0.5 * cumulative[-1], axis=0)
    columns = np.arange(predictions.shape[1])
    return predictions[order[first, columns], columns]


def reseed(estimator: Any, rng: np.random.RandomState) -> Any:
    """Give every ``random_state`` of ``estimator`` (nested ones too) a fresh int."""
    params = estimator.get_params(deep=True)
    seeds = {
        key: int(rng.randint(_MAX_SEED))
        for key in sorted(params)
        if key == "random_state" or key.endswith("__random_state")
    }
    if seeds:
        estimator.set_params(**seeds)
    return estimator


def fit_weighted(
    estimator: Any, X: np.ndarray, y: np.ndarray, weights: np.ndarray, seed: int
) -> Any:
    """Fit a reseeded clone with ``weights`` rescaled to mean 1.

    Mean 1 rather than sum 1 keeps estimators whose regularisation is measured
    against the total weight (C of LogisticRegression/SVC, alpha of Ridge) as
    strong as on unweighted data.
    """
    learner = reseed(clone(estimator), np.random.RandomState(seed))
    return learner.fit(X, y, sample_weight=weights * (weights.shape[0] / weights.sum()))


def update_weights(
    weights: np.ndarray,
    loss: np.ndarray,
    source: np.ndarray,
    *,
    alpha: float,
    log_beta: float | None,
    correct_drift: bool = False,
    keep_target_share: bool = False,
) -> np.ndarray:
    """One reweighting round; returns weights that sum to 1.

    Target rows are multiplied by ``exp(alpha * loss)``. Source rows are
    multiplied by ``exp(log_beta * loss)`` (``beta ** loss``), or left alone
    when ``log_beta`` is None. ``correct_drift`` multiplies every source row by
    the factor by which the total target weight grew (Al-Stouhi & Reddy's
    ``C_t``, which is ``2 (1 - eps)`` in the binary case). ``keep_target_share``
    rescales the target rows back to their previous total (AdaBoost.R2' with
    frozen source weights).

    The update runs on log-weights and is normalised with ``logsumexp``: with
    a large ``learning_rate`` the factors ``exp(alpha * loss)`` overflow, and
    rescaling by the largest factor underflowed every row that still had
    weight (a row already at weight 0 can hold the largest loss), so the
    weights came out 0 / 0 = NaN.
    """
    target = ~source
    with np.errstate(divide="ignore"):  # log(0) = -inf: a row with no weight keeps none
        log_weights = np.log(weights)
    log_old_total = logsumexp(log_weights[target])
    grown = log_weights[target] + alpha * loss[target]
    # log C_t; a target holding no weight (a cross-validation fold of the
    # two-stage algorithm can train on source rows only) stays at 0.
    log_growth = logsumexp(grown) - log_old_total if np.isfinite(log_old_total) else 0.0
    new = log_weights.copy()
    if log_beta is not None:
        new[source] += log_beta * loss[source]
    if keep_target_share:
        new[target] = grown - log_growth
    else:
        new[target] = grown
        if correct_drift:
            new[source] += log_growth
    return np.exp(new - logsumexp(new))


def check_learning_rate(learning_rate: float, largest: float, owner: str) -> None:
    """Refuse a ``learning_rate`` whose largest exponent overflows float64.

    Every exponent of the weight updates and every learner weight is
    ``learning_rate`` times a factor of at most ``largest``. Past the float64
    limit they are infinite and ``inf * 0`` makes the weights NaN.
    """
    if not math.isfinite(learning_rate * largest):
        raise ValueError(
            f"{owner}: learning_rate={learning_rate:.3g} is too large: the weight of a "
            f"round, learning_rate * {largest:.3g}, overflows float64. Use a learning_rate "
            f"of at most {np.finfo(np.float64).max / largest:.3g} (one that large already "
            "puts all the weight on the worst predicted rows)."
        )


def shrink_source(
    weights: np.ndarray, errors: np.ndarray, source: np.ndarray, share: float
) -> np.ndarray:
    """Multiply source rows by ``beta ** error``, ``beta`` set so the target holds ``share``.

    Returns weights summing to 1 whose target rows sum to ``share`` (or more,
    when they already did). When no ``beta`` in (0, 1] reaches it (rows with
    zero error already weigh too much), ``beta = 0`` and the remaining source
    rows are scaled down.
    """
    target_total = weights[~source].sum()
    wanted = target_total * (1.0 - share) / share if share < 1 else 0.0
    w_source, e_source = weights[source], errors[source]
    new = weights.copy()
    if w_source.sum() <= wanted:
        return new / new.sum()  # the target already holds the share
    stuck = w_source * (e_source <= 0)  # rows no beta can shrink
    log_beta = None
    if wanted > 0 and stuck.sum() < wanted:
        # Solve sum(w beta^e) = wanted for log(beta) <= 0; the sum is monotone.
        def excess(u: float) -> float:
            return float(logsumexp(u * e_source, b=w_source) - math.log(wanted))

        low = -1.0
        while excess(low) > 0 and low > -1e6:
            low *= 2.0
        if excess(low) <= 0:
            log_beta = brentq(excess, low, 0.0, xtol=1e-12)
    shrunk = stuck if log_beta is None else w_source * np.exp(log_beta * e_source)
    if wanted > 0 and shrunk.sum() > 0:
        shrunk = shrunk * (wanted / shrunk.sum())  # exact share despite the root's tolerance
    else:
        shrunk = np.zeros_like(w_source)
    new[source] = shrunk
    return new / new.sum()


@dataclass
class Boosted:
    """What one boosting run produced."""

    estimators: list
    alphas: np.ndarray
    errors: np.ndarray
    last_weights: np.ndarray


def boost(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    source: np.ndarray,
    weights: np.ndarray,
    *,
    n_estimators: int,
    learning_rate: float,
    rng: np.random.RandomState,
    row_loss: Callable[[Any, np.ndarray, np.ndarray], np.ndarray],
    alpha_of: Callable[[float], float],
    chance: float,
    mode: str,
    owner: str,
) -> Boosted:
    """Run the boosting rounds shared by the family.

    ``mode`` is ``"tradaboost"`` (error on target rows, source rows shrink by
    ``beta ** (learning_rate * loss)``), ``"tradaboost_corrected"`` (the same
    with the drift correction) or ``"frozen_source"`` (AdaBoost.R2': error on
    every row, source weights fixed, stop when the error is 0 or reaches
    ``chance``). ``row_loss(learner, X, y)`` returns one loss in [0, 1] per row;
    ``alpha_of(eps)`` the learner's weight for a clipped error; ``owner``
    names the estimator in errors.
    """
    frozen = mode == "frozen_source"
    log_beta = None
    # The largest factor learning_rate multiplies: the weight of a perfect learner.
    largest = alpha_of(_EPS_FLOOR)
    if not frozen:
        log_beta = math.log(source_beta(max(int(source.sum()), 1), n_estimators))
        largest = max(largest, -log_beta)
    check_learning_rate(learning_rate, largest, owner)
    if log_beta is not None:
        log_beta *= learning_rate
    error_rows = np.ones_like(source) if frozen else ~source
    seeds = rng.randint(_MAX_SEED, size=n_estimators)
    estimators, alphas, errors = [], [], []
    for t in range(n_estimators):
        learner = fit_weighted(estimator, X, y, weights, seeds[t])
        loss = row_loss(learner, X, y)
        eps = float(np.average(loss[error_rows], weights=weights[error_rows]))
        if frozen and eps >= chance and estimators:
            break  # AdaBoost.R2 drops a learner no better than chance, and stops
        estimators.append(learner)
        errors.append(eps)
        alphas.append(learning_rate * alpha_of(clip_error(eps, chance)))
        if t == n_estimators - 1 or (frozen and not 0 < eps < chance):
            break
        weights = update_weights(
            weights,
            loss,
            source,
            alpha=alphas[-1],
            log_beta=log_beta,
            correct_drift=mode == "tradaboost_corrected",
            keep_target_share=frozen,
        )
    return Boosted(estimators, np.asarray(alphas), np.asarray(errors), weights)
