"""The one place where scikit-learn's private names are imported.

scikit-learn's parameter-validation vocabulary and ``_fit_context`` are private;
importing them here only means a rename upstream is fixed in one line.
"""

from __future__ import annotations

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in, _num_samples, validate_data

__all__ = [
    "_check_feature_names_in", "_num_samples",
    "HasMethods", "Hidden", "Interval", "StrOptions", "_fit_context", "validate_data"]
