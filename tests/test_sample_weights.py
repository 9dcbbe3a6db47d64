"""When importance weights are too concentrated to trust: the documented threshold."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from sktransfer import make_da_pipeline
from sktransfer._sample_weights import effective_sample_size, warn_if_concentrated
from sktransfer.datasets import make_domain_shift
from sktransfer.exceptions import DegenerateWeightsWarning


def _weights_with_share(n: int, share: float) -> np.ndarray:
    """Weights whose effective sample size is ``share * n``: ``share * n`` rows of weight 1."""
    w = np.zeros(n)
    w[: round(share * n)] = 1.0
    assert effective_sample_size(w) / n == pytest.approx(share)
    return w


def test_warns_at_the_share_that_cost_kmm_17_points():
    """The issue's case: KMM weights with 12.7% effective sample size lost
    17 accuracy points without a word (the threshold was 5%)."""
    with pytest.warns(DegenerateWeightsWarning, match=r"effective sample size is 127\.0 of 1000 .*12\.7%, below 20%"):
        warn_if_concentrated(_weights_with_share(1000, 0.127), "Owner")


@pytest.mark.parametrize("share", [0.2, 0.5, 1.0])
def test_stays_quiet_from_20_percent_up(share):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateWeightsWarning)
        n_eff = warn_if_concentrated(_weights_with_share(1000, share), "Owner")
    assert n_eff == pytest.approx(share * 1000)


class _ShareWeighter(BaseEstimator):
    """Test weighter: weight 1 on the first ``share`` of the source rows, 0 elsewhere."""

    def __init__(self, share=1.0):
        self.share = share

    def fit(self, X, y=None, sample_domain=None):
        source = np.flatnonzero(np.asarray(sample_domain) > 0)
        self.weights_ = np.zeros(len(X))
        self.weights_[source[: round(self.share * len(source))]] = 1.0
        return self

    def compute_weights(self, X, sample_domain=None):
        return np.ones(len(X))


@pytest.mark.parametrize("share, warns", [(0.127, True), (0.5, False)])
def test_a_pipeline_warns_below_the_threshold_only(share, warns):
    X, y, sd = make_domain_shift(n_samples=1000, random_state=0)
    pipe = make_da_pipeline(_ShareWeighter(share), LogisticRegression())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(X, y, sample_domain=sd)
    degenerate = [w for w in caught if issubclass(w.category, DegenerateWeightsWarning)]
    assert bool(degenerate) == warns


@pytest.mark.parametrize(
    "weights, error, match",
    [
        ([-1.0, 1.0], ValueError, r"some are negative \(min -1\)"),
        ([np.nan, 1.0], ValueError, "NaN or infinite"),
        ([np.inf, 1.0], ValueError, "NaN or infinite"),
        ([0.0, 0.0], ValueError, "every weight is zero"),
        ([], ValueError, "there are none"),
        (["a", "b"], TypeError, "numeric weights"),
    ],
    ids=["negative", "nan", "inf", "all-zero", "empty", "strings"],
)
def test_effective_sample_size_refuses_what_is_not_weights(weights, error, match):
    """It returned NaN for an inf weight, 0 for none or all-zero, and a number
    for negative ones."""
    with pytest.raises(error, match=f"effective_sample_size needs .*{match}"):
        effective_sample_size(weights)


def test_effective_sample_size_is_scale_free_up_to_huge_weights():
    """The squares of 1e300 weights overflowed (an OverflowError); the ratio
    does not depend on the scale, and powers of two scale exactly."""
    w = np.linspace(0.1, 2.0, 10)
    assert effective_sample_size(w * 2.0**990) == effective_sample_size(w)
    assert effective_sample_size(w * 2.0**-1000) == effective_sample_size(w)
