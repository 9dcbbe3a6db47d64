"""Fitting one intermediate step of a DAPipeline: weighters, domain-aware steps and plain ones."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import is_classifier, is_regressor
from sklearn.utils import Bunch, get_tags

from ._compat import _num_samples
from ._rows import _take, _take_params
from ._sample_weights import fitted_row_weights
from .base import accepts_sample_domain
from .domain import Domains


def _is_weighter(step: Any) -> bool:
    return hasattr(step, "compute_weights")


def _is_skipped(step: Any) -> bool:
    return step is None or (isinstance(step, str) and step == "passthrough")


def _fit_params(params: Bunch) -> dict:
    """A step's fit parameters, whichever of ``fit``/``fit_transform`` they were routed to."""
    return {**params.get("fit", {}), **params.get("fit_transform", {})}


def _uses_labels(step: Any) -> bool:
    """Whether a plain (not domain-aware) step learns from ``y``.

    scikit-learn has no one flag for it, so: classifiers and regressors used
    as transformers (LDA, PLS), steps whose tags require ``y`` (RFE,
    TargetEncoder) or whose ``fit`` has no default for it, univariate feature
    selectors (a ``score_func``: SelectKBest, SelectPercentile, ...), and
    wrappers of a supervised ``estimator`` (SelectFromModel,
    SequentialFeatureSelector).
    """
    if is_classifier(step) or is_regressor(step) or get_tags(step).target_tags.required:
        return True
    params = step.get_params(deep=False) if hasattr(step, "get_params") else {}
    if "score_func" in params:
        return True
    inner = params.get("estimator")
    if inner is not None and (is_classifier(inner) or is_regressor(inner)):
        return True
    try:
        y_param = inspect.signature(step.fit).parameters.get("y")
    except (TypeError, ValueError):
        return False
    return y_param is not None and y_param.default is inspect.Parameter.empty


def _fit_transform_step(
    step: Any,
    X: Any,
    y: ArrayLike | None,
    sample_domain: ArrayLike | None,
    domains: Domains | None,
    params: Bunch,
) -> tuple[Any, Any, np.ndarray | None]:
    """Fit one intermediate step; return its output, the fitted step and weights.

    Module-level so ``memory`` can cache it.
    """
    fit_params = _fit_params(params)
    if _is_weighter(step):
        step.fit(X, y, sample_domain=sample_domain, **fit_params)
        weights = fitted_row_weights(step, X, domains)
        return X, step, weights
    if accepts_sample_domain(step):
        kwargs = {"sample_domain": sample_domain}
    else:
        kwargs = {}
        if domains is not None and y is not None and not domains.labelled.all() and _uses_labels(step):
            # A supervised plain step would read the mask (-1) as a class: it learns
            # from the labelled rows only, then transforms every row.
            rows = np.flatnonzero(domains.labelled)
            step.fit(_take(X, rows), np.asarray(y)[rows], **_take_params(fit_params, rows, _num_samples(X)))
            return step.transform(X), step, None
    if hasattr(step, "fit_transform"):
        return step.fit_transform(X, y, **kwargs, **params.get("fit_transform", fit_params)), step, None
    step.fit(X, y, **kwargs, **fit_params)
    if kwargs and domains is not None and accepts_sample_domain(step, "transform"):
        return step.transform(X, sample_domain=domains.sample_domain), step, None
    return step.transform(X), step, None
