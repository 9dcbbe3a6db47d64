"""ImportanceWeightedEstimator: any estimator, trained on reweighted source rows (and any labelled target rows)."""

from __future__ import annotations

import copy

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._compat import HasMethods, _fit_context
from .._delegation import delegate
from .._rows import labelled_rows_for_score
from .._sample_weights import (
    check_importance_weights,
    check_sample_weight,
    fitted_row_weights,
    warn_if_concentrated,
)
from ..base import DomainAwareMixin, check_takes_sample_weight
from ._discriminative import DiscriminativeWeighter

__all__ = ["ImportanceWeightedEstimator"]


class ImportanceWeightedEstimator(DomainAwareMixin, BaseEstimator):
    """Fit any estimator on source rows weighted by a density-ratio estimate.

    The weighter estimates ``p_target(x) / p_source(x)`` from the source and
    target rows; the estimator is then fit on the labelled source rows with
    those ratios as ``sample_weight``, which corrects covariate shift: the
    weighted source loss estimates the target loss. Target rows whose label
    is given are drawn from the target itself (ratio 1) and train the
    estimator at weight 1, as in a pipeline with a weighter step. A
    classifier or a regressor, as ``estimator`` is.

    Parameters
    ----------
    estimator : estimator or None, default=None
        Any scikit-learn classifier or regressor whose ``fit`` takes
        ``sample_weight``; None uses ``LogisticRegression()``. Cloned.
    weighter : weighter or None, default=None
        Any object with ``fit(X, y, sample_domain)`` and
        ``compute_weights(X, sample_domain)`` (the weighters of
        :mod:`sktransfer.reweighting`); None uses
        ``DiscriminativeWeighter()``. Cloned.

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator.
    weighter_ : weighter
        The fitted weighter.
    weights_ : ndarray of shape (n_labelled,)
        The weights the estimator was fit with, one per labelled row in the
        order of ``X``: the importance weights on the source rows and 1 on
        the target rows, times ``sample_weight`` when given.
    effective_sample_size_ : float
        Kish's effective sample size of ``weights_``: how many equally
        weighted rows the fit is worth.
    classes_ : ndarray of shape (n_classes,)
        Class labels (classifiers only).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sktransfer.make_da_pipeline : The same in a pipeline, with a weighter step
        (the same weights, the same training rows).

    Notes
    -----
    Every target row informs the weighter; those whose label is given also
    train the estimator, at weight 1 (a class only they hold is learnt and
    predicted, not silently dropped). A warning
    (:class:`~sktransfer.exceptions.DegenerateWeightsWarning`) says when the
    effective sample size falls below 20% of the labelled source rows: a few
    rows then carry the fit, and a smoother weighter is usually better.

    References
    ----------
    .. [1] H. Shimodaira, "Improving predictive inference under covariate
       shift by weighting the log-likelihood function", Journal of
       Statistical Planning and Inference 90(2), 2000.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.reweighting import ImportanceWeightedEstimator, KLIEP
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, random_state=0)
    >>> model = ImportanceWeightedEstimator(LogisticRegression(), KLIEP(random_state=0))
    >>> model.fit(X, y, sample_domain=sample_domain).predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit"]), None],
        "weighter": [HasMethods(["fit", "compute_weights"]), None],
    }
    _domain_needs = ("source", "target", "source_labels")

    def __init__(self, estimator=None, weighter=None):
        self.estimator = estimator
        self.weighter = weighter

    def _template(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._template())
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.target_tags.required = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_domain: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Estimate the weights, then fit the estimator on the weighted labelled rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Labels; target rows may be masked (``-1`` or ``NaN``).
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row (> 0 source, < 0 target); None infers it from
            the label mask.
        sample_weight : array-like of shape (n_samples,), default=None
            The rows' own weights (survey weights, costs), multiplied with the
            importance weights; the weighter does not see them.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X = self._validate_rows(X, reset=True)
        if y is None:
            raise ValueError(
                "ImportanceWeightedEstimator requires y to be passed, but the target y is None."
            )
        y = column_or_1d(y, warn=True)  # one target per row, as the label mask needs
        domains = self._check_domains(X, y, sample_domain)
        estimator = clone(self._template())
        check_takes_sample_weight(estimator, self)
        weighter = DiscriminativeWeighter() if self.weighter is None else self.weighter
        self.weighter_ = clone(weighter).fit(X, y, sample_domain=domains.sample_domain)
        all_weights = fitted_row_weights(self.weighter_, X, domains)
        train = domains.labelled
        owner = "ImportanceWeightedEstimator"
        user_weights = check_sample_weight(sample_weight, X.shape[0], owner)
        if user_weights is not None:
            all_weights = all_weights * user_weights
        self.weights_ = check_importance_weights(all_weights[train], owner)
        self.effective_sample_size_ = warn_if_concentrated(self.weights_, owner)
        self.estimator_ = estimator.fit(X[train], y[train], sample_weight=self.weights_)
        return self

    def _validate_X(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self)
        return self._validate_rows(X, reset=False)

    predict = delegate("ImportanceWeightedEstimator", "predict", "the weighted estimator")
    predict_proba = delegate("ImportanceWeightedEstimator", "predict_proba", "the weighted estimator")
    predict_log_proba = delegate(
        "ImportanceWeightedEstimator", "predict_log_proba", "the weighted estimator"
    )
    decision_function = delegate(
        "ImportanceWeightedEstimator", "decision_function", "the weighted estimator"
    )

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """The estimator's own score (accuracy or R^2) on the rows whose label is known.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score (target rows, usually).
        y : array-like of shape (n_samples,)
            Their true labels; masked rows (``-1`` or ``NaN``) are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            Accuracy for a classifier, R^2 for a regressor.
        """
        X, y, sample_weight = labelled_rows_for_score(
            self, X, y, sample_weight
        )
        return self.estimator_.score(self._validate_X(X), y, sample_weight=sample_weight)

    @property
    def classes_(self) -> np.ndarray:
        """Class labels of the fitted classifier."""
        return self.estimator_.classes_
