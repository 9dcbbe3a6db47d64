"""``score`` on the labelled rows only, for the library's classifiers and regressors."""

from __future__ import annotations

from numpy.typing import ArrayLike
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, r2_score

from ._rows import labelled_rows_for_score


class LabelledScoreMixin:
    """Accuracy (classifiers) or R^2 (regressors) of ``predict`` on the rows whose label is known.

    scikit-learn's ``ClassifierMixin.score`` counts a masked row (``-1``) as
    an error and ``RegressorMixin.score`` fails on a ``NaN`` one, so
    ``GridSearchCV``'s default scoring over folds that hold masked target rows
    was silently wrong or NaN. List this mixin before those in the bases.
    """

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> float:
        """Accuracy (classifiers) or R^2 (regressors) on the rows whose label is known.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score (target rows, usually).
        y : array-like of shape (n_samples,)
            Their true labels; masked rows (``-1`` for a classifier, ``NaN``)
            are left out.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            The score of ``predict(X)`` on the labelled rows.
        """
        X, y, sample_weight = labelled_rows_for_score(self, X, y, sample_weight)
        metric = accuracy_score if is_classifier(self) else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))
