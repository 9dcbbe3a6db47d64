"""DomainShuffleSplit and LeaveOneDomainOut: fold contents, domain sources, GridSearchCV."""

from __future__ import annotations

import ast
import inspect

import numpy as np
import pytest
from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.preprocessing import StandardScaler

from sktransfer import make_da_pipeline, stack_domains
from sktransfer.alignment import CORAL
from sktransfer.datasets import make_domain_shift
from sktransfer.model_selection import DomainShuffleSplit, LeaveOneDomainOut, _split


def _data(n=40):
    X, y, sd = make_domain_shift(n_samples=n, random_state=0)
    return X, y, sd


def test_every_domain_is_split_on_its_own_with_the_same_share():
    sd = np.array([1] * 20 + [2] * 10 + [-1] * 30)
    X = np.zeros((60, 1))
    cv = DomainShuffleSplit(n_splits=3, test_size=0.2, test_rows="all", random_state=0)
    for train, test in cv.split(X, sample_domain=sd):
        assert np.intersect1d(train, test).size == 0
        assert len(np.union1d(train, test)) == 60
        for d, n in [(1, 20), (2, 10), (-1, 30)]:
            assert (sd[test] == d).sum() == int(np.ceil(0.2 * n))
            assert (sd[train] == d).sum() == n - int(np.ceil(0.2 * n))


def test_train_size_leaves_rows_out_and_int_sizes_count_rows():
    sd = np.array([1] * 10 + [-1] * 10)
    train, test = next(DomainShuffleSplit(1, test_size=2, train_size=0.5, test_rows="all", random_state=0)
                       .split(np.zeros((20, 1)), sample_domain=sd))
    assert (sd[test] == 1).sum() == 2 and (sd[train] == 1).sum() == 5


def test_domains_from_sample_domain_groups_or_the_label_mask_agree():
    X, y, sd = _data()
    cv = DomainShuffleSplit(n_splits=2, random_state=1)
    a = [t.tolist() for _, t in cv.split(X, y, sample_domain=sd)]
    b = [t.tolist() for _, t in cv.split(X, y, groups=sd)]
    c = [t.tolist() for _, t in cv.split(X, y)]  # y masks the target rows
    assert a == b
    # inferred ids are 1 / -2 instead of 1 / -1: same blocks, same order of blocks
    assert a == c


def test_same_random_state_same_folds_and_n_splits():
    X, y, sd = _data()
    cv = DomainShuffleSplit(n_splits=4, random_state=3)
    assert cv.get_n_splits() == 4
    first = [t.tolist() for _, t in cv.split(X, y)]
    assert first == [t.tolist() for _, t in cv.split(X, y)]
    assert len(first) == 4 and first[0] != first[1]


def test_a_domain_too_small_to_split_is_refused():
    sd = np.array([1] * 10 + [-1])
    with pytest.raises(ValueError, match="every domain needs at least one row on each side"):
        next(DomainShuffleSplit(test_size=0.2, test_rows="all").split(np.zeros((11, 1)), sample_domain=sd))


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"n_splits": 0}, ValueError, r"DomainShuffleSplit: n_splits must be at least 1, .*got 0"),
        ({"n_splits": -2}, ValueError, r"DomainShuffleSplit: n_splits must be at least 1"),
        ({"n_splits": 2.0}, TypeError, r"DomainShuffleSplit: n_splits must be an int >= 1.*\(float\)"),
        ({"n_splits": True}, TypeError, r"DomainShuffleSplit: n_splits must be an int >= 1.*\(bool\)"),
        ({"test_size": 0}, ValueError, r"DomainShuffleSplit: test_size must be a float in \(0, 1\).*got 0"),
        ({"test_size": 1.5}, ValueError, r"DomainShuffleSplit: test_size must be .*got 1.5"),
        ({"test_size": float("nan")}, ValueError, r"DomainShuffleSplit: test_size must be .*got nan"),
        ({"test_size": None}, TypeError, r"DomainShuffleSplit: test_size must be .*\(NoneType\)"),
        ({"test_size": "0.2"}, TypeError, r"DomainShuffleSplit: test_size must be .*\(str\)"),
        ({"train_size": 0.0}, ValueError, r"DomainShuffleSplit: train_size must be .*or None"),
        ({"test_rows": "masked"}, ValueError, r"DomainShuffleSplit: test_rows must be 'labelled'"),
    ],
)
def test_bad_parameters_are_refused_by_split_and_get_n_splits(params, error, match):
    """n_splits=0 yielded no fold at all (a search then scored nothing); a test_size of None
    or a string failed inside the size arithmetic."""
    X, y, sd = _data()
    cv = DomainShuffleSplit(**{"n_splits": 2, **params})
    with pytest.raises(error, match=match):
        next(cv.split(X, y, sample_domain=sd))
    with pytest.raises(error, match=match):
        cv.get_n_splits()


def test_sizes_a_domain_cannot_hold_name_the_splitter():
    sd = np.array([1] * 4 + [-1] * 4)
    with pytest.raises(ValueError, match="DomainShuffleSplit: a domain with 4 rows cannot give -1 training and 5 validation"):
        next(DomainShuffleSplit(test_size=5, test_rows="all").split(np.zeros((8, 1)), sample_domain=sd))


def test_no_domain_information_is_an_error():
    with pytest.raises(ValueError, match="cannot tell source rows from target rows"):
        next(DomainShuffleSplit().split(np.zeros((10, 1))))


def _grid(cv):
    return GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression(), check_negative_transfer=False),
                        {"coral__reg": [0.1, 10.0]}, cv=cv)


def test_grid_search_routing_off_takes_domains_from_groups():
    X, y, sd = _data()
    search = _grid(DomainShuffleSplit(n_splits=2, random_state=0)).fit(X, y, groups=sd, sample_domain=sd)
    assert search.cv_results_["split0_test_score"].shape == (2,)


def test_grid_search_with_routing_on_routes_sample_domain_to_the_splitter():
    X, y, sd = _data()
    off = _grid(DomainShuffleSplit(n_splits=2, random_state=0)).fit(X, y, groups=sd, sample_domain=sd)
    with config_context(enable_metadata_routing=True):
        on = _grid(DomainShuffleSplit(n_splits=2, random_state=0)).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(on.cv_results_["mean_test_score"], off.cv_results_["mean_test_score"])


def _three_domains():
    rng = np.random.default_rng(0)
    doms = []
    for shift in (0.0, 1.0, 2.0):
        Xd = rng.normal(size=(30, 3)) + shift
        doms.append((Xd, (Xd[:, 0] - shift > 0).astype(int)))
    return doms


def test_leave_one_domain_out_trains_on_the_unlabelled_copy_and_validates_on_the_labelled_one():
    doms = _three_domains()
    X, y, sd = stack_domains(source=doms, target=[Xd for Xd, _ in doms])
    cv = LeaveOneDomainOut()
    assert cv.get_n_splits(X, y, sample_domain=sd) == 3
    for k, (train, test) in zip([1, 2, 3], cv.split(X, y, sample_domain=sd)):
        assert set(sd[test]) == {k}
        assert set(sd[train]) == {1, 2, 3, -k} - {k}
        assert (y[train][sd[train] == -k] == -1).all()  # the held-out labels never reach fit


def test_leave_one_domain_out_scores_target_accuracy_with_routing_off_and_on():
    doms = _three_domains()
    X, y, sd = stack_domains(source=doms, target=[Xd for Xd, _ in doms])
    pipe = make_da_pipeline(CORAL(), LogisticRegression(), check_negative_transfer=False)
    off = cross_validate(pipe, X, y, groups=sd, cv=LeaveOneDomainOut(), params={"sample_domain": sd})
    # the same by hand: fit on the other labelled domains + the unlabelled copy, score the labelled copy
    by_hand = []
    for train, test in LeaveOneDomainOut().split(X, y, sample_domain=sd):
        fitted = make_da_pipeline(CORAL(), LogisticRegression(), check_negative_transfer=False).fit(X[train], y[train], sample_domain=sd[train])
        by_hand.append(np.mean(fitted.predict(X[test]) == y[test]))
    np.testing.assert_allclose(off["test_score"], by_hand)
    with config_context(enable_metadata_routing=True):
        on = cross_validate(pipe, X, y, cv=LeaveOneDomainOut(), params={"sample_domain": sd})
    np.testing.assert_allclose(on["test_score"], by_hand)


def test_leave_one_domain_out_needs_both_copies_and_max_n_splits_limits():
    doms = _three_domains()
    X, y, sd = stack_domains(source=doms, target=[Xd for Xd, _ in doms])
    assert len(list(LeaveOneDomainOut(max_n_splits=2).split(X, y, sample_domain=sd))) == 2
    labelled_only, y_l, sd_l = stack_domains(source=doms[:2], target=doms[2][0])
    with pytest.raises(ValueError, match="each also given unlabelled as a target"):
        next(LeaveOneDomainOut().split(labelled_only, y_l, sample_domain=sd_l))
    with pytest.raises(ValueError, match="LeaveOneDomainOut: max_n_splits must be at least 1"):
        next(LeaveOneDomainOut(max_n_splits=0).split(X, y, sample_domain=sd))
    with pytest.raises(TypeError, match=r"LeaveOneDomainOut: max_n_splits must be an int >= 1.*\(float\)"):
        LeaveOneDomainOut(max_n_splits=1.5).get_n_splits(sample_domain=sd)
    # The parameter is checked before the data, so its error is the one reported.
    with pytest.raises(ValueError, match="LeaveOneDomainOut: max_n_splits"):
        next(LeaveOneDomainOut(max_n_splits=0).split(labelled_only, y_l, sample_domain=sd_l))
    assert repr(LeaveOneDomainOut(2)) == "LeaveOneDomainOut(max_n_splits=2)"


def test_leave_one_domain_out_warns_about_a_target_domain_without_a_labelled_copy():
    """A new unlabelled domain -4 can be neither held out nor trained on: split says so, naming it."""
    import warnings

    doms = _three_domains()
    X_new = np.random.default_rng(1).normal(size=(5, 3))
    X, y, sd = stack_domains(source=doms[:2], target=[doms[0][0], doms[1][0], X_new])
    sd[sd == -3] = -4  # no domain 4 among the sources
    with pytest.warns(UserWarning, match=r"target domain\(s\) \[-4\] have no labelled copy.*5 row"):
        splits = list(LeaveOneDomainOut().split(X, y, sample_domain=sd))
    assert [set(sd[test]) for _, test in splits] == [{1}, {2}]  # the folds are as before
    assert not any(np.isin(np.flatnonzero(sd == -4), np.concatenate(split)).any() for split in splits)
    # every domain given twice: no warning
    X, y, sd = stack_domains(source=doms, target=[Xd for Xd, _ in doms])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(LeaveOneDomainOut().split(X, y, sample_domain=sd))) == 3


def test_leave_one_domain_out_accepts_lists_of_items():
    X = ["a", "b", "c", "d", "a", "b", "c", "d"]
    y = np.array([0, 1, 0, 1, -1, -1, -1, -1])
    sd = np.array([1, 1, 2, 2, -1, -1, -2, -2])
    splits = list(LeaveOneDomainOut().split(X, y, sample_domain=sd))
    assert [test.tolist() for _, test in splits] == [[0, 1], [2, 3]]


def _accuracy_by_hand(X, y, sd, cv, C=1.0):
    """Accuracy of each fold's model on the fold's labelled validation rows."""
    scores = []
    for train, test in cv.split(X, y, groups=sd):
        fitted = make_da_pipeline(StandardScaler(), LogisticRegression(C=C)).fit(
            X[train], y[train], sample_domain=sd[train])
        labelled = test[y[test] != -1]
        scores.append(np.mean(fitted.predict(X[labelled]) == y[labelled]))
    return np.array(scores)


def test_string_scorers_score_labelled_rows_only_by_default():
    """scoring="accuracy" compares predict with y: a masked target row in a fold would count as an error."""
    X, y, sd = _data(60)
    cv = DomainShuffleSplit(n_splits=3, test_size=0.3, random_state=0)
    for train, test in cv.split(X, y, groups=sd):
        assert (y[test] != -1).all()  # validation: labelled rows only
        assert set(np.flatnonzero(y == -1)) <= set(train)  # every unlabelled row trains
    by_hand = _accuracy_by_hand(X, y, sd, cv)
    assert by_hand.min() > 0.7  # masked rows counted as errors would halve it
    pipe = make_da_pipeline(StandardScaler(), LogisticRegression())
    off = cross_validate(pipe, X, y, groups=sd, cv=cv, scoring="accuracy", params={"sample_domain": sd})
    np.testing.assert_allclose(off["test_score"], by_hand)
    with config_context(enable_metadata_routing=True):
        on = cross_validate(pipe, X, y, cv=cv, scoring="accuracy", params={"sample_domain": sd})
    np.testing.assert_allclose(on["test_score"], by_hand)
    search = GridSearchCV(pipe, {"logisticregression__C": [0.01, 1.0]}, cv=cv, scoring="accuracy")
    search.fit(X, y, groups=sd, sample_domain=sd)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"],
                               [_accuracy_by_hand(X, y, sd, cv, C).mean() for C in (0.01, 1.0)])


def test_test_rows_all_keeps_target_rows_in_every_validation_fold():
    X, y, sd = _data(60)
    labelled = list(DomainShuffleSplit(n_splits=2, test_size=0.3, random_state=0).split(X, y, groups=sd))
    every = list(DomainShuffleSplit(n_splits=2, test_size=0.3, test_rows="all", random_state=0)
                 .split(X, y, groups=sd))
    for (_, test_l), (train_a, test_a) in zip(labelled, every):
        assert (sd[test_a] < 0).sum() == int(np.ceil(0.3 * (sd < 0).sum()))
        assert (sd[train_a] < 0).sum() == (sd < 0).sum() - int(np.ceil(0.3 * (sd < 0).sum()))
        assert (sd[test_l] > 0).sum() == (sd[test_a] > 0).sum()


def test_bad_test_rows_and_no_labelled_row_are_errors():
    X, y, sd = _data()
    with pytest.raises(ValueError, match="test_rows must be 'labelled'.*or 'all'.*got 'target'"):
        next(DomainShuffleSplit(test_rows="target").split(X, y))
    with pytest.raises(ValueError, match=r"test_rows='labelled'\) validates on labelled rows, but y is None"):
        next(DomainShuffleSplit().split(X, sample_domain=sd))
    with pytest.raises(ValueError, match="every label in y is masked.*or test_rows='all'"):
        next(DomainShuffleSplit().split(X, np.full(len(y), -1), sample_domain=-np.abs(sd)))


def test_a_domain_adaptation_scorer_on_the_default_folds_says_to_pass_test_rows_all():
    from sktransfer.model_selection import PredictionEntropyScorer

    X, y, sd = _data()
    search = GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression(), check_negative_transfer=False), {"coral__reg": [1.0]},
                          cv=DomainShuffleSplit(n_splits=2, random_state=0),
                          scoring=PredictionEntropyScorer(), error_score="raise")
    with pytest.raises(ValueError, match=r"has none .*DomainShuffleSplit\(test_rows='all'\)"):
        search.fit(X, y, groups=sd, sample_domain=sd)


def test_scikit_learn_private_names_come_from_compat():
    """The style rule: scikit-learn's private names (_num_samples) are imported only in
    sktransfer/_compat.py, so a rename upstream is fixed in one line."""
    private = [
        (node.module, alias.name)
        for node in ast.walk(ast.parse(inspect.getsource(_split)))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sklearn")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert private == []
