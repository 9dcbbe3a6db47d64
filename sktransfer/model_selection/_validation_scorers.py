"""Scorers that refit or reweigh: deep embedded validation and circular validation."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone, is_regressor

from ..base import accepts_sample_domain
from ..domain import Domains
from ._scorer_base import (
    DomainScorer,
    as_target,
    call_with_domains,
    default_metric,
    fold_rows,
    fold_weights,
)
from ._shared_weights import fit_weighter

__all__ = ["CircularValidationScorer", "DeepEmbeddedValidationScorer"]


def _representation(estimator: Any, X: Any, sample_domain: np.ndarray) -> np.ndarray:
    """The features the final step of a pipeline sees; ``X`` itself otherwise."""
    steps = getattr(estimator, "steps", None)
    if not steps or len(steps) < 2:
        return np.asarray(X, dtype=float)
    head = estimator[:-1]
    if accepts_sample_domain(head, "transform"):
        return np.asarray(head.transform(X, sample_domain=sample_domain), dtype=float)
    return np.asarray(head.transform(X), dtype=float)


def _row_losses(estimator: Any, X: Any, y: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
    """Log loss per row for classifiers with probabilities, else 0-1 or squared error."""
    if is_regressor(estimator):
        pred = call_with_domains(estimator, "predict", X, sample_domain)
        return (np.asarray(y, dtype=float) - pred) ** 2
    if hasattr(estimator, "predict_proba"):
        proba = call_with_domains(estimator, "predict_proba", X, sample_domain)
        column = {c: i for i, c in enumerate(estimator.classes_.tolist())}
        # A class the model never saw has probability 0 (clipped below).
        p = np.array([proba[i, column[c]] if c in column else 0.0 for i, c in enumerate(y.tolist())])
        return -np.log(np.clip(p, 1e-12, 1.0))
    return (call_with_domains(estimator, "predict", X, sample_domain) != y).astype(float)


class DeepEmbeddedValidationScorer(DomainScorer):
    """Deep embedded validation (DEV): the self-normalised importance-weighted source loss.

    A domain classifier on the representation the final step sees (the
    output of the pipeline's earlier steps applied as to target rows; ``X``
    for a lone estimator)
    gives each labelled source row its density ratio ``w``
    (out-of-fold, through :class:`~sktransfer.reweighting.DiscriminativeWeighter`),
    and the ratios are normalised to mean 1 over those rows. With per-row
    losses ``l`` and ``L = w l``, DEV is ``mean(L) + eta mean(w) - eta``
    with ``eta = -Cov(L, w) / Var(w)`` (You et al. 2019, Algorithm 1), a
    control variate built on ``E[w] = 1``. Since the weights have mean 1,
    ``eta mean(w) - eta`` is 0 (up to rounding) and the score is
    ``-mean(w l)``: the self-normalised importance-weighted loss, which is
    what the paper's estimate reduces to when the weights have mean 1. The
    control variate does not move the point estimate. It acts on the
    per-row terms ``w_i l_i + eta (w_i - 1)`` (:meth:`risk_terms`), which
    have the same mean as the ``w_i l_i`` and a row-by-row variance no
    larger than theirs (``eta`` is the coefficient that minimises it);
    those terms are what the paired standard errors of
    :class:`TransferAdvisor` read. The score is ``-DEV`` (higher is
    better). Losses are the log loss for classifiers with
    ``predict_proba``, else the 0-1 loss; the squared error for regressors.
    As in the paper, where one network serves both domains, the loss is that
    of the model deployed on target rows: source rows go through the
    target-side map of any adapter. Weights that come out NaN, infinite or
    all 0 raise a ``ValueError`` naming the likely cause (they used to be
    replaced by uniform weights, which scored the plain source loss).

    Parameters
    ----------
    weighter : weighter or None, default=None
        Estimates the density ratio on the representation; None is a
        ``DiscriminativeWeighter`` on a standardised logistic regression
        with ``cv=5`` (out-of-fold probabilities, standing in for the
        paper's held-out discriminator).

    Attributes
    ----------
    None

    See Also
    --------
    ImportanceWeightedScorer : The same self-normalised weighting of a metric, in the input space.

    References
    ----------
    You, Wang, Chen, Wang and Long, "Towards accurate model selection in
    deep unsupervised domain adaptation", ICML 2019.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import DeepEmbeddedValidationScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> DeepEmbeddedValidationScorer()(pipe, X, y_fit) < 0.0
    True
    """

    _needs = ("target", "source_labels")

    def __init__(self, weighter=None):
        self.weighter = weighter

    def risk_terms(self, estimator: Any, X: Any, y: ArrayLike | None = None,
                   sample_domain: ArrayLike | None = None) -> np.ndarray:
        """Per-row terms of the DEV risk: their mean is ``-score``.

        Row ``i`` of the fold's labelled source rows contributes
        ``w_i l_i + eta (w_i - 1)``, with ``w`` normalised to mean 1, so the
        control-variate parts sum to 0 and only lower the terms' variance.
        Two models scored on the same fold have
        their terms on the same rows, so the paired differences give the
        standard error of the difference of their risks (what
        :class:`TransferAdvisor` tests).

        Parameters
        ----------
        estimator : estimator instance
            Fitted on the training fold.
        X : array-like, DataFrame or list of shape (n_samples, ...)
            Rows of the validation fold, source and target together.
        y : array-like of shape (n_samples,), default=None
            Labels of the fold, masked on target rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row; inferred from the mask of ``y`` when None.

        Returns
        -------
        terms : ndarray of shape (n_labelled_source_rows,)
            In the order of the fold's labelled source rows.
        """
        return self._terms(estimator, X, np.asarray(y), self._fold(X, y, sample_domain, estimator))

    def _terms(self, estimator, X, y, domains) -> np.ndarray:
        sd = domains.sample_domain
        features = _representation(estimator, X, as_target(sd))
        weighter = fit_weighter(self.weighter, features, y, sd, cv=5)
        rows = np.flatnonzero(domains.source & domains.labelled)
        w = fold_weights(weighter, rows, type(self).__name__)
        w = w / w.mean()
        losses = w * _row_losses(estimator, fold_rows(X, rows), y[rows], as_target(rows))
        var = np.var(w, ddof=1) if len(w) > 1 else 0.0
        eta = -np.cov(losses, w)[0, 1] / var if var > 0 else 0.0
        return losses + eta * (w - 1.0)

    def _score(self, estimator, X, y, domains):
        return -float(np.mean(self._terms(estimator, X, y, domains)))


class CircularValidationScorer(DomainScorer):
    """Circular (reverse) validation: adapt back from the pseudo-labelled target.

    The fitted estimator labels the fold's target rows; a clone is then
    trained the other way round, the pseudo-labelled target rows as its
    source and the source rows, labels hidden, as its target, and its
    accuracy on the source rows is the score (Zhong et al. 2010; Bruzzone
    and Marconcini 2010). A model whose target labels are consistent with
    the source labels after a round trip scores high. The clone is fitted
    with ``sample_domain`` when its ``fit`` takes it (any
    :func:`~sktransfer.make_da_pipeline`), else on the pseudo-labelled rows.
    When the target rows all get one class, the reverse model can only
    predict that class, and scores its share of the source rows.

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
    DeepEmbeddedValidationScorer : Reweighs instead of refitting.

    References
    ----------
    Zhong, Fan, Yang, Verscheure and Ren, "Cross validation framework to
    choose amongst models and datasets for transfer learning", ECML PKDD 2010.

    Bruzzone and Marconcini, "Domain adaptation problems: a DASVM
    classification technique and a circular validation strategy", IEEE
    TPAMI 32(5), 2010.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer import make_da_pipeline
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.domain import mask_target_labels
    >>> from sktransfer.model_selection import CircularValidationScorer
    >>> X, y, sd = make_domain_shift(mask_target=False, random_state=0)
    >>> y_fit = mask_target_labels(y, sd)
    >>> pipe = make_da_pipeline(CORAL(), LogisticRegression()).fit(X, y_fit, sample_domain=sd)
    >>> 0.5 < CircularValidationScorer()(pipe, X, y_fit) <= 1.0
    True
    """

    _needs = ("target", "source_labels")
    _nonfinite_cause = (
        "The reverse model (a clone fitted on the pseudo-labelled target rows) likely predicted NaN "
        "or inf for the source rows, or the metric is undefined on them (R^2 of fewer than two rows)."
    )

    def __init__(self, metric=None):
        self.metric = metric

    def _score(self, estimator, X, y, domains: Domains):
        sd = domains.sample_domain
        source = np.flatnonzero(domains.source & domains.labelled)
        target = np.flatnonzero(domains.target)
        pseudo = call_with_domains(estimator, "predict", fold_rows(X, target), sd[target])
        metric = self.metric or default_metric(estimator)
        regression = is_regressor(estimator)
        if not regression and np.unique(pseudo).size < 2:
            return metric(y[source], np.full(len(source), pseudo[0]))
        reverse = clone(estimator)
        rows = np.concatenate([target, source])
        if accepts_sample_domain(reverse, "fit"):
            if regression:
                y_rev = np.concatenate([pseudo, np.full(len(source), np.nan)])
            else:
                # The source rows' labels are hidden with the class mask -1, which
                # string, float or unsigned classes cannot hold: the reverse model
                # learns class indices, and its predictions are mapped back.
                classes, codes = np.unique(pseudo, return_inverse=True)
                y_rev = np.concatenate([codes.astype(np.int64), np.full(len(source), -1)])
            sd_rev = np.concatenate([np.ones(len(target), dtype=np.int64), -np.ones(len(source), dtype=np.int64)])
            reverse.fit(fold_rows(X, rows), y_rev, sample_domain=sd_rev)
            pred = call_with_domains(reverse, "predict", fold_rows(X, source), -np.ones(len(source), dtype=np.int64))
            if not regression:
                pred = classes[np.asarray(pred, dtype=np.intp)]
        else:
            reverse.fit(fold_rows(X, target), pseudo)
            pred = reverse.predict(fold_rows(X, source))
        return metric(y[source], pred)
