"""A scorer that rewards agreement with a committee of models (ensemble validation)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
from joblib import hash as joblib_hash
from sklearn.base import clone

from .._finite import check_magnitude
from ..base import accepts_sample_domain
from ..domain import Domains
from ._scorer_base import DomainScorer, call_with_domains, fold_rows, target_proba

__all__ = ["EnsembleAgreementScorer"]


class EnsembleAgreementScorer(DomainScorer):
    """Share of the target rows on which the model agrees with a committee's vote.

    Each model of ``estimators`` (typically the candidates of the grid being
    searched) is cloned and fitted on the validation fold (its labelled source
    rows and its unlabelled target rows, with ``sample_domain`` when its
    ``fit`` takes it); the committee's label of a target row is the class of
    highest mean predicted probability. The score of a fitted model is the
    share of the fold's target rows where its prediction is the committee's
    label (ensemble validation, EnsV, Hu et al. 2024): the average of several
    adaptations is usually more accurate than most of them, so the candidate
    closest to it is a good guess when no target label is known. The
    committee of a fold is fitted once and reused for every candidate scored
    on that fold (with ``n_jobs=1``; parallel workers each fit their own).

    Parameters
    ----------
    estimators : list of estimators
        The committee, unfitted (cloned, then fitted on each fold). Each needs
        ``predict_proba`` and the same classes as the scored model.

    Attributes
    ----------
    None

    See Also
    --------
    CircularValidationScorer : Refits the model itself, the other way round.
    MutualInformationScorer : Needs no committee.

    References
    ----------
    Hu, Luo, Liang and Foo, "Towards reliable model selection for
    unsupervised domain adaptation: an empirical study and a certified
    baseline", NeurIPS 2024 Datasets and Benchmarks Track (EnsV).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.model_selection import EnsembleAgreementScorer
    >>> X, y, sd = make_domain_shift(shift="subspace", random_state=0)
    >>> committee = [make_da_pipeline(CORAL(reg=r), LogisticRegression()) for r in (0.1, 1.0, 10.0)]
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y, sample_domain=sd)
    >>> 0.5 < EnsembleAgreementScorer(committee)(pipe, X, y, sample_domain=sd) <= 1.0
    True
    """

    _needs = ("target", "source_labels")
    #: Committees kept, one per fold (a grid search scores every candidate on each fold).
    _cache_size = 16

    def __init__(self, estimators):
        self.estimators = estimators

    def _committee_labels(self, X: Any, y: np.ndarray, domains: Domains) -> tuple[np.ndarray, np.ndarray]:
        members = list(self.estimators) if self.estimators is not None else []
        if not members:
            raise ValueError("EnsembleAgreementScorer needs a non-empty list of estimators as its committee.")
        if hasattr(X, "shape") and len(X.shape) == 2 and np.issubdtype(np.asarray(X).dtype, np.number):
            # a committee that standardises X (most do) turns squares that overflow into NaN and fails
            # deep inside a member with scikit-learn's "contains NaN", which names neither cause nor scorer
            check_magnitude(np.asarray(X), type(self).__name__)
        sd = domains.sample_domain
        key = joblib_hash((X, y, sd, [repr(m) for m in members]))
        cache = self.__dict__.setdefault("_committees", OrderedDict())
        if key in cache:
            return cache[key]
        labelled = np.flatnonzero(domains.source & domains.labelled)
        total, classes = None, None
        for member in members:
            fitted = clone(member)
            if accepts_sample_domain(fitted, "fit"):
                fitted.fit(X, y, sample_domain=sd)
            else:
                fitted.fit(fold_rows(X, labelled), y[labelled])
            proba = target_proba(fitted, X, domains, type(self).__name__)
            if classes is None:
                classes = np.asarray(fitted.classes_)
            elif not np.array_equal(classes, fitted.classes_):
                raise ValueError(
                    f"EnsembleAgreementScorer: the committee's models learned different classes "
                    f"({classes.tolist()} and {np.asarray(fitted.classes_).tolist()}); they must share them."
                )
            total = proba if total is None else total + proba
        cache[key] = (classes, classes[np.argmax(total, axis=1)])
        while len(cache) > self._cache_size:
            cache.popitem(last=False)
        return cache[key]

    def _score(self, estimator, X, y, domains):
        _, votes = self._committee_labels(X, y, domains)
        rows = np.flatnonzero(domains.target)
        pred = call_with_domains(estimator, "predict", fold_rows(X, rows), domains.sample_domain[rows])
        return float(np.mean(np.asarray(pred) == votes))

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_committees", None)  # fitted committees stay in this process
        return state
