"""The shared arithmetic of the TrAdaBoost family, against the formulas written out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sktransfer.boosting._weights import (
    adjusted_errors,
    clip_error,
    shrink_source,
    source_beta,
    update_weights,
    vote_start,
    weighted_median,
)


def test_source_beta_is_the_papers_formula():
    # Dai et al. (2007): beta = 1 / (1 + sqrt(2 ln n / N)).
    assert source_beta(100, 20) == pytest.approx(1 / (1 + math.sqrt(2 * math.log(100) / 20)))
    assert source_beta(1, 10) == 1.0  # ln 1 = 0: a single source row never shrinks


@pytest.mark.parametrize("n, first", [(1, 0), (2, 0), (3, 1), (4, 1), (10, 4), (11, 5)])
def test_vote_start_is_round_ceil_half(n, first):
    # Rounds ceil(N/2) .. N vote (1-based); first is the 0-based index of ceil(N/2).
    assert vote_start(n) == first
    assert first + 1 == max(math.ceil(n / 2), 1)


def test_clip_error_keeps_the_error_inside_zero_chance():
    assert clip_error(0.0, 0.5) == pytest.approx(1e-10)
    assert 0.49999 < clip_error(0.7, 0.5) < 0.5
    assert clip_error(0.3, 0.5) == 0.3


@pytest.mark.parametrize(
    "loss, expected",
    [
        ("linear", [0.0, 0.25, 1.0]),
        ("square", [0.0, 0.0625, 1.0]),
        ("exponential", [0.0, 1 - math.exp(-0.25), 1 - math.exp(-1.0)]),
    ],
)
def test_adjusted_errors_follow_drucker(loss, expected):
    np.testing.assert_allclose(adjusted_errors(np.array([0.0, 1.0, 4.0]), loss), expected)


def test_adjusted_errors_of_a_perfect_fit_are_zero():
    np.testing.assert_array_equal(adjusted_errors(np.zeros(3), "linear"), np.zeros(3))


def _median_by_hand(values: np.ndarray, weights: np.ndarray) -> float:
    """Smallest value whose cumulative weight (values sorted) reaches half the total."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])]


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (5, 4), elements=st.floats(-10, 10)),
    arrays(np.float64, 5, elements=st.floats(0.01, 5)),
)
def test_weighted_median_matches_the_definition(predictions, weights):
    got = weighted_median(predictions, weights)
    for j in range(predictions.shape[1]):
        assert got[j] == _median_by_hand(predictions[:, j], weights)


def test_weighted_median_with_equal_weights_is_the_lower_median():
    np.testing.assert_array_equal(weighted_median(np.array([[3.0], [1.0], [2.0], [4.0]]), np.ones(4)), [2.0])


def _round(seed: int):
    rng = np.random.RandomState(seed)
    n = 12
    weights = rng.uniform(0.5, 2.0, n)
    weights /= weights.sum()
    loss = rng.uniform(0, 1, n)
    source = np.arange(n) < 7
    return weights, loss, source


def test_update_by_hand_without_correction():
    weights, loss, source = _round(0)
    alpha, log_beta = 0.8, math.log(0.6)
    raw = np.where(source, weights * 0.6**loss, weights * np.exp(alpha * loss))
    got = update_weights(weights, loss, source, alpha=alpha, log_beta=log_beta)
    np.testing.assert_allclose(got, raw / raw.sum())


def test_drift_correction_is_two_one_minus_eps_in_the_binary_case():
    """Al-Stouhi & Reddy (2011): C_t = 2 (1 - eps_t) for 0/1 losses and beta_t = eps/(1-eps)."""
    weights, _, source = _round(1)
    loss = np.array([0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0], dtype=float)
    target = ~source
    eps = np.sum(weights[target] * loss[target]) / weights[target].sum()
    beta_t = eps / (1 - eps)
    beta = 0.7
    raw = np.where(source, 2 * (1 - eps) * weights * beta**loss, weights * beta_t ** (-loss))
    got = update_weights(
        weights, loss, source, alpha=math.log(1 / beta_t), log_beta=math.log(beta), correct_drift=True
    )
    np.testing.assert_allclose(got, raw / raw.sum())


def test_keep_target_share_freezes_source_weights():
    weights, loss, source = _round(2)
    got = update_weights(weights, loss, source, alpha=1.3, log_beta=None, keep_target_share=True)
    np.testing.assert_allclose(got[source], weights[source])
    assert got[~source].sum() == pytest.approx(weights[~source].sum())
    raw = weights[~source] * np.exp(1.3 * loss[~source])
    np.testing.assert_allclose(got[~source], raw / raw.sum() * weights[~source].sum())


def test_update_stays_finite_for_huge_alpha():
    weights, loss, source = _round(3)
    got = update_weights(weights, loss, source, alpha=800.0, log_beta=-1.0, correct_drift=True)
    assert np.all(np.isfinite(got)) and got.sum() == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 5.0), st.floats(0.05, 1.0))
def test_corrected_updates_never_raise_the_source_share(seed, alpha, beta):
    # With C_t the source total becomes C_t * sum(w beta^l) and the target total
    # C_t times the old one, so the source share can only fall (or stay).
    weights, loss, source = _round(seed)
    got = update_weights(
        weights, loss, source, alpha=alpha, log_beta=math.log(beta), correct_drift=True
    )
    assert got[source].sum() <= weights[source].sum() + 1e-12
    # A correct (loss 0) source row keeps its ratio to the total target weight.
    loss0 = loss.copy()
    loss0[0] = 0.0
    got = update_weights(weights, loss0, source, alpha=alpha, log_beta=math.log(beta), correct_drift=True)
    assert got[0] / got[~source].sum() == pytest.approx(weights[0] / weights[~source].sum())


@pytest.mark.parametrize("share", [0.4, 0.6, 0.9, 0.999])
def test_shrink_source_reaches_the_share_with_a_power_of_beta(share):
    weights, loss, source = _round(4)
    assert weights[~source].sum() < share
    got = shrink_source(weights, loss, source, share)
    assert got.sum() == pytest.approx(1.0)
    assert got[~source].sum() == pytest.approx(share)
    # Source rows were multiplied by beta ** loss for one beta in (0, 1].
    ratio = got[source] / weights[source]
    log_beta = np.polyfit(loss[source], np.log(ratio), 1)[0]
    np.testing.assert_allclose(np.log(ratio), np.log(ratio[0]) + log_beta * (loss[source] - loss[source][0]))
    assert log_beta <= 1e-9


def test_shrink_source_edge_cases():
    weights, loss, source = _round(5)
    current = weights[~source].sum()
    np.testing.assert_allclose(shrink_source(weights, loss, source, current / 2), weights)  # already there
    assert shrink_source(weights, loss, source, 1.0)[source].sum() == 0.0  # target only
    loss[source] = 0.0  # no beta can help: the source is scaled down instead
    got = shrink_source(weights, loss, source, 0.8)
    assert got[~source].sum() == pytest.approx(0.8)


@pytest.mark.parametrize("options", [{}, {"correct_drift": True}, {"keep_target_share": True}])
def test_update_survives_a_zero_weight_row_holding_the_largest_loss(options):
    """A large learning rate leaves rows at weight 0; when one of them holds the largest
    target loss, rescaling by its factor underflowed every other row and gave 0 / 0 = NaN."""
    weights, loss, source = _round(6)
    target = np.flatnonzero(~source)
    loss[target] = np.linspace(0.1, 0.5, target.size)
    loss[target[-1]] = 1.0
    weights[target[-1]] = 0.0
    weights /= weights.sum()
    frozen = options.get("keep_target_share", False)
    got = update_weights(weights, loss, source, alpha=1e10, log_beta=None if frozen else -1e9, **options)
    assert np.all(np.isfinite(got)) and got.sum() == pytest.approx(1.0)
    assert got[target[-1]] == 0.0  # a row without weight gets none
    # The largest finite factor exp(1e10 * 0.5) takes all the target weight: all the
    # weight, or the target's old total when the source is frozen.
    assert got[target[-2]] == pytest.approx(weights[~source].sum() if frozen else 1.0)


def test_weighted_median_ignores_the_scale_of_huge_weights():
    """Weights near the float64 limit (learning_rate ~ 1e306) overflowed the cumulative sum."""
    predictions = np.array([[1.0], [2.0], [3.0], [4.0]])
    weights = np.array([1.0, 10.0, 10.0, 1.0])  # cumulative 1, 11, 21, 22: the median is 2
    huge = weights * 1.5e307  # finite, but their sum is not
    np.testing.assert_array_equal(weighted_median(predictions, huge), [2.0])
    np.testing.assert_array_equal(weighted_median(predictions, weights), [2.0])
