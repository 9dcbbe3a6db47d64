"""Tests of DAPipeline / make_da_pipeline."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.alignment import CORAL, SubspaceAlignment
from sktransfer.datasets import make_domain_shift
from sktransfer.domain import check_domains
from sktransfer.pipeline import DAPipeline, make_da_pipeline


@pytest.fixture
def data():
    return make_domain_shift(n_samples=60, n_features=3, shift="subspace", random_state=0)


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that remembers what fit received."""

    def fit(self, X, y, sample_weight=None):
        self.n_fit_rows_ = X.shape[0]
        self.y_fit_ = np.asarray(y)
        self.sample_weight_ = sample_weight
        self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)


class NoWeightClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


class ToyWeighter(TransformerMixin, BaseEstimator):
    """Weights source rows by 1 + first feature > 0; target rows 0 (the weighter contract)."""

    def fit(self, X, y=None, sample_domain=None):
        self.fitted_ = True
        return self

    def compute_weights(self, X, sample_domain=None):
        sd = np.asarray(sample_domain)
        return np.where(sd > 0, 1.0 + (np.asarray(X)[:, 0] > 0), 0.0)

    def transform(self, X):
        return X


class DomainAwareFinal(ClassifierMixin, BaseEstimator):
    def fit(self, X, y, sample_domain=None):
        self.sample_domain_ = sample_domain
        self.n_fit_rows_ = len(X)
        self.classes_ = np.unique(y[y != -1])
        return self

    def predict(self, X, sample_domain=None):
        self.predict_domain_ = sample_domain
        return np.full(len(X), self.classes_[0])


def test_masked_rows_are_dropped_before_the_final_estimator(data):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), CORAL(), RecordingClassifier()).fit(X, y, sample_domain=sd)
    final = pipe[-1]
    assert final.n_fit_rows_ == (sd > 0).sum()
    assert -1 not in final.y_fit_
    assert pipe.sample_weight_ is None
    # The scaler saw every row, source and target.
    np.testing.assert_allclose(pipe[0].mean_, X.mean(axis=0))


def test_domain_steps_map_source_rows(data):
    X, y, sd = data
    pipe = make_da_pipeline(CORAL(reg=1.0, center=False), "passthrough", RecordingClassifier()).fit(X, y, sample_domain=sd)
    coral = pipe[0]
    expected = LogisticRegression().fit(X[sd > 0] @ coral.transform_matrix_, y[sd > 0])
    np.testing.assert_allclose(pipe[-1].model_.coef_, expected.coef_)
    np.testing.assert_array_equal(pipe.predict(X[sd < 0]), expected.predict(X[sd < 0]))
    # predict with sample_domain passes it to the steps: source rows get mapped.
    np.testing.assert_array_equal(
        pipe.predict(X[sd > 0], sample_domain=1), expected.predict(X[sd > 0] @ coral.transform_matrix_)
    )


def test_weights_reach_the_final_estimator(data):
    X, y, sd = data
    pipe = make_da_pipeline(ToyWeighter(), StandardScaler(), RecordingClassifier())
    pipe.fit(X, y, sample_domain=sd)
    expected = np.where(X[sd > 0, 0] > 0, 2.0, 1.0)
    np.testing.assert_array_equal(pipe[-1].sample_weight_, expected)
    np.testing.assert_array_equal(pipe.sample_weight_, expected)
    # Two weighters multiply.
    pipe = make_da_pipeline(ToyWeighter(), clone(ToyWeighter()), RecordingClassifier())
    pipe.steps[1] = ("second", pipe.steps[1][1])
    pipe.fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(pipe[-1].sample_weight_, expected**2)


def test_weights_with_inferred_domains(data):
    X, y, _ = data
    pipe = make_da_pipeline(ToyWeighter(), RecordingClassifier()).fit(X, y)
    assert pipe[-1].sample_weight_.shape == (60,) and (pipe[-1].sample_weight_ > 0).all()


def test_final_estimator_without_sample_weight_fails_loudly(data):
    X, y, sd = data
    with pytest.raises(TypeError, match="does not accept sample_weight.*would be lost"):
        make_da_pipeline(ToyWeighter(), NoWeightClassifier()).fit(X, y, sample_domain=sd)


def test_domain_aware_final_gets_every_row(data):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), DomainAwareFinal()).fit(X, y, sample_domain=sd)
    assert pipe[-1].n_fit_rows_ == 120
    np.testing.assert_array_equal(pipe[-1].sample_domain_, sd)
    pipe.predict(X[:3], sample_domain=-1)
    assert pipe[-1].predict_domain_ == -1


def test_fit_transform_returns_every_row(data):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), CORAL(), PCA(n_components=2))
    out = pipe.fit_transform(X, y, sample_domain=sd)
    assert out.shape == (120, 2)
    scaled = pipe[0].transform(X)
    mapped = pipe[1].transform(scaled, sample_domain=sd)
    np.testing.assert_allclose(out, pipe[2].transform(mapped))
    # A domain-aware last step.
    out = make_da_pipeline(StandardScaler(), SubspaceAlignment(n_components=2)).fit_transform(
        X, y, sample_domain=sd
    )
    assert out.shape == (120, 2)


def test_score_ignores_masked_rows(data):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    src = sd > 0
    assert pipe.score(X, y) == pytest.approx(pipe.score(X[src], y[src]))
    with pytest.raises(ValueError, match="every label in y is masked"):
        pipe.score(X[~src], y[~src])


def test_plain_data_behaves_like_pipeline():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    ours = make_da_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    ref = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X))
    np.testing.assert_allclose(ours.predict_log_proba(X), ref.predict_log_proba(X))
    assert ours.score(X, y) == ref.score(X, y)


def test_step_parameters_and_unknown_parameters(data):
    X, y, sd = data
    w = np.linspace(1, 2, int((sd > 0).sum()))
    with pytest.raises(ValueError, match="does not accept the weights parameter"):
        make_da_pipeline(LogisticRegression()).fit(X, y, sample_domain=sd, weights=w)


def test_bad_steps_are_named():
    X = np.zeros((4, 2))
    with pytest.raises(TypeError, match="Step 'logisticregression-1' .* must be a transformer"):
        make_da_pipeline(LogisticRegression(), LogisticRegression()).fit(X, [0, 1, -1, -1])
    with pytest.raises(TypeError, match="last step 'b' .* must have a fit method"):
        DAPipeline([("a", StandardScaler()), ("b", object())]).fit(X, [0, 1, -1, -1])
    with pytest.raises(ValueError, match="transform_input"):
        DAPipeline([("a", StandardScaler())], transform_input=["x"]).fit(X)


def test_clone_and_pickle(data):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), CORAL(reg=0.5), LogisticRegression())
    cloned = clone(pipe)
    assert cloned.get_params()["coral__reg"] == 0.5 and cloned[1] is not pipe[1]
    pipe.fit(X, y, sample_domain=sd)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))


def _grid_search(X, y, sd):
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    search = GridSearchCV(pipe, {"coral__reg": [0.01, 1.0, "auto"]}, cv=KFold(3, shuffle=True, random_state=0))
    return search.fit(X, y, sample_domain=sd)


def test_grid_search_routing_off_and_on(data):
    X, y, sd = data
    off = _grid_search(X, y, sd)
    with config_context(enable_metadata_routing=True):
        on = _grid_search(X, y, sd)
    assert off.best_params_ == on.best_params_
    np.testing.assert_allclose(off.cv_results_["mean_test_score"], on.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(off.predict(X), on.predict(X))
    # The folds' sample_domain reached CORAL: each fold fit on its own rows.
    assert np.isfinite(off.cv_results_["mean_test_score"]).all()


def test_grid_search_fails_without_sample_domain_routing_when_needed(data):
    # FeatureAugmentation-like needs: a step that requires sample_domain raises in each fold.
    from sktransfer.alignment import FeatureAugmentation

    X, y, sd = data
    pipe = make_da_pipeline(FeatureAugmentation(), LogisticRegression())
    with pytest.raises(ValueError, match="needs sample_domain"):
        pipe.fit(X, y)


def test_cross_validate_routing_off_and_on(data):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), SubspaceAlignment(n_components=2), KNeighborsClassifier(3))
    off = cross_validate(pipe, X, y, params={"sample_domain": sd}, cv=KFold(3, shuffle=True, random_state=0))
    with config_context(enable_metadata_routing=True):
        on = cross_validate(pipe, X, y, params={"sample_domain": sd}, cv=KFold(3, shuffle=True, random_state=0))
    np.testing.assert_allclose(off["test_score"], on["test_score"])


def test_routing_on_sample_domain_is_requested_by_default():
    with config_context(enable_metadata_routing=True):
        routing = make_da_pipeline(CORAL(), LogisticRegression()).get_metadata_routing()
        assert routing.consumes("fit", ["sample_domain"]) == {"sample_domain"}
        assert routing.consumes("score", ["sample_domain"]) == set()


def test_memory_caches_steps(data, tmp_path):
    X, y, sd = data
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(), memory=str(tmp_path))
    first = pipe.fit(X, y, sample_domain=sd).predict(X)
    second = clone(pipe).fit(X, y, sample_domain=sd).predict(X)
    np.testing.assert_array_equal(first, second)


def test_verbose_logs_step_times(data, caplog):
    X, y, sd = data
    with caplog.at_level("INFO", logger="sktransfer.pipeline"):
        make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(), verbose=True).fit(X, y, sample_domain=sd)
    assert "fitted step 'coral'" in caplog.text


def test_pipeline_refuses_all_masked_labels(data):
    X, y, sd = data
    y = np.full_like(y, -1)
    with pytest.raises(ValueError, match="no labelled rows to train its final step"):
        make_da_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    # With the domains given, the masked source labels are the error.
    with pytest.raises(ValueError, match="source row.*contain -1"):
        make_da_pipeline(StandardScaler(), LogisticRegression()).fit(X, y, sample_domain=sd)


def test_import_has_no_side_effects():
    code = (
        "import sklearn, sys; before = dict(sklearn.get_config());"
        "import sktransfer, sktransfer.alignment, sktransfer.datasets, sktransfer.pipeline, sktransfer.deep;"
        "assert sklearn.get_config() == before, 'config changed';"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_check_domains_is_shared(data):
    # The pipeline and the estimators read domains through one helper.
    X, y, sd = data
    assert check_domains(X, y).source.sum() == (sd > 0).sum()


def test_fit_transform_and_transform_with_routing_on(data):
    X, y, sd = data
    off = make_da_pipeline(StandardScaler(), CORAL(), PCA(n_components=2))
    expected = off.fit_transform(X, y, sample_domain=sd)
    with config_context(enable_metadata_routing=True):
        on = make_da_pipeline(StandardScaler(), CORAL(), PCA(n_components=2))
        np.testing.assert_allclose(on.fit_transform(X, y, sample_domain=sd), expected)
        np.testing.assert_allclose(on.transform(X), off.transform(X))


# ------------------------------------------------ fit parameters and user weights


@pytest.fixture
def regression():
    X, y, sd = make_domain_shift(n_samples=40, n_features=3, task="regression", random_state=1)
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    return X, y, sd, w


def _reference_ridge(X, y, w, labelled):
    """What the pipeline must do: scale on every row, Ridge on the labelled rows with their weights."""
    from sklearn.linear_model import Ridge

    Xt = StandardScaler().fit_transform(X)
    return Ridge().fit(Xt[labelled], y[labelled], sample_weight=w[labelled]).coef_


def test_per_row_fit_params_follow_the_dropped_rows(regression):
    """A step's per-row fit parameter is sliced with the rows the pipeline drops (was a shape error)."""
    from sklearn.linear_model import Ridge

    X, y, sd, w = regression
    labelled = ~np.isnan(y)
    pipe = make_da_pipeline(StandardScaler(), Ridge()).fit(X, y, sample_domain=sd, ridge__sample_weight=w)
    np.testing.assert_allclose(pipe[-1].coef_, _reference_ridge(X, y, w, labelled))
    np.testing.assert_allclose(pipe.sample_weight_, w[labelled])
    with config_context(enable_metadata_routing=True):
        routed = make_da_pipeline(
            StandardScaler().set_fit_request(sample_weight=False), Ridge().set_fit_request(sample_weight=True)
        ).fit(X, y, sample_domain=sd, sample_weight=w)
    np.testing.assert_allclose(routed[-1].coef_, pipe[-1].coef_)


def test_user_weights_multiply_the_weighters(regression):
    """With a weighter, the final step's sample_weight multiplies its weights (was a TypeError,
    and with routing on an AttributeError)."""
    from sklearn.linear_model import Ridge

    X, y, sd, w = regression
    labelled = ~np.isnan(y)
    pipe = make_da_pipeline(ToyWeighter(), Ridge()).fit(X, y, sample_domain=sd, ridge__sample_weight=w)
    toy = ToyWeighter().fit(X).compute_weights(X, sample_domain=sd)
    expected = (toy * w)[labelled]
    np.testing.assert_allclose(pipe.sample_weight_, expected)
    reference = Ridge().fit(X[labelled], y[labelled], sample_weight=expected)
    np.testing.assert_allclose(pipe[-1].coef_, reference.coef_)
    with config_context(enable_metadata_routing=True):
        routed = make_da_pipeline(ToyWeighter(), Ridge().set_fit_request(sample_weight=True))
        routed.fit(X, y, sample_domain=sd, sample_weight=w)
    np.testing.assert_allclose(routed.sample_weight_, expected)
    np.testing.assert_allclose(routed[-1].coef_, reference.coef_)


def test_bad_user_weights_are_named(regression):
    from sklearn.linear_model import Ridge

    X, y, sd, w = regression
    with pytest.raises(ValueError, match="DAPipeline: sample_weight must hold one weight per row"):
        make_da_pipeline(StandardScaler(), Ridge()).fit(X, y, sample_domain=sd, ridge__sample_weight=w[:-1])
    with pytest.raises(ValueError, match="finite and non-negative"):
        make_da_pipeline(StandardScaler(), Ridge()).fit(X, y, sample_domain=sd, ridge__sample_weight=-w)


def test_cross_validate_slices_step_params_per_fold(regression):
    """cross_validate(params=...) hands each fold its rows' weights; the pipeline then drops the masked ones."""
    from sklearn.linear_model import Ridge

    X, y, sd, w = regression
    y_true = make_domain_shift(n_samples=40, n_features=3, task="regression", mask_target=False,
                               random_state=1)[1]
    cv = KFold(3, shuffle=True, random_state=0)
    pipe = make_da_pipeline(StandardScaler(), Ridge())
    out = cross_validate(pipe, X, y, cv=cv, params={"sample_domain": sd, "ridge__sample_weight": w},
                         return_estimator=True)
    for (train, _), fitted in zip(cv.split(X), out["estimator"]):
        labelled = ~np.isnan(y[train])
        expected = _reference_ridge(X[train], y[train], w[train], labelled)
        np.testing.assert_allclose(fitted[-1].coef_, expected)
    assert np.isfinite(out["test_score"]).all()
    assert y_true.shape == y.shape


def test_supervised_plain_steps_learn_from_labelled_rows_only(data):
    """SelectKBest and friends never see the mask (-1) as a class: they are fitted on the
    labelled rows and transform every row."""
    from sklearn.feature_selection import SelectFromModel, SelectKBest

    X, y, sd = data
    labelled = y != -1
    pipe = make_da_pipeline(SelectKBest(k=2), CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    expected = SelectKBest(k=2).fit(X[labelled], y[labelled])
    np.testing.assert_allclose(pipe[0].scores_, expected.scores_)
    model = make_da_pipeline(SelectFromModel(LogisticRegression()), LogisticRegression()).fit(X, y)
    assert -1 not in model[0].estimator_.classes_
    # Unsupervised steps still see every row, target rows included (the shared scaler).
    scaled = make_da_pipeline(StandardScaler(), LogisticRegression()).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(scaled[0].mean_, X.mean(axis=0))


# --------------------------------------------------------------- negative transfer


def _breast_cancer_split():
    """Breast cancer split on the mean radius: small tumours are the source, large ones the
    target. CORAL takes the target accuracy from 92% to 39% there."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    source = X[:, 0] < np.median(X[:, 0])
    return X, np.where(source, y, -1), np.where(source, 1, -1), y


def test_adaptation_that_overrides_confident_predictions_warns():
    from sktransfer.exceptions import NegativeTransferWarning

    X, y, sd, y_true = _breast_cancer_split()
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(max_iter=1000))
    with pytest.warns(NegativeTransferWarning, match=r"\['coral'\] change the class of 5\d% of the target"):
        pipe.fit(X, y, sample_domain=sd)
    target = sd < 0
    plain = make_da_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y, sample_domain=sd)
    # The warning is right: the adapted model is much worse on the (hidden) target labels.
    assert np.mean(pipe.predict(X[target]) == y_true[target]) < np.mean(plain.predict(X[target]) == y_true[target]) - 0.3
    # Recomputed by hand: the share of plain's sure target rows whose class CORAL changes.
    proba = plain.predict_proba(X[target])
    sure = proba.max(axis=1) >= 0.9
    expected = np.mean(pipe.predict(X[target][sure]) != plain.classes_[proba[sure].argmax(axis=1)])
    assert pipe.flip_rate_ == pytest.approx(expected)


def test_helpful_adaptation_does_not_warn():
    """On the quickstart's digits CORAL helps (56% -> 85%): no warning."""
    import warnings

    from sktransfer.datasets import load_digits_shift
    from sktransfer.exceptions import NegativeTransferWarning

    data = load_digits_shift()
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(max_iter=1000))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegativeTransferWarning)
        pipe.fit(data.data, data.target, sample_domain=data.sample_domain)
    assert pipe.flip_rate_ < 0.35


def test_negative_transfer_check_can_be_skipped_and_is_skipped_when_meaningless(data):
    import warnings

    from sklearn.linear_model import Ridge

    X, y, sd, _ = _breast_cancer_split()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(max_iter=1000),
                                check_negative_transfer=False).fit(X, y, sample_domain=sd)
    assert pipe.flip_rate_ is None
    # No adaptation step, or a final step without probabilities: nothing to judge.
    assert make_da_pipeline(StandardScaler(), LogisticRegression()).fit(*data).flip_rate_ is None
    Xr, yr, sdr = make_domain_shift(n_samples=40, task="regression", random_state=0)
    assert make_da_pipeline(CORAL(), Ridge()).fit(Xr, yr, sample_domain=sdr).flip_rate_ is None


def test_integer_regression_target_holding_minus_one_goes_through_the_steps():
    """Adaptation steps read the mask as the final regressor does (each step used to call an
    integer target with -1 values and NaN masks ambiguous)."""
    from sklearn.linear_model import Ridge

    from sktransfer.reweighting import KMM, ImportanceWeightedEstimator

    rng = np.random.default_rng(0)
    X, sd = rng.normal(size=(40, 3)), np.repeat([1, -1], 20)
    y = rng.integers(-3, 4, 40).astype(float)
    y[0], y[sd < 0] = -1.0, np.nan
    labelled = ~np.isnan(y)
    for domains in (sd, None):
        pipe = make_da_pipeline(CORAL(), Ridge()).fit(X, y, sample_domain=domains)
        assert pipe[-1].n_features_in_ == 3 and np.isfinite(pipe[-1].coef_).all()
        np.testing.assert_array_equal(pipe.predict(X[labelled]).shape, (labelled.sum(),))
    model = ImportanceWeightedEstimator(Ridge(), KMM()).fit(X, y, sample_domain=sd)
    assert model.weights_.shape == (20,)


def test_empty_pipeline_and_none_final_step():
    X, y, sd = make_domain_shift(n_samples=20, random_state=0)
    with pytest.raises(ValueError, match="needs at least one step"):
        make_da_pipeline().fit(X, y, sample_domain=sd)
    pipe = make_da_pipeline(CORAL(), None).fit(X, y, sample_domain=sd)
    assert pipe.flip_rate_ is None
    assert pipe.fit_transform(X, y, sample_domain=sd).shape == X.shape


def test_score_sample_weight_is_routed_to_the_final_step():
    """Routing on, cross_validate's sample_weight reaches the final step's score through the
    pipeline (was UnsetMetadataPassedError for DAPipeline.score, then a KeyError 'transform'
    for the domain-aware step)."""
    from sklearn.linear_model import Ridge

    X, y, sd = make_domain_shift(n_samples=40, task="regression", mask_target=False, random_state=0)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    cv = KFold(3, shuffle=True, random_state=0)
    with config_context(enable_metadata_routing=True):
        final = Ridge().set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        out = cross_validate(make_da_pipeline(CORAL(), final), X, y, cv=cv, error_score="raise",
                             params={"sample_domain": sd, "sample_weight": w}, return_estimator=True)
    for (_, test), score, fitted in zip(cv.split(X), out["test_score"], out["estimator"]):
        expected = fitted[-1].score(fitted[0].transform(X[test]), y[test], sample_weight=w[test])
        assert score == pytest.approx(expected)


def test_a_regressors_score_keeps_rows_whose_target_is_minus_one():
    """score drops masked rows with the estimator's own mask: NaN for a regressor, so -1 targets
    are scored (they were dropped as class masks)."""
    from sklearn.linear_model import Ridge

    from sktransfer.reweighting import ImportanceWeightedEstimator

    X, y, sd = make_domain_shift(n_samples=30, task="regression", random_state=0)
    y_score = np.round(make_domain_shift(n_samples=30, task="regression", mask_target=False,
                                         random_state=0)[1])
    y_score[:5] = -1.0
    pipe = make_da_pipeline(CORAL(), Ridge()).fit(X, y, sample_domain=sd)
    expected = pipe[-1].score(pipe[0].transform(X), y_score)
    assert pipe.score(X, y_score) == pytest.approx(expected)
    model = ImportanceWeightedEstimator(Ridge()).fit(X, y, sample_domain=sd)
    assert model.score(X, y_score) == pytest.approx(model.estimator_.score(X, y_score))


@pytest.fixture
def few_target_labels():
    """Three classes; every fifth target row keeps its label."""
    X, y_true, sd = make_domain_shift(150, n_features=4, n_classes=3, mask_target=False, random_state=0)
    y = np.where(sd < 0, -1, y_true)
    labelled_target = np.flatnonzero(sd < 0)[::5]
    y[labelled_target] = y_true[labelled_target]
    return X, y, sd, labelled_target


def test_labelled_target_rows_keep_weight_one_beside_a_weighter(few_target_labels):
    """A weighter weighs the source rows; the labelled target rows train the final step at weight 1
    (they were kept with the weighter's weights_ of 0, so they counted only in classes_)."""
    from sktransfer.reweighting import KLIEP

    X, y, sd, labelled_target = few_target_labels
    pipe = make_da_pipeline(KLIEP(random_state=0), LogisticRegression()).fit(X, y, sample_domain=sd)
    rows = np.flatnonzero(y != -1)  # the final step's rows: labelled source, then labelled target
    expected = np.where(sd < 0, 1.0, pipe[0].weights_)[rows]
    np.testing.assert_allclose(pipe.sample_weight_, expected)
    assert np.all(pipe.sample_weight_[-len(labelled_target):] == 1.0)
    reference = LogisticRegression().fit(X[rows], y[rows], sample_weight=expected)
    np.testing.assert_allclose(pipe[-1].coef_, reference.coef_)
    # The user's own weights still multiply on every row, target rows included.
    w = np.linspace(0.5, 2.0, len(y))
    weighted = make_da_pipeline(KLIEP(random_state=0), LogisticRegression()).fit(
        X, y, sample_domain=sd, logisticregression__sample_weight=w)
    np.testing.assert_allclose(weighted.sample_weight_, expected * w[rows])


def test_a_weighter_before_a_final_step_that_takes_domains(few_target_labels):
    """KMM then TrAdaBoost: the boosting starts from the importance weights on the source rows and
    weight 1 on the target rows (it refused before: every labelled target row had weight 0)."""
    from sktransfer.boosting import TrAdaBoostClassifier
    from sktransfer.reweighting import KMM

    X, y, sd, _ = few_target_labels
    pipe = make_da_pipeline(KMM(random_state=0), TrAdaBoostClassifier(random_state=0))
    pipe.fit(X, y, sample_domain=sd)
    kmm = pipe[0]
    np.testing.assert_allclose(pipe.sample_weight_, np.where(sd < 0, 1.0, kmm.weights_))
    reference = TrAdaBoostClassifier(random_state=0).fit(X, y, sample_domain=sd, sample_weight=pipe.sample_weight_)
    np.testing.assert_array_equal(pipe.predict(X[sd < 0]), reference.predict(X[sd < 0]))


def test_fit_predict_fits_as_fit_does_and_predicts_every_row():
    """scikit-learn's Pipeline.fit_predict ran the final step's fit_predict on every row: the weighter's
    weights were left out, the masked target rows trained it, and sample_domain was refused."""
    from sklearn.cluster import KMeans

    from sktransfer.reweighting import DiscriminativeWeighter

    X, y, sd = make_domain_shift(n_samples=100, n_features=2, random_state=0)
    make = lambda: make_da_pipeline(DiscriminativeWeighter(), KMeans(3, n_init=1, random_state=0))  # noqa: E731
    for kwargs in ({}, {"sample_domain": sd}):
        pipe = make()
        out = pipe.fit_predict(X, y, **kwargs)
        reference = make().fit(X, y, **kwargs)
        np.testing.assert_array_equal(out, reference.predict(X, sample_domain=sd))
        np.testing.assert_allclose(pipe.sample_weight_, reference.sample_weight_)
    clf = make_da_pipeline(CORAL(), LogisticRegression())
    pred = clf.fit_predict(X, y, sample_domain=sd)
    assert set(np.unique(pred)) <= {0, 1} and len(pred) == len(y)  # never the mask -1
    np.testing.assert_array_equal(pred, clf.predict(X, sample_domain=sd))


def test_sample_weight_and_flip_rate_are_the_last_fits():
    """With no final step the weights reach nothing: sample_weight_ is None, not an earlier fit's."""
    from sktransfer.reweighting import KLIEP

    X, y, sd = make_domain_shift(n_samples=30, random_state=0)
    pipe = make_da_pipeline(KLIEP(random_state=0), LogisticRegression()).fit(X, y, sample_domain=sd)
    assert pipe.sample_weight_ is not None
    pipe.set_params(logisticregression="passthrough")
    assert pipe.fit(X, y, sample_domain=sd).sample_weight_ is None
    pipe.set_params(logisticregression=LogisticRegression()).fit(X, y, sample_domain=sd)
    pipe.set_params(logisticregression="passthrough").fit_transform(X, y, sample_domain=sd)
    assert pipe.sample_weight_ is None and pipe.flip_rate_ is None


def test_a_domain_aware_estimator_nested_in_a_step_gets_sample_domain():
    """scikit-learn's Pipeline routes sample_domain into a ColumnTransformer; DAPipeline gave it nothing,
    so the nested CORAL read labelled target rows as source rows. With routing off it cannot reach it:
    a warning says so, at fit and when sample_domain is passed at inference."""
    from sklearn import config_context
    from sklearn.compose import ColumnTransformer

    X, y, sd = make_domain_shift(n_samples=60, shift="subspace", random_state=0)
    y = y.copy()
    y[np.flatnonzero(sd < 0)[:15]] = 0  # labelled target rows: the mask alone would call them source
    reference = CORAL().fit(X, y, sample_domain=sd).mean_target_
    make = lambda: make_da_pipeline(ColumnTransformer([("coral", CORAL(), [0, 1])]),  # noqa: E731
                                    check_negative_transfer=False)
    with config_context(enable_metadata_routing=True):
        pipe = make().fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(pipe[0].named_transformers_["coral"].mean_target_, reference)
    with pytest.warns(UserWarning, match="holds CORAL inside it.*routing off"):
        make().fit(X, y, sample_domain=sd)
    with pytest.warns(UserWarning, match="does not reach them at inference"):
        pipe.transform(X, sample_domain=sd)


def test_a_slice_keeps_the_pipelines_settings():
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(), check_negative_transfer=False)
    assert pipe[1:].check_negative_transfer is False
    assert isinstance(pipe[1:], type(pipe)) and isinstance(pipe[-1], LogisticRegression)


def test_a_weighter_nested_in_a_step_warns_that_its_weights_are_lost():
    """A plain Pipeline step calls its weighter's fit_transform, which returns X: the weights never reached
    the final step, routing or not, without a word."""
    from sklearn import config_context
    from sklearn.pipeline import make_pipeline

    from sktransfer.reweighting import DiscriminativeWeighter

    X, y, sd = make_domain_shift(n_samples=40, random_state=0)
    for routing in (False, True):
        with config_context(enable_metadata_routing=routing), \
                pytest.warns(UserWarning, match="DiscriminativeWeighter inside it: its weights cannot reach"):
            make_da_pipeline(make_pipeline(StandardScaler(), DiscriminativeWeighter()), LogisticRegression(),
                             check_negative_transfer=False).fit(X, y, sample_domain=sd)
