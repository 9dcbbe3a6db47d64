"""Proxy A-distance: how well a classifier tells target rows from source rows."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

from ._mmd import check_two_samples

__all__ = ["proxy_a_distance"]


def proxy_a_distance(
    Xs: ArrayLike,
    Xt: ArrayLike,
    *,
    estimator=None,
    cv: int | object = 5,
    random_state: int | np.random.RandomState | None = None,
) -> float:
    """Proxy A-distance between two samples (Ben-David et al.).

    A classifier is trained to tell target rows from source rows, and its
    held-out error ``err`` gives ``PAD = 2 (1 - 2 err)``: 0 when the domains
    cannot be told apart (``err = 0.5``), 2 when they are perfectly
    separable. The error is the *class-balanced* error (``1 -`` balanced
    accuracy, the mean of the error on source rows and on target rows) of
    out-of-fold predictions from stratified ``cv``-fold cross-validation, so
    unequal domain sizes do not lower it: predicting the larger domain
    everywhere scores 0.5. An error above 0.5 (a classifier worse than
    chance on held-out rows, which happens by chance when the domains are
    alike) is clipped to 0.5, so the result is in [0, 2].

    Parameters
    ----------
    Xs : array-like of shape (n_source, n_features)
        Source rows.
    Xt : array-like of shape (n_target, n_features)
        Target rows.
    estimator : classifier or None, default=None
        Any scikit-learn classifier, cloned; it sees source rows as class 0
        and target rows as class 1. None uses
        ``make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))``,
        a linear classifier on standardized features, as in the references
        (which use a linear SVM).
    cv : int or cross-validation splitter, default=5
        Number of stratified folds (shuffled with ``random_state``; lowered to
        the size of the smaller domain when it has fewer rows), or a splitter
        such as ``sklearn.model_selection.KFold`` for full control.
    random_state : int, RandomState instance or None, default=None
        Shuffles the rows into folds.

    Returns
    -------
    pad : float
        The proxy A-distance, in [0, 2].

    See Also
    --------
    mmd : A kernel distance between the two samples.

    References
    ----------
    .. [1] S. Ben-David, J. Blitzer, K. Crammer and F. Pereira, "Analysis of
       Representations for Domain Adaptation", NeurIPS 2007.
    .. [2] S. Ben-David, J. Blitzer, K. Crammer, A. Kulesza, F. Pereira and
       J. W. Vaughan, "A theory of learning from different domains", Machine
       Learning 79, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sktransfer.metrics import proxy_a_distance
    >>> rng = np.random.RandomState(0)
    >>> Xs, Xt = rng.normal(size=(200, 2)), rng.normal(loc=5.0, size=(200, 2))
    >>> proxy_a_distance(Xs, Xt, random_state=0) > 1.9
    True
    """
    owner = "proxy_a_distance"
    Xs, Xt = check_two_samples(Xs, Xt, owner)
    if estimator is None:
        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    elif not is_classifier(estimator):
        raise ValueError(
            f"{owner}: estimator must be a scikit-learn classifier (e.g. "
            f"LogisticRegression() or LinearSVC()), got {type(estimator).__name__}."
        )
    if isinstance(cv, Integral):
        if cv < 2:
            raise ValueError(f"{owner}: cv must be at least 2 folds, got {cv}.")
        n_folds = min(int(cv), Xs.shape[0], Xt.shape[0])
        cv = StratifiedKFold(n_folds, shuffle=True, random_state=check_random_state(random_state))
    X = np.vstack([Xs, Xt])
    is_target = np.r_[np.zeros(Xs.shape[0], dtype=int), np.ones(Xt.shape[0], dtype=int)]
    predicted = cross_val_predict(clone(estimator), X, is_target, cv=cv)
    error = 1.0 - balanced_accuracy_score(is_target, predicted)
    return float(2.0 * (1.0 - 2.0 * min(error, 0.5)))
