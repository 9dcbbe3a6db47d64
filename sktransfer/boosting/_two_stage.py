"""Two-stage TrAdaBoost.R2 (Pardoe & Stone, 2010, Algorithm 3)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.validation import check_is_fitted

from .._compat import Interval, StrOptions, _fit_context
from .._labelled_score import LabelledScoreMixin
from ._base import _BaseTransferBoosting
from ._tradaboost_r2 import r2_alpha, regression_loss
from ._weights import (
    _MAX_SEED,
    Boosted,
    adjusted_errors,
    boost,
    fit_weighted,
    shrink_source,
    weighted_median,
)

__all__ = ["TwoStageTrAdaBoostRegressor"]


class TwoStageTrAdaBoostRegressor(LabelledScoreMixin, RegressorMixin, _BaseTransferBoosting):
    """Two-stage TrAdaBoost.R2: lower the source weight step by step, keep the best step.

    At each of ``n_steps`` steps the source rows lose total weight, the badly
    predicted ones first, until at the last step only the target rows count.
    At every step an AdaBoost.R2 model in which the source weights stay
    frozen is scored by cross-validation on the labelled target rows; the
    model of the step with the lowest error is kept. Usually more accurate
    and more robust than :class:`TrAdaBoostRegressor`.

    Needs ``sample_domain`` and at least 2 labelled target rows; rows whose
    target is masked (``NaN``) are ignored.

    Parameters
    ----------
    estimator : object, default=None
        Base regressor. Its ``fit`` must take ``sample_weight``. None means
        ``DecisionTreeRegressor(max_depth=3)``.
    n_steps : int, default=10
        Number of steps ``S`` (outer stage).
    n_estimators : int, default=10
        Number of boosting rounds ``N`` of each AdaBoost.R2 model (inner stage).
    cv : int, default=5
        Number of folds over the labelled target rows; fewer when there are
        fewer labelled target rows.
    learning_rate : float, default=1.0
        Learning rate of the AdaBoost.R2 models.
    loss : {"linear", "square", "exponential"}, default="linear"
        Adjusted error, as in :class:`TrAdaBoostRegressor`.
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the ``random_state`` of every regressor.

    Attributes
    ----------
    estimator_ : estimator
        The unfitted base regressor.
    estimators_ : list of estimators
        Regressors of the AdaBoost.R2 model of the best step.
    estimator_weights_ : ndarray of shape (n_estimators_kept,)
        Their weights in the median, ``learning_rate * ln((1 - eps) / eps)``.
    estimator_errors_ : ndarray of shape (n_estimators_kept,)
        Their weighted adjusted errors on all training rows.
    cv_errors_ : ndarray of shape (n_steps,)
        Cross-validated mean squared error on the labelled target rows, per step.
    best_step_ : int
        Index of the step whose model is kept (the smallest ``cv_errors_``).
    target_share_ : ndarray of shape (n_steps,)
        Total weight of the target rows at each step.
    sample_weight_ : ndarray of shape (n_samples,)
        Weights of the rows of ``X`` at the best step (sum 1; 0 on rows with a
        masked target).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    TrAdaBoostRegressor : The one-stage algorithm.
    sklearn.ensemble.AdaBoostRegressor : AdaBoost.R2 on one domain.

    Notes
    -----
    Algorithm 3 of Pardoe & Stone (2010). With ``n`` source and ``m`` target
    rows and uniform starting weights, step ``s = 1 .. S``:

    1. scores AdaBoost.R2' (AdaBoost.R2 whose source weights never change:
       the target rows are reweighted and rescaled to keep their total) by
       ``cv``-fold cross-validation in which the source rows are always
       trained on;
    2. fits one base regressor with the step's weights and computes the
       adjusted errors ``e_i`` of every row;
    3. multiplies the source weights by ``beta_s^(e_i)``, with ``beta_s``
       found by root finding so that the target rows then hold
       ``m/(n+m) + s/(S-1) (1 - m/(n+m))`` of the weight.

    The target share thus grows linearly from ``m/(n+m)`` at the first step
    to 1 at the last (only target rows). The AdaBoost.R2' model of the step
    with the lowest cross-validated error is refitted on all rows and kept;
    it predicts with the weighted median of all its rounds, as AdaBoost.R2.

    Choices where the paper is silent: the cross-validated error is the mean
    squared error over the held-out target rows; the folds are drawn once
    (shuffled, from ``random_state``) and shared by every step, so the steps
    are compared on the same splits; in a fold, the training target rows are
    rescaled to the step's target share; AdaBoost.R2' measures its error on
    all rows and stops, as AdaBoost.R2, when it is 0 or reaches 1/2 (a
    learner reaching 1/2 is dropped unless it is the first). When no
    ``beta_s`` in [0, 1] reaches the share, ``beta_s = 0`` and the source
    rows are scaled down to it.
    Only the sign of ``sample_domain`` matters: all source domains are
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
    >>> from sktransfer.boosting import TwoStageTrAdaBoostRegressor
    >>> from sktransfer.datasets import make_domain_shift
    >>> X, y, sample_domain = make_domain_shift(
    ...     n_samples=60, shift="concept", task="regression", mask_target=False,
    ...     random_state=0)
    >>> y_train = y.copy()
    >>> y_train[75:] = np.nan  # keep the targets of 15 target rows
    >>> reg = TwoStageTrAdaBoostRegressor(n_steps=5, n_estimators=5, random_state=0)
    >>> reg = reg.fit(X, y_train, sample_domain=sample_domain)
    >>> reg.predict(X[75:]).shape
    (45,)
    >>> reg.cv_errors_.shape
    (5,)
    """

    _parameter_constraints: dict = {
        **_BaseTransferBoosting._parameter_constraints,
        "n_steps": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "loss": [StrOptions({"linear", "square", "exponential"})],
    }

    def __init__(
        self,
        estimator=None,
        n_steps: int = 10,
        n_estimators: int = 10,
        cv: int = 5,
        learning_rate: float = 1.0,
        loss: str = "linear",
        random_state=None,
    ):
        self.estimator = estimator
        self.n_steps = n_steps
        self.n_estimators = n_estimators
        self.cv = cv
        self.learning_rate = learning_rate
        self.loss = loss
        self.random_state = random_state

    def _default_estimator(self) -> DecisionTreeRegressor:
        return DecisionTreeRegressor(max_depth=3)

    def _adaboost_r2(
        self, X: np.ndarray, y: np.ndarray, source: np.ndarray, weights: np.ndarray, seed: int
    ) -> Boosted:
        """AdaBoost.R2 with the source weights frozen (the paper's AdaBoost.R2')."""
        return boost(
            self.estimator_,
            X,
            y,
            source,
            weights / weights.sum(),
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            rng=np.random.RandomState(seed),
            row_loss=regression_loss(self.loss),
            alpha_of=r2_alpha,
            chance=0.5,
            mode="frozen_source",
            owner=type(self).__name__,
        )

    def _cv_error(self, X, y, source, weights, folds, target, seed) -> float:
        """Mean squared error over the folds of ``target`` (the rows held out in turn)."""
        squared = []
        for _, test in folds:
            keep = np.ones(len(y), dtype=bool)
            keep[target[test]] = False
            w = weights[keep].copy()
            kept_target = ~source[keep]
            w[kept_target] *= weights[~source].sum() / w[kept_target].sum()
            model = self._adaboost_r2(X[keep], y[keep], source[keep], w, seed)
            squared.append((_median(model, X[target[test]]) - y[target[test]]) ** 2)
        return float(np.mean(np.concatenate(squared)))

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_domain: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
    ):
        """Run the steps and keep the AdaBoost.R2 model with the lowest CV error.

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
        self : TwoStageTrAdaBoostRegressor
            The fitted regressor.
        """
        X_train, y_train, training, rng, start = self._prepare(X, y, sample_domain, sample_weight)
        y_train = y_train.astype(np.float64)
        source = training.source
        # Rows of sample_weight 0 count as absent: never held out, so every
        # fold trains on some target weight.
        target = np.flatnonzero(~source & (start > 0))
        n_target = len(target)
        if n_target < 2:
            raise ValueError(
                "TwoStageTrAdaBoostRegressor needs at least 2 labelled target rows "
                f"(with a positive sample_weight) to cross-validate on, but got {n_target}. "
                "Label more target rows, or use TrAdaBoostRegressor."
            )
        kfold = KFold(min(self.cv, n_target), shuffle=True, random_state=rng.randint(_MAX_SEED))
        folds = list(kfold.split(target))
        seeds = rng.randint(_MAX_SEED, size=(self.n_steps, 2))
        start_share = float(start[~source].sum())  # n_target / n with uniform weights
        weights = start
        history, cv_errors = [], []
        for s in range(self.n_steps):
            history.append(weights)
            cv_errors.append(self._cv_error(X_train, y_train, source, weights, folds, target, seeds[s, 0]))
            if s == self.n_steps - 1:
                break
            learner = fit_weighted(self.estimator_, X_train, y_train, weights, seeds[s, 1])
            errors = adjusted_errors(np.abs(learner.predict(X_train) - y_train), self.loss)
            share = start_share + (s + 1) / (self.n_steps - 1) * (1.0 - start_share)
            weights = shrink_source(weights, errors, source, share)

        self.cv_errors_ = np.asarray(cv_errors)
        self.best_step_ = int(np.argmin(self.cv_errors_))
        self.target_share_ = np.array([w[~source].sum() for w in history])
        best = history[self.best_step_]
        model = self._adaboost_r2(X_train, y_train, source, best, seeds[self.best_step_, 0])
        self.estimators_ = model.estimators
        self.estimator_weights_ = model.alphas
        self.estimator_errors_ = model.errors
        self.sample_weight_ = training.full(best)
        return self

    def predict(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Weighted median of the kept AdaBoost.R2 model's regressors.

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
        return _median(Boosted(self.estimators_, self.estimator_weights_, None, None), X)


def _median(model: Boosted, X: np.ndarray) -> np.ndarray:
    predictions = np.array([learner.predict(X) for learner in model.estimators])
    return weighted_median(predictions, model.alphas)
