"""Test-only helpers to run scikit-learn's estimator checks on DA estimators.

scikit-learn's checks call ``fit(X, y)`` with every row labelled, so a domain
adaptation estimator sees no target rows and (rightly) refuses. The wrapper
gives each row a domain computed from the row's own bytes: the same row always
lands in the same domain, in ``fit``, ``transform``, subsets and permutations,
so the checks test the estimator's real code paths.
"""

from __future__ import annotations

import zlib

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted


def row_domains(X) -> np.ndarray | None:
    """1 or -1 per row from a hash of its values; None when X is not numeric."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.ndim != 2 or arr.shape[0] == 0:
        return None
    sd = np.array(
        [1 if zlib.crc32(np.ascontiguousarray(row).tobytes()) % 2 else -1 for row in arr]
    )
    if arr.shape[0] >= 2 and abs(sd.sum()) == len(sd):
        sd[0] = -sd[0]  # tiny inputs: make sure both domains are present
    return sd


def _inner_has(attr: str):
    def check(self) -> bool:
        getattr(self.estimator, attr)
        return True

    return check


class DomainCheckWrapper(BaseEstimator):
    """Gives a DA estimator row-hash domains so sklearn's checks can run it.

    Every method the wrapped estimator has (transform, predict, predict_proba,
    ...) is exposed with the same row-hash domains; the estimator's tags are
    the wrapper's, so transformers, classifiers and regressors each get their
    own family of checks.
    """

    def __init__(self, estimator=None):
        self.estimator = estimator

    def __sklearn_tags__(self):
        return self.estimator.__sklearn_tags__()

    def fit(self, X, y=None):
        self.estimator_ = clone(self.estimator).fit(X, y, sample_domain=row_domains(X))
        return self

    @available_if(_inner_has("fit_transform"))
    def fit_transform(self, X, y=None):
        self.estimator_ = clone(self.estimator)
        return self.estimator_.fit_transform(X, y, sample_domain=row_domains(X))

    def _call(self, method, X):
        check_is_fitted(self)
        return getattr(self.estimator_, method)(X, sample_domain=row_domains(X))

    @available_if(_inner_has("transform"))
    def transform(self, X):
        return self._call("transform", X)

    @available_if(_inner_has("predict"))
    def predict(self, X):
        return self._call("predict", X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X):
        return self._call("predict_proba", X)

    @available_if(_inner_has("predict_log_proba"))
    def predict_log_proba(self, X):
        return self._call("predict_log_proba", X)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X):
        return self._call("decision_function", X)

    @available_if(_inner_has("score"))
    def score(self, X, y, sample_weight=None):
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    @available_if(_inner_has("set_output"))
    def set_output(self, *, transform=None):
        self.estimator.set_output(transform=transform)  # clone keeps the config
        return self

    @available_if(_inner_has("get_feature_names_out"))
    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return self.estimator_.get_feature_names_out(input_features)

    @property
    def classes_(self):
        return self.estimator_.classes_

    @property
    def n_features_in_(self):
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        return self.estimator_.feature_names_in_
