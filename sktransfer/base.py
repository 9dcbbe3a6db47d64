"""Mixins shared by the estimator families.

- :class:`DomainAwareMixin`: ``fit`` takes ``sample_domain``; with metadata
  routing on, it is requested by default so ``GridSearchCV`` passes it along.
- :class:`BaseAdapter`: the template of feature-based adaptation
  transformers. ``fit`` validates ``X`` and the domains once, subclasses fill in
  ``_fit`` and ``_transform``.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ._compat import _fit_context, validate_data
from ._finite import check_finite_result, check_magnitude
from .domain import Domains, check_domains, prediction_domains

__all__ = [
    "BaseAdapter",
    "DomainAwareMixin",
    "accepts_sample_domain",
    "accepts_sample_weight",
    "check_takes_sample_weight",
]


def accepts_sample_domain(obj: Any, method: str = "fit") -> bool:
    """Whether ``obj.<method>`` takes a ``sample_domain`` argument.

    Parameters
    ----------
    obj : object
        An estimator or step.
    method : str, default="fit"
        Name of the method to inspect.

    Returns
    -------
    accepts : bool
        True when the method exists and has a ``sample_domain`` parameter.
    """
    func = getattr(obj, method, None)
    if func is None:
        return False
    try:
        return "sample_domain" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


def check_takes_sample_weight(estimator: Any, owner: Any, role: str = "estimator") -> None:
    """Raise a ``TypeError`` unless ``estimator.fit`` accepts ``sample_weight``.

    Estimators that transfer through row weights (importance weighting,
    boosting) call this before fitting, so a base estimator that would ignore
    the weights fails loudly instead of silently training unweighted.

    Parameters
    ----------
    estimator : estimator instance
        The estimator whose ``fit`` must take ``sample_weight``.
    owner : estimator instance or str
        Named in the error message.
    role : str, default="estimator"
        Name of the parameter that holds ``estimator``, for the message.

    Raises
    ------
    TypeError
        If ``estimator.fit`` has no ``sample_weight`` parameter.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sktransfer.base import check_takes_sample_weight
    >>> check_takes_sample_weight(KNeighborsClassifier(), "TrAdaBoostClassifier")
    Traceback (most recent call last):
    ...
    TypeError: TrAdaBoostClassifier needs its estimator to be an estimator whose fit takes ...
    """
    if not accepts_sample_weight(estimator):
        who = owner if isinstance(owner, str) else type(owner).__name__
        raise TypeError(
            f"{who} needs its {role} to be an estimator whose fit takes sample_weight, "
            f"but {type(estimator).__name__}.fit does not, so the weights would be "
            "ignored. Use one that does, e.g. LogisticRegression, "
            "DecisionTreeClassifier, Ridge or DecisionTreeRegressor."
        )


def accepts_sample_weight(estimator: Any) -> bool:
    """Whether ``estimator.fit`` takes ``sample_weight`` (by signature).

    Parameters
    ----------
    estimator : estimator instance
        The estimator to inspect.

    Returns
    -------
    accepts : bool
        True when ``fit`` has a ``sample_weight`` parameter.
    """
    return has_fit_parameter(estimator, "sample_weight")


class DomainAwareMixin:
    """Mixin for estimators whose ``fit`` takes ``sample_domain``.

    With scikit-learn's metadata routing on, ``sample_domain`` is requested by
    default, so meta-estimators route it without ``set_fit_request``. With
    routing off it is a plain fit parameter.
    """

    __metadata_request__fit = {"sample_domain": True}

    #: What ``fit`` cannot work without; see :func:`sktransfer.domain.check_domains`.
    _domain_needs: tuple[str, ...] = ("source", "target")

    def _validate_rows(self, X: ArrayLike, *, reset: bool) -> np.ndarray:
        """``validate_data`` for numeric rows (at least 2 to fit on), not too large to square."""
        X = validate_data(
            self,
            X,
            reset=reset,
            dtype=[np.float64, np.float32],
            ensure_min_samples=2 if reset else 1,
        )
        return check_magnitude(X, type(self).__name__)

    def _check_domains(
        self, X: Any, y: ArrayLike | None, sample_domain: ArrayLike | None
    ) -> Domains:
        return check_domains(X, y, sample_domain, needs=self._domain_needs, estimator=self)

    def _likely_cause(self) -> str:
        """What most likely made a result non-finite, and the fix; estimators name their knobs."""
        return "Standardise X (e.g. with StandardScaler) and check the hyperparameters."

    def _check_finite(self, values: ArrayLike, what: str) -> np.ndarray:
        """``values`` as an array; a ``ValueError`` naming the likely cause if any is NaN or inf."""
        return check_finite_result(values, type(self).__name__, what, self._likely_cause())


class BaseAdapter(DomainAwareMixin, TransformerMixin, BaseEstimator):
    """Base class of feature-based domain adaptation transformers.

    ``fit(X, y=None, sample_domain=None)`` learns a map from the source and
    target rows; ``fit_transform`` returns the training rows mapped (source rows
    into the target/shared space); ``transform(X, sample_domain=None)`` maps new
    rows, treated as target unless ``sample_domain`` says otherwise.

    Subclasses implement ``_fit(X, y, domains)`` and ``_transform(X,
    sample_domain)``. ``_fit`` may return the training rows already mapped,
    when it computed them on the way, so ``fit_transform`` does not map them
    a second time.
    """

    # Requested like fit's (scikit-learn < 1.9 refuses differing requests inside
    # fit_transform). DAPipeline routes nothing to a domain-aware transform, so
    # there new rows are target rows with routing on and off alike.
    __metadata_request__transform = {"sample_domain": True}

    def _fit_domains(
        self, X: ArrayLike, y: ArrayLike | None, sample_domain: ArrayLike | None
    ) -> tuple[np.ndarray, Domains, np.ndarray | None]:
        X = self._validate_rows(X, reset=True)
        domains = self._check_domains(X, y, sample_domain)
        mapped = self._fit(X, None if y is None else np.asarray(y), domains)
        return X, domains, None if mapped is None else self._check_finite(mapped, "mapped rows")

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None):
        """Learn the map from source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Labels, with target labels masked (``-1`` or ``NaN``); used to infer
            the domains when ``sample_domain`` is None.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row: > 0 source, < 0 target.

        Returns
        -------
        self : object
            Fitted transformer.
        """
        self._fit_domains(X, y, sample_domain)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None
    ) -> np.ndarray:
        """Fit, then map the training rows: source rows into the target space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Labels with target labels masked; used to infer the domains when
            ``sample_domain`` is None.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row: > 0 source, < 0 target.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The rows of ``X`` in the adapted space.
        """
        X, domains, mapped = self._fit_domains(X, y, sample_domain)
        if mapped is None:
            return self._check_finite(self._transform(X, domains.sample_domain), "mapped rows")
        return mapped

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Map rows into the adapted space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to map.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Domain id per row; None treats every row as target.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_features_out)
            The mapped rows.
        """
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False)
        return self._check_finite(
            self._transform(X, prediction_domains(X.shape[0], sample_domain)), "mapped rows"
        )

    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> np.ndarray | None:
        raise NotImplementedError

    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        raise NotImplementedError
