"""Scorers that estimate the target metric from labelled rows: a few target labels, or importance-weighted source rows."""

from __future__ import annotations

import numpy as np

from .._labels import _task_of, unlabelled_mask
from ._scorer_base import (
    DomainScorer,
    as_target,
    call_with_domains,
    default_metric,
    fold_rows,
    fold_weights,
)
from ._shared_weights import fit_weighter

__all__ = ["ImportanceWeightedScorer", "SupervisedScorer"]


class SupervisedScorer(DomainScorer):
    """Score on the target rows whose labels are known: the oracle, or few-shot selection.

    The labels come from ``target_labels`` (one per row of the fold, read on
    target rows only; skada's convention: ``y`` keeps the target rows masked
    so no estimator trains on them, and the true labels travel beside it,
    routed to the scorer with metadata routing on) or, without it, from the
    target rows of ``y`` that carry a label.

    Parameters
    ----------
    metric : callable or None, default=None
        ``metric(y_true, y_pred)``, higher is better; None is accuracy for
        classifiers and R^2 for regressors.

    Attributes
    ----------
    None

    See Also
    --------
    ImportanceWeightedScorer : Source accuracy weighted toward the target.
    sklearn.metrics.make_scorer : The plain, domain-blind scorers.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import SupervisedScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> score = SupervisedScorer()(pipe, X, y_fit, sample_domain=sd, target_labels=y)
    >>> 0.5 < score <= 1.0
    True
    """

    _extra_metadata = ("target_labels",)

    def __init__(self, metric=None):
        self.metric = metric

    def _score(self, estimator, X, y, domains, target_labels=None):
        rows = np.flatnonzero(domains.target)
        if target_labels is not None:
            labels = np.asarray(target_labels)
            if labels.shape[0] != domains.sample_domain.shape[0]:
                raise ValueError(
                    f"target_labels has {labels.shape[0]} rows but the fold has "
                    f"{domains.sample_domain.shape[0]}: pass one label per row (read on target rows)."
                )
            labels = labels[rows]
        elif y is not None:
            labels = y[rows]
        else:
            labels = np.empty(0)
        # read as the estimator reads its y: for a regressor only NaN is the mask and -1 a true value
        known = ~unlabelled_mask(labels, _task_of(estimator)) if labels.size else np.zeros(0, dtype=bool)
        if not known.any():
            raise ValueError(
                "SupervisedScorer found no labelled target row in this fold: pass the true target "
                "labels as target_labels=... (with metadata routing on, GridSearchCV.fit(X, y, "
                "sample_domain=sd, target_labels=y_true) routes them) and split with "
                "DomainShuffleSplit(test_rows='all') so the validation folds hold target rows, or "
                "give a few target rows their labels in y together with sample_domain."
            )
        rows = rows[known]
        pred = call_with_domains(estimator, "predict", fold_rows(X, rows), domains.sample_domain[rows])
        return (self.metric or default_metric(estimator))(labels[known], pred)


class ImportanceWeightedScorer(DomainScorer):
    """Source-row accuracy, each row weighted by its estimated target density ratio.

    A weighter is fitted on the fold's source and target rows (in the input
    space), and the estimator's metric on the labelled source rows is
    computed with those weights: an estimate of the target metric under
    covariate shift (Sugiyama et al. 2007, importance-weighted
    cross-validation). The identity behind it holds for the model that is
    deployed on target rows, so the source rows are predicted as target rows
    (through the target-side map of an adapter such as CORAL or subspace
    alignment), not as the source rows they were in training. Weights that
    come out NaN, infinite or all 0 on the fold's labelled source rows
    leave the score undefined and raise a ``ValueError`` naming the likely
    cause (a kernel bandwidth or gamma off the scale of the features).

    Parameters
    ----------
    weighter : weighter or None, default=None
        Any :mod:`sktransfer.reweighting` weighter; None is a
        ``DiscriminativeWeighter`` on a standardised logistic regression.
    metric : callable or None, default=None
        ``metric(y_true, y_pred, sample_weight=...)``, higher is better;
        None is accuracy for classifiers and R^2 for regressors.

    Attributes
    ----------
    None

    See Also
    --------
    DeepEmbeddedValidationScorer : The self-normalised weighted loss on the model's representation, with
        a control variate on its per-row terms.
    sktransfer.reweighting.DiscriminativeWeighter : The default weighter.

    References
    ----------
    Sugiyama, Krauledat and Müller, "Covariate shift adaptation by importance
    weighted cross validation", JMLR 8, 2007.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import ImportanceWeightedScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> 0.0 <= ImportanceWeightedScorer()(pipe, X, y_fit) <= 1.0
    True
    """

    _needs = ("target", "source_labels")

    def __init__(self, weighter=None, metric=None):
        self.weighter = weighter
        self.metric = metric

    def _score(self, estimator, X, y, domains):
        weighter = fit_weighter(self.weighter, X, y, domains.sample_domain)
        rows = np.flatnonzero(domains.source & domains.labelled)
        weights = fold_weights(weighter, rows, type(self).__name__)
        pred = call_with_domains(estimator, "predict", fold_rows(X, rows), as_target(rows))
        return (self.metric or default_metric(estimator))(y[rows], pred, sample_weight=weights)
