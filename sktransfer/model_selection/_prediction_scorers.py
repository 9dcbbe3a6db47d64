"""Label-free scorers that read only the model's predictions on the target rows (and, for soft
neighbourhood density, their neighbours among themselves)."""

from __future__ import annotations

from numbers import Real

import numpy as np

from ._scorer_base import DomainScorer, target_proba

__all__ = ["MutualInformationScorer", "PredictionEntropyScorer", "SoftNeighborhoodDensityScorer"]


def _entropy(proba: np.ndarray) -> np.ndarray:
    p = np.clip(proba, 1e-12, 1.0)
    return -np.sum(p * np.log(p), axis=1)


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

    _reads_proba = True

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

    _reads_proba = True

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
    scores high (Saito et al. 2021). The score reads how alike the rows'
    predictions are, not whether they tell the classes apart, so a collapse
    onto one class scores highest of all: when every target row gets the
    same probability vector (a model that predicts one class everywhere),
    every similarity is equal, every softmax is uniform over the other
    ``n_t - 1`` target rows, and the score is its maximum,
    ``log(n_t - 1)``. The SND of Saito et al. 2021 behaves this way (the
    same entropy of the same softmax); pair it with a score that sees the
    classes, such as :class:`MutualInformationScorer` (0, its lowest, for
    that collapse), or look at the predicted class proportions.

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
    MutualInformationScorer : Confidence and diversity of the classes; lowest for a collapse.

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

    _reads_proba = True
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
