"""The template of the transductive classifiers: validate once, label the target rows."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._compat import _fit_context
from .._labelled_score import LabelledScoreMixin
from ..base import DomainAwareMixin
from ..domain import Domains, prediction_domains

__all__ = ["BaseTransductiveClassifier", "unit_rows"]


def unit_rows(Z: np.ndarray) -> np.ndarray:
    """Each row scaled to unit L2 norm; zero rows stay zero.

    Each row is divided by its largest magnitude before its norm is taken,
    so rows of ``1e-300`` (whose squares underflow) or ``1e200`` (whose
    squares overflow) come out unit length too.
    """
    scale = np.max(np.abs(Z), axis=1, keepdims=True)
    Z = np.divide(Z, scale, out=np.zeros_like(Z), where=scale > 0)
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0)


class BaseTransductiveClassifier(LabelledScoreMixin, DomainAwareMixin, ClassifierMixin, BaseEstimator):
    """Classifier fitted on labelled source rows and unlabelled target rows together.

    ``fit(X, y, sample_domain)`` validates ``X``, the labels and the domains
    once, then calls ``_fit(X, codes, domains)`` with ``X`` as float64 and the
    source labels as codes ``0 .. n_classes - 1`` (indices into
    ``classes_``); ``_fit`` returns the class codes it gives the target rows,
    which become ``transduction_``. New rows are scored by ``_scores(X,
    sample_domain)``, one column per class, largest wins. Labels of target
    rows, when present, are ignored.
    """

    _domain_needs = ("source", "target", "source_labels")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None):
        """Fit on the labelled source rows and the unlabelled target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Class labels of the source rows; target labels masked (``-1``)
            and otherwise ignored.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row: > 0 source, < 0 target. None infers it from
            the mask of ``y``: labelled rows are source, masked rows target.

        Returns
        -------
        self : object
            Fitted classifier.
        """
        who = type(self).__name__
        X = self._validate_rows(X, reset=True)
        if y is None:
            raise ValueError(
                f"{who} requires y to be passed, but the target y is None. It learns from "
                "the labels of the source rows: pass y with the target labels masked (-1)."
            )
        domains = self._check_domains(X, y, sample_domain)
        y = column_or_1d(y, warn=True)
        y_source = y[domains.source]
        check_classification_targets(y_source)
        classes, codes = np.unique(y_source, return_inverse=True)
        if classes.shape[0] < 2:
            raise ValueError(
                f"{who} needs at least two classes among the labelled source rows, but they "
                f"all have the class {classes.tolist()[0]!r}: there is nothing to tell apart."
            )
        self.classes_ = classes
        target_codes = self._fit(X.astype(np.float64, copy=False), codes, domains)
        transduction = np.empty(X.shape[0], dtype=classes.dtype)
        transduction[domains.source] = y_source
        transduction[domains.target] = classes[target_codes]
        self.transduction_ = transduction
        return self

    def _fit(self, X: np.ndarray, codes: np.ndarray, domains: Domains) -> np.ndarray:
        raise NotImplementedError

    def _scores(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _all_scores(self, X: ArrayLike, sample_domain: ArrayLike | int | None) -> np.ndarray:
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False).astype(np.float64, copy=False)
        scores = self._scores(X, prediction_domains(X.shape[0], sample_domain))
        return self._check_finite(scores, "decision values")

    def decision_function(
        self, X: ArrayLike, sample_domain: ArrayLike | int | None = None
    ) -> np.ndarray:
        """Score of each class for each row; the largest is the prediction.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Domain id per row; None treats every row as target.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, the score of ``classes_[1]`` minus that of
            ``classes_[0]``.
        """
        scores = self._all_scores(X, sample_domain)
        return scores[:, 1] - scores[:, 0] if scores.shape[1] == 2 else scores

    def predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Class of each row: the one with the largest score.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Domain id per row; None treats every row as target.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        return self.classes_[np.argmax(self._all_scores(X, sample_domain), axis=1)]
