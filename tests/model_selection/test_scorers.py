"""Domain-adaptation scorers: values against slow re-implementations, folds, routing, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from sktransfer import make_da_pipeline
from sktransfer.alignment import CORAL
from sktransfer.datasets import make_domain_shift
from sktransfer.domain import mask_target_labels
from sktransfer.model_selection import (
    CircularValidationScorer,
    DeepEmbeddedValidationScorer,
    DomainShuffleSplit,
    ImportanceWeightedScorer,
    MutualInformationScorer,
    PredictionEntropyScorer,
    SoftNeighborhoodDensityScorer,
    SupervisedScorer,
)

ALL = [SupervisedScorer, ImportanceWeightedScorer, PredictionEntropyScorer,
       SoftNeighborhoodDensityScorer, DeepEmbeddedValidationScorer, CircularValidationScorer,
       MutualInformationScorer]


class FixedProba(ClassifierMixin, BaseEstimator):
    """Returns the probabilities stored in column 1.. of X (column 0 is an id)."""

    def fit(self, X, y=None):
        self.classes_ = np.array([0, 1, 2])
        return self

    def predict_proba(self, X):
        return np.asarray(X)[:, 1:]

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


class FixedWeights(BaseEstimator):
    """A weighter whose weight for a row is column 0 of X (0 on target rows)."""

    def fit(self, X, y=None, sample_domain=None):
        self.weights_ = np.where(np.asarray(sample_domain) > 0, np.asarray(X)[:, 0], 0.0)
        return self


def _proba_fold():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(3) * 0.7, size=12)
    X = np.column_stack([rng.uniform(0.2, 3.0, size=12), proba])
    y = np.array([0, 1, 2, 0, 1, 2, -1, -1, -1, -1, -1, -1])
    return X, y, proba


def test_prediction_entropy_is_minus_the_mean_entropy_of_the_target_rows():
    X, y, proba = _proba_fold()
    target = proba[6:]
    by_hand = -np.mean([-sum(p * np.log(p) for p in row) for row in target])
    assert PredictionEntropyScorer()(FixedProba().fit(X), X, y) == pytest.approx(by_hand, rel=1e-12)


def test_mutual_information_is_entropy_of_the_mean_minus_mean_entropy():
    X, y, proba = _proba_fold()
    target = proba[6:]
    mean = target.mean(0)
    by_hand = -sum(p * np.log(p) for p in mean) + np.mean([sum(p * np.log(p) for p in row) for row in target])
    assert MutualInformationScorer()(FixedProba().fit(X), X, y) == pytest.approx(by_hand, rel=1e-12)
    # every target row confidently in one class: the lowest score, where entropy gives its highest
    X[6:, 1:] = [0.98, 0.01, 0.01]
    assert MutualInformationScorer()(FixedProba().fit(X), X, y) == pytest.approx(0.0, abs=1e-12)
    assert PredictionEntropyScorer()(FixedProba().fit(X), X, y) > -0.12


def test_soft_neighborhood_density_matches_a_loop_implementation():
    X, y, proba = _proba_fold()
    target, tau = proba[6:], 0.05
    unit = [row / np.sqrt(np.sum(row**2)) for row in target]
    entropies = []
    for i in range(len(unit)):
        sims = [float(np.dot(unit[i], unit[j])) / tau for j in range(len(unit)) if j != i]
        top = max(sims)
        exps = [np.exp(s - top) for s in sims]
        soft = [e / sum(exps) for e in exps]
        entropies.append(-sum(p * np.log(p) for p in soft))
    got = SoftNeighborhoodDensityScorer(temperature=tau)(FixedProba().fit(X), X, y)
    assert got == pytest.approx(np.mean(entropies), rel=1e-10)
    # blocked rows give the same value
    blocked = SoftNeighborhoodDensityScorer(temperature=tau)
    blocked._block = 2
    assert blocked(FixedProba().fit(X), X, y) == pytest.approx(got, rel=1e-12)


def test_soft_neighborhood_density_scores_a_collapse_onto_one_class_highest():
    """As the docstring says (and as Saito et al.'s SND does): one probability vector for every target row
    makes every softmax uniform, the maximum log(n_t - 1), above a model that tells the classes apart."""
    X, y, proba = _proba_fold()
    varied = SoftNeighborhoodDensityScorer()(FixedProba().fit(X), X, y)
    X[6:, 1:] = [1.0, 0.0, 0.0]  # every target row: class 0 with probability 1
    collapsed = SoftNeighborhoodDensityScorer()(FixedProba().fit(X), X, y)
    assert collapsed == pytest.approx(np.log(6 - 1), rel=1e-9)  # the entropy clips the 0 of each row to itself
    assert collapsed > varied
    assert MutualInformationScorer()(FixedProba().fit(X), X, y) == pytest.approx(0.0, abs=1e-12)


def test_importance_weighted_accuracy_uses_the_weighter_weights_on_labelled_source_rows():
    X, y, proba = _proba_fold()
    pred = proba.argmax(1)
    w = X[:6, 0]
    by_hand = np.sum(w * (pred[:6] == y[:6])) / np.sum(w)
    got = ImportanceWeightedScorer(weighter=FixedWeights())(FixedProba().fit(X), X, y)
    assert got == pytest.approx(by_hand, rel=1e-12)


def test_deep_embedded_validation_matches_the_papers_formula_written_out():
    X, y, proba = _proba_fold()
    w = X[:6, 0] / X[:6, 0].mean()
    loss = np.array([-np.log(proba[i, y[i]]) for i in range(6)])
    weighted = w * loss
    mean_l, mean_w = weighted.mean(), w.mean()
    cov = sum((a - mean_l) * (b - mean_w) for a, b in zip(weighted, w)) / 5
    var = sum((b - mean_w) ** 2 for b in w) / 5
    eta = -cov / var
    dev = mean_l + eta * mean_w - eta  # You et al. 2019, Algorithm 1
    got = DeepEmbeddedValidationScorer(weighter=FixedWeights())(FixedProba().fit(X), X, y)
    assert got == pytest.approx(-dev, rel=1e-12)
    # per row: w_i l_i + eta (w_i - 1), whose mean is DEV
    terms = DeepEmbeddedValidationScorer(weighter=FixedWeights()).risk_terms(FixedProba().fit(X), X, y)
    np.testing.assert_allclose(terms, weighted + eta * (w - 1.0), rtol=1e-12)
    assert terms.mean() == pytest.approx(dev, rel=1e-12)


def test_dev_score_is_the_self_normalised_weighted_loss_and_the_control_variate_only_steadies_the_terms():
    """The weights have mean 1, so eta mean(w) - eta is 0: the score is -mean(w l), the docstring's claim.
    The control variate's effect is on the per-row terms the advisor's paired standard errors read."""
    X, y, proba = _proba_fold()
    w = X[:6, 0] / X[:6, 0].mean()
    loss = np.array([-np.log(proba[i, y[i]]) for i in range(6)])
    scorer = DeepEmbeddedValidationScorer(weighter=FixedWeights())
    assert scorer(FixedProba().fit(X), X, y) == pytest.approx(-np.mean(w * loss), rel=1e-12)
    terms = scorer.risk_terms(FixedProba().fit(X), X, y)
    assert not np.allclose(terms, w * loss)  # eta is not 0 here: the terms differ row by row
    assert np.var(terms) < np.var(w * loss)


def test_dev_reads_the_representation_the_final_step_sees():
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    seen = {}

    class Spy(FixedWeights):
        def fit(self, X, y=None, sample_domain=None):
            seen["X"] = np.asarray(X)
            return super().fit(np.ones_like(X), y, sample_domain)

    DeepEmbeddedValidationScorer(weighter=Spy())(pipe, X, y, sample_domain=sd)
    # as the model is deployed: every row through the target-side map
    np.testing.assert_allclose(seen["X"], pipe[:-1].transform(X))
    assert not np.allclose(seen["X"], pipe[:-1].transform(X, sample_domain=sd))


def test_supervised_scorer_reads_target_labels_or_labelled_target_rows():
    X, y, sd = make_domain_shift(n_samples=60, mask_target=False, random_state=0)
    y_fit = mask_target_labels(y, sd)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    truth = np.mean(pipe.predict(X[sd < 0]) == y[sd < 0])
    assert SupervisedScorer()(pipe, X, y_fit, sample_domain=sd, target_labels=y) == pytest.approx(truth)
    assert SupervisedScorer()(pipe, X, y, sample_domain=sd) == pytest.approx(truth)
    with pytest.raises(ValueError, match="no labelled target row"):
        SupervisedScorer()(pipe, X, y_fit, sample_domain=sd)
    with pytest.raises(ValueError, match="target_labels has 3 rows"):
        SupervisedScorer()(pipe, X, y_fit, sample_domain=sd, target_labels=y[:3])


def _integer_regression_with_minus_one():
    """An integer-valued regression target that holds -1 on source and target rows; a Ridge fitted on the source."""
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.round(2 * X[:, 0] + 0.3 * rng.normal(size=80)).astype(int)
    sd = np.r_[np.ones(40, dtype=int), -np.ones(40, dtype=int)]
    assert (y[sd > 0] == -1).any() and (y[sd < 0] == -1).any()
    return X, y, sd, Ridge().fit(X[sd > 0], y[sd > 0])


def test_supervised_scorer_keeps_regression_rows_whose_true_value_is_minus_one():
    """For a regressor only NaN masks a label: the target rows whose true value is -1 are scored too."""
    from sklearn.metrics import r2_score

    X, y, sd, reg = _integer_regression_with_minus_one()
    target = sd < 0
    truth = r2_score(y[target], reg.predict(X[target]))
    y_fit = np.where(target, np.nan, y)
    assert SupervisedScorer()(reg, X, y_fit, sample_domain=sd, target_labels=y) == pytest.approx(truth)
    # routing off (domains inferred from the NaN mask), and the target labels in a fully labelled y
    assert SupervisedScorer()(reg, X, y_fit, target_labels=y) == pytest.approx(truth)
    assert SupervisedScorer()(reg, X, y, sample_domain=sd) == pytest.approx(truth)


@pytest.mark.parametrize("scorer", [ImportanceWeightedScorer(), DeepEmbeddedValidationScorer(),
                                    CircularValidationScorer()], ids=lambda s: type(s).__name__)
def test_scorers_read_the_fold_as_a_regressor_reads_its_y(scorer):
    """-1 among a regressor's source values is a value, not the class mask: the fold is neither ambiguous
    (NaN beside -1) nor a fold of masked source rows, and every source row counts."""
    X, y, sd, reg = _integer_regression_with_minus_one()
    y_fit = np.where(sd < 0, np.nan, y)
    assert np.isfinite(scorer(reg, X, y_fit))
    assert scorer(reg, X, y_fit, sample_domain=sd) == pytest.approx(scorer(reg, X, y_fit))


@pytest.mark.parametrize("cls", [PredictionEntropyScorer, MutualInformationScorer, SoftNeighborhoodDensityScorer])
def test_a_regressor_given_to_a_probability_score_hears_what_it_lacks_not_about_its_mask(cls):
    """The fold is read with the regressor's mask (NaN only), where a -1-masked y is an error of its own."""
    X, y, sd, reg = _integer_regression_with_minus_one()
    y_classes = np.where(sd < 0, -1, y)
    with pytest.raises(TypeError, match="has no predict_proba"):
        cls()(reg, X, y_classes, sample_domain=sd)


def test_circular_validation_by_hand():
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    pseudo = pipe.predict(X[sd < 0])
    rows = np.concatenate([np.flatnonzero(sd < 0), np.flatnonzero(sd > 0)])
    n_s, n_t = (sd > 0).sum(), (sd < 0).sum()
    reverse = make_da_pipeline(CORAL(), LogisticRegression()).fit(
        X[rows], np.concatenate([pseudo, -np.ones(n_s, dtype=int)]),
        sample_domain=np.r_[np.ones(n_t, dtype=int), -np.ones(n_s, dtype=int)])
    by_hand = np.mean(reverse.predict(X[sd > 0], sample_domain=-1) == y[sd > 0])
    assert CircularValidationScorer()(pipe, X, y, sample_domain=sd) == pytest.approx(by_hand)


@pytest.mark.parametrize(
    "relabel",
    [lambda y: np.array(["neg", "pos"], dtype=object)[y], lambda y: y.astype(np.uint8), lambda y: y + 5],
    ids=["strings", "uint8", "shifted ints"],
)
def test_circular_validation_reads_labels_as_they_are(relabel):
    """The reverse fit hides the source labels with -1: string labels were cast to int
    ('invalid literal for int()'), and uint8 ones wrapped -1 to the class 255. Renaming the
    classes (in the same order) must not change the score."""
    X, y, sd = make_domain_shift(n_samples=60, mask_target=False, random_state=0)
    scores = []
    for labels in (y, relabel(y)):
        pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, labels, sample_domain=sd)
        scores.append(CircularValidationScorer()(pipe, X, labels, sample_domain=sd))
    assert scores[1] == pytest.approx(scores[0])


def test_circular_validation_of_a_collapsed_model_is_the_share_of_its_class():
    X, y, proba = _proba_fold()
    X[6:, 1:] = [0.9, 0.05, 0.05]  # every target row predicted class 0
    assert CircularValidationScorer()(FixedProba().fit(X), X, y) == pytest.approx(2 / 6)


@pytest.mark.parametrize("scorer", [cls() for cls in ALL], ids=lambda s: type(s).__name__)
def test_a_fold_without_target_rows_is_a_clear_error(scorer):
    X, y, sd = make_domain_shift(n_samples=30, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    src = sd > 0
    with pytest.raises(ValueError, match="this validation fold has none|no labelled target row"):
        scorer(pipe, X[src], y[src])


@pytest.mark.parametrize("cls", [ImportanceWeightedScorer, DeepEmbeddedValidationScorer,
                                 CircularValidationScorer])
def test_a_fold_without_labelled_source_rows_is_a_clear_error(cls):
    X, y, sd = make_domain_shift(n_samples=30, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    tgt = sd < 0
    with pytest.raises(ValueError, match="needs labelled source rows"):
        cls()(pipe, X[tgt], y[tgt], sample_domain=sd[tgt])


def test_probability_scorers_say_when_the_estimator_has_no_predict_proba():
    from sklearn.svm import LinearSVC

    X, y, sd = make_domain_shift(n_samples=30, random_state=0)
    pipe = make_da_pipeline(CORAL(), LinearSVC()).fit(X, y, sample_domain=sd)
    with pytest.raises(TypeError, match="has no predict_proba"):
        PredictionEntropyScorer()(pipe, X, y)


def test_unexpected_metadata_and_bad_temperature_are_errors():
    X, y, proba = _proba_fold()
    with pytest.raises(TypeError, match="unexpected metadata"):
        PredictionEntropyScorer()(FixedProba().fit(X), X, y, target_labels=y)
    with pytest.raises(ValueError, match="temperature"):
        SoftNeighborhoodDensityScorer(temperature=0)(FixedProba().fit(X), X, y)


@pytest.mark.parametrize("cls", ALL)
def test_scorers_pickle_clone_and_repr(cls):
    scorer = cls()
    assert repr(clone(scorer)) == repr(pickle.loads(pickle.dumps(scorer)))
    assert cls.__name__ in repr(scorer)


UNSUPERVISED = [ImportanceWeightedScorer(), PredictionEntropyScorer(), SoftNeighborhoodDensityScorer(),
                DeepEmbeddedValidationScorer(), CircularValidationScorer(), MutualInformationScorer()]


@pytest.mark.parametrize("scorer", UNSUPERVISED, ids=lambda s: type(s).__name__)
def test_grid_search_gives_the_same_scores_with_routing_off_and_on(scorer):
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    grid = {"coral__reg": [0.1, 10.0]}

    def search():
        return GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression()), grid, scoring=scorer,
                            cv=DomainShuffleSplit(n_splits=2, test_size=0.3, test_rows="all", random_state=0))

    off = search().fit(X, y, groups=sd, sample_domain=sd)
    with config_context(enable_metadata_routing=True):
        on = search().fit(X, y, sample_domain=sd)
    assert np.isfinite(off.cv_results_["mean_test_score"]).all()
    np.testing.assert_allclose(on.cv_results_["mean_test_score"], off.cv_results_["mean_test_score"])


def test_supervised_scorer_gets_target_labels_through_routing():
    X, y, sd = make_domain_shift(n_samples=60, mask_target=False, random_state=0)
    y_fit = mask_target_labels(y, sd)
    cv = DomainShuffleSplit(n_splits=2, test_size=0.3, test_rows="all", random_state=0)
    with config_context(enable_metadata_routing=True):
        search = GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression()), {"coral__reg": [0.1, 10.0]},
                              scoring=SupervisedScorer(), cv=cv)
        search.fit(X, y_fit, sample_domain=sd, target_labels=y)
    # fold 0, first grid point, by hand
    train, test = next(cv.split(X, y_fit, sample_domain=sd))
    fitted = make_da_pipeline(CORAL(reg=0.1), LogisticRegression()).fit(
        X[train], y_fit[train], sample_domain=sd[train])
    tgt = test[sd[test] < 0]
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(np.mean(fitted.predict(X[tgt]) == y[tgt]))


def test_routing_on_hands_the_fold_sample_domain_to_the_scorer():
    seen = []

    class Spy(PredictionEntropyScorer):
        def __call__(self, estimator, X, y=None, sample_domain=None, **metadata):
            seen.append(sample_domain)
            return super().__call__(estimator, X, y, sample_domain, **metadata)

    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    sd = sd * 3  # ids 3 / -3, which inference from the mask would never give
    cv = DomainShuffleSplit(n_splits=2, test_size=0.3, test_rows="all", random_state=0)
    with config_context(enable_metadata_routing=True):
        GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression()), {"coral__reg": [1.0]},
                     scoring=Spy(), cv=cv).fit(X, y, sample_domain=sd)
    assert len(seen) == 2 and all(set(s) == {3, -3} for s in seen)
    GridSearchCV(make_da_pipeline(CORAL(), LogisticRegression()), {"coral__reg": [1.0]},
                 scoring=Spy(), cv=cv).fit(X, y, groups=sd, sample_domain=sd)
    assert seen[2] is None  # routing off: the scorer infers domains from the mask


def test_set_params_and_unknown_parameter():
    scorer = SoftNeighborhoodDensityScorer().set_params(temperature=0.1)
    assert repr(scorer) == "SoftNeighborhoodDensityScorer(temperature=0.1)"
    with pytest.raises(ValueError, match="Invalid parameter"):
        scorer.set_params(tau=1)


def test_importance_weighted_scorer_applies_the_target_side_model_to_source_rows():
    """E_t[l(f(x))] = E_s[w l(f(x))] holds for the deployed f: source rows go through the target map."""
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    src = np.flatnonzero(sd > 0)
    w = np.abs(X[:, 0]) + 0.1

    class GivenWeights(BaseEstimator):
        def fit(self, X, y=None, sample_domain=None):
            self.weights_ = np.where(np.asarray(sample_domain) > 0, w, 0.0)
            return self

    by_hand = np.average(pipe.predict(X[src]) == y[src], weights=w[src])  # predict() treats rows as target
    through_source_map = np.average(pipe.predict(X[src], sample_domain=1) == y[src], weights=w[src])
    assert by_hand != through_source_map  # the test can tell the two apart
    got = ImportanceWeightedScorer(weighter=GivenWeights())(pipe, X, y, sample_domain=sd)
    assert got == pytest.approx(by_hand)


def _skewed_source_fold():
    """A validation fold whose labelled (source) rows all hold class 1, beside masked target rows."""
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    src, tgt = np.flatnonzero((sd > 0) & (y == 1)), np.flatnonzero(sd < 0)
    rows = np.r_[src[:10], tgt[:10]]
    return pipe, X[rows], y[rows], sd[rows]


@pytest.mark.parametrize("scorer", UNSUPERVISED, ids=lambda s: type(s).__name__)
def test_a_fold_whose_labelled_rows_hold_one_class_scores_with_routing_off(scorer):
    """A fold is a subset: one class among its labelled rows is no {-1, 1} look-alike (it was an error)."""
    pipe, X, y, sd = _skewed_source_fold()
    assert set(y) == {-1, 1}
    inferred = scorer(pipe, X, y)  # routing off: domains from the mask of y
    assert np.isfinite(inferred)
    assert inferred == pytest.approx(scorer(pipe, X, y, sample_domain=np.where(sd > 0, 1, -2)))


def _breast_cancer_shift():
    """Breast cancer split on the mean radius: small tumours are the source (94% benign), large the target."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    source = X[:, 0] < np.median(X[:, 0])
    return X, np.where(source, y, -1), np.where(source, 1, -1)


@pytest.mark.parametrize("scorer", [PredictionEntropyScorer(), ImportanceWeightedScorer()],
                         ids=lambda s: type(s).__name__)
def test_halving_grid_search_on_a_skewed_source_scores_every_candidate(scorer):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingGridSearchCV
    from sklearn.preprocessing import StandardScaler

    X, y, sd = _breast_cancer_shift()
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression(), check_negative_transfer=False)
    grid = {"coral__reg": [0.1, 1.0, 10.0], "logisticregression__C": [0.1, 1.0]}
    search = HalvingGridSearchCV(pipe, grid, scoring=scorer, min_resources=200, random_state=0,
                                 cv=DomainShuffleSplit(n_splits=3, test_size=0.2, test_rows="all",
                                                       random_state=0))
    search.fit(X, y, groups=sd, sample_domain=sd)
    # the subsampled validation folds hold benign source rows only (it made every candidate NaN)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


class GivenWeights(BaseEstimator):
    """A weighter that gives the fold's source rows the weights it was made with."""

    def __init__(self, weights=None):
        self.weights = weights

    def fit(self, X, y=None, sample_domain=None):
        w = np.zeros(len(sample_domain))
        w[np.asarray(sample_domain) > 0] = self.weights
        self.weights_ = w
        return self


@pytest.mark.parametrize("cls", [ImportanceWeightedScorer, DeepEmbeddedValidationScorer])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_weights_are_an_error_naming_the_kernel_width(cls, bad):
    """DEV returned NaN (inf weights) or silently scored unweighted (NaN weights); IW raised sklearn's message."""
    X, y, proba = _proba_fold()
    weights = np.r_[bad, np.ones(5)]
    with pytest.raises(ValueError, match=rf"{cls.__name__}: the importance weights of the fold's labelled "
                                         r"source rows came out non-finite \(1 of 6.*bandwidth or gamma"):
        cls(weighter=GivenWeights(weights))(FixedProba().fit(X), X, y)


@pytest.mark.parametrize("cls", [ImportanceWeightedScorer, DeepEmbeddedValidationScorer])
def test_all_zero_weights_are_an_error_not_a_uniform_fallback(cls):
    X, y, proba = _proba_fold()
    with pytest.raises(ValueError, match=rf"{cls.__name__}: every importance weight of the fold's 6 "
                                         "labelled source rows is 0.*smoother weighter"):
        cls(weighter=GivenWeights(np.zeros(6)))(FixedProba().fit(X), X, y)


@pytest.mark.parametrize("cls", [PredictionEntropyScorer, SoftNeighborhoodDensityScorer])
def test_non_finite_probabilities_are_an_error_naming_the_estimator(cls):
    """NaN probabilities went through the entropy and came out as a NaN score."""
    X, y, proba = _proba_fold()
    X[8, 1:] = np.nan
    with pytest.raises(ValueError, match=rf"{cls.__name__}: the probabilities FixedProba predicted for the "
                                         r"target rows came out non-finite \(3 of 18 .*diverged"):
        cls()(FixedProba().fit(X), X, y)


def test_soft_neighborhood_density_stays_finite_at_a_tiny_temperature():
    """Similarities / 1e-310 overflowed to inf and inf - inf gave NaN; the shift comes before the division now."""
    X, y, proba = _proba_fold()
    model = FixedProba().fit(X)
    tiny = SoftNeighborhoodDensityScorer(temperature=1e-310)(model, X, y)
    assert np.isfinite(tiny)
    assert tiny == pytest.approx(SoftNeighborhoodDensityScorer(temperature=1e-8)(model, X, y), abs=1e-12)


def test_a_non_finite_score_is_an_error_naming_the_scorer():
    X, y, sd = make_domain_shift(n_samples=30, mask_target=False, random_state=0)
    pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, mask_target_labels(y, sd), sample_domain=sd)
    with pytest.raises(ValueError, match=r"SupervisedScorer: the score on this validation fold came out "
                                         r"non-finite .*metric"):
        SupervisedScorer(metric=lambda y_true, y_pred: np.nan)(pipe, X, y, sample_domain=sd)
