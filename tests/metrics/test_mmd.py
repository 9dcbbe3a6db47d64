"""MMD² and its permutation test: exactness against a slow reference, calibration, power."""

import numpy as np
import pytest
from scipy.stats import kstest

from sktransfer import _kernels
from sktransfer._kernels import median_heuristic_gamma
from sktransfer.metrics import MMDTestResult, mmd, mmd_test


def _naive_mmd(Xs, Xt, k, unbiased):
    """MMD² from its definition (Gretton et al. 2012, eq. 3 and eq. 5), with plain loops."""
    m, n = len(Xs), len(Xt)
    ss = sum(k(Xs[i], Xs[j]) for i in range(m) for j in range(m) if not (unbiased and i == j))
    tt = sum(k(Xt[i], Xt[j]) for i in range(n) for j in range(n) if not (unbiased and i == j))
    st = sum(k(Xs[i], Xt[j]) for i in range(m) for j in range(n))
    if unbiased:
        return ss / (m * (m - 1)) + tt / (n * (n - 1)) - 2 * st / (m * n)
    return ss / m**2 + tt / n**2 - 2 * st / (m * n)


def _samples(seed=0, m=17, n=23, d=3, shift=0.5):
    rng = np.random.RandomState(seed)
    return rng.normal(size=(m, d)), rng.normal(loc=shift, size=(n, d))


def _gaussian(gamma):
    return lambda x, y: np.exp(-gamma * np.sum((x - y) ** 2))


@pytest.mark.parametrize("unbiased", [True, False])
@pytest.mark.parametrize("kernel", ["gaussian", "rbf", "linear"])
def test_mmd_matches_double_loop(kernel, unbiased):
    Xs, Xt = _samples()
    if kernel == "linear":
        expected = _naive_mmd(Xs, Xt, np.dot, unbiased)
        got = mmd(Xs, Xt, kernel="linear", unbiased=unbiased)
    else:
        expected = _naive_mmd(Xs, Xt, _gaussian(0.3), unbiased)
        got = mmd(Xs, Xt, kernel=kernel, gamma=0.3, unbiased=unbiased)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, abs=1e-10, rel=0)


def test_default_gamma_is_the_median_heuristic_on_pooled_rows():
    Xs, Xt = _samples()
    gamma = median_heuristic_gamma(np.vstack([Xs, Xt]))
    assert mmd(Xs, Xt) == pytest.approx(_naive_mmd(Xs, Xt, _gaussian(gamma), True), abs=1e-10)
    assert mmd_test(Xs, Xt, n_permutations=5, random_state=0).gamma == pytest.approx(gamma)


def test_biased_linear_mmd_is_squared_mean_distance():
    Xs, Xt = _samples(shift=1.0)
    expected = np.sum((Xs.mean(axis=0) - Xt.mean(axis=0)) ** 2)
    assert mmd(Xs, Xt, kernel="linear", unbiased=False) == pytest.approx(expected, rel=1e-12)


def test_unbiased_estimate_averages_to_zero_without_shift():
    rng = np.random.RandomState(0)
    draws = np.array([
        [mmd(Xs, Xt, gamma=0.5), mmd(Xs, Xt, gamma=0.5, unbiased=False)]
        for Xs, Xt in (rng.normal(size=(2, 15, 2)) for _ in range(300))
    ])
    unbiased, biased = draws.T
    assert abs(unbiased.mean()) < 4 * unbiased.std() / np.sqrt(len(unbiased))
    assert (unbiased < 0).mean() > 0.3  # the U-statistic is negative about half the time
    assert biased.min() > 0 and biased.mean() > 10 * biased.std() / np.sqrt(len(biased))


def test_chunked_kernel_sums_equal_the_direct_ones(monkeypatch):
    Xs, Xt = _samples(m=41, n=29)
    direct = [mmd(Xs, Xt, unbiased=u) for u in (True, False)]
    test = mmd_test(Xs, Xt, n_permutations=50, random_state=0)
    monkeypatch.setattr(_kernels, "_BLOCK_ENTRIES", 37)  # blocks of one or two rows
    assert [mmd(Xs, Xt, unbiased=u) for u in (True, False)] == pytest.approx(direct, abs=1e-12)
    chunked = mmd_test(Xs, Xt, n_permutations=50, random_state=0)
    assert chunked.statistic == pytest.approx(test.statistic, abs=1e-12)
    np.testing.assert_allclose(chunked.null_distribution, test.null_distribution, atol=1e-12)


@pytest.mark.parametrize("kernel", ["gaussian", "linear"])
def test_permutation_statistics_are_those_of_the_permuted_samples(kernel):
    Xs, Xt = _samples(m=12, n=9)
    result = mmd_test(Xs, Xt, kernel=kernel, n_permutations=30, random_state=3)
    assert isinstance(result, MMDTestResult)
    assert result.statistic == pytest.approx(mmd(Xs, Xt, kernel=kernel, gamma=result.gamma), abs=1e-12)
    pooled, rng = np.vstack([Xs, Xt]), np.random.RandomState(3)
    for null in result.null_distribution[:5]:
        perm = rng.permutation(len(pooled))
        permuted = mmd(pooled[perm[:12]], pooled[perm[12:]], kernel=kernel, gamma=result.gamma)
        assert null == pytest.approx(permuted, abs=1e-12)
    expected = (1 + np.sum(result.null_distribution >= result.statistic)) / 31
    assert result.pvalue == pytest.approx(expected)
    assert "pvalue=" in repr(result) and (result.gamma is None) == (kernel == "linear")


def test_pvalues_are_uniform_without_shift():
    pvalues = []
    for seed in range(200):
        rng = np.random.RandomState(seed)
        Xs, Xt = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
        pvalues.append(mmd_test(Xs, Xt, n_permutations=99, random_state=seed).pvalue)
    pvalues = np.array(pvalues)
    assert kstest(pvalues, "uniform").pvalue > 0.01
    assert 0.01 <= np.mean(pvalues <= 0.05) <= 0.10
    assert pvalues.min() >= 1 / 100 and pvalues.max() <= 1.0


@pytest.mark.parametrize("seed", range(3))
def test_pvalue_is_small_under_a_clear_shift(seed):
    rng = np.random.RandomState(seed)
    Xs, Xt = rng.normal(size=(50, 5)), rng.normal(size=(50, 5))
    Xt[:, :3] += 1.0
    assert mmd_test(Xs, Xt, n_permutations=200, random_state=seed).pvalue < 0.01
    assert mmd_test(Xs, Xt, kernel="linear", n_permutations=200, random_state=seed).pvalue < 0.01


def test_large_samples_are_subsampled_for_the_test():
    Xs, Xt = _samples(m=90, n=30, shift=1.0)
    result = mmd_test(Xs, Xt, n_permutations=50, max_samples=40, random_state=0)
    assert result.null_distribution.shape == (50,)
    assert result.pvalue < 0.1
    assert mmd_test(Xs, Xt, n_permutations=5, max_samples=None, random_state=0).statistic == (
        pytest.approx(mmd(Xs, Xt), abs=1e-12))


def test_mmd_test_is_reproducible():
    Xs, Xt = _samples()
    a, b = (mmd_test(Xs, Xt, n_permutations=20, random_state=7) for _ in range(2))
    np.testing.assert_array_equal(a.null_distribution, b.null_distribution)


@pytest.mark.parametrize(
    "Xs, Xt, kwargs, match",
    [
        (np.ones((5, 2)), np.ones((5, 3)), {}, "Xs has 2 features but Xt has 3"),
        (np.ones((1, 2)), np.ones((5, 2)), {}, "at least 2 rows in each domain, but Xs has 1"),
        (np.ones((5, 2)), np.zeros((0, 2)), {}, "Xt has 0"),
        (np.ones((5, 2)), np.full((5, 2), np.nan), {}, "Xt contains NaN"),
        (np.ones((5, 2)), np.ones((5, 2)), {"kernel": "poly"}, "unknown kernel 'poly'"),
        (np.ones((5, 2)), np.ones((5, 2)), {"gamma": -1.0}, "gamma must be a positive"),
    ],
)
def test_bad_inputs_raise_helpful_errors(Xs, Xt, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mmd(Xs, Xt, **kwargs)
    with pytest.raises(ValueError, match=match):
        mmd_test(Xs, Xt, n_permutations=5, **kwargs)


@pytest.mark.parametrize("kwargs", [{"n_permutations": 0}, {"max_samples": 2}])
def test_bad_test_settings_raise(kwargs):
    Xs, Xt = _samples()
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        mmd_test(Xs, Xt, **kwargs)


def test_linear_statistics_do_not_overflow_on_large_but_safe_rows():
    """The linear kernel sums n^2 products of rows: at 2^504 (values the
    input check accepts) they overflowed to inf long before MMD² does. The
    statistic is computed on rows scaled by a power of two, which is exact,
    so it is the unscaled one times 4^504."""
    rng = np.random.RandomState(0)
    Xs, Xt = rng.uniform(-1, 1, size=(100, 2)), 3 + rng.uniform(-1, 1, size=(100, 2))
    scale = 2.0**504
    expected = mmd(Xs, Xt, kernel="linear") * scale**2
    assert mmd(Xs * scale, Xt * scale, kernel="linear") == pytest.approx(expected, rel=1e-12)
    result = mmd_test(Xs * scale, Xt * scale, kernel="linear", n_permutations=20, random_state=0)
    reference = mmd_test(Xs, Xt, kernel="linear", n_permutations=20, random_state=0)
    assert result.statistic == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(result.null_distribution, reference.null_distribution * scale**2, rtol=1e-9)
    assert result.pvalue == reference.pvalue


@pytest.mark.parametrize("function", [mmd, mmd_test])
def test_a_gamma_that_is_not_a_number_is_a_type_error_naming_it(function):
    """It was numpy's 'ufunc isfinite not supported' from inside the check."""
    Xs, Xt = np.zeros((5, 2)), np.ones((5, 2))
    with pytest.raises(TypeError, match=f"{function.__name__}: gamma must be a positive number or None, got 'bogus'"):
        function(Xs, Xt, gamma="bogus")


@pytest.mark.parametrize("offset", [0.0, 1e3])
def test_median_heuristic_equals_scipy_pdist_with_duplicate_and_near_rows(offset):
    """The heuristic's squared distances come from one BLAS Gram product; the
    pairs that cancellation could spoil (equal and nearly equal rows, rows far
    from the origin) are recomputed, so it matches scipy's pdist."""
    from scipy.spatial.distance import pdist

    rng = np.random.RandomState(3)
    base = rng.normal(size=(60, 40)) + offset
    X = np.vstack([base, base[:20], base[:10] + 1e-7])  # exact duplicates and near ones
    d = pdist(X, "sqeuclidean")
    assert median_heuristic_gamma(X) == pytest.approx(1 / np.median(d[d > 0]), rel=1e-12)
    small = _kernels.sqeuclidean_matrix(X)[np.triu_indices(len(X), k=1)]
    np.testing.assert_allclose(small[d < 1e-10], d[d < 1e-10], rtol=1e-6, atol=1e-20)
    assert np.all(small[d == 0] == 0)


def test_median_heuristic_recomputes_close_pairs_in_chunks():
    """1,000 equal rows are 500,000 pairs to recompute: at 512 features one
    difference array of them all was 2 GB; the chunks keep the peak near the
    block size."""
    import tracemalloc

    X = np.ones((1000, 512))
    tracemalloc.start()
    try:
        gamma = median_heuristic_gamma(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert gamma == 1.0
    assert peak < 200e6


@pytest.mark.parametrize("n_rows", [120, 1300])
def test_median_gamma_and_distances_matches_the_heuristic_and_scipy(n_rows):
    """KMM's and MMD-TarS's defaults take the heuristic's distances for their
    kernel: the gamma is the heuristic's bit for bit, from the same random
    draws, and the distances are scipy's cdist (reference) with an exact zero
    diagonal; past 1,000 rows the heuristic subsamples and hands none back."""
    from scipy.spatial.distance import cdist

    rng = np.random.RandomState(5)
    Xs, Xt = rng.normal(size=(n_rows // 2, 30)), rng.normal(size=(n_rows - n_rows // 2, 30)) + 0.5
    Xs[:3] = Xs[3:6]  # equal rows: their distance is exactly 0
    gamma, distances = _kernels.median_gamma_and_distances([Xs, Xt], np.random.RandomState(0))
    draws = np.random.RandomState(0)
    assert gamma == median_heuristic_gamma(_kernels.pooled_sample([Xs, Xt], 1000, draws), "rbf", draws)
    if n_rows > 1000:
        assert distances is None
        return
    X = np.vstack([Xs, Xt])
    np.testing.assert_allclose(distances, cdist(X, X, "sqeuclidean"), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(distances, distances.T, rtol=1e-12)
    assert np.all(np.diag(distances) == 0) and np.all(distances[:3, 3:6].diagonal() == 0)
    np.testing.assert_allclose(_kernels.rbf_from_distances(distances, gamma), np.exp(-gamma * cdist(X, X, "sqeuclidean")),
                               rtol=1e-9)
