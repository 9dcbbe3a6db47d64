"""Tests of the domain contract: stack_domains, split_domains, check_domains."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sktransfer._labels import unlabelled_mask
from sktransfer.domain import (
    INFERRED_SOURCE,
    INFERRED_TARGET,
    check_domains,
    mask_target_labels,
    prediction_domains,
    split_domains,
    stack_domains,
)


def _blocks(rng, n_s=5, n_t=4, d=3):
    return rng.normal(size=(n_s, d)), rng.integers(0, 3, n_s), rng.normal(size=(n_t, d))


def test_stack_single_source_masks_target_labels():
    rng = np.random.default_rng(0)
    Xs, ys, Xt = _blocks(rng)
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    assert X.shape == (9, 3)
    np.testing.assert_array_equal(y, np.r_[ys, [-1] * 4])
    np.testing.assert_array_equal(sd, [1] * 5 + [-1] * 4)
    assert sd.dtype == np.int64


def test_stack_regression_masks_with_nan():
    rng = np.random.default_rng(0)
    Xs, Xt = rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    ys = rng.normal(size=4)
    _, y, _ = stack_domains(source=(Xs, ys), target=Xt)
    assert np.isnan(y[4:]).all() and not np.isnan(y[:4]).any()


def test_stack_multi_source_and_multi_target_ids():
    rng = np.random.default_rng(0)
    src = [(rng.normal(size=(2, 2)), [0, 1]), (rng.normal(size=(3, 2)), [1, 1, 0])]
    tgt = [rng.normal(size=(1, 2)), (rng.normal(size=(2, 2)), [0, 1])]
    X, y, sd = stack_domains(source=src, target=tgt)
    np.testing.assert_array_equal(sd, [1, 1, 2, 2, 2, -1, -2, -2])
    np.testing.assert_array_equal(y, [0, 1, 1, 1, 0, -1, 0, 1])
    source, target = split_domains(X, y, sd)
    assert len(source) == 2 and len(target) == 2
    np.testing.assert_array_equal(source[1][0], src[1][0])
    np.testing.assert_array_equal(target[1][1], [0, 1])


def test_stack_dataframes_and_lists():
    pd = pytest.importorskip("pandas")
    Xs = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=[10, 11])
    Xt = pd.DataFrame({"a": [5.0], "b": [6.0]}, index=[10])
    X, y, sd = stack_domains(source=(Xs, [0, 1]), target=Xt)
    assert isinstance(X, pd.DataFrame) and list(X.index) == [0, 1, 2]
    (Xs2, _), (Xt2, _) = split_domains(X, y, sd)
    assert list(Xs2.columns) == ["a", "b"] and Xt2.shape == (1, 2)

    paths, _, sd = stack_domains(source=(["a.png", "b.png"], [0, 1]), target=["c.png"])
    assert paths == ["a.png", "b.png", "c.png"]
    np.testing.assert_array_equal(sd, [1, 1, -1])


def test_stack_lines_dataframes_up_by_column_name_and_never_pads():
    """pd.concat lines frames up by name: blocks with other names were stacked into a frame twice
    as wide and half NaN, silently (a numpy target beside a DataFrame source did the same)."""
    pd = pytest.importorskip("pandas")
    Xs = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    # An array has no names: it takes the DataFrame's, in order.
    X, _, _ = stack_domains(source=(Xs, [0, 1]), target=np.array([[5.0, 6.0]]))
    assert list(X.columns) == ["a", "b"] and not X.isna().any().any()
    np.testing.assert_array_equal(X.to_numpy(), [[1, 3], [2, 4], [5, 6]])
    # The same names in another order are lined up by name.
    X, _, _ = stack_domains(source=(Xs, [0, 1]), target=pd.DataFrame({"b": [6.0], "a": [5.0]}))
    np.testing.assert_array_equal(X.to_numpy(), [[1, 3], [2, 4], [5, 6]])
    # Other names are refused, naming them.
    with pytest.raises(ValueError, match=r"target domain 1 has \['c', 'd'\] that source domain 1 lacks"):
        stack_domains(source=(Xs, [0, 1]), target=pd.DataFrame({"c": [5.0], "d": [6.0]}))
    with pytest.raises(ValueError, match="same columns"):
        stack_domains(source=(Xs, [0, 1]), target=pd.DataFrame([[5.0, 6.0]]))  # integer names 0, 1


def test_stack_refuses_different_feature_counts():
    with pytest.raises(ValueError, match="same number of features.*source 1: 3, target 1: 2"):
        stack_domains(source=(np.zeros((2, 3)), [0, 1]), target=np.zeros((2, 2)))


def test_stack_refuses_1d_blocks_and_unlabelled_source():
    with pytest.raises(ValueError, match="1-D array"):
        stack_domains(source=(np.zeros(3), [0, 1, 0]), target=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="pair \\(X, y\\)"):
        stack_domains(source=np.zeros((2, 2)), target=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="has 2 rows but 3 labels"):
        stack_domains(source=(np.zeros((2, 2)), [0, 1, 1]), target=np.zeros((2, 2)))


def test_stack_refuses_mask_values_in_source_labels():
    with pytest.raises(ValueError, match="contain -1, which marks unlabelled rows"):
        stack_domains(source=(np.zeros((2, 2)), [-1, 1]), target=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="contain NaN"):
        stack_domains(source=(np.zeros((2, 2)), [0.5, np.nan]), target=np.zeros((2, 2)))


def test_stack_refuses_string_labels_that_need_a_mask():
    with pytest.raises(TypeError, match="LabelEncoder"):
        stack_domains(source=(np.zeros((2, 2)), ["cat", "dog"]), target=np.zeros((2, 2)))
    # With target labels given nothing needs masking: strings are fine.
    _, y, _ = stack_domains(source=(np.zeros((2, 2)), ["cat", "dog"]), target=(np.zeros((1, 2)), ["cat"]))
    assert list(y) == ["cat", "dog", "cat"]


@settings(deadline=None, max_examples=40)
@given(
    n_s=st.integers(1, 6),
    n_t=st.integers(1, 6),
    d=st.integers(1, 4),
    regression=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_stack_split_round_trip(n_s, n_t, d, regression, seed):
    rng = np.random.default_rng(seed)
    Xs, Xt = rng.normal(size=(n_s, d)), rng.normal(size=(n_t, d))
    ys = rng.normal(size=n_s) + 0.5 if regression else rng.integers(0, 3, n_s)
    if not regression:
        ys[0] = 0  # all-1 source labels beside -1 masks are refused as ambiguous
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    (Xs2, ys2), (Xt2, yt2) = split_domains(X, y, sd)
    np.testing.assert_array_equal(Xs2, Xs)
    np.testing.assert_array_equal(ys2, ys)
    np.testing.assert_array_equal(Xt2, Xt)
    X3, y3, sd3 = stack_domains(source=(Xs2, ys2), target=(Xt2, yt2))
    np.testing.assert_array_equal(X3, X)
    np.testing.assert_array_equal(y3, y)
    np.testing.assert_array_equal(sd3, sd)
    # Inference from the mask gives the same split of rows.
    inferred = check_domains(X, y)
    np.testing.assert_array_equal(inferred.source, sd > 0)


def test_check_domains_infers_from_the_mask():
    X = np.zeros((5, 2))
    d = check_domains(X, [0, 1, -1, 2, -1])
    np.testing.assert_array_equal(
        d.sample_domain, [INFERRED_SOURCE, INFERRED_SOURCE, INFERRED_TARGET, INFERRED_SOURCE, INFERRED_TARGET]
    )
    assert d.inferred
    d = check_domains(X, [0.5, np.nan, 1.5, np.nan, 2.0])
    np.testing.assert_array_equal(d.target, [False, True, False, True, False])


def test_check_domains_explicit_ids_and_properties():
    d = check_domains(np.zeros((4, 1)), [0, 1, -1, -1], [2, 1, -1, -3])
    np.testing.assert_array_equal(d.source_ids, [1, 2])
    np.testing.assert_array_equal(d.target_ids, [-1, -3])
    np.testing.assert_array_equal(d.labelled, [True, True, False, False])
    assert not d.inferred
    # Float ids with integer values are accepted; a scalar broadcasts.
    np.testing.assert_array_equal(check_domains(np.zeros((2, 1)), None, [1.0, -1.0]).sample_domain, [1, -1])
    assert check_domains(np.zeros((3, 1)), None, -1, needs=("target",)).target.all()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(y=None), ValueError, "cannot tell source rows from target rows"),
        (dict(y=[0, 1, 1, 0]), ValueError, "needs target rows"),
        (dict(y=[-1, -1, -1, -1]), ValueError, "needs source rows"),
        (dict(y=[0, 1, -1], sample_domain=None), ValueError, "y has 3 rows but X has 4"),
        (dict(y=[0, 1, -1, -1], sample_domain=[1, 1, -1]), ValueError, "one id per row"),
        (dict(y=[0, 1, -1, -1], sample_domain=[1, 0, -1, -1]), ValueError, "contains 0"),
        (dict(y=[0, 1, -1, -1], sample_domain=[1, 1.5, -1, -1]), ValueError, "integer domain ids"),
        (dict(y=[0, 1, -1, -1], sample_domain=["a", "b", "c", "d"]), TypeError, "integer domain ids"),
        (dict(y=[1, 1, -1, -1]), ValueError, "only the values -1 and 1"),
        (dict(y=np.array(["a", "b", -1, -1], dtype=object)), TypeError, "string class labels"),
        (dict(y=np.array(["a", "b", "-1", "-1"])), TypeError, "beside the string '-1'"),
        (dict(y=np.array(["a", "b", "nan", "nan"]), sample_domain=[1, 1, -1, -1]), TypeError,
         "beside the string 'nan'"),
    ],
)
def test_check_domains_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        check_domains(np.zeros((4, 2)), **kwargs)


def test_check_domains_needs():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="needs sample_domain"):
        check_domains(X, [0, 1, -1, -1], needs=("sample_domain",), estimator="FA")
    with pytest.raises(ValueError, match="labelled target rows"):
        check_domains(X, [0, 1, -1, -1], [1, 1, -1, -1], needs=("target_labels",))
    with pytest.raises(ValueError, match="labelled source rows"):
        check_domains(X, None, [1, 1, -1, -1], needs=("source_labels",))
    with pytest.raises(ValueError, match="Unknown needs"):
        check_domains(X, [0, 1, -1, -1], needs=("sources",))
    d = check_domains(X, [0, 1, 1, -1], [1, 1, -1, -1], needs=("target_labels", "sample_domain"))
    np.testing.assert_array_equal(d.labelled & d.target, [False, False, True, False])


def test_string_labels_are_never_masked():
    np.testing.assert_array_equal(unlabelled_mask(np.array(["a", "b"])), [False, False])


def test_mask_target_labels_copies():
    y = np.array([0, 1, 2, 1])
    masked = mask_target_labels(y, [1, 1, -1, -2])
    np.testing.assert_array_equal(masked, [0, 1, -1, -1])
    np.testing.assert_array_equal(y, [0, 1, 2, 1])
    np.testing.assert_array_equal(np.isnan(mask_target_labels([0.5, 1.5], [1, -1])), [False, True])
    with pytest.raises(TypeError, match="LabelEncoder"):
        mask_target_labels(np.array(["a", "b"]), [1, -1])


def test_prediction_domains_default_to_target():
    np.testing.assert_array_equal(prediction_domains(3, None), [INFERRED_TARGET] * 3)
    np.testing.assert_array_equal(prediction_domains(2, 1), [1, 1])


def test_stack_domains_keeps_sparse_blocks_sparse_and_splits_them_back():
    """Bag-of-words domains (fetch_amazon_reviews) are scipy sparse matrices."""
    from scipy import sparse

    rng = np.random.RandomState(0)
    Xs = sparse.random(5, 7, density=0.3, format="csr", random_state=rng)
    Xt = sparse.random(4, 7, density=0.3, format="csr", random_state=rng)
    X, y, sd = stack_domains(source=(Xs, np.array([0, 1, 0, 1, 1])), target=Xt)
    assert sparse.issparse(X) and X.shape == (9, 7)
    np.testing.assert_array_equal(X.toarray(), np.vstack([Xs.toarray(), Xt.toarray()]))
    assert sd.tolist() == [1] * 5 + [-1] * 4 and (y[5:] == -1).all()
    (Xs_back, ys_back), (Xt_back, _) = split_domains(X, y, sd)
    np.testing.assert_array_equal(Xs_back.toarray(), Xs.toarray())
    np.testing.assert_array_equal(Xt_back.toarray(), Xt.toarray())
    # several sparse domains in a list, and sparse beside dense (densified)
    X2, _, sd2 = stack_domains(source=[(Xs, np.zeros(5)), (Xs, np.ones(5))], target=Xt)
    assert sparse.issparse(X2) and sorted(set(sd2.tolist())) == [-1, 1, 2]
    X3, _, _ = stack_domains(source=(Xs, np.zeros(5)), target=Xt.toarray())
    assert isinstance(X3, np.ndarray) and X3.shape == (9, 7)


# ------------------------------------------------------------------ the mask rule


@pytest.mark.parametrize("y", [[0.0, 1.0, np.nan, -1.0], np.array([0, 1, np.nan, -1], dtype=object)])
def test_nan_beside_minus_one_among_classes_is_refused(y):
    """Class labels holding both masks are ambiguous (NaN was the mask and -1 a class)."""
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="both NaN and -1"):
        unlabelled_mask(y)
    with pytest.raises(ValueError, match="both NaN and -1"):
        check_domains(X, y)
    with pytest.raises(ValueError, match="both NaN and -1"):
        check_domains(X, y, [1, 1, -1, -1], needs=())
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(ValueError, match="both NaN and -1"):
        check_domains(X, [0.5, 1.5, np.nan, -1.0], estimator=LogisticRegression())
    # A continuous target holding -1.0 is a regression target: NaN is its mask.
    np.testing.assert_array_equal(unlabelled_mask([0.5, 1.5, np.nan, -1.0]), [False, False, True, False])


def test_masked_source_labels_are_refused_like_stack_domains():
    """-1 among the source rows' labels is an error in check_domains as in stack_domains
    (was silently an unlabelled source row)."""
    X = np.zeros((6, 2))
    y, sd = np.array([0, 1, -1, 1, -1, -1]), np.array([1, 1, 1, 2, -1, -1])
    with pytest.raises(ValueError, match=r"1 source row\(s\).*contain -1.*recode the classes"):
        check_domains(X, y, sd, needs=())
    with pytest.raises(ValueError, match="source domain 1 contain -1.*recode the classes"):
        stack_domains(source=(X[:3], y[:3]), target=X[4:])
    y_reg, sd_reg = np.array([0.5, np.nan, 1.5, 2.0]), np.array([1, 1, -1, -1])
    with pytest.raises(ValueError, match="source row.*contain NaN"):
        check_domains(X[:4], y_reg, sd_reg, needs=())
    # Without sample_domain, -1/+1 labels are refused (the look-alike rule).
    with pytest.raises(ValueError, match="only the values -1 and 1"):
        check_domains(X[:4], [1, -1, 1, -1])


def test_regressors_read_nan_as_their_only_mask():
    """An integer-valued regression target keeps -1 as a value when the task is regression."""
    from sklearn.linear_model import Ridge

    X = np.zeros((6, 2))
    y = np.array([3.0, -1.0, 2.0, -1.0, np.nan, np.nan])
    sd = np.array([1, 1, 1, 1, -1, -1])
    for domains in (check_domains(X, y, sd, task="regression"), check_domains(X, y, sd, estimator=Ridge())):
        np.testing.assert_array_equal(domains.labelled, [True, True, True, True, False, False])
    # Inferred: the -1 rows are source rows of a regressor, not targets.
    np.testing.assert_array_equal(check_domains(X, y, estimator=Ridge()).sample_domain, [1, 1, 1, 1, -2, -2])
    # "auto" on integer values with NaN and -1, and no domains, cannot tell; it says how to.
    with pytest.raises(ValueError, match="task='regression'"):
        check_domains(X, y, needs=())


def test_regression_target_masked_with_minus_one_is_refused():
    """A regressor given -1 on every target row (the class mask) would learn -1 as a value."""
    from sklearn.linear_model import Ridge

    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match="regression, whose mask is NaN"):
        check_domains(X, [3.0, 4.0, -1.0, -1.0], [1, 1, -1, -1], estimator=Ridge())


def test_stack_and_mask_integer_valued_regression_targets():
    """task='regression' masks with NaN and keeps -1 as a source value (stack_domains used to
    mask integer targets with -1, and refuse a -1 among them)."""
    Xs, ys, Xt = np.zeros((3, 2)), np.array([4, -1, 7]), np.ones((2, 2))
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt, task="regression")
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, [4.0, -1.0, 7.0, np.nan, np.nan])
    _, y_auto, _ = stack_domains(source=(Xs, np.array([4, 5, 7])), target=Xt)
    np.testing.assert_array_equal(y_auto, [4, 5, 7, -1, -1])
    masked = mask_target_labels([4, -1, 7, 2], [1, 1, -1, -1], task="regression")
    np.testing.assert_array_equal(masked, [4.0, -1.0, np.nan, np.nan])
    with pytest.raises(ValueError, match="task must be one of"):
        stack_domains(source=(Xs, ys), target=Xt, task="regresion")
    with pytest.raises(TypeError, match="regression target must be numeric"):
        stack_domains(source=(Xs, np.array(["a", "b", "c"])), target=Xt, task="regression")


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, bool])
def test_mask_target_labels_on_unsigned_and_boolean_labels(dtype):
    """-1 does not fit an unsigned or boolean array: the labels are widened (was an
    OverflowError for uint8, and True for bool)."""
    y = np.array([0, 1, 1, 0], dtype=dtype)
    masked = mask_target_labels(y, [1, 1, -1, -1])
    np.testing.assert_array_equal(masked, [0, 1, -1, -1])
    assert masked.dtype.kind == "i"
    assert y.dtype == dtype  # the caller's array is untouched


def test_uint64_labels_become_int64_or_are_refused():
    """numpy promotes uint64 with int8 to float64: labels came back as floats and merged past 2**53."""
    masked = mask_target_labels(np.array([0, 1, 1, 0], dtype=np.uint64), [1, 1, -1, -1])
    assert masked.dtype == np.int64
    big = np.array([2**62 + 1, 2**62 + 2, 5, 5], dtype=np.uint64)
    assert len(np.unique(mask_target_labels(big, [1, 1, -1, -1])[:2])) == 2
    with pytest.raises(ValueError, match="cannot be masked with -1"):
        mask_target_labels(np.array([2**63 + 1, 1], dtype=np.uint64), [1, -1])


def test_sample_domain_ids_past_the_int64_range_are_refused():
    """astype(int64) wrapped a uint64 id past 2**63 to a negative one: a source row read as a target row."""
    from sktransfer.domain import check_domains

    for sd in (np.array([2**63 + 1, 1, 2], dtype=np.uint64), np.array([1e30, 1.0, -1.0])):
        with pytest.raises(ValueError, match="must fit a 64-bit signed integer"):
            check_domains(np.zeros((3, 1)), sample_domain=sd, needs=())


def test_empty_domain_lists_are_refused():
    Xs, ys = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="at least one target domain; got an empty list"):
        stack_domains(source=(Xs, ys), target=[])
    with pytest.raises(ValueError, match="at least one source domain"):
        stack_domains(source=[], target=Xs)


def test_minus_one_on_a_source_row_beside_nan_is_a_regression_value():
    """With sample_domain given, a -1 on a (labelled) source row cannot be the mask: y with NaN
    masks is then a regression target, as adaptation steps in a regressor's pipeline see it."""
    X = np.zeros((6, 2))
    y = np.array([3.0, -1.0, 2.0, 0.0, np.nan, np.nan])
    sd = np.array([1, 1, 1, -1, -1, -1])
    np.testing.assert_array_equal(check_domains(X, y, sd, needs=()).labelled, [1, 1, 1, 1, 0, 0])
    # On target rows only, the two masks stay ambiguous.
    with pytest.raises(ValueError, match="both NaN and -1"):
        check_domains(X, np.array([3.0, 4.0, 2.0, -1.0, np.nan, np.nan]), sd, needs=())


def test_numeric_looking_string_labels_are_classes():
    """'-1' among labels that all read as numbers (read from a file) is a class, not the mask."""
    d = check_domains(np.zeros((4, 2)), np.array(["-1", "1", "1", "-1"]), [1, 1, -1, -1])
    assert d.labelled.all()


def test_a_list_of_text_lists_is_several_domains():
    """target=[texts_1, texts_2] was one domain whose rows were the two lists (2 rows, all id -1)."""
    src, ys = ["open the socket", "send the request", "start the thread"], [0, 0, 1]
    t1, t2 = ["mail server", "event loop"], ["zip archive", "xml tree", "tar file"]
    X, y, sd = stack_domains(source=(src, ys), target=[t1, t2])
    assert X == src + t1 + t2
    np.testing.assert_array_equal(sd, [1, 1, 1, -1, -1, -2, -2, -2])
    # one domain of texts is still one domain
    X, y, sd = stack_domains(source=(src, ys), target=t1)
    np.testing.assert_array_equal(sd, [1, 1, 1, -1, -1])
