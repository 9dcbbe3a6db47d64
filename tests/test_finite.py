"""The magnitude bound on inputs, and estimators and metrics refusing what exceeds it."""

from __future__ import annotations

import numpy as np
import pytest

from sktransfer._finite import check_finite_result, check_magnitude, max_safe_magnitude
from sktransfer.alignment import CORAL, SubspaceAlignment, TransferComponentAnalysis
from sktransfer.datasets import make_domain_shift
from sktransfer.metrics import (
    domain_shift_report,
    hscore,
    logme_score,
    mmd,
    mmd_test,
    proxy_a_distance,
)
from sktransfer.reweighting import (
    KLIEP,
    KMM,
    RULSIF,
    ULSIF,
    DiscriminativeWeighter,
    KDEWeighter,
    NearestNeighborWeighter,
)

ESTIMATORS = [
    CORAL(),
    SubspaceAlignment(),
    TransferComponentAnalysis(n_components=2, random_state=0),
    KMM(random_state=0),
    KLIEP(random_state=0),
    ULSIF(random_state=0),
    RULSIF(random_state=0),
    DiscriminativeWeighter(),
    KDEWeighter(),
    NearestNeighborWeighter(),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_entries", [1, 200, 10**6])
def test_the_bound_is_where_sums_of_squared_differences_overflow(dtype, n_entries):
    """Just below the bound, n_entries squared differences of two entries
    (each at most 2 * limit apart) sum to a finite number in the dtype; 1%
    above it the sum overflows."""
    limit = max_safe_magnitude(n_entries, dtype)
    with np.errstate(over="ignore"):
        for factor, finite in ((0.999, True), (1.01, False)):
            differences = np.full(n_entries, 2 * factor * limit, dtype=dtype)
            assert np.isfinite(np.sum(differences**2, dtype=dtype)) == finite


def test_check_magnitude_refuses_only_above_the_bound():
    X = np.ones((50, 4))
    limit = max_safe_magnitude(X.size)
    assert check_magnitude(X * limit * 0.99, "owner") is not None
    with pytest.raises(ValueError, match=r"owner: X has values up to .* too large to square.*StandardScaler"):
        check_magnitude(X * limit * 1.01, "owner")
    # Pooled with other rows, the same sample has more entries and a lower bound.
    with pytest.raises(ValueError, match="Xs has values"):
        check_magnitude(X * limit * 0.99, "owner", n_rows=100, input_name="Xs")


def test_check_magnitude_uses_the_dtype_of_the_rows():
    X = np.full((10, 2), 1e19)
    check_magnitude(X, "owner")  # far below float64's bound
    with pytest.raises(ValueError, match="overflow float32"):
        check_magnitude(X.astype(np.float32), "owner")


def test_check_magnitude_looks_past_the_nans_of_estimators_that_allow_them():
    X = np.array([[np.nan, 1.0], [2.0, 3.0]])
    assert check_magnitude(X, "owner") is X
    X[1, 1] = -1e300
    with pytest.raises(ValueError, match="values up to 1e\\+300"):
        check_magnitude(X, "owner")


def test_check_finite_result_names_the_cause():
    assert check_finite_result([1.0, 2.0], "Owner", "weights", "cause").shape == (2,)
    with pytest.raises(ValueError, match=r"Owner: the weights came out non-finite \(1 of 2 .*\)\. gamma!"):
        check_finite_result([1.0, np.inf], "Owner", "weights", "gamma!")


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_estimators_refuse_rows_whose_squares_overflow(estimator):
    """X * 1e300 used to give inf/NaN weights and maps, or an ARPACK or LAPACK
    error from deep inside; now one clear error before any work."""
    X, y, sd = make_domain_shift(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match=f"{type(estimator).__name__}: X has values up to .* too large to square"):
        estimator.fit(X * 1e300, y, sample_domain=sd)


@pytest.mark.parametrize("estimator", ESTIMATORS[:3], ids=lambda e: type(e).__name__)
def test_adapters_refuse_such_rows_at_transform_too(estimator):
    X, y, sd = make_domain_shift(n_samples=30, random_state=0)
    fitted = estimator.fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="too large to square"):
        fitted.transform(X * 1e300)


@pytest.mark.parametrize(
    "metric",
    [
        lambda Xs, Xt: mmd(Xs, Xt),
        lambda Xs, Xt: mmd_test(Xs, Xt, n_permutations=5, random_state=0),
        lambda Xs, Xt: proxy_a_distance(Xs, Xt, random_state=0),
        lambda Xs, Xt: domain_shift_report(
            np.vstack([Xs, Xt]), np.r_[np.ones(len(Xs)), -np.ones(len(Xt))], n_permutations=5
        ),
        lambda Xs, Xt: logme_score(np.vstack([Xs, Xt]), np.arange(len(Xs) + len(Xt)) % 2),
        lambda Xs, Xt: hscore(np.vstack([Xs, Xt]), np.arange(len(Xs) + len(Xt)) % 2),
    ],
    ids=["mmd", "mmd_test", "proxy_a_distance", "domain_shift_report", "logme_score", "hscore"],
)
def test_metrics_refuse_rows_whose_squares_overflow(metric):
    X, _, sd = make_domain_shift(n_samples=30, random_state=0)
    with pytest.raises(ValueError, match="too large to square"):
        metric(X[sd > 0] * 1e300, X[sd < 0] * 1e300)


def test_large_but_safe_rows_are_accepted_and_handled_exactly():
    """1e100 is far beyond ordinary data but squares fine: the scale-free
    results (the KMM weights, whose bandwidth is the median heuristic) are
    those of the unscaled rows, and the maps scale with the rows."""
    X, y, sd = make_domain_shift(n_samples=40, random_state=1)
    scale = 1e100
    np.testing.assert_allclose(
        KMM(random_state=0).fit(X * scale, y, sample_domain=sd).weights_,
        KMM(random_state=0).fit(X, y, sample_domain=sd).weights_,
        rtol=1e-6, atol=1e-9,
    )
    np.testing.assert_allclose(
        SubspaceAlignment().fit_transform(X * scale, y, sample_domain=sd) / scale,
        SubspaceAlignment().fit_transform(X, y, sample_domain=sd),
        rtol=1e-9, atol=1e-12,
    )
