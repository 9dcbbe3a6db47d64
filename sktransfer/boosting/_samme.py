"""The weighted vote of the last half of TrAdaBoost's rounds, SAMME-style."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import softmax
from sklearn.utils.validation import check_is_fitted

from ._weights import vote_start


class SammeVoteMixin:
    """Prediction methods of a classifier whose rounds vote as in SAMME.

    Needs ``estimators_`` (fitted on class indices ``0 .. K-1``),
    ``estimator_weights_``, ``classes_`` and ``n_classes_``. Only rounds
    ``ceil(n/2) .. n`` of the first ``n`` vote (Dai et al., 2007).
    """

    def _round_predictions(self, X: ArrayLike) -> np.ndarray:
        """Class index predicted by each round, shape (n_estimators, n_samples)."""
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False)
        return np.array([learner.predict(X) for learner in self.estimators_]).astype(np.intp)

    def _vote(self, predictions: np.ndarray, n_rounds: int) -> np.ndarray:
        """SAMME decision of rounds ``ceil(n/2) .. n`` of the first ``n_rounds``."""
        start = vote_start(n_rounds)
        alphas = self.estimator_weights_[start:n_rounds]
        # The decision ignores the weights' scale; dividing by the largest
        # keeps their sums finite for weights near the float64 limit.
        alphas = alphas / alphas.max()
        K, n_samples = self.n_classes_, predictions.shape[1]
        # Summed per window, never by running differences: the weights can
        # span ten orders of magnitude and differences would cancel.
        totals = np.zeros((n_samples, K))
        for classes, alpha in zip(predictions[start:n_rounds], alphas):
            totals[np.arange(n_samples), classes] += alpha
        # Each round votes alpha for its class and -alpha / (K - 1) for the others.
        decision = (K * totals - alphas.sum()) / ((K - 1) * alphas.sum())
        if K == 2:
            return decision[:, 1] - decision[:, 0]
        return decision

    def staged_decision_function(
        self, X: ArrayLike, sample_domain: ArrayLike | int | None = None
    ) -> Iterator[np.ndarray]:
        """Decision function after each round (rounds ``ceil(n/2) .. n`` vote).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Yields
        ------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            As :meth:`decision_function`, after rounds ``1 .. n``.
        """
        predictions = self._round_predictions(X)
        for n_rounds in range(1, len(self.estimators_) + 1):
            yield self._vote(predictions, n_rounds)

    def decision_function(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Weighted vote of rounds ``ceil(N/2) .. N``, SAMME-style.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to score.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Returns
        -------
        decision : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For two classes, positive values favour ``classes_[1]``; otherwise
            one column per class, the largest wins.
        """
        return self._vote(self._round_predictions(X), len(self.estimators_))

    def _proba(self, decision: np.ndarray) -> np.ndarray:
        if self.n_classes_ == 2:
            return softmax(np.column_stack([-decision, decision]) / 2.0, axis=1)
        return softmax(decision / (self.n_classes_ - 1), axis=1)

    def _label(self, decision: np.ndarray) -> np.ndarray:
        if self.n_classes_ == 2:
            return self.classes_[(decision > 0).astype(np.intp)]
        return self.classes_[np.argmax(decision, axis=1)]

    def predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Predict classes by the vote of rounds ``ceil(N/2) .. N``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted classes.
        """
        return self._label(self.decision_function(X))

    def predict_proba(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Class probabilities from the vote, as scikit-learn's SAMME.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return self._proba(self.decision_function(X))

    def predict_log_proba(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        return np.log(self.predict_proba(X))

    def staged_predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> Iterator[np.ndarray]:
        """Predicted classes after each round.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Yields
        ------
        y_pred : ndarray of shape (n_samples,)
            Predictions of the vote of rounds ``ceil(n/2) .. n``; the last
            equals :meth:`predict`.
        """
        for decision in self.staged_decision_function(X):
            yield self._label(decision)

    def staged_predict_proba(
        self, X: ArrayLike, sample_domain: ArrayLike | int | None = None
    ) -> Iterator[np.ndarray]:
        """Class probabilities after each round.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to classify.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Yields
        ------
        proba : ndarray of shape (n_samples, n_classes)
            As :meth:`predict_proba`, after rounds ``1 .. n``.
        """
        for decision in self.staged_decision_function(X):
            yield self._proba(decision)
