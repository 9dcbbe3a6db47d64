"""Tests for sktransfer.datasets.make_domain_shift."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal
from sklearn.neighbors import KNeighborsClassifier

from sktransfer.datasets import make_domain_shift

SHIFTS = ["covariate", "target", "concept", "subspace"]
TASKS = ["classification", "regression"]


def _split(X, y, sample_domain):
    source = sample_domain > 0
    return X[source], y[source], X[~source], y[~source]


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("task", TASKS)
def test_shapes_dtypes_and_masking(shift, task):
    X, y, sample_domain = make_domain_shift(
        30, shift=shift, task=task, n_features=3, n_classes=3, random_state=0
    )
    assert X.shape == (60, 3) and X.dtype == np.float64
    assert y.shape == (60,) and sample_domain.shape == (60,)
    assert sample_domain.dtype == np.int64
    np.testing.assert_array_equal(sample_domain, [1] * 30 + [-1] * 30)
    assert np.isfinite(X).all()
    if task == "classification":
        assert y.dtype == np.int64
        assert set(np.unique(y[:30])) <= {0, 1, 2}
        assert (y[30:] == -1).all()
    else:
        assert y.dtype == np.float64
        assert np.isfinite(y[:30]).all()
        assert np.isnan(y[30:]).all()


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("task", TASKS)
def test_mask_target_false_keeps_the_true_labels(shift, task):
    kwargs = dict(shift=shift, task=task, n_classes=4, random_state=3)
    X_m, y_m, sd_m = make_domain_shift(25, **kwargs)
    X, y, sd = make_domain_shift(25, mask_target=False, **kwargs)
    np.testing.assert_array_equal(X, X_m)
    np.testing.assert_array_equal(sd, sd_m)
    np.testing.assert_array_equal(y[:25], y_m[:25])
    if task == "classification":
        assert set(np.unique(y)) <= {0, 1, 2, 3}
    else:
        assert np.isfinite(y).all()


@pytest.mark.parametrize("shift", SHIFTS)
@pytest.mark.parametrize("task", TASKS)
def test_deterministic_given_random_state(shift, task):
    first = make_domain_shift(20, shift=shift, task=task, random_state=7)
    again = make_domain_shift(20, shift=shift, task=task, random_state=7)
    from_instance = make_domain_shift(
        20, shift=shift, task=task, random_state=np.random.RandomState(7)
    )
    other = make_domain_shift(20, shift=shift, task=task, random_state=8)
    for a, b, c in zip(first, again, from_instance):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    assert not np.array_equal(first[0], other[0])


def test_one_sample_per_domain():
    X, y, sample_domain = make_domain_shift(1, random_state=0)
    assert X.shape == (2, 2)
    np.testing.assert_array_equal(sample_domain, [1, -1])


def test_covariate_shift_moves_the_mean_but_keeps_the_rule():
    """Target mean is shift_strength * (1, ..., 1) / sqrt(d); the rule is shared."""
    X, y, sd = make_domain_shift(
        3000, shift_strength=1.5, n_features=4, noise=0.0, mask_target=False, random_state=0
    )
    Xs, ys, Xt, yt = _split(X, y, sd)
    np.testing.assert_allclose(Xt.mean(0) - Xs.mean(0), np.full(4, 0.75), atol=0.1)
    np.testing.assert_allclose(np.cov(Xt.T), np.eye(4), atol=0.1)
    # Same p(y|x): a flexible model fitted on the source transfers well.
    knn = KNeighborsClassifier(n_neighbors=15).fit(Xs, ys)
    assert knn.score(Xt, yt) > 0.9


def test_concept_shift_keeps_p_x_but_changes_the_rule():
    X, y, sd = make_domain_shift(
        3000, shift="concept", noise=0.0, mask_target=False, random_state=0
    )
    Xs, ys, Xt, yt = _split(X, y, sd)
    np.testing.assert_allclose(Xs.mean(0), Xt.mean(0), atol=0.1)
    np.testing.assert_allclose(np.cov(Xs.T), np.cov(Xt.T), atol=0.1)
    knn = KNeighborsClassifier(n_neighbors=15).fit(Xs, ys)
    assert knn.score(Xt, yt) < 0.85
    # Without shift the rule is the same again.
    X0, y0, sd0 = make_domain_shift(
        3000, shift="concept", shift_strength=0.0, noise=0.0, mask_target=False, random_state=0
    )
    Xs0, ys0, Xt0, yt0 = _split(X0, y0, sd0)
    assert KNeighborsClassifier(n_neighbors=15).fit(Xs0, ys0).score(Xt0, yt0) > 0.9


def test_concept_shift_regression_changes_the_rule():
    X, y, sd = make_domain_shift(
        2000, shift="concept", task="regression", noise=0.0, mask_target=False, random_state=0
    )
    Xs, ys, Xt, yt = _split(X, y, sd)
    # Same x-distribution and y-spread, but the rule differs: the nearest source
    # row predicts a target row's y much worse than it predicts a source row's.
    from sklearn.neighbors import KNeighborsRegressor

    knn = KNeighborsRegressor(n_neighbors=5).fit(Xs[:1000], ys[:1000])
    within = np.mean((knn.predict(Xs[1000:]) - ys[1000:]) ** 2)
    across = np.mean((knn.predict(Xt) - yt) ** 2)
    assert across > 5 * within


def test_target_shift_changes_priors_not_class_conditionals():
    X, y, sd = make_domain_shift(
        4000, shift="target", noise=0.0, mask_target=False, random_state=0
    )
    Xs, ys, Xt, yt = _split(X, y, sd)
    np.testing.assert_allclose(np.bincount(ys) / len(ys), [0.5, 0.5], atol=0.03)
    # Class 0 is 4 ** shift_strength = 4 times as likely as class 1 in the target.
    np.testing.assert_allclose(np.bincount(yt) / len(yt), [0.8, 0.2], atol=0.03)
    for k in (0, 1):
        np.testing.assert_allclose(Xs[ys == k].mean(0), Xt[yt == k].mean(0), atol=0.15)


def test_target_shift_priors_are_skewed_for_many_classes():
    _, y, sd = make_domain_shift(
        3000, shift="target", n_classes=4, shift_strength=2.0, mask_target=False, random_state=1
    )
    counts_s = np.bincount(y[sd > 0], minlength=4)
    counts_t = np.bincount(y[sd < 0], minlength=4)
    assert counts_s.max() / counts_s.min() < 1.3
    assert counts_t[0] / counts_t[3] > 8  # expected 4 ** 2 = 16
    assert np.all(np.diff(counts_t) < 0)


def test_target_shift_regression_moves_y():
    X, y, sd = make_domain_shift(
        3000, shift="target", task="regression", shift_strength=2.0, mask_target=False,
        random_state=0,
    )
    _, ys, _, yt = _split(X, y, sd)
    assert abs(yt.mean() - ys.mean() - 2.0) < 0.15
    assert abs(yt.std() - ys.std()) < 0.1


@pytest.mark.parametrize("n_classes", [2, 3])
def test_subspace_shift_changes_the_covariance(n_classes):
    """The map A has det 1, so log det of the covariance is unchanged."""
    X, y, sd = make_domain_shift(
        4000, shift="subspace", n_classes=n_classes, mask_target=False, random_state=0
    )
    Xs, ys, Xt, yt = _split(X, y, sd)
    cov_s, cov_t = np.cov(Xs.T), np.cov(Xt.T)
    assert np.abs(cov_s - cov_t).max() > 1.0
    np.testing.assert_allclose(np.linalg.slogdet(cov_s)[1], np.linalg.slogdet(cov_t)[1], atol=0.15)
    np.testing.assert_allclose(Xt.mean(0) - Xs.mean(0), np.full(2, 1 / np.sqrt(2)), atol=0.15)
    # Class proportions are the same in both domains.
    np.testing.assert_allclose(
        np.bincount(ys) / len(ys), np.bincount(yt) / len(yt), atol=0.04
    )


def test_density_ratio_matches_the_gaussians():
    """Reference: the ratio of the two densities from scipy.stats.multivariate_normal."""
    d, s = 3, 1.2
    X, _, sd, ratio = make_domain_shift(
        200, n_features=d, shift_strength=s, return_density_ratio=True, random_state=0
    )
    p_source = multivariate_normal(mean=np.zeros(d), cov=np.eye(d)).pdf(X)
    p_target = multivariate_normal(mean=np.full(d, s / np.sqrt(d)), cov=np.eye(d)).pdf(X)
    np.testing.assert_allclose(ratio, p_target / p_source, rtol=1e-10)
    assert ratio.dtype == np.float64 and (ratio > 0).all()


def test_density_ratio_averages_to_one_on_source_rows():
    for task in TASKS:
        _, _, sd, ratio = make_domain_shift(
            20000, task=task, n_features=2, return_density_ratio=True, random_state=0
        )
        assert abs(ratio[sd > 0].mean() - 1.0) < 0.05


def test_density_ratio_is_one_without_shift():
    *_, ratio = make_domain_shift(
        10, shift_strength=0.0, return_density_ratio=True, random_state=0
    )
    np.testing.assert_allclose(ratio, 1.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_samples=0), r"n_samples must be an int >= 1"),
        (dict(n_samples=2.5), r"n_samples must be an int >= 1"),
        (dict(n_samples=True), r"n_samples must be an int >= 1"),
        (dict(shift="label"), r"Unknown shift='label'; choose one of 'covariate', 'target'"),
        (dict(task="ranking"), r"Unknown task='ranking'; choose one of 'classification'"),
        (dict(n_features=1), r"n_features must be an int >= 2"),
        (dict(n_classes=1), r"n_classes must be an int >= 2 .*task='regression'"),
        (dict(shift_strength=-1.0), r"shift_strength must be a number in \[0, inf\)"),
        (dict(shift_strength="big"), r"shift_strength must be a number"),
        (dict(shift_strength=float("inf")), r"shift_strength must be a number in \[0, inf\)"),
        (dict(noise=1.5), r"noise must be a number in \[0, 1\]"),
        (dict(noise=-0.1, task="regression"), r"noise must be a number in \[0, inf\)"),
        (
            dict(shift="concept", return_density_ratio=True),
            r"return_density_ratio=True needs shift='covariate' \(got shift='concept'\)",
        ),
    ],
)
def test_bad_inputs_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_domain_shift(**kwargs)


def test_n_classes_is_ignored_for_regression():
    X, y, _ = make_domain_shift(5, task="regression", n_classes=1, random_state=0)
    assert X.shape == (10, 2)


@settings(max_examples=25, deadline=None)
@given(
    n_samples=st.integers(1, 15),
    n_features=st.integers(2, 5),
    n_classes=st.integers(2, 5),
    shift=st.sampled_from(SHIFTS),
    seed=st.integers(0, 2**31 - 1),
)
def test_labels_are_in_range(n_samples, n_features, n_classes, shift, seed):
    X, y, sd = make_domain_shift(
        n_samples, shift=shift, n_features=n_features, n_classes=n_classes,
        mask_target=False, random_state=seed,
    )
    assert X.shape == (2 * n_samples, n_features)
    assert y.min() >= 0 and y.max() < n_classes
    assert (sd[:n_samples] == 1).all() and (sd[n_samples:] == -1).all()


def test_overflowing_shift_strength_and_non_boolean_flags_are_refused():
    """shift_strength=1e300 returned inf features; mask_target='yes' was accepted."""
    with pytest.raises(ValueError, match=r"shift_strength=1e\+300 is too large"):
        make_domain_shift(n_samples=10, shift="subspace", shift_strength=1e300, random_state=0)
    with pytest.raises(TypeError, match="mask_target must be True or False"):
        make_domain_shift(n_samples=10, mask_target="yes")
