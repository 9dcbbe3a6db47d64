"""Tests for sktransfer.datasets.load_digits_shift."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.datasets import load_digits_shift


@pytest.fixture(scope="module")
def bunch():
    return load_digits_shift()


def test_shapes_and_domains(bunch):
    assert bunch.data.shape == (1797, 64) and bunch.data.dtype == np.float64
    assert bunch.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(bunch.images.reshape(1797, -1), bunch.data)
    assert bunch.sample_domain.dtype == np.int64
    np.testing.assert_array_equal(bunch.sample_domain, [1] * 899 + [-1] * 898)
    assert len(bunch.feature_names) == 64
    assert bunch.feature_names[0] == "pixel_0_0" and bunch.feature_names[-1] == "pixel_7_7"
    np.testing.assert_array_equal(bunch.target_names, np.arange(10))
    assert bunch.frame is None


def test_source_rows_are_the_even_digits_and_labels_match(bunch):
    digits = load_digits()
    np.testing.assert_array_equal(bunch.data[:899], digits.data[0::2])
    np.testing.assert_array_equal(bunch.target_true[:899], digits.target[0::2])
    np.testing.assert_array_equal(bunch.target_true[899:], digits.target[1::2])
    # The target rows are transformed, not copied.
    assert np.abs(bunch.data[899:] - digits.data[1::2]).mean() > 1.0


def test_target_labels_are_masked(bunch):
    assert (bunch.target[899:] == -1).all()
    np.testing.assert_array_equal(bunch.target[:899], bunch.target_true[:899])
    assert set(np.unique(bunch.target_true)) == set(range(10))
    unmasked = load_digits_shift(mask_target=False)
    np.testing.assert_array_equal(unmasked.target, unmasked.target_true)


def test_transform_is_deterministic_and_in_range(bunch):
    again = load_digits_shift()
    np.testing.assert_array_equal(again.data, bunch.data)
    assert bunch.data.min() >= 0.0 and bunch.data.max() <= 16.0


def test_descr_describes_the_transform(bunch):
    for word in ("even", "odd", "Gaussian blur", "sigma=0.6", "half a pixel", "1.2"):
        assert word in bunch.DESCR


def test_return_X_y(bunch):
    X, y, sample_domain = load_digits_shift(return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    np.testing.assert_array_equal(sample_domain, bunch.sample_domain)


def test_as_frame(bunch):
    pd = pytest.importorskip("pandas")
    framed = load_digits_shift(as_frame=True)
    assert isinstance(framed.data, pd.DataFrame)
    assert list(framed.data.columns) == bunch.feature_names
    np.testing.assert_array_equal(framed.data.to_numpy(), bunch.data)
    assert isinstance(framed.target, pd.Series)
    np.testing.assert_array_equal(framed.target.to_numpy(), bunch.target)
    assert framed.frame.shape == (1797, 65)
    X, y, sample_domain = load_digits_shift(as_frame=True, return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert isinstance(sample_domain, np.ndarray)


def test_source_classifier_loses_accuracy_on_the_target(bunch):
    source = bunch.sample_domain > 0
    Xs, ys = bunch.data[source], bunch.target[source]
    X_train, X_test, y_train, y_test = train_test_split(
        Xs, ys, test_size=0.25, stratify=ys, random_state=0
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(X_train, y_train)
    held_out = model.score(X_test, y_test)
    on_target = model.score(bunch.data[~source], bunch.target_true[~source])
    assert held_out > 0.9
    assert 0.35 < on_target < 0.75
    assert held_out - on_target > 0.3


def test_non_boolean_flags_are_refused():
    with pytest.raises(TypeError, match="mask_target must be True or False"):
        load_digits_shift(mask_target="yes")
