"""The one place where scikit-learn's private names are imported.

scikit-learn's parameter-validation vocabulary and ``_fit_context`` are private;
importing them here only means a rename upstream is fixed in one line.
"""

from __future__ import annotations

import functools

from sklearn.base import _fit_context as _sklearn_fit_context
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, _num_samples, validate_data

from ._blas_pools import one_scipy_blas_thread

__all__ = [
    "_check_feature_names_in", "_num_samples",
    "HasMethods", "Hidden", "Interval", "StrOptions", "_fit_context", "validate_data"]


def _fit_context(*, prefer_skip_nested_validation: bool):
    """scikit-learn's ``_fit_context`` (parameter validation), and the fit runs with scipy's own
    OpenBLAS on one thread (``_blas_pools``: its pool otherwise spins against numpy's)."""
    validated_fit = _sklearn_fit_context(prefer_skip_nested_validation=prefer_skip_nested_validation)

    def decorator(fit_method):
        validated = validated_fit(fit_method)

        @functools.wraps(fit_method)
        def wrapper(*args, **kwargs):
            with one_scipy_blas_thread():
                return validated(*args, **kwargs)

        return wrapper

    return decorator
