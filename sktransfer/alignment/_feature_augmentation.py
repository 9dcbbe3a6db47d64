"""Feature augmentation, "frustratingly easy" domain adaptation (Daumé III, 2007)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils.validation import check_is_fitted

from .._compat import _check_feature_names_in
from ..base import BaseAdapter
from ..domain import Domains

__all__ = ["FeatureAugmentation"]


class FeatureAugmentation(BaseAdapter):
    """Feature augmentation: a shared copy of each feature plus one per domain.

    Each row ``x`` becomes ``[x, x, 0]`` if it is a source row and ``[x, 0, x]``
    if it is a target row. A linear model trained on the augmented rows learns
    shared weights (first block) and domain-specific corrections (second and
    third blocks), so it needs some **labelled target rows** next to the
    source rows: pass ``sample_domain`` and keep the labels of those target
    rows in ``y``.

    The transformer itself learns nothing but the number of features; it is
    the model after it that uses the labelled target rows.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (``n_features_in_``,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    CORAL : Unsupervised alignment, needs no target labels.

    Notes
    -----
    All source domains share the "source" block and all target domains the
    "target" block (the paper's two-domain case); the paper's ``K``-domain
    version would give each domain its own block. New rows passed to
    ``transform`` without ``sample_domain`` are treated as target rows.

    References
    ----------
    .. [1] H. Daumé III, "Frustratingly Easy Domain Adaptation", ACL 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.alignment import FeatureAugmentation
    >>> X = np.array([[1., 2.], [3., 4.], [5., 6.]])
    >>> fa = FeatureAugmentation().fit(X, [0, 1, 1], sample_domain=[1, 1, -1])
    >>> fa.transform(X[2:])
    array([[5., 6., 0., 0., 5., 6.]])
    >>> fa.get_feature_names_out().tolist()
    ['general__x0', 'general__x1', 'source__x0', 'source__x1', 'target__x0', 'target__x1']
    """

    _parameter_constraints: dict = {}
    _domain_needs = ("source", "target", "sample_domain", "target_labels")

    def __init__(self):
        pass

    def _fit(self, X: np.ndarray, y: np.ndarray | None, domains: Domains) -> None:
        pass

    def _transform(self, X: np.ndarray, sample_domain: np.ndarray) -> np.ndarray:
        n, d = X.shape
        out = np.zeros((n, 3 * d), dtype=X.dtype)
        out[:, :d] = X
        source = sample_domain > 0
        out[source, d : 2 * d] = X[source]
        out[~source, 2 * d :] = X[~source]
        return out

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """Names of the augmented features.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input feature names; defaults to ``feature_names_in_`` or
            ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str
            ``general__<name>``, then ``source__<name>``, then ``target__<name>``.
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        return np.asarray(
            [f"{block}__{name}" for block in ("general", "source", "target") for name in names],
            dtype=object,
        )
