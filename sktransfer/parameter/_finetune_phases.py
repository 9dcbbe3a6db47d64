"""The phases of :class:`PretrainFineTune`: choosing the method, pretraining, continuing.

Two ways to continue training a fitted model on new rows: ``partial_fit``
epochs, or a warm-started ``fit`` that grows an ensemble.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from sklearn.base import is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from ..base import check_takes_sample_weight


def resolve_method(owner: Any, estimator: Any) -> str:
    """``owner.method``, with ``"auto"`` resolved: partial_fit first, then warm_start."""
    has_partial_fit = hasattr(estimator, "partial_fit")
    has_warm_start = "warm_start" in estimator.get_params(deep=False)
    name, inner = type(owner).__name__, type(estimator).__name__
    if owner.method == "partial_fit" and not has_partial_fit:
        raise TypeError(
            f"{name}(method='partial_fit') needs an estimator with partial_fit, but "
            f"{inner} has none. Use method='warm_start' if it has a warm_start "
            "parameter, or an estimator such as SGDClassifier or MLPClassifier."
        )
    if owner.method == "warm_start" and not has_warm_start:
        raise TypeError(
            f"{name}(method='warm_start') needs an estimator with a warm_start "
            f"parameter, but {inner} has none. Use method='partial_fit' if it has "
            "partial_fit, or an estimator such as GradientBoostingClassifier."
        )
    if owner.method != "auto":
        return owner.method
    if has_partial_fit:
        return "partial_fit"
    if has_warm_start:
        return "warm_start"
    raise TypeError(
        f"{name} cannot continue training {inner} on the target rows: it has neither "
        "partial_fit (method='partial_fit': SGDClassifier, MLPClassifier, "
        "MultinomialNB, ...) nor a warm_start parameter (method='warm_start': "
        "GradientBoostingClassifier, HistGradientBoostingClassifier, "
        "RandomForestClassifier, ...). Use an estimator that has one of them."
    )


def resolve_classes(owner: Any, y_source: np.ndarray, y_target: np.ndarray) -> np.ndarray:
    """``owner.classes`` checked against the labels, or the union of the labels."""
    seen = np.unique(np.concatenate([y_source, y_target]))
    if owner.classes is None:
        return seen
    classes = np.unique(np.asarray(owner.classes))
    unknown = np.setdiff1d(seen, classes)
    if unknown.size:
        raise ValueError(
            f"{type(owner).__name__}: y holds labels {unknown.tolist()} that are not "
            f"in classes={classes.tolist()}. Pass every class in classes, or "
            "classes=None to use the labels found in y."
        )
    return classes


def check_phase_takes_weights(owner: Any, estimator: Any, method: str) -> None:
    """Raise a ``TypeError`` unless every call of ``method`` on ``estimator`` takes ``sample_weight``."""
    check_takes_sample_weight(estimator, owner)
    if method == "partial_fit" and "sample_weight" not in inspect.signature(estimator.partial_fit).parameters:
        raise TypeError(
            f"{type(owner).__name__} was given sample_weight, but {type(estimator).__name__}.partial_fit "
            "does not take it, so the target phase would ignore the weights. Use an estimator whose "
            "partial_fit does (SGDClassifier, MLPClassifier, MultinomialNB, ...), or no sample_weight."
        )


def pretrain(
    owner: Any,
    estimator: Any,
    method: str,
    X: np.ndarray,
    y: np.ndarray,
    kwargs: dict,
    rng: np.random.RandomState,
    weights: np.ndarray | None = None,
) -> None:
    """The source phase: ``fit``, or ``owner.n_pretrain_iter`` partial_fit epochs."""
    if method == "warm_start" and owner.n_pretrain_iter is not None:
        raise ValueError(
            f"{type(owner).__name__}: n_pretrain_iter={owner.n_pretrain_iter} only "
            "applies to method='partial_fit'; with warm_start the source phase is "
            "the estimator's fit. Set n_pretrain_iter=None."
        )
    if method == "partial_fit" and owner.n_pretrain_iter is not None:
        run_epochs(estimator, X, y, owner.n_pretrain_iter, rng, kwargs, weights)
        return
    if method == "partial_fit" and "classes" in kwargs:
        missing = np.setdiff1d(kwargs["classes"], y)
        if missing.size:
            raise ValueError(
                f"{type(owner).__name__}: the source rows have no class "
                f"{missing.tolist()}, so {type(estimator).__name__}.fit on them "
                "cannot learn it and partial_fit would later refuse it. Set "
                "n_pretrain_iter (e.g. 50) to pretrain with partial_fit epochs, "
                "which declare every class up front."
            )
    estimator.fit(X, y, **_weight_kwargs(weights))


def _weight_kwargs(weights: np.ndarray | None, rows: np.ndarray | None = None) -> dict:
    """``sample_weight`` (of ``rows`` when given) as a keyword argument, or nothing when there are no weights."""
    if weights is None:
        return {}
    return {"sample_weight": weights if rows is None else weights[rows]}


def finetune(
    owner: Any,
    estimator: Any,
    method: str,
    X: np.ndarray,
    y: np.ndarray,
    kwargs: dict,
    rng: np.random.RandomState,
    weights: np.ndarray | None = None,
) -> None:
    """The target phase: ``owner.finetune_params`` set, then epochs or a warm-started fit."""
    if method == "partial_fit":
        if owner.finetune_params:
            estimator.set_params(**owner.finetune_params)
            _drop_built_optimizer(estimator)
        run_epochs(estimator, X, y, owner.n_finetune_iter, rng, kwargs, weights)
        return
    if is_classifier(estimator):
        check_warm_start_classes(owner, estimator, y)
    # The size first, so that finetune_params can override it.
    estimator.set_params(warm_start=True, **warm_start_budget(estimator, owner.n_finetune_iter))
    if owner.finetune_params:
        estimator.set_params(**owner.finetune_params)
    estimator.fit(X, y, **_weight_kwargs(weights))


def _drop_built_optimizer(estimator: Any) -> None:
    """Make an MLP build its optimiser anew, from the fine-tuning settings just set.

    scikit-learn's MLPs build their optimiser (``_optimizer``, with
    ``learning_rate_init``, momentum, Adam's betas) on the first
    ``partial_fit`` and reuse it on every later one, so
    ``finetune_params={"learning_rate_init": 1e-4}`` changed ``get_params()``
    but not the steps: the fine-tuning ran at the pretraining rate. Without
    the attribute the next ``partial_fit`` builds one from the current
    parameters (Adam's moment estimates start again, as a new phase's should).
    """
    if hasattr(estimator, "_optimizer"):
        del estimator._optimizer


def run_epochs(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    n_epochs: int,
    rng: np.random.RandomState,
    kwargs: dict,
    weights: np.ndarray | None = None,
) -> None:
    """Call ``estimator.partial_fit`` once per epoch on all rows, reshuffled each time.

    ``kwargs`` (``classes`` for classifiers) is passed to every call: the first
    call needs it, later calls check it matches. ``weights`` travel with their rows.
    """
    for _ in range(n_epochs):
        order = rng.permutation(X.shape[0])
        estimator.partial_fit(X[order], y[order], **kwargs, **_weight_kwargs(weights, order))


def warm_start_budget(estimator: Any, n_more: int) -> dict:
    """The size parameter that makes a warm-started ``fit`` train ``n_more`` more steps.

    Ensembles count members cumulatively: ``n_estimators`` (GradientBoosting,
    forests, bagging) is raised from the number of members fitted, which early
    stopping may have cut below the parameter; HistGradientBoosting's
    ``max_iter`` from ``n_iter_``. Other warm-startable models (LogisticRegression,
    MLP) count ``max_iter`` per call, so it is set to ``n_more``.
    """
    params = estimator.get_params(deep=False)
    if isinstance(estimator, (HistGradientBoostingClassifier, HistGradientBoostingRegressor)):
        return {"max_iter": int(estimator.n_iter_) + n_more}
    if "n_estimators" in params:
        members = getattr(estimator, "estimators_", None)
        fitted = params["n_estimators"] if members is None else len(members)
        return {"n_estimators": int(fitted) + n_more}
    if "max_iter" in params:
        return {"max_iter": n_more}
    return {}


def check_warm_start_classes(owner: Any, estimator: Any, y_target: np.ndarray) -> None:
    """Refuse target labels a warm-started classifier would silently re-encode.

    A warm-started ``fit`` encodes the labels it is given afresh: new classes
    land in the source's slots (GradientBoostingClassifier relabels them without
    a word) and a subset of the classes changes the number of outputs (which
    crashed the process in our tests). So the labelled target rows must hold
    exactly the source's classes.
    """
    who, inner = type(owner).__name__, type(estimator).__name__
    source = estimator.classes_
    declared = getattr(owner, "classes", None)
    if declared is not None and not np.array_equal(np.unique(np.asarray(declared)), source):
        raise ValueError(
            f"{who}: a warm-started {inner} knows only the classes of the source rows, "
            f"{source.tolist()}, and cannot take classes={np.unique(declared).tolist()}. "
            "Use an estimator with partial_fit (SGDClassifier, MLPClassifier, ...) to "
            "declare more classes, or classes=None."
        )
    labels = np.unique(y_target)
    new = np.setdiff1d(labels, source)
    if new.size:
        raise ValueError(
            f"{who} cannot add classes to a warm-started {inner}: the target labels "
            f"{new.tolist()} are not among the source classes {source.tolist()}. Map the "
            "target labels onto the source's label slots (e.g. y - 5 when the target "
            "holds digits 5-9 and the source 0-4), or use an estimator with partial_fit "
            "(SGDClassifier, MLPClassifier, ...) and method='partial_fit'."
        )
    missing = np.setdiff1d(source, labels)
    if missing.size:
        raise ValueError(
            f"{who}: the labelled target rows have no class {missing.tolist()}, but a "
            f"warm-started {inner} re-encodes the labels of each fit, so they must hold "
            f"every source class {source.tolist()}. Label at least one target row of each "
            "class, or use an estimator with partial_fit (SGDClassifier, MLPClassifier, ...)."
        )
