"""Checks every public estimator of sktransfer must pass.

The package is walked, so a new estimator cannot be left out. Domain-aware
estimators run scikit-learn's checks through ``DomainCheckWrapper`` (see
``tests/_wrappers.py`` for why); the rest run them as they are.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil

import numpy as np
import pytest
from sklearn import config_context
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import sktransfer
from sktransfer.base import DomainAwareMixin
from sktransfer.datasets import make_domain_shift
from sktransfer.pipeline import DAPipeline, make_da_pipeline
from sktransfer.reweighting import KLIEP, RULSIF, ULSIF

from ._wrappers import DomainCheckWrapper


def _public_estimators() -> list[type]:
    found = {}
    for info in pkgutil.walk_packages(sktransfer.__path__, "sktransfer."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or parts[1] == "deep":
            continue  # private modules; deep estimators need torch (own tests)
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not obj.__name__.startswith("Base")  # abstract templates
            ):
                found[obj.__name__] = obj
    return [found[name] for name in sorted(found)]


ESTIMATORS = _public_estimators()

# Public BaseEstimator subclasses that are not run through scikit-learn's checks, each with the reason.
_NOT_CHECKED = {
    # A model-selection report, like GridSearchCV: each fit fits every candidate (six pipelines and their
    # scorers) and needs target rows, which the checks' all-labelled data has none of. Its own tests
    # (tests/model_selection/test_advisor.py) cover clone, pickle, determinism and the bad-input errors.
    "TransferAdvisor": "fits and scores every candidate per fit; own tests in tests/model_selection/test_advisor.py",
}

# Estimators whose constructor needs arguments get an instance here.
_SPECIAL = {
    DAPipeline: lambda: make_da_pipeline(StandardScaler(), LogisticRegression()),
    # scikit-learn's checks fit on as few as 10 rows, about 4 of them target rows: fewer
    # than the default 5 folds, which the density-ratio estimators' CV refuses.
    KLIEP: lambda: KLIEP(cv=2),
    ULSIF: lambda: ULSIF(cv=2),
    RULSIF: lambda: RULSIF(cv=2),
}


def _seeded(est: BaseEstimator) -> BaseEstimator:
    """Seed every nested random_state: the checks' own seeding stops at the wrapper."""
    seeds = {k: 0 for k, v in est.get_params().items() if k.endswith("random_state") and v is None}
    return est.set_params(**seeds)


def _instance(cls: type) -> BaseEstimator:
    return _seeded(_SPECIAL[cls]() if cls in _SPECIAL else cls())


def _extra_instances() -> list[BaseEstimator]:
    """Second instances where a class is a classifier or a regressor by its argument."""
    from sklearn.linear_model import Ridge

    from sktransfer.reweighting import KMM, ImportanceWeightedEstimator

    return [_seeded(ImportanceWeightedEstimator(Ridge(), KMM()))]


def _check_instances():
    checked = [cls for cls in ESTIMATORS if cls.__name__ not in _NOT_CHECKED]
    for est in [_instance(cls) for cls in checked] + _extra_instances():
        yield DomainCheckWrapper(est) if isinstance(est, DomainAwareMixin) else est


def test_discovery_finds_the_public_estimators():
    names = {cls.__name__ for cls in ESTIMATORS}
    assert {"CORAL", "SubspaceAlignment", "TransferComponentAnalysis",
            "JointDistributionAdaptation", "BalancedDistributionAdaptation",
            "GeodesicFlowKernel", "EasyTL", "MEDA",
            "FeatureAugmentation", "DAPipeline"} <= names


# The check uses classes {-1, 1}; -1 is our unlabelled-row mask, so a DA
# classifier sees one class (or, in a pipeline, refuses {-1, 1} labels).
_MASK_CLASH = {"check_classifiers_classes": "-1 is the label mask; {-1, 1} labels clash with it"}


def _expected_failed_checks(estimator) -> dict[str, str]:
    if isinstance(estimator, DAPipeline):
        return {
            # Like sklearn.pipeline.Pipeline, fit stores the fitted steps in `steps`.
            "check_estimators_overwrite_params": "a pipeline fits its steps in place",
            "check_dont_overwrite_parameters": "a pipeline fits its steps in place",
            **_MASK_CLASH,
        }
    if isinstance(estimator, DomainCheckWrapper) and is_classifier(estimator):
        return dict(_MASK_CLASH)
    return {}


@parametrize_with_checks(list(_check_instances()), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- our own


@pytest.fixture(scope="module")
def shifted():
    X, y, sd = make_domain_shift(n_samples=40, n_features=3, shift="subspace", random_state=0)
    return X, y, sd


DA_ESTIMATORS = [cls for cls in ESTIMATORS if issubclass(cls, DomainAwareMixin)]


def _fitted_output(est, X, y, sd):
    if hasattr(est, "transform"):
        return est.fit_transform(X, y, sample_domain=sd)
    return est.fit(X, y, sample_domain=sd).predict(X)


def _labelled_target(y, sd):
    """FeatureAugmentation needs some labelled target rows: label the first five."""
    y = y.copy()
    y[np.flatnonzero(sd < 0)[:5]] = 0
    return y


@pytest.mark.parametrize("cls", DA_ESTIMATORS, ids=lambda c: c.__name__)
def test_clone_and_pickle_round_trip(cls, shifted):
    X, y, sd = shifted
    y = _labelled_target(y, sd)
    est = _instance(cls)
    expected = _fitted_output(clone(est), X, y, sd)
    fitted = clone(est).fit(X, y, sample_domain=sd)
    restored = pickle.loads(pickle.dumps(fitted))
    out = restored.transform(X, sample_domain=sd) if hasattr(est, "transform") else restored.predict(X)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "cls", [c for c in DA_ESTIMATORS if hasattr(c, "transform")], ids=lambda c: c.__name__
)
def test_set_output_pandas(cls, shifted):
    pd = pytest.importorskip("pandas")
    X, y, sd = shifted
    y = _labelled_target(y, sd)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    est = _instance(cls).set_output(transform="pandas")
    out = est.fit_transform(frame, y, sample_domain=sd)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    new = est.transform(frame.iloc[:4])
    assert isinstance(new, pd.DataFrame) and new.shape[0] == 4


@pytest.mark.parametrize("cls", DA_ESTIMATORS, ids=lambda c: c.__name__)
def test_routing_on_and_off_give_identical_results(cls, shifted):
    X, y, sd = shifted
    y = _labelled_target(y, sd)
    off = _fitted_output(_instance(cls), X, y, sd)
    with config_context(enable_metadata_routing=True):
        on = _fitted_output(_instance(cls), X, y, sd)
    np.testing.assert_array_equal(off, on)


@pytest.mark.parametrize("cls", DA_ESTIMATORS, ids=lambda c: c.__name__)
def test_same_random_state_same_fit(cls, shifted):
    X, y, sd = shifted
    y = _labelled_target(y, sd)
    est = _instance(cls)
    if "random_state" in est.get_params():
        est.set_params(random_state=0)
    np.testing.assert_array_equal(
        _fitted_output(clone(est), X, y, sd), _fitted_output(clone(est), X, y, sd)
    )


@pytest.mark.parametrize("cls", DA_ESTIMATORS, ids=lambda c: c.__name__)
def test_fit_does_not_write_into_inputs(cls, shifted):
    X, y, sd = shifted
    y = _labelled_target(y, sd)
    X0, y0, sd0 = X.copy(), y.copy(), sd.copy()
    _fitted_output(_instance(cls), X, y, sd)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sd, sd0)


@pytest.mark.parametrize("cls", DA_ESTIMATORS, ids=lambda c: c.__name__)
def test_new_rows_are_target_rows_by_default(cls, shifted):
    X, y, sd = shifted
    y = _labelled_target(y, sd)
    est = _instance(cls).fit(X, y, sample_domain=sd)
    if hasattr(est, "transform"):
        np.testing.assert_array_equal(est.transform(X), est.transform(X, sample_domain=-1))


@pytest.mark.parametrize(
    "cls",
    [c for c in DA_ESTIMATORS if "sample_domain" not in c._domain_needs],
    ids=lambda c: c.__name__,
)
def test_domains_inferred_from_mask_match_explicit(cls, shifted):
    X, y, sd = shifted
    if is_regressor(_instance(cls)):  # a regression target is masked with NaN; -1 is a value
        y = np.where(sd < 0, np.nan, y.astype(float))
    inferred = _fitted_output(_instance(cls), X, y, None)
    explicit = _fitted_output(_instance(cls), X, y, sd)
    np.testing.assert_allclose(inferred, explicit)


@pytest.mark.parametrize("cls", DA_ESTIMATORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(
    "case, error, match",
    [
        ("no_target", ValueError, "needs target rows"),
        ("no_source", ValueError, "needs source rows"),
        ("nan", ValueError, "NaN"),
        ("inf", ValueError, "infinity"),
        ("bad_length", ValueError, "one id per row"),
        ("zero_domain", ValueError, "contains 0"),
        ("one_d", ValueError, "Expected 2D array"),
        ("string_mask", TypeError, "string class labels|regression target must be numeric"),
        # numpy turns the -1 mask into the string '-1' beside string labels (was learnt as a class)
        ("stringified_mask", TypeError, "string class labels|regression target must be numeric"),
    ],
)
def test_bad_input_gets_a_clear_error(cls, case, error, match, shifted):
    X, y, sd = shifted
    X, y, sd = X.copy(), _labelled_target(y, sd), sd.copy()
    if case == "no_target":
        sd[:] = 1
    elif case == "no_source":
        sd[:] = -1
    elif case == "nan":
        X[3, 1] = np.nan
    elif case == "inf":
        X[3, 1] = np.inf
    elif case == "bad_length":
        sd = sd[:-1]
    elif case == "zero_domain":
        sd[2] = 0
    elif case == "one_d":
        X = X[:, 0]
    elif case == "string_mask":
        y = np.array(["a"] * (len(y) - 1) + [-1], dtype=object)
    elif case == "stringified_mask":
        y = np.concatenate([np.array(["a", "b"])[np.arange(len(y) - 3) % 2], np.full(3, -1)])
    with pytest.raises(error, match=match):
        _instance(cls).fit(X, y, sample_domain=sd)
