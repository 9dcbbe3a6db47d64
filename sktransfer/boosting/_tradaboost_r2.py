"""TrAdaBoost.R2 (Pardoe & Stone, 2010): TrAdaBoost for regression."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

from .._compat import StrOptions, _fit_context
from .._labelled_score import LabelledScoreMixin
from ._base import _BaseTransferBoosting
from ._weights import adjusted_errors, boost, source_beta, vote_start, weighted_median

__all__ = ["TrAdaBoostRegressor"]


def regression_loss(loss: str):
    """``row_loss`` for :func:`boost`: AdaBoost.R2's adjusted error of every row."""

    def row_loss(learner, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        return adjusted_errors(np.abs(learner.predict(X) - y), loss)

    return row_loss


def r2_alpha(eps: float) -> float:
    """``ln(1 / beta_t)`` with ``beta_t = eps / (1 - eps)``."""
    return math.log((1.0 - eps) / eps)


class TrAdaBoostRegressor(LabelledScoreMixin, RegressorMixin, _BaseTransferBoosting):
    """TrAdaBoost.R2: boosting for regression that learns which source rows to trust.

    The regression version of :class:`TrAdaBoostClassifier`. Each round fits
    the base regressor on the labelled source and target rows, measures each
    row's error relative to the largest one (AdaBoost.R2's adjusted error),
    raises the weight of badly predicted target rows and lowers that of badly
    predicted source rows. The prediction is the weighted median of the
    second half of the regressors.

    Needs ``sample_domain`` and some labelled target rows (``sample_domain <
    0`` with a value in ``y``); rows whose target is masked (``NaN``) are
    ignored.

    Parameters
    ----------
    estimator : object, default=None
        Base regressor, cloned for every round. Its ``fit`` must take
        ``sample_weight``. None means ``DecisionTreeRegressor(max_depth=3)``,
        the base regressor of scikit-learn's ``AdaBoostRegressor``.
    n_estimators : int, default=10
        Number of boosting rounds ``N``.
    learning_rate : float, default=1.0
        Multiplies every exponent of the weight updates and the median
        weights.
    loss : {"linear", "square", "exponential"}, default="linear"
        Adjusted error of a row from its residual ``r`` and the largest
        residual ``D`` of the round: ``r / D``, ``(r / D)^2`` or ``1 -
        exp(-r / D)``.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``random_state`` of each round's regressor.

    Attributes
    ----------
    estimator_ : estimator
        The unfitted base regressor the rounds are cloned from.
    estimators_ : list of estimators
        The ``N`` fitted regressors; the last ``N - ceil(N / 2) + 1`` predict.
    estimator_weights_ : ndarray of shape (n_estimators,)
        Weight of each regressor in the median, ``learning_rate * ln((1 -
        eps) / eps)``, with ``eps`` clipped as in Notes.
    estimator_errors_ : ndarray of shape (n_estimators,)
        Weighted adjusted error of each regressor on the labelled target rows.
    sample_weight_ : ndarray of shape (n_samples,)
        The distribution over the rows of ``X`` the last regressor was
        trained with (sums to 1; 0 on rows with a masked target).
    source_beta_ : float
        ``beta = 1 / (1 + sqrt(2 ln n_source / N))``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    TwoStageTrAdaBoostRegressor : The two-stage version, usually better.
    TrAdaBoostClassifier : The classification version.
    sklearn.ensemble.AdaBoostRegressor : AdaBoost.R2 on one domain.

    Notes
    -----
    Algorithm 2 of Pardoe & Stone (2010). Round ``t`` fits the regressor with
    the weights ``w`` normalised, computes the adjusted error ``e_i`` of every
    row (``D`` is the largest residual over source and target rows), the
    error ``eps_t = sum w_i e_i / sum w_i`` over the labelled target rows,
    then updates target rows ``w_i <- w_i beta_t^(-learning_rate e_i)``,
    ``beta_t = eps_t / (1 - eps_t)``, and source rows ``w_i <- w_i
    beta^(learning_rate e_i)``, ``beta = 1 / (1 + sqrt(2 ln n / N))``. The
    prediction is the weighted median of rounds ``ceil(N/2) .. N`` with
    weights ``ln(1 / beta_t)``; ``staged_predict`` gives stage ``n`` as the
    median of rounds ``ceil(n/2) .. n``.

    As in the paper, and unlike :class:`TrAdaBoostClassifier`, no drift
    correction multiplies the source weights. Departures:

    - The paper needs ``eps_t < 1/2``. ``eps_t`` is clipped into ``[1e-10,
      0.5 (1 - 1e-10)]`` and boosting goes on: a regressor no better than
      chance on the target gets a median weight near 0 and leaves the target
      weights as they are, while its round still shrinks the badly predicted
      source rows; ``eps_t = 0`` gives the finite weight of ``1e-10``.
    - ``learning_rate`` (1 in the paper) scales the exponents and weights.
    - The base regressor gets the weights rescaled to mean 1.
    - No update follows the last round.
    - Only the sign of ``sample_domain`` matters: all source domains are
      pooled into one source, all target domains into one target.

    References
    ----------
    .. [1] D. Pardoe and P. Stone, "Boosting for Regression Transfer",
       ICML 2010.
    .. [2] H. Drucker, "Improving Regressors using Boosting Techniques",
       ICML 1997.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.boosting import TrAdaBoostRegressor
    >>> from sktransfer.datasets import make_domain_shift
    >>> X, y, sample_domain = make_domain_shift(
    ...     n_samples=100, shift="concept", task="regression", mask_target=False,
    ...     random_state=0)
    >>> y_train = y.copy()
    >>> y_train[110:] = np.nan  # keep the targets of 10 target rows
    >>> reg = TrAdaBoostRegressor(random_state=0)
    >>> reg = reg.fit(X, y_train, sample_domain=sample_domain)
    >>> reg.predict(X[110:]).shape
    (90,)
    """

    _parameter_constraints: dict = {
        **_BaseTransferBoosting._parameter_constraints,
        "loss": [StrOptions({"linear", "square", "exponential"})],
    }

    def __init__(
        self,
        estimator=None,
        n_estimators: int = 10,
        learning_rate: float = 1.0,
        loss: str = "linear",
        random_state=None,
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.loss = loss
        self.random_state = random_state

    def _default_estimator(self) -> DecisionTreeRegressor:
        return DecisionTreeRegressor(max_depth=3)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_domain: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Boost on the labelled source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,)
            Targets; ``NaN`` marks a row whose target is unknown (ignored).
        sample_domain : array-like of shape (n_samples,)
            Domain id per row: > 0 source, < 0 target. Required.
        sample_weight : array-like of shape (n_samples,), default=None
            The rows' own weights: the boosting starts from them (normalised
            over the labelled rows) instead of from uniform weights.

        Returns
        -------
        self : TrAdaBoostRegressor
            The fitted regressor.
        """
        X_train, y_train, training, rng, start = self._prepare(X, y, sample_domain, sample_weight)
        y_train = y_train.astype(np.float64)
        boosted = boost(
            self.estimator_,
            X_train,
            y_train,
            training.source,
            start,
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            rng=rng,
            row_loss=regression_loss(self.loss),
            alpha_of=r2_alpha,
            chance=0.5,
            mode="tradaboost",
            owner=type(self).__name__,
        )
        self.estimators_ = boosted.estimators
        self.estimator_weights_ = boosted.alphas
        self.estimator_errors_ = boosted.errors
        self.sample_weight_ = training.full(boosted.last_weights)
        self.source_beta_ = source_beta(int(training.source.sum()), self.n_estimators)
        return self

    def staged_predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> Iterator[np.ndarray]:
        """Predictions after each round: the median of rounds ``ceil(n/2) .. n``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Yields
        ------
        y_pred : ndarray of shape (n_samples,)
            Predictions after rounds ``1 .. n``; the last equals :meth:`predict`.
        """
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False)
        predictions = np.array([learner.predict(X) for learner in self.estimators_])
        for n in range(1, len(self.estimators_) + 1):
            start = vote_start(n)
            yield weighted_median(predictions[start:n], self.estimator_weights_[start:n])

    def predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Weighted median of the predictions of rounds ``ceil(N/2) .. N``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to predict.
        sample_domain : array-like or int, default=None
            Ignored; accepted so ``DAPipeline`` and the common tests can pass it.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted targets.
        """
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False)
        start = vote_start(len(self.estimators_))
        predictions = np.array([learner.predict(X) for learner in self.estimators_[start:]])
        return weighted_median(predictions, self.estimator_weights_[start:])
