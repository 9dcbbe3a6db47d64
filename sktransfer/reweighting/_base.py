"""The template every weighter follows."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .._compat import _fit_context
from .._sample_weights import effective_sample_size
from ..base import DomainAwareMixin
from ..domain import _as_sample_domain

__all__ = ["BaseWeighter"]


def _rows(X: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``X[mask]``, as a view when the rows form one block (as stack_domains lays them out)."""
    index = np.flatnonzero(mask)
    if index.size and index[-1] - index[0] + 1 == index.size:
        return X[index[0] : index[-1] + 1]
    return X[mask]


def _stacked(Xs: np.ndarray, Xt: np.ndarray) -> np.ndarray:
    """``np.vstack([Xs, Xt])``; a view, not a copy, when ``Xt``'s rows follow ``Xs``'s in one buffer.

    That is the case for the ``_rows`` views of ``stack_domains``' layout
    (source rows, then target rows): a domain classifier then trains on the
    caller's array as it is, where a copy of 2 x 2,000 rows x 1,280 float64
    features costs a tenth of the fit.
    """
    adjacent = (Xs.base is not None and Xs.base is Xt.base and Xs.dtype == Xt.dtype
                and Xs.shape[1:] == Xt.shape[1:] and Xs.flags.c_contiguous and Xt.flags.c_contiguous
                and Xs.__array_interface__["data"][0] + Xs.nbytes == Xt.__array_interface__["data"][0])
    if not adjacent:
        return np.vstack([Xs, Xt])
    # Both are C-ordered rows of one allocation and Xt starts where Xs ends: Xs's strides reach them all.
    return np.lib.stride_tricks.as_strided(Xs, shape=(Xs.shape[0] + Xt.shape[0], *Xs.shape[1:]), writeable=False)


class BaseWeighter(OneToOneFeatureMixin, DomainAwareMixin, TransformerMixin, BaseEstimator):
    """Base class of importance weighters: density-ratio estimators.

    A weighter estimates ``w(x) = p_target(x) / p_source(x)`` from source rows
    (``sample_domain > 0``) and target rows (``sample_domain < 0``); labels
    are not used. ``fit`` stores the weights of the training rows in
    ``weights_`` (source rows get their estimated ratio, target rows 0);
    ``compute_weights`` gives them for any rows. ``transform`` returns ``X``
    unchanged, so a weighter is a step of :func:`~sktransfer.make_da_pipeline`,
    which passes its weights to the final estimator as ``sample_weight``.

    Subclasses implement ``_fit(Xs, Xt, rng)``, returning the weights of the
    source rows ``Xs``, and ``_ratio(X)``, the estimate for new rows.
    """

    __metadata_request__transform = {"sample_domain": True}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None):
        """Estimate the density ratio from source and target rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Not used, except to infer the domains from the label mask (``-1``
            or ``NaN``) when ``sample_domain`` is None.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row: > 0 source, < 0 target.

        Returns
        -------
        self : object
            Fitted weighter.
        """
        X = self._validate_rows(X, reset=True).astype(np.float64, copy=False)
        domains = self._check_domains(X, y, sample_domain)
        rng = check_random_state(getattr(self, "random_state", None))
        source_weights = self._check_finite(
            np.asarray(self._fit(_rows(X, domains.source), _rows(X, domains.target), rng), float),
            "importance weights of the source rows",
        )
        if source_weights.size and not np.any(source_weights > 0):
            raise ValueError(
                f"{type(self).__name__}: every importance weight of the source rows came "
                f"out 0, so a model trained with them would see no rows. "
                f"{self._likely_cause()}"
            )
        self.weights_ = np.zeros(X.shape[0])
        self.weights_[domains.source] = source_weights
        self.effective_sample_size_ = effective_sample_size(source_weights)
        return self

    def compute_weights(
        self, X: ArrayLike, sample_domain: ArrayLike | int | None = None
    ) -> np.ndarray:
        """Importance weight of each row: the estimated ``p_target / p_source``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to weigh.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Domain id per row. Target rows (``< 0``) get weight 0, since
            weights are for training on source rows. None weighs every row as
            a source row (the density ratio at each row), which is what a
            weighter is asked for outside a pipeline.

        Returns
        -------
        weights : ndarray of shape (n_samples,)
            Non-negative weights.
        """
        check_is_fitted(self)
        X = self._validate_rows(X, reset=False).astype(np.float64, copy=False)
        weights = np.maximum(self._check_finite(np.asarray(self._ratio(X), float), "weights"), 0.0)
        if sample_domain is not None:
            weights[_as_sample_domain(sample_domain, X.shape[0]) < 0] = 0.0
        return weights

    def transform(self, X: ArrayLike, sample_domain: ArrayLike | int | None = None) -> np.ndarray:
        """Return ``X`` unchanged (validated): a weighter acts through weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Not used; accepted so pipelines can pass it.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The same values.
        """
        check_is_fitted(self)
        return self._validate_rows(X, reset=False)

    def fit_transform(
        self, X: ArrayLike, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None
    ) -> np.ndarray:
        """Fit, then return ``X`` unchanged; the weights are in ``weights_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Used only to infer the domains when ``sample_domain`` is None.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row: > 0 source, < 0 target.

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            The same values.
        """
        return self.fit(X, y, sample_domain=sample_domain).transform(X)

    def _fit(self, Xs: np.ndarray, Xt: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        raise NotImplementedError

    def _ratio(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError
