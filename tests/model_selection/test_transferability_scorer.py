"""TransferabilityScorer: masked rows, errors, pickling and GridSearchCV."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sktransfer.metrics import hscore, leep_score, logme_score, nce_score
from sktransfer.model_selection import TransferabilityScorer


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


@pytest.mark.parametrize("metric", ["logme", "hscore"])
def test_scores_the_features_of_the_transformer(digits, metric):
    X, y = digits
    pca = PCA(n_components=10, random_state=0).fit(X)
    expected = {"logme": logme_score, "hscore": hscore}[metric](pca.transform(X), y)
    assert TransferabilityScorer(metric)(pca, X, y) == pytest.approx(expected)


@pytest.mark.parametrize("metric", ["leep", "nce"])
def test_scores_the_probabilities_of_a_source_classifier(digits, metric):
    X, y = digits
    # A "source" model trained on another task: is the digit >= 5?
    source = LogisticRegression(max_iter=2000).fit(X, y >= 5)
    expected = {"leep": leep_score, "nce": nce_score}[metric](source.predict_proba(X), y)
    assert TransferabilityScorer(metric)(source, X, y) == pytest.approx(expected)


def test_masked_rows_are_left_out(digits):
    X, y = digits
    pca = PCA(n_components=10, random_state=0).fit(X)
    y_masked = y.copy()
    y_masked[::3] = -1
    labelled = y_masked != -1
    seen = []
    spy = FunctionTransformer(lambda Z: seen.append(len(Z)) or pca.transform(Z)).fit(X)
    score = TransferabilityScorer("logme")(spy, X, y_masked)
    assert seen == [labelled.sum()]  # features are computed on the labelled rows only
    assert score == pytest.approx(logme_score(pca.transform(X[labelled]), y[labelled]))


def test_masked_rows_regression_and_lists():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, 2.0, 0.0] + 0.1 * rng.normal(size=40)
    y_masked = y.copy()
    y_masked[:10] = np.nan
    identity = FunctionTransformer(np.asarray).fit(X)
    score = TransferabilityScorer("logme", regression=True)(identity, list(X), y_masked)
    assert score == pytest.approx(logme_score(X[10:], y[10:], regression=True))


def test_pandas_rows_are_selected_by_position(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    frame = pd.DataFrame(X, index=np.arange(len(X))[::-1])
    y_masked = np.where(np.arange(len(y)) % 2 == 0, y, -1)
    pca = PCA(n_components=5, random_state=0).fit(X)
    expected = logme_score(pca.transform(X[::2]), y[::2])
    assert TransferabilityScorer()(pca, frame, y_masked) == pytest.approx(expected)


def test_no_labelled_row_is_an_error(digits):
    X, _ = digits
    pca = PCA(n_components=5).fit(X)
    with pytest.raises(ValueError, match="every label in y is masked"):
        TransferabilityScorer()(pca, X, np.full(len(X), -1))
    with pytest.raises(ValueError, match="every label in y is masked"):
        TransferabilityScorer(regression=True)(pca, X, np.full(len(X), np.nan))
    with pytest.raises(ValueError, match="needs the labels"):
        TransferabilityScorer()(pca, X)


def test_unknown_metric_and_inconsistent_options_are_errors():
    with pytest.raises(ValueError, match=r"\['hscore', 'leep', 'logme', 'nce'\]"):
        TransferabilityScorer("accuracy")
    with pytest.raises(ValueError, match="regression"):
        TransferabilityScorer("hscore", regression=True)
    with pytest.raises(ValueError, match="shrinkage"):
        TransferabilityScorer("logme", shrinkage="auto")


def test_leep_without_predict_proba_is_an_error(digits):
    X, y = digits
    pca = PCA(n_components=5).fit(X)
    for metric in ("leep", "nce"):
        with pytest.raises(TypeError, match="no predict_proba.*logme"):
            TransferabilityScorer(metric)(pca, X, y)
    with pytest.raises(TypeError, match="no transform"):
        TransferabilityScorer("logme")(LogisticRegression().fit(X[:50], y[:50]), X, y)


def test_pickle_clone_and_repr(digits):
    X, y = digits
    scorer = TransferabilityScorer("hscore", shrinkage="auto")
    assert repr(scorer) == "TransferabilityScorer('hscore', shrinkage='auto')"
    assert repr(TransferabilityScorer()) == "TransferabilityScorer('logme')"
    pca = PCA(n_components=5, random_state=0).fit(X)
    for copy in (pickle.loads(pickle.dumps(scorer)), clone(scorer, safe=False)):
        assert repr(copy) == repr(scorer)
        assert copy(pca, X, y) == scorer(pca, X, y)


@pytest.mark.parametrize("metric", ["logme", "hscore"])
def test_grid_search_over_pca_components(metric):
    # On digits, every extra principal component still carries class information, so
    # LogME and the H-score grow with n_components and the search picks the largest.
    X, y = load_digits(return_X_y=True)
    grid = [2, 8, 32]
    search = GridSearchCV(
        PCA(random_state=0), {"n_components": grid}, scoring=TransferabilityScorer(metric),
        cv=StratifiedKFold(3), error_score="raise",
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.diff(scores) > 0)
    assert search.best_params_ == {"n_components": 32}
    assert search.best_estimator_.n_components_ == 32  # refit happens without a score


def test_grid_search_rejects_a_destroyed_representation():
    # A pipeline of transformers: keeping the pixels beats shuffling them across rows.
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    shuffle = FunctionTransformer(lambda Z: rng.permuted(np.asarray(Z), axis=0))
    search = GridSearchCV(
        make_pipeline(StandardScaler(), "passthrough"), {"passthrough": ["passthrough", shuffle]},
        scoring=TransferabilityScorer("logme"), cv=3,
    ).fit(X, y)
    assert search.best_params_["passthrough"] == "passthrough"
    assert search.cv_results_["mean_test_score"][0] > search.cv_results_["mean_test_score"][1] + 0.2


def test_cross_val_score_with_masked_fold_rows(digits):
    X, y = digits
    y_masked = np.where(np.arange(len(y)) % 4 == 0, -1, y)
    scores = cross_val_score(PCA(n_components=8), X, y_masked, scoring=TransferabilityScorer(), cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_hscore_shrinkage_is_passed_on(digits):
    X, y = digits
    pca = PCA(n_components=10, random_state=0).fit(X)
    expected = hscore(pca.transform(X), y, shrinkage="auto")
    assert TransferabilityScorer("hscore", shrinkage="auto")(pca, X, y) == pytest.approx(expected)


def test_minus_one_plus_one_labels_are_refused(digits):
    X, _ = digits
    pca = PCA(n_components=5).fit(X)
    with pytest.raises(ValueError, match="-1 and 1"):
        TransferabilityScorer()(pca, X, np.where(np.arange(len(X)) % 2, 1, -1))


@pytest.mark.parametrize("metric", ["logme", "hscore"])
def test_class_sorted_rows_in_grid_search_say_to_stratify_and_shuffle(digits, metric):
    """A transformer's cv=3 is KFold in row order: on class-sorted rows every fold held one class (NaN)."""
    X, y = digits
    two = y < 2
    order = np.argsort(y[two], kind="stable")
    X_sorted, y_sorted = X[two][order], y[two][order]

    def search(cv):
        return GridSearchCV(PCA(random_state=0), {"n_components": [2, 8]}, cv=cv, error_score="raise",
                            scoring=TransferabilityScorer(metric)).fit(X_sorted, y_sorted)

    with pytest.raises(ValueError, match=r"needs at least two classes .* all hold class 0.*"
                                         r"StratifiedKFold\(n_splits=5, shuffle=True"):
        search(3)
    stratified = search(StratifiedKFold(3, shuffle=True, random_state=0))
    assert np.isfinite(stratified.cv_results_["mean_test_score"]).all()


def test_non_finite_features_are_an_error_naming_the_transformer(digits):
    """NaN features reached the metric, whose message ("Input X contains NaN") named neither the cause nor the fix."""
    X, y = digits
    broken = FunctionTransformer(lambda Z: np.where(np.arange(len(Z))[:, None] == 0, np.nan, Z)).fit(X)
    with pytest.raises(ValueError, match=r"TransferabilityScorer: the features FunctionTransformer computed came "
                                         r"out non-finite \(64 of .*degenerate"):
        TransferabilityScorer("logme")(broken, X, y)


def test_a_non_finite_metric_is_an_error_not_a_nan_score(digits, monkeypatch):
    from sktransfer.model_selection import _transferability_scorer

    X, y = digits
    monkeypatch.setattr(_transferability_scorer, "logme_score", lambda *a, **k: np.nan)
    with pytest.raises(ValueError, match="the logme score of this fold came out non-finite.*standardise"):
        TransferabilityScorer("logme")(PCA(n_components=4).fit(X), X, y)
