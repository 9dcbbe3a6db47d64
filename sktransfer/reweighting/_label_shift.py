"""Label-shift weighters: class weights ``p_t(y) / p_s(y)``, and Black Box Shift Estimation.

Under label (prior, target) shift the class priors change and ``p(x | y``)
does not, so the density ratio is a function of the label alone:
``p_t(x, y) / p_s(x, y) = p_t(y) / p_s(y)``. The weighters here estimate that
ratio for each class from the labelled source rows and the unlabelled target
rows, and give each source row the ratio of its class.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._compat import HasMethods, Interval, _fit_context
from .._sample_weights import effective_sample_size
from ._base import BaseWeighter

__all__ = ["BBSEWeighter"]


class _LabelShiftWeighter(BaseWeighter):
    """Template of the label-shift weighters.

    ``fit`` validates the rows and the source labels, then asks the subclass
    for the class weights, ``_class_ratio(Xs, codes, Xt, rng)`` (``codes`` are
    the source labels as 0..K-1; negative ratios are clipped to 0 here). New
    rows, whose labels are unknown, are weighted by ``sum_k p_s(k | x) w_k``,
    which under label shift is ``p_t(x) / p_s(x)``, with the subclass's
    ``_source_posterior(X)``.
    """

    _domain_needs = ("source", "target", "source_labels")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: ArrayLike, y: ArrayLike, sample_domain: ArrayLike | None = None):
        """Estimate the class weights ``p_t(y) / p_s(y)`` and weigh the source rows by them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Class labels of the source rows; target labels masked (``-1``)
            and, if present, not used.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row (> 0 source, < 0 target); None infers it from
            the label mask.

        Returns
        -------
        self : object
            Fitted weighter.
        """
        name = type(self).__name__
        X = self._validate_rows(X, reset=True).astype(np.float64, copy=False)
        if y is None:
            raise ValueError(
                f"{name} requires y to be passed, but the target y is None. It estimates "
                "how the class priors changed, so it needs the labels of the source rows: "
                "pass y with the target labels masked (-1)."
            )
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        domains = self._check_domains(X, y, sample_domain)
        y_source = y[domains.source]
        kind = type_of_target(y_source, input_name="y", raise_unknown=True)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{name} needs class labels on the source rows (it weighs each class), but y "
                f"on the source rows is {kind!r}. Label shift is a change of class priors; "
                "for a shift of the features use a covariate weighter such as "
                "DiscriminativeWeighter."
            )
        self.classes_, codes = np.unique(y_source, return_inverse=True)
        self.source_priors_ = np.bincount(codes, minlength=self.classes_.size) / codes.size
        rng = check_random_state(getattr(self, "random_state", None))
        ratio = self._check_finite(
            self._class_ratio(X[domains.source], codes, X[domains.target], rng), "class weights"
        )
        ratio = np.maximum(ratio, 0.0)  # negative estimates are clipped (Lipton et al., 2018)
        if not np.any(ratio > 0):
            raise ValueError(
                f"{name}: every class weight came out 0, so a model trained with them "
                f"would see no rows. {self._likely_cause()}"
            )
        self.class_weights_ = ratio
        self.target_priors_ = ratio * self.source_priors_ / np.sum(ratio * self.source_priors_)
        self.weights_ = np.zeros(X.shape[0])
        self.weights_[domains.source] = ratio[codes]
        self.effective_sample_size_ = effective_sample_size(ratio[codes])
        return self

    def _class_ratio(
        self, Xs: np.ndarray, codes: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        raise NotImplementedError

    def _source_posterior(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        return self._source_posterior(X) @ self.class_weights_


class BBSEWeighter(_LabelShiftWeighter):
    """Black Box Shift Estimation: class weights from a classifier's confusion matrix.

    Under label shift any fixed classifier ``h`` satisfies ``C w = mu_t``,
    where ``C_ij = p_s(h(x) = i, y = j)`` is its joint confusion matrix on
    source rows, ``mu_t_i = p_t(h(x) = i)`` the share of target rows it
    predicts as class ``i``, and ``w_j = p_t(j) / p_s(j)`` the class weights
    sought. ``C`` is estimated on held-out source rows (out-of-fold), ``mu_t``
    from the same classifiers' predictions on the target rows; ``w`` solves
    the linear system, negative entries clipped to 0. Each source row gets
    the weight of its class.

    Parameters
    ----------
    estimator : classifier or None, default=None
        The black-box classifier (any with ``fit`` and ``predict``); it
        needs not be calibrated nor even accurate, only better than chance
        on each class, so that ``C`` is invertible. None uses
        ``LogisticRegression()``. Cloned.
    cv : int >= 2, default=5
        Number of stratified folds of the source rows: each fold's
        classifier, fit on the other folds, gives the confusion matrix on
        its fold and predictions on the target rows (see Notes).
    random_state : int, RandomState instance or None, default=None
        Shuffles the source rows into folds.

    Attributes
    ----------
    weights_ : ndarray of shape (n_samples,)
        Weights of the training rows: ``class_weights_`` of each source
        row's class, 0 on target rows.
    class_weights_ : ndarray of shape (n_classes,)
        Estimated ``p_t(k) / p_s(k)`` of each class in ``classes_``.
    target_priors_ : ndarray of shape (n_classes,)
        Estimated target class priors, ``class_weights_ * source_priors_``
        normalised to sum to 1.
    source_priors_ : ndarray of shape (n_classes,)
        Class shares among the source rows.
    classes_ : ndarray of shape (n_classes,)
        Class labels of the source rows.
    confusion_matrix_ : ndarray of shape (n_classes, n_classes)
        ``C``: entry ``(i, j)`` is the share of source rows of class ``j``
        predicted as class ``i`` out of fold.
    target_predictions_ : ndarray of shape (n_classes,)
        ``mu_t``: share of target rows predicted as each class.
    estimator_ : classifier
        The classifier fit on every source row; its ``predict_proba``
        weighs new rows in ``compute_weights``.
    effective_sample_size_ : float
        Kish's effective sample size of the source weights.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    MMDTarSWeighter : Class weights by kernel mean matching, without a classifier.
    DiscriminativeWeighter : Weights for covariate shift (``p(x)`` changes instead).

    Notes
    -----
    The paper fits ``h`` on one half of the source rows and estimates ``C``
    on the other; here every source row serves once as a held-out row
    (cross-fitting): fold ``f``'s classifier gives ``C_f`` on its fold and
    ``mu_f`` on the target rows, and ``C`` and ``mu_t`` are their averages
    weighted by fold size, so ``C w = mu_t`` still holds in expectation and
    no source row is wasted. When a class has fewer source rows than 2, the
    folds are impossible and one classifier fit on every source row is used
    in sample (biased; label more rows). The system is solved by least
    squares (``numpy.linalg.lstsq``), which equals ``C^{-1} mu_t`` when
    ``C`` is invertible. Classes that occur only among the target rows
    cannot be seen. ``compute_weights`` on new rows, whose labels are
    unknown, gives ``sum_k p_s(k | x) w_k`` with ``estimator_``'s
    probabilities (its one-hot predictions when it has no
    ``predict_proba``): the density ratio ``p_t(x) / p_s(x)`` under label
    shift.

    References
    ----------
    .. [1] Z. C. Lipton, Y.-X. Wang and A. J. Smola, "Detecting and Correcting
       for Label Shift with Black Box Predictors", ICML 2018.

    Examples
    --------
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.reweighting import BBSEWeighter
    >>> X, y, sample_domain = make_domain_shift(
    ...     n_samples=100, shift="prior", random_state=2)
    >>> weighter = BBSEWeighter(random_state=0).fit(X, y, sample_domain=sample_domain)
    >>> weighter.target_priors_.round(1)  # the true target priors are (0.8, 0.2)
    array([0.8, 0.2])
    >>> weighter.weights_.shape
    (200,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, *, cv=5, random_state=None):
        self.estimator = estimator
        self.cv = cv
        self.random_state = random_state

    def _classifier(self):
        return LogisticRegression() if self.estimator is None else clone(self.estimator)

    def _counts(self, model, X: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
        """Predicted classes of ``X`` as codes: ``(k, n)`` one-hot if ``codes`` is None, else the joint counts."""
        predicted = np.searchsorted(self.classes_, model.predict(X))
        k = self.classes_.size
        if codes is None:
            return np.bincount(predicted, minlength=k).astype(np.float64)
        return np.bincount(predicted * k + codes, minlength=k * k).reshape(k, k).astype(np.float64)

    def _class_ratio(
        self, Xs: np.ndarray, codes: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState
    ) -> np.ndarray:
        k, labels = self.classes_.size, self.classes_[codes]
        if k == 1:  # one class: no prior can change
            self.estimator_ = None
            self.confusion_matrix_, self.target_predictions_ = np.ones((1, 1)), np.ones(1)
            return np.ones(1)
        n_folds = min(self.cv, int(np.bincount(codes).min()))
        joint, predicted = np.zeros((k, k)), np.zeros(k)
        if n_folds >= 2:
            folds = StratifiedKFold(n_folds, shuffle=True, random_state=rng)
            for train, held_out in folds.split(Xs, codes):
                model = self._classifier().fit(Xs[train], labels[train])
                joint += self._counts(model, Xs[held_out], codes[held_out])
                # Fold f's target shares, weighted by its share of the source rows.
                predicted += self._counts(model, Xt) * held_out.size / Xt.shape[0]
        self.estimator_ = self._classifier().fit(Xs, labels)
        if n_folds < 2:
            joint = self._counts(self.estimator_, Xs, codes)
            predicted = self._counts(self.estimator_, Xt) * Xs.shape[0] / Xt.shape[0]
        self.confusion_matrix_ = joint / Xs.shape[0]
        self.target_predictions_ = predicted / Xs.shape[0]
        return np.linalg.lstsq(self.confusion_matrix_, self.target_predictions_, rcond=None)[0]

    def _source_posterior(self, X: np.ndarray) -> np.ndarray:
        if self.estimator_ is None:
            return np.ones((X.shape[0], 1))
        if hasattr(self.estimator_, "predict_proba"):
            proba = self.estimator_.predict_proba(X)
            out = np.zeros((X.shape[0], self.classes_.size))
            out[:, np.searchsorted(self.classes_, self.estimator_.classes_)] = proba
            return out
        return np.eye(self.classes_.size)[np.searchsorted(self.classes_, self.estimator_.predict(X))]

    def _likely_cause(self) -> str:
        return (
            "The classifier's confusion matrix is singular or nearly so (it predicts some "
            "class never, or classes alike), which the linear system C w = mu_t cannot undo. "
            "Use a more accurate estimator, more source rows per class, or MMDTarSWeighter."
        )
