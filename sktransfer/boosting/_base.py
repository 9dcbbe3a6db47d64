"""What the TrAdaBoost estimators do before boosting: check inputs, pick the rows."""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_consistent_length, column_or_1d

from .._compat import HasMethods, Interval, validate_data
from .._finite import check_magnitude
from .._sample_weights import check_sample_weight
from ..base import DomainAwareMixin, check_takes_sample_weight


class _TrainingRows:
    """The labelled rows boosting trains on, and which of them are source rows."""

    def __init__(self, rows: np.ndarray, source: np.ndarray, n_samples: int):
        self.rows = rows  # boolean mask over the rows of X
        self.source = source  # boolean mask over the training rows
        self.n_samples = n_samples

    def full(self, weights: np.ndarray) -> np.ndarray:
        """Spread per-training-row values over every row of X (0 elsewhere)."""
        out = np.zeros(self.n_samples)
        out[self.rows] = weights
        return out


class _BaseTransferBoosting(DomainAwareMixin, BaseEstimator):
    """Shared fit prologue: validate X and y, check domains and base estimator."""

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    }

    # Boosting compares target labels with predictions, so labelled target
    # rows are needed and domains cannot be inferred from the label mask.
    _domain_needs = ("source", "target", "source_labels", "target_labels", "sample_domain")

    def _default_estimator(self) -> Any:
        raise NotImplementedError

    def _prepare(
        self,
        X: ArrayLike,
        y: ArrayLike | None,
        sample_domain: ArrayLike | None,
        sample_weight: ArrayLike | None = None,
    ) -> tuple[np.ndarray, np.ndarray, _TrainingRows, np.random.RandomState, np.ndarray]:
        """Validate; return X and y of the labelled rows, their domains, the rng and
        the starting distribution over them (uniform, or ``sample_weight`` normalised)."""
        # y=None makes validate_data raise scikit-learn's "requires y" error.
        X = validate_data(
            self,
            X,
            y=None if y is None else "no_validation",
            dtype=[np.float64, np.float32],
            ensure_min_samples=2,
        )
        check_magnitude(X, type(self).__name__)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        domains = self._check_domains(X, y, sample_domain)
        self.estimator_ = clone(self._default_estimator() if self.estimator is None else self.estimator)
        check_takes_sample_weight(self.estimator_, self)
        sample_weight = check_sample_weight(sample_weight, X.shape[0], self)
        rows = domains.labelled.copy()
        if sample_weight is not None:
            # A row of weight 0 is a row left out (scikit-learn's convention). Kept, it counted in
            # the source-row count behind beta and in the mean-1 rescaling of every round's weights.
            rows &= sample_weight > 0
        training = _TrainingRows(rows, domains.source[rows], X.shape[0])
        start = starting_weights(sample_weight, rows, training.source, self)
        return X[rows], y[rows], training, check_random_state(self.random_state), start


def uniform_weights(n: int) -> np.ndarray:
    """The paper's starting distribution: every labelled row weighs the same."""
    return np.full(n, 1.0 / n)


def starting_weights(
    sample_weight: np.ndarray | None, rows: np.ndarray, source: np.ndarray, owner: Any
) -> np.ndarray:
    """The boosting's first distribution over the labelled ``rows``: uniform as in
    the papers, or the user's ``sample_weight`` of those rows, normalised (as
    scikit-learn's AdaBoost starts from its ``sample_weight``). ``source`` marks
    the source rows among the labelled ones."""
    if sample_weight is None:
        return uniform_weights(int(rows.sum()))
    start = sample_weight[rows]
    if not start.sum() > 0:
        raise ValueError(
            f"{type(owner).__name__}: sample_weight is 0 on every labelled row, so there is "
            "nothing to boost on. Give the labelled rows positive weights."
        )
    if not start[~source].sum() > 0:
        # Every round's error is a weighted mean over the labelled target rows.
        raise ValueError(
            f"{type(owner).__name__}: sample_weight is 0 on every labelled target row "
            "(sample_domain < 0), so no round's error on the target can be measured. "
            "Give the labelled target rows positive weights."
        )
    return start / start.sum()
