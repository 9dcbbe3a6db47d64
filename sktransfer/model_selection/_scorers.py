"""Scorers for choosing a domain-adaptation model without (or with few) target labels."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import clone

from ..domain import unlabelled_mask
from ._scorer_base import (
    DomainScorer,
    as_target,
    call_with_domains,
    default_metric,
    default_weighter,
    fold_rows,
    fold_weights,
    target_proba,
)

__all__ = [
    "ImportanceWeightedScorer",
    "MutualInformationScorer",
    "PredictionEntropyScorer",
    "SoftNeighborhoodDensityScorer",
    "SupervisedScorer",
]


def _entropy(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba, 1e-12, 1.0)
    return -np.sum(p * np.log(p), axis=1)


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
        known = ~unlabelled_mask(labels) if labels.size else np.zeros(0, dtype=bool)
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
    DeepEmbeddedValidationScorer : The same idea with a variance-reducing control variate.
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
        weighter = default_weighter() if self.weighter is None else clone(self.weighter)
        weighter.fit(X, y, sample_domain=domains.sample_domain)
        rows = np.flatnonzero(domains.source & domains.labelled)
        weights = fold_weights(weighter, rows, type(self).__name__)
        pred = call_with_domains(estimator, "predict", fold_rows(X, rows), as_target(rows))
        return (self.metric or default_metric(estimator))(y[rows], pred, sample_weight=weights)


class PredictionEntropyScorer(DomainScorer):
    """Negative mean entropy of the predicted class probabilities on target rows.

    Confident target predictions score higher (Morerio et al. 2018 use the
    entropy to pick the weight of a domain-adaptation loss). Cheap and often
    informative, but a model that is confidently wrong scores well too: use
    it to compare hyperparameters of one method rather than methods.

    Attributes
    ----------
    None

    See Also
    --------
    SoftNeighborhoodDensityScorer : Rewards consistent clusters, not just confidence.

    References
    ----------
    Morerio, Cavazza and Murino, "Minimal-entropy correlation alignment for
    unsupervised deep domain adaptation", ICLR 2018.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import PredictionEntropyScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> PredictionEntropyScorer()(pipe, X, y_fit) <= 0.0
    True
    """

    def _score(self, estimator, X, y, domains):
        return -float(np.mean(_entropy(target_proba(estimator, X, domains, type(self).__name__))))


class MutualInformationScorer(DomainScorer):
    """Mutual information between the target rows and their predicted class.

    ``H(mean_i p_i) - mean_i H(p_i)`` over the fold's target rows ``i``, with
    ``p_i`` the predicted class probabilities: confident predictions (low
    mean entropy) that use every class (high entropy of the mean
    prediction). The information-maximisation objective of SHOT (Liang et
    al. 2020) and of Gomes et al. (2010), used as a validation score. Unlike
    :class:`PredictionEntropyScorer`, a model that puts every target row in
    one class scores 0, its lowest value, however confident it is. The score
    lies in ``[0, log n_classes]``; higher is better.

    Choosing which backbone layer to read with CORAL, sharp labelled images
    against blurred unlabelled ones (COIL20 blurred with sigma 1 and 2,
    MNIST->USPS blurred and sharp; ``benchmarks/results/layer_selection.md``),
    it picked the best layer in all four cases, where the picks of the
    importance-weighted score were 2 to 32 points worse and LogME's 0 to 22:
    a blurred target is separable from a sharp source at every layer, so
    the density ratios those scores need do not exist there. With noise so strong that every layer is near chance, it
    missed by 7 points. Like every score of the target predictions alone,
    it cannot tell a confidently wrong model from a right one: choosing
    CORAL's ``reg`` and the classifier's ``C`` on Office-Caltech SURF
    (``benchmarks/selection.py``'s grid, 3 tasks), it picked what
    :class:`PredictionEntropyScorer` picks, 9.8 points from the best;
    :class:`EnsembleAgreementScorer` was 0.9 points from it there.

    Attributes
    ----------
    None

    See Also
    --------
    PredictionEntropyScorer : Confidence alone.
    SoftNeighborhoodDensityScorer : Rewards consistent neighbourhoods of predictions.

    References
    ----------
    Liang, Hu and Feng, "Do we really need to access the source data? Source
    hypothesis transfer for unsupervised domain adaptation", ICML 2020.

    Gomes, Krause and Perona, "Discriminative clustering by regularized
    information maximization", NeurIPS 2010.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import MutualInformationScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> 0.0 <= MutualInformationScorer()(pipe, X, y_fit) <= 0.7  # log(2 classes)
    True
    """

    def _score(self, estimator, X, y, domains):
        proba = target_proba(estimator, X, domains, type(self).__name__)
        mean = np.mean(proba, axis=0, keepdims=True)
        return float(max(_entropy(mean)[0] - np.mean(_entropy(proba)), 0.0))


class SoftNeighborhoodDensityScorer(DomainScorer):
    """Soft neighbourhood density (SND) of the target predictions.

    Each target row's probability vector is L2-normalised; its similarities
    to the other target rows, divided by ``temperature``, go through a
    softmax, and the score is the mean entropy of those distributions. A
    model whose target predictions form dense, consistent neighbourhoods
    scores high (Saito et al. 2021); over-confident collapse onto one class
    does not, since every neighbour then looks alike only within that class.

    Parameters
    ----------
    temperature : float, default=0.05
        Softmax temperature of the similarities (the paper's value).

    Attributes
    ----------
    None

    See Also
    --------
    PredictionEntropyScorer : Confidence alone.

    References
    ----------
    Saito, Kim, Teterwak, Sclaroff, Darrell and Saenko, "Tune it the right
    way: unsupervised validation of domain adaptation via soft neighborhood
    density", ICCV 2021.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import SoftNeighborhoodDensityScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> SoftNeighborhoodDensityScorer()(pipe, X, y_fit) > 0.0
    True
    """

    _block = 2048

    def __init__(self, temperature: float = 0.05):
        self.temperature = temperature

    def _score(self, estimator, X, y, domains):
        if not isinstance(self.temperature, Real) or self.temperature <= 0:
            raise ValueError(f"temperature must be a positive number, got {self.temperature!r}.")
        proba = target_proba(estimator, X, domains, type(self).__name__)
        n = proba.shape[0]
        if n < 2:
            raise ValueError("SoftNeighborhoodDensityScorer needs at least two target rows in the fold.")
        unit = proba / np.maximum(np.linalg.norm(proba, axis=1, keepdims=True), 1e-12)
        total = 0.0
        for start in range(0, n, self._block):
            sim = unit[start:start + self._block] @ unit.T
            sim[np.arange(sim.shape[0]), np.arange(start, start + sim.shape[0])] = -np.inf
            # Shift, then divide: the softmax is the same, and a tiny temperature no longer
            # overflows the similarities to inf (inf - inf made the score NaN); a shifted
            # similarity that overflows goes to -inf, whose exp is the 0 it stands for.
            with np.errstate(over="ignore"):
                soft = np.exp((sim - sim.max(axis=1, keepdims=True)) / self.temperature)
            soft /= soft.sum(axis=1, keepdims=True)
            total += float(np.sum(_entropy(soft)))
        return total / n
