"""A scorer that ranks fitted feature extractors (or source classifiers) by transferability."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._finite import check_finite_result
from .._labels import _check_not_mask_lookalike, unlabelled_mask
from .._rows import _take
from ..metrics import hscore, leep_score, logme_score, nce_score

__all__ = ["TransferabilityScorer"]

_FEATURE_METRICS = ("logme", "hscore")
_PROBA_METRICS = ("leep", "nce")


class TransferabilityScorer:
    """Score a fitted transformer by the transferability of its features to ``y``.

    Called ``scorer(estimator, X, y)``, as ``GridSearchCV`` and
    ``cross_validate`` call a scorer, it scores ``estimator.transform(X)``
    with :func:`~sktransfer.metrics.logme_score` or
    :func:`~sktransfer.metrics.hscore`, or the source model's
    ``estimator.predict_proba(X)`` with :func:`~sktransfer.metrics.leep_score`
    or :func:`~sktransfer.metrics.nce_score`, against the labels ``y`` of
    the fold. Higher is better. No head is trained, so ranking backbones,
    layers or preprocessing costs one forward pass per candidate.

    A transformer alone can be the estimator of ``GridSearchCV``: with a
    callable ``scoring`` it never calls ``estimator.score``, e.g.
    ``GridSearchCV(ImageFeatureExtractor(), {"backbone": [...], "layer":
    [...]}, scoring=TransferabilityScorer("logme"),
    cv=StratifiedKFold(5, shuffle=True, random_state=0))``. Pass such a
    ``cv``: a transformer is no classifier, so ``cv=5`` is a ``KFold`` in
    row order, and on rows sorted by class (images read folder by folder)
    each fold holds one or a few classes. A fold of one class is an error;
    a few classes would score a different task in every fold.

    Parameters
    ----------
    metric : {"logme", "hscore", "leep", "nce"}, default="logme"
        The transferability metric. "logme" and "hscore" score the features
        of ``estimator.transform``; "leep" and "nce" score the class
        probabilities of ``estimator.predict_proba`` (a source classifier,
        whose ``fit`` should not learn the target labels).
    regression : bool, default=False
        ``y`` holds continuous targets (only with ``metric="logme"``).
    shrinkage : None, "auto" or float in [0, 1], default=None
        Shrinkage of the H-score (only with ``metric="hscore"``), see
        :func:`~sktransfer.metrics.hscore`.

    See Also
    --------
    sktransfer.metrics.logme_score : LogME of features.
    sktransfer.metrics.hscore : H-score of features, with optional shrinkage.
    sktransfer.metrics.leep_score : LEEP of a source classifier.
    sktransfer.metrics.nce_score : NCE of a source classifier.

    Notes
    -----
    Rows whose label is masked as unlabelled (``-1`` for classes, ``NaN``
    for regression targets; with several targets, a row with any ``NaN``)
    are left out: only the labelled rows go through the estimator. The
    scores of different folds are on the same scale (LogME is divided by
    the number of rows), so ``GridSearchCV`` can average them.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.model_selection import GridSearchCV, StratifiedKFold
    >>> from sktransfer.model_selection import TransferabilityScorer
    >>> X, y = load_digits(return_X_y=True)
    >>> search = GridSearchCV(
    ...     PCA(random_state=0), {"n_components": [2, 32]}, scoring=TransferabilityScorer("logme"),
    ...     cv=StratifiedKFold(5, shuffle=True, random_state=0),
    ... ).fit(X, y)
    >>> search.best_params_
    {'n_components': 32}
    """

    def __init__(self, metric: str = "logme", *, regression: bool = False,
                 shrinkage: float | str | None = None):
        metrics = (*_FEATURE_METRICS, *_PROBA_METRICS)
        if metric not in metrics:
            raise ValueError(f"metric must be one of {sorted(metrics)}, got {metric!r}.")
        if regression and metric != "logme":
            raise ValueError(f"regression=True needs metric='logme'; {metric!r} scores class labels.")
        if shrinkage is not None and metric != "hscore":
            raise ValueError(f"shrinkage applies to metric='hscore' only, not {metric!r}.")
        self.metric = metric
        self.regression = regression
        self.shrinkage = shrinkage

    def __repr__(self) -> str:
        args = [repr(self.metric)]
        if self.regression:
            args.append("regression=True")
        if self.shrinkage is not None:
            args.append(f"shrinkage={self.shrinkage!r}")
        return f"{type(self).__name__}({', '.join(args)})"

    def __call__(self, estimator: Any, X: Any, y: ArrayLike | None = None, **kwargs: Any) -> float:
        """Score a fitted ``estimator`` on the labelled rows of ``X``.

        Parameters
        ----------
        estimator : estimator instance
            Fitted transformer (``metric`` "logme" or "hscore"), or fitted
            classifier with ``predict_proba`` ("leep" or "nce").
        X : array-like, DataFrame or list of shape (n_samples, ...)
            Rows of the validation fold, anything ``estimator`` accepts.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Labels of the rows, masked (``-1`` or ``NaN``) where unknown.
        **kwargs : dict
            Ignored (e.g. ``sample_domain`` routed by ``GridSearchCV``).

        Returns
        -------
        score : float
            The metric on the labelled rows; higher is better.
        """
        name = type(self).__name__
        if y is None:
            raise ValueError(f"{name} needs the labels y of the rows to score.")
        y = np.asarray(y)
        if self.regression:
            masked = np.isnan(y.astype(np.float64).reshape(len(y), -1)).any(axis=1)
        else:
            masked = unlabelled_mask(y)
            _check_not_mask_lookalike(y, ~masked)
        if masked.all():
            raise ValueError(
                f"{name} needs labelled rows, but every label in y is masked (-1 or NaN). "
                "Score on rows with their true labels."
            )
        if masked.any():
            rows = np.flatnonzero(~masked)
            X, y = _take(X, rows), y[rows]
        classes = np.unique(y).tolist()
        if not self.regression and len(classes) < 2:
            raise ValueError(
                f"{name}({self.metric!r}) needs at least two classes among the labelled rows of the "
                f"fold, but they all hold class {classes[0]!r}. GridSearchCV and cross_val_score "
                "split a transformer's rows with KFold in order (it is no classifier, so cv=int "
                "neither stratifies nor shuffles), and rows sorted by class make folds of one "
                "class: pass cv=StratifiedKFold(n_splits=5, shuffle=True, random_state=0)."
            )
        if self.metric in _FEATURE_METRICS:
            if not hasattr(estimator, "transform"):
                raise TypeError(
                    f"{name}({self.metric!r}) scores features, but {type(estimator).__name__} has no "
                    "transform. Pass a fitted transformer (a feature extractor or a Pipeline of them)."
                )
            features = check_finite_result(
                estimator.transform(X), name, f"features {type(estimator).__name__} computed",
                "The transformer is degenerate on these rows (a layer whose activations overflow, or "
                "an adapter with too small a reg): check its output before ranking it.",
            )
            if self.metric == "logme":
                score = logme_score(features, y, regression=self.regression)
            else:
                score = hscore(features, y, shrinkage=self.shrinkage)
        else:
            if not hasattr(estimator, "predict_proba"):
                raise TypeError(
                    f"{name}({self.metric!r}) scores a source classifier's predicted probabilities, but "
                    f"{type(estimator).__name__} has no predict_proba. Score feature extractors with "
                    "metric='logme' or metric='hscore'."
                )
            proba = check_finite_result(
                estimator.predict_proba(X), name, f"probabilities {type(estimator).__name__} predicted",
                "The source classifier has likely diverged: check its fit.",
            )
            score = leep_score(proba, y) if self.metric == "leep" else nce_score(proba, y)
        return float(check_finite_result(
            score, name, f"{self.metric} score of this fold",
            "The features are likely degenerate for this metric (nearly constant, or far larger than "
            "1 in scale): standardise them, or try metric='hscore' with shrinkage='auto'.",
        ))
