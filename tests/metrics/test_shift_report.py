"""domain_shift_report: numbers agree with the functions, ranking, weights, plot, validation."""

import json

import numpy as np
import pytest
from scipy.stats import ks_2samp

from sktransfer.metrics import DomainShiftReport, domain_shift_report, mmd, mmd_test, proxy_a_distance
from sktransfer.reweighting import DiscriminativeWeighter, effective_sample_size


def _shifted(n=150, d=6, seed=0):
    """Source and target rows stacked; only features 0 and 3 shift (by 1.5 sd)."""
    rng = np.random.RandomState(seed)
    Xs, Xt = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    Xt[:, [0, 3]] += 1.5
    return np.vstack([Xs, Xt]), np.r_[np.ones(n, int), -np.ones(n, int)]


@pytest.fixture(scope="module")
def data():
    return _shifted()


@pytest.fixture(scope="module")
def report(data):
    X, sd = data
    return domain_shift_report(X, sd, weighter=DiscriminativeWeighter(), n_permutations=100, random_state=0)


def test_numbers_match_the_functions(data, report):
    X, sd = data
    Xs, Xt = X[sd > 0], X[sd < 0]
    assert isinstance(report, DomainShiftReport)
    assert (report.n_source, report.n_target) == (150, 150)
    assert report.mmd == pytest.approx(mmd(Xs, Xt), abs=1e-12)
    test = mmd_test(Xs, Xt, n_permutations=100, random_state=0)
    assert report.mmd_pvalue == test.pvalue and report.gamma == test.gamma
    assert report.mmd_pvalue < 0.05 and report.n_permutations == 100
    assert report.mmd == test.statistic  # under 4000 rows the test's statistic is reused as it is


def test_mmd_is_computed_on_every_row_when_the_test_subsamples():
    X, sd = _shifted(n=2001, d=4, seed=1)  # 4002 rows: the permutation test draws 4000 of them
    report = domain_shift_report(X, sd, n_permutations=5, random_state=0)
    Xs, Xt = X[sd > 0], X[sd < 0]
    assert report.mmd == pytest.approx(mmd(Xs, Xt, gamma=report.gamma), abs=1e-12)
    assert report.mmd != mmd_test(Xs, Xt, n_permutations=5, random_state=0).statistic
    assert report.mmd_linear == pytest.approx(mmd(Xs, Xt, kernel="linear"), abs=1e-12)
    assert report.proxy_a_distance == proxy_a_distance(Xs, Xt, random_state=0)
    ks = [ks_2samp(Xs[:, j], Xt[:, j]).statistic for j in range(X.shape[1])]
    np.testing.assert_allclose(report.feature_shift, ks)
    assert report.feature_mean_difference[[0, 3]] == pytest.approx([1.5, 1.5], abs=0.35)


def test_shifted_features_rank_first(report):
    assert set(report.feature_ranking[:2]) == {0, 3}
    assert report.feature_names == [f"x{j}" for j in range(6)]
    assert {name for name, _ in report.top_features(2)} == {"x0", "x3"}
    shifts = [value for _, value in report.top_features(6)]
    assert shifts == sorted(shifts, reverse=True)


def test_weighter_gives_weights_and_ess(data, report):
    X, sd = data
    weighter = DiscriminativeWeighter()
    expected = weighter.fit(X, sample_domain=sd).weights_[sd > 0]
    np.testing.assert_allclose(report.weights, expected)
    assert report.effective_sample_size == pytest.approx(effective_sample_size(expected))
    assert report.effective_sample_size_fraction == pytest.approx(report.effective_sample_size / 150)
    assert 0 < report.effective_sample_size_fraction < 1
    assert report.weighter is not None and hasattr(report.weighter, "weights_")


def test_projection(report):
    assert report.projection.shape == (300, 2)
    assert report.is_target.sum() == 150 and not report.is_target[:150].any()
    assert np.all(report.explained_variance_ratio > 0) and report.explained_variance_ratio.sum() <= 1
    assert report.explained_variance_ratio[0] >= report.explained_variance_ratio[1]


def test_summary_and_dict(report):
    text = report.summary()
    assert text == repr(report)
    for part in ("150 source rows", "MMD^2 (gaussian)", "proxy A-distance", "effective sample size", "x0"):
        assert part in text
    values = report.to_dict()
    json.dumps(values)
    assert values["mmd"] == report.mmd and values["n_source"] == 150
    assert list(values["feature_shift"])[:2] in (["x0", "x3"], ["x3", "x0"])


def test_plot(report, tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = report.plot()
    assert len(fig.axes) == 3
    assert "ESS" in fig.axes[2].get_title()
    fig.savefig(tmp_path / "report.png")
    assert (tmp_path / "report.png").stat().st_size > 1000
    plt.close(fig)

    X, sd = _shifted(n=30)
    plain = domain_shift_report(X, sd, n_permutations=20, random_state=0)
    fig, axes = plt.subplots(1, 2)
    assert plain.plot(axes) is fig and len(fig.axes) == 2
    with pytest.raises(ValueError, match="needs 2 axes"):
        plain.plot(axes[:1])
    plt.close("all")


def test_dataframe_columns_name_the_features():
    pd = pytest.importorskip("pandas")
    X, sd = _shifted(n=60)
    frame = pd.DataFrame(X, columns=["age", "bmi", "sbp", "glucose", "hdl", "ldl"])
    report = domain_shift_report(frame, sd, n_permutations=20, random_state=0)
    assert report.feature_names == list(frame.columns)
    assert {name for name, _ in report.top_features(2)} == {"age", "glucose"}


def test_domains_inferred_from_the_label_mask():
    X, sd = _shifted(n=40)
    y = np.where(sd > 0, np.arange(80) % 2, -1)
    inferred = domain_shift_report(X, y=y, n_permutations=20, random_state=0)
    given = domain_shift_report(X, sd, n_permutations=20, random_state=0)
    assert (inferred.n_source, inferred.n_target) == (40, 40)
    assert inferred.mmd == given.mmd and inferred.mmd_pvalue == given.mmd_pvalue


@pytest.mark.parametrize(
    "X, sample_domain, match",
    [
        (np.ones((6, 2)), np.ones(6, int), "needs target rows"),
        (np.ones((6, 2)), -np.ones(6, int), "needs source rows"),
        (np.ones((6, 2)), None, "cannot tell source rows from target rows"),
        (np.ones((6, 2)), [1, 1, 1, 1, 1, -1], r"at least 2 rows in each domain, but X \(target rows\) has 1"),
        (np.r_[np.ones((5, 2)), [[np.nan, 0.0]]], [1, 1, 1, -1, -1, -1], r"X \(target rows\) contains NaN"),
        (np.ones((6, 2)), [1, 1], "sample_domain must be one id per row"),
    ],
)
def test_bad_inputs_raise_helpful_errors(X, sample_domain, match):
    with pytest.raises(ValueError, match=match):
        domain_shift_report(X, sample_domain, n_permutations=5)


def test_weighter_without_weights_is_refused():
    from sklearn.preprocessing import StandardScaler

    X, sd = _shifted(n=20)
    with pytest.raises(TypeError, match="must be a sktransfer.reweighting weighter"):
        domain_shift_report(X, sd, weighter=StandardScaler(), n_permutations=5)


def test_constant_features_get_a_sensible_mean_difference_and_are_named():
    """A feature constant in a domain used to get a standardized mean
    difference of 1e15 (its rounding-noise variance as the scale). Constant in
    one domain, the other domain's spread sets the scale; constant in both,
    it is 0 at the same value and NaN (undefined) at different values, and
    the report says where each constant feature is constant."""
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    sd = np.r_[np.ones(30, int), -np.ones(30, int)]
    X[:30, 1] = 0.1  # constant in the source only
    X[:, 2] = 0.1  # the same constant in both
    X[:30, 3], X[30:, 3] = 0.1, 0.3  # a different constant in each
    report = domain_shift_report(X, sd, n_permutations=10, random_state=0)
    smd = report.feature_mean_difference
    expected = (X[30:, 1].mean() - 0.1) / np.sqrt(X[30:, 1].var(ddof=1) / 2)
    assert smd[1] == pytest.approx(expected, rel=1e-12)
    assert smd[2] == 0.0 and np.isnan(smd[3])
    assert list(report.feature_constant_in) == ["", "source", "both", "both"]
    assert report.constant_features == {"x1": "source", "x2": "both", "x3": "both"}
    text = report.summary(k=4)
    assert "x3  1.000  n/a  (constant in both)" in text
    assert "constant features: x1 (source), x2 (both), x3 (both)" in text
    values = json.loads(json.dumps(report.to_dict(), allow_nan=False))  # strict JSON
    assert values["feature_mean_difference"]["x3"] is None
    assert values["constant_features"] == {"x1": "source", "x2": "both", "x3": "both"}


def test_a_report_without_constant_features_says_nothing_about_them(report):
    assert report.constant_features == {} and "constant" not in report.summary()


def test_plot_marks_an_undefined_mean_difference(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    X, sd = _shifted(n=40, d=4, seed=2)
    X[sd > 0, 2], X[sd < 0, 2] = 1.0, 2.0
    fig = domain_shift_report(X, sd, n_permutations=10, random_state=0).plot()
    labels = [t.get_text() for t in fig.axes[1].texts]
    assert " n/a" in labels
