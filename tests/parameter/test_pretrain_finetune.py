"""PretrainFineTune: both phases, both methods, and the errors a user can meet."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone, is_classifier, is_regressor
from sklearn.datasets import load_digits
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.naive_bayes import MultinomialNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sktransfer.datasets import make_domain_shift
from sktransfer.parameter import PretrainFineTune
from sktransfer.parameter._finetune_phases import resolve_method
from sktransfer.pipeline import make_da_pipeline


def _data(task: str = "classification", n_target_labels: int = 10, random_state: int = 0):
    """60 source rows and 60 target rows (concept shift), the first few target rows labelled."""
    X, y, sd = make_domain_shift(
        n_samples=60, shift="concept", task=task, mask_target=False, random_state=random_state
    )
    y_fit = y.astype(float) if task == "regression" else y.copy()
    target = np.flatnonzero(sd < 0)
    y_fit[target[n_target_labels:]] = np.nan if task == "regression" else -1
    return X, y_fit, sd, y


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Records every fit / partial_fit call: which method, how many rows, which rows, classes."""

    def __init__(self, warm_start=False):
        self.warm_start = warm_start

    def _record(self, name, X, y, classes=None):
        self.calls_ = [*getattr(self, "calls_", []), (name, X.shape[0], X[:, 0].copy(), classes)]

    def fit(self, X, y):
        self._record("fit", X, y)
        self.classes_ = np.unique(y)
        return self

    def partial_fit(self, X, y, classes=None):
        self._record("partial_fit", X, y, None if classes is None else tuple(classes))
        if classes is not None:
            self.classes_ = np.asarray(classes)
        return self

    def predict(self, X):
        return np.full(X.shape[0], self.classes_[0])


# ---------------------------------------------------------------- source phase


@pytest.mark.parametrize(
    "estimator",
    [
        SGDClassifier(loss="log_loss", random_state=0),
        GradientBoostingClassifier(n_estimators=5, random_state=0),
    ],
    ids=["partial_fit", "warm_start"],
)
def test_source_estimator_is_a_plain_fit_on_the_source_rows(estimator):
    X, y, sd, _ = _data()
    model = PretrainFineTune(estimator, random_state=0).fit(X, y, sample_domain=sd)
    plain = clone(estimator).fit(X[sd > 0], y[sd > 0])
    np.testing.assert_array_equal(model.source_estimator_.predict(X), plain.predict(X))
    np.testing.assert_allclose(
        model.source_estimator_.predict_proba(X), plain.predict_proba(X), rtol=1e-12
    )
    assert model.source_estimator_ is not model.estimator_


def test_estimator_param_is_left_untouched():
    X, y, sd, _ = _data()
    given = GradientBoostingClassifier(n_estimators=5, random_state=0)
    before = given.get_params()
    PretrainFineTune(given, n_finetune_iter=3).fit(X, y, sample_domain=sd)
    assert given.get_params() == before
    assert not hasattr(given, "estimators_")


# ---------------------------------------------------------------- warm start


def test_warm_start_adds_exactly_n_finetune_iter_trees_fitted_to_the_target():
    X, y, sd, _ = _data()
    gb = GradientBoostingClassifier(n_estimators=7, max_depth=2, random_state=0)
    model = PretrainFineTune(gb, n_finetune_iter=4).fit(X, y, sample_domain=sd)
    assert model.method_ == "warm_start"
    assert model.source_estimator_.estimators_.shape[0] == 7
    assert model.estimator_.estimators_.shape[0] == 11
    # The first trees are the source's, unchanged; the new ones were fitted on the target.
    for k in range(7):
        np.testing.assert_array_equal(
            model.estimator_.estimators_[k, 0].tree_.threshold,
            model.source_estimator_.estimators_[k, 0].tree_.threshold,
        )
    src_raw = model.source_estimator_.decision_function(X)
    assert not np.allclose(model.estimator_.decision_function(X), src_raw)


def test_warm_start_counts_for_hist_gradient_boosting_and_forests():
    X, y, sd, _ = _data()
    hgb = HistGradientBoostingClassifier(max_iter=6, max_depth=2, random_state=0)
    model = PretrainFineTune(hgb, n_finetune_iter=3).fit(X, y, sample_domain=sd)
    assert (model.source_estimator_.n_iter_, model.estimator_.n_iter_) == (6, 9)
    forest = RandomForestClassifier(n_estimators=4, max_depth=2, random_state=0)
    model = PretrainFineTune(forest, n_finetune_iter=2).fit(X, y, sample_domain=sd)
    assert (len(model.source_estimator_.estimators_), len(model.estimator_.estimators_)) == (4, 6)


def test_finetune_params_are_set_before_the_target_phase_and_override_the_count():
    X, y, sd, _ = _data()
    gb = GradientBoostingClassifier(n_estimators=5, learning_rate=0.1, random_state=0)
    params = {"n_estimators": 12, "learning_rate": 0.05}
    model = PretrainFineTune(gb, finetune_params=params).fit(X, y, sample_domain=sd)
    assert model.estimator_.estimators_.shape[0] == 12
    assert model.estimator_.learning_rate == 0.05
    assert model.source_estimator_.learning_rate == 0.1


@pytest.mark.parametrize("n_pretrain_iter", [None, 5])
def test_an_mlp_fine_tunes_at_the_learning_rate_of_finetune_params(n_pretrain_iter):
    """scikit-learn's MLP reuses the optimiser its first partial_fit built, so the rate set for the
    target phase was ignored: a rate of 1e-12 moved the weights as far as the pretraining's 1e-3."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    X, y, sd, _ = _data()
    moved = {}
    for lr in (1e-12, 0.5):
        mlp = MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
        model = PretrainFineTune(mlp, finetune_params={"learning_rate_init": lr}, n_pretrain_iter=n_pretrain_iter,
                                 random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y, sample_domain=sd)
        assert model.estimator_._optimizer.learning_rate_init == lr
        moved[lr] = np.abs(model.estimator_.coefs_[0] - model.source_estimator_.coefs_[0]).max()
    assert moved[1e-12] < 1e-9 < 1e-2 < moved[0.5]


def test_warm_start_regressor():
    X, y, sd, _ = _data("regression")
    gbr = GradientBoostingRegressor(n_estimators=5, max_depth=2, random_state=0)
    model = PretrainFineTune(gbr, n_finetune_iter=5).fit(X, y, sample_domain=sd)
    assert is_regressor(model) and not hasattr(model, "classes_")
    assert model.estimator_.estimators_.shape[0] == 10
    assert -np.inf < model.score(X[sd < 0], np.nan_to_num(y[sd < 0])) <= 1.0


def test_hist_gradient_boosting_accepts_nan_in_X_sgd_does_not():
    X, y, sd, _ = _data()
    X = X.copy()
    X[0, 0] = np.nan
    hgb = HistGradientBoostingClassifier(max_iter=3, random_state=0)
    PretrainFineTune(hgb, n_finetune_iter=2).fit(X, y, sample_domain=sd).predict(X)
    with pytest.raises(ValueError, match="NaN"):
        PretrainFineTune(SGDClassifier()).fit(X, y, sample_domain=sd)


def test_values_too_large_to_square_are_refused_at_fit_and_predict():
    """X * 1e300 fitted SGD to coefficients of 1e298 whose decision values were +-inf,
    silently; at predict it returned scores of 1e301 beside an overflow RuntimeWarning."""
    X, y, sd, _ = _data()
    with pytest.raises(ValueError, match="PretrainFineTune: X has values up to .* too large to square"):
        PretrainFineTune(SGDClassifier(random_state=0)).fit(X * 1e300, y, sample_domain=sd)
    model = PretrainFineTune(SGDClassifier(random_state=0)).fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="PretrainFineTune: X has values up to .* too large to square"):
        model.decision_function(X * 1e300)
    # NaN passes to an estimator that takes it; the bound ignores it.
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    hgb = PretrainFineTune(HistGradientBoostingClassifier(max_iter=3, random_state=0), n_finetune_iter=2)
    with pytest.raises(ValueError, match="PretrainFineTune: X has values up to"):
        hgb.fit(X_nan * 1e300, y, sample_domain=sd)


def test_warm_start_cannot_add_classes():
    X, y, sd, _ = _data()
    y = y.copy()
    y[(sd < 0) & (y != -1)] += 5  # target classes 5, 6: unknown to the source model
    gb = GradientBoostingClassifier(n_estimators=3)
    with pytest.raises(ValueError, match=r"cannot add classes.*\[5, 6\].*y - 5"):
        PretrainFineTune(gb).fit(X, y, sample_domain=sd)


def test_warm_start_needs_every_source_class_among_the_target_labels():
    X, y, sd, _ = _data()
    y = y.copy()
    y[(sd < 0) & (y == 1)] = 0  # the labelled target rows are all class 0
    gb = GradientBoostingClassifier(n_estimators=3)
    with pytest.raises(ValueError, match=r"have no class \[1\].*re-encodes"):
        PretrainFineTune(gb).fit(X, y, sample_domain=sd)


def test_warm_start_refuses_declared_classes_beyond_the_source():
    X, y, sd, _ = _data()
    gb = GradientBoostingClassifier(n_estimators=3)
    with pytest.raises(ValueError, match=r"cannot take classes=\[0, 1, 2\]"):
        PretrainFineTune(gb, classes=[0, 1, 2]).fit(X, y, sample_domain=sd)


def test_n_pretrain_iter_only_applies_to_partial_fit():
    X, y, sd, _ = _data()
    gb = GradientBoostingClassifier(n_estimators=3)
    with pytest.raises(ValueError, match="n_pretrain_iter=5 only applies"):
        PretrainFineTune(gb, n_pretrain_iter=5).fit(X, y, sample_domain=sd)


# ---------------------------------------------------------------- partial_fit


def test_partial_fit_is_called_once_per_epoch_on_the_target_rows():
    X, y, sd, _ = _data(n_target_labels=10)
    model = PretrainFineTune(SpyClassifier(), n_finetune_iter=4, random_state=0)
    model.fit(X, y, sample_domain=sd)
    calls = model.estimator_.calls_
    assert [c[0] for c in calls] == ["fit"] + ["partial_fit"] * 4
    assert calls[0][1] == 60 and all(c[1] == 10 for c in calls[1:])
    assert all(c[3] == (0, 1) for c in calls[1:])
    target_rows = X[np.flatnonzero(sd < 0)[:10], 0]
    for _, _, rows, _ in calls[1:]:
        np.testing.assert_array_equal(np.sort(rows), np.sort(target_rows))
    assert not np.array_equal(calls[1][2], calls[2][2]), "each epoch is reshuffled"
    assert [c[0] for c in model.source_estimator_.calls_] == ["fit"]


def test_n_pretrain_iter_runs_partial_fit_epochs_on_the_source_rows():
    X, y, sd, _ = _data()
    model = PretrainFineTune(SpyClassifier(), n_pretrain_iter=3, n_finetune_iter=2, random_state=0)
    calls = model.fit(X, y, sample_domain=sd).estimator_.calls_
    assert [(c[0], c[1]) for c in calls] == [("partial_fit", 60)] * 3 + [("partial_fit", 10)] * 2


def test_partial_fit_starts_from_the_source_weights():
    """One target epoch from the source model, replayed by hand, and the same
    epoch from a fresh model: the fine-tuned weights are the first."""
    X, y, sd, _ = _data()
    sgd = SGDClassifier(loss="log_loss", random_state=0)
    model = PretrainFineTune(sgd, n_finetune_iter=1, random_state=3).fit(X, y, sample_domain=sd)
    target = np.flatnonzero(sd < 0)[:10]
    order = np.random.RandomState(3).permutation(10)
    by_hand = clone(sgd).fit(X[sd > 0], y[sd > 0])
    by_hand.partial_fit(X[target][order], y[target][order], classes=[0, 1])
    np.testing.assert_allclose(model.estimator_.coef_, by_hand.coef_, rtol=1e-12)
    fresh = clone(sgd).partial_fit(X[target][order], y[target][order], classes=[0, 1])
    assert not np.allclose(model.estimator_.coef_, fresh.coef_)
    assert not np.allclose(model.estimator_.coef_, model.source_estimator_.coef_)


def test_partial_fit_regressor():
    X, y, sd, _ = _data("regression")
    model = PretrainFineTune(SGDRegressor(random_state=0), n_finetune_iter=3, random_state=0)
    model.fit(X, y, sample_domain=sd)
    assert model.method_ == "partial_fit" and is_regressor(model)
    assert not hasattr(model, "predict_proba") and not hasattr(model, "classes_")
    assert model.predict(X).shape == (X.shape[0],)


def test_classes_are_the_union_of_source_and_target_labels():
    X, y, sd, _ = _data()
    y = y.copy()
    y[(sd < 0) & (y == 1)] = 2  # class 2 exists only in the target
    sgd = SGDClassifier(loss="log_loss", random_state=0)
    model = PretrainFineTune(sgd, n_pretrain_iter=5, random_state=0).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    assert model.predict_proba(X).shape == (X.shape[0], 3)
    declared = PretrainFineTune(sgd, n_pretrain_iter=2, classes=[0, 1, 2, 3]).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(declared.classes_, [0, 1, 2, 3])


def test_fit_cannot_pretrain_classes_the_source_lacks():
    X, y, sd, _ = _data()
    y = y.copy()
    y[(sd < 0) & (y == 1)] = 2
    with pytest.raises(ValueError, match=r"source rows have no class \[2\].*Set n_pretrain_iter"):
        PretrainFineTune(SGDClassifier()).fit(X, y, sample_domain=sd)


def test_declared_classes_must_cover_the_labels():
    X, y, sd, _ = _data()
    with pytest.raises(ValueError, match=r"labels \[1\] that are not in classes=\[0, 3\]"):
        PretrainFineTune(SGDClassifier(), classes=[0, 3]).fit(X, y, sample_domain=sd)


def test_string_labels_with_explicit_domains():
    X, _, sd, y_true = _data()
    y = np.array(["cat", "dog"], dtype=object)[y_true]
    model = PretrainFineTune(SGDClassifier(random_state=0), n_finetune_iter=2, random_state=0)
    assert set(model.fit(X, y, sample_domain=sd).predict(X)) <= {"cat", "dog"}


# ---------------------------------------------------------------- method and API


@pytest.mark.parametrize(
    "estimator, method",
    [
        (SGDClassifier(), "partial_fit"),
        (MultinomialNB(), "partial_fit"),
        (MLPClassifier(), "partial_fit"),
        (MLPClassifier(solver="lbfgs"), "warm_start"),  # partial_fit needs sgd/adam
        (GradientBoostingClassifier(), "warm_start"),
        (SpyClassifier(), "partial_fit"),  # has both: partial_fit wins
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_auto_method(estimator, method):
    assert resolve_method(PretrainFineTune(estimator), estimator) == method


def test_estimator_with_neither_method_gets_a_clear_type_error():
    X, y, sd, _ = _data()
    with pytest.raises(TypeError, match="KNeighborsClassifier.*neither.*partial_fit.*warm_start"):
        PretrainFineTune(KNeighborsClassifier()).fit(X, y, sample_domain=sd)
    with pytest.raises(TypeError, match="method='partial_fit'.*GradientBoostingClassifier has none"):
        PretrainFineTune(GradientBoostingClassifier(), method="partial_fit").fit(X, y, sample_domain=sd)
    with pytest.raises(TypeError, match="method='warm_start'.*MultinomialNB has none"):
        PretrainFineTune(MultinomialNB(), method="warm_start").fit(X, y, sample_domain=sd)


def test_forced_warm_start_on_an_estimator_with_both():
    X, y, sd, _ = _data()
    model = PretrainFineTune(SpyClassifier(), method="warm_start", n_finetune_iter=2)
    calls = model.fit(X, y, sample_domain=sd).estimator_.calls_
    assert [c[0] for c in calls] == ["fit", "fit"] and model.estimator_.warm_start


def test_needs_labelled_target_rows_sample_domain_and_y():
    X, y, sd, _ = _data()
    with pytest.raises(ValueError, match="PretrainFineTune needs sample_domain"):
        PretrainFineTune().fit(X, y)
    y_none = y.copy()
    y_none[sd < 0] = -1
    with pytest.raises(ValueError, match="needs some labelled target rows"):
        PretrainFineTune().fit(X, y_none, sample_domain=sd)
    with pytest.raises(ValueError, match="requires y to be passed"):
        PretrainFineTune().fit(X, None, sample_domain=sd)


def test_tags_and_methods_follow_the_estimator():
    assert is_classifier(PretrainFineTune()) and not is_regressor(PretrainFineTune())
    assert is_regressor(PretrainFineTune(SGDRegressor()))
    assert not hasattr(PretrainFineTune(SGDClassifier(loss="hinge")), "predict_proba")
    assert hasattr(PretrainFineTune(SGDClassifier(loss="hinge")), "decision_function")
    assert hasattr(PretrainFineTune(), "predict_proba")  # the default is a logistic SGD


def test_default_estimator_is_seeded_by_random_state():
    X, y, sd, _ = _data()
    a = PretrainFineTune(random_state=1).fit(X, y, sample_domain=sd)
    b = PretrainFineTune(random_state=1).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
    assert a.estimator_.loss == "log_loss"


def test_in_a_da_pipeline():
    X, y, sd, y_true = _data(n_target_labels=20)
    pipe = make_da_pipeline(
        StandardScaler(), PretrainFineTune(SGDClassifier(loss="log_loss", random_state=0), random_state=0)
    )
    pipe.fit(X, y, sample_domain=sd)
    assert pipe.predict_proba(X[sd < 0]).shape == (60, 2)
    assert 0.0 <= pipe.score(X[sd < 0], y_true[sd < 0]) <= 1.0


def test_gradient_boosting_digits_0_4_to_5_9_smoke():
    """The DESIGN smoke test, small: pretrain on digits 0-4, fine-tune on a few
    5-9 mapped onto the same label slots (y - 5); the new trees must help."""
    X, y = load_digits(return_X_y=True)
    rng = np.random.RandomState(0)
    src = rng.choice(np.flatnonzero(y < 5), 120, replace=False)
    tgt_pool = rng.permutation(np.flatnonzero(y >= 5))
    few, test = tgt_pool[:40], tgt_pool[40:200]
    X_fit = np.vstack([X[src], X[few]])
    y_fit = np.r_[y[src], y[few] - 5]
    sd = np.r_[np.ones(120, int), -np.ones(40, int)]
    gb = GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0)
    model = PretrainFineTune(gb, n_finetune_iter=20).fit(X_fit, y_fit, sample_domain=sd)
    source_only = model.source_estimator_.score(X[test], y[test] - 5)
    assert model.score(X[test], y[test] - 5) > max(0.5, source_only + 0.2)


def test_score_leaves_masked_rows_out():
    X, y, sd, y_true = _data()
    model = PretrainFineTune(SGDClassifier(random_state=0), random_state=0).fit(X, y, sample_domain=sd)
    labelled = y != -1
    assert model.score(X, y) == model.estimator_.score(X[labelled], y[labelled])
    w = np.linspace(1, 2, len(y))
    assert model.score(X, y, sample_weight=w) == model.estimator_.score(
        X[labelled], y[labelled], sample_weight=w[labelled]
    )
    with pytest.raises(ValueError, match="PretrainFineTune.score needs labelled rows"):
        model.score(X, np.full(len(y), -1))


@pytest.mark.parametrize("routing", [False, True], ids=["routing_off", "routing_on"])
def test_grid_search_over_n_finetune_iter(routing):
    X, y, sd, _ = _data(n_target_labels=30)
    model = PretrainFineTune(SGDClassifier(random_state=0), random_state=0)
    search = GridSearchCV(model, {"n_finetune_iter": [1, 5]}, cv=KFold(3, shuffle=True, random_state=0))
    with config_context(enable_metadata_routing=routing):
        search.fit(X, y, sample_domain=sd)
    assert search.best_estimator_.method_ == "partial_fit"
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


# ---------------------------------------------------------------- sample_weight


class WeightedSpy(SpyClassifier):
    """A SpyClassifier that takes and records sample_weight."""

    def fit(self, X, y, sample_weight=None):
        self.weights_ = [*getattr(self, "weights_", []), (X[:, 0].copy(), sample_weight)]
        return super().fit(X, y)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        self.weights_ = [*getattr(self, "weights_", []), (X[:, 0].copy(), sample_weight)]
        return super().partial_fit(X, y, classes=classes)


class PartialUnweighted(SpyClassifier):
    def fit(self, X, y, sample_weight=None):
        return super().fit(X, y)


@pytest.mark.parametrize("n_pretrain_iter", [None, 2])
def test_sample_weight_travels_with_its_rows_in_both_phases(n_pretrain_iter):
    X, y, sd, _ = _data(n_target_labels=10)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    by_row = dict(zip(X[:, 0], w))
    model = PretrainFineTune(WeightedSpy(), n_finetune_iter=3, n_pretrain_iter=n_pretrain_iter, random_state=0)
    model.fit(X, y, sample_domain=sd, sample_weight=w)
    calls = model.estimator_.weights_
    assert len(calls) == (1 if n_pretrain_iter is None else 2) + 3
    source_rows = set(X[sd > 0, 0])
    for i, (rows, weights) in enumerate(calls):
        assert weights is not None and len(weights) == len(rows)
        np.testing.assert_array_equal(weights, [by_row[r] for r in rows])  # each row keeps its weight
        assert (set(rows) <= source_rows) == (i < len(calls) - 3)  # the source phase, then the target's


def test_sample_weight_matches_dropping_and_duplicating_rows():
    """Warm-started LogisticRegression converges to the target optimum (convex), so weight 0 must
    equal leaving a row out, and weight 2 listing it twice; the source phase sees the source weights."""
    from sklearn.linear_model import LogisticRegression

    X, y, sd, _ = _data(n_target_labels=20)
    target = np.flatnonzero((sd < 0) & (y >= 0))
    w = np.ones(len(X))
    w[target[:5]] = 0.0
    w[target[5:9]] = 2.0
    w[sd > 0] = np.linspace(0.2, 3.0, int((sd > 0).sum()))
    lr = LogisticRegression(tol=1e-10, max_iter=10_000)
    model = PretrainFineTune(lr, method="warm_start", n_finetune_iter=10_000).fit(X, y, sample_domain=sd,
                                                                                  sample_weight=w)
    rows = np.concatenate([target[5:], target[5:9]])
    expected = clone(lr).fit(X[rows], y[rows])
    np.testing.assert_allclose(model.estimator_.coef_, expected.coef_, atol=1e-5)
    source = clone(lr).fit(X[sd > 0], y[sd > 0], sample_weight=w[sd > 0])
    np.testing.assert_allclose(model.source_estimator_.coef_, source.coef_, atol=1e-6)
    unweighted = PretrainFineTune(lr, method="warm_start", n_finetune_iter=10_000).fit(X, y, sample_domain=sd)
    assert not np.allclose(unweighted.estimator_.coef_, expected.coef_, atol=1e-3)


def test_sample_weight_needs_an_estimator_that_takes_it():
    X, y, sd, _ = _data()
    with pytest.raises(TypeError, match="sample_weight"):
        PretrainFineTune(SpyClassifier()).fit(X, y, sample_domain=sd, sample_weight=np.ones(len(X)))
    with pytest.raises(TypeError, match=r"PartialUnweighted.partial_fit does not take it"):
        PretrainFineTune(PartialUnweighted()).fit(X, y, sample_domain=sd, sample_weight=np.ones(len(X)))
    with pytest.raises(ValueError, match="one weight per row"):
        PretrainFineTune(WeightedSpy()).fit(X, y, sample_domain=sd, sample_weight=np.ones(3))
    PretrainFineTune(SpyClassifier()).fit(X, y, sample_domain=sd)  # no weights: no requirement
