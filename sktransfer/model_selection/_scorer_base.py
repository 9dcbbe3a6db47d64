"""What every domain-adaptation scorer shares: domains of the fold, predictions, routing."""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import is_regressor
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metadata_routing import MetadataRequest

from .._finite import check_finite_result
from .._labels import _task_of, unlabelled_mask
from .._rows import _take
from .._sample_weights import check_importance_weights
from ..base import accepts_sample_domain
from ..domain import INFERRED_SOURCE, INFERRED_TARGET, Domains, check_domains

__all__ = [
    "DomainScorer",
    "as_target",
    "call_with_domains",
    "default_weighter",
    "fold_domains",
    "fold_rows",
    "fold_weights",
]

#: Why a weighter's weights come out NaN or inf, and what to do about it.
_WEIGHTS_CAUSE = (
    "Kernel weighters give NaN or inf weights when their bandwidth or gamma is far off the scale of "
    "the features (a narrow kernel gives a row zero density, so its ratio is 0/0 or w/0): keep the "
    "default bandwidth or gamma, standardise the features, or use the default DiscriminativeWeighter."
)
#: Why a fitted model's probabilities come out NaN or inf.
_PROBA_CAUSE = (
    "The model has likely diverged on this fold's training rows; an adapter or kernel whose reg, "
    "bandwidth or gamma is far off the scale of the features is the usual cause. Fit it on the "
    "training fold and look at its predictions."
)


def fold_weights(weighter: Any, rows: np.ndarray, owner: str) -> np.ndarray:
    """The fitted ``weighter``'s weights of ``rows``: finite, non-negative and not all 0.

    Importance-weighted scores are undefined otherwise; weighting every row
    alike instead would score the unweighted source loss under the
    weighted score's name.
    """
    w = check_finite_result(
        np.asarray(weighter.weights_, dtype=float)[rows], owner,
        "importance weights of the fold's labelled source rows", f"{type(weighter).__name__}: {_WEIGHTS_CAUSE}",
    )
    if not np.any(w > 0):
        raise ValueError(
            f"{owner}: every importance weight of the fold's {w.size} labelled source rows is 0: "
            f"{type(weighter).__name__} sees no overlap between them and the fold's target rows, so the "
            "weighted score is undefined. Use a smoother weighter (a larger bandwidth or a smaller "
            "gamma, or DiscriminativeWeighter with clip > 0)."
        )
    return check_importance_weights(w, owner)


def _missing_method_error(estimator: Any, method: str) -> TypeError:
    return TypeError(
        f"{type(estimator).__name__} has no {method}; this scorer needs it. Use a classifier "
        "with predict_proba (e.g. LogisticRegression) as the final step, or another scorer."
    )


def call_with_domains(estimator: Any, method: str, X: Any, sample_domain: np.ndarray) -> np.ndarray:
    """``estimator.<method>(X)``, with ``sample_domain`` when the method takes it.

    The scorers pass the domains along whenever the method takes them; pass
    :func:`as_target` domains to apply the model that is deployed on target rows.
    """
    func = getattr(estimator, method, None)
    if func is None:
        raise _missing_method_error(estimator, method)
    if accepts_sample_domain(estimator, method):
        return np.asarray(func(X, sample_domain=sample_domain))
    return np.asarray(func(X))


def as_target(rows: np.ndarray) -> np.ndarray:
    """Target domain ids (-1) for ``rows``: apply the model the way it is applied to target rows.

    The importance-weighting identity ``E_t[l(f(x), y)] = E_s[w(x) l(f(x), y)]``
    holds for one function ``f``. With an adapter that maps each domain its
    own way, the model deployed on target rows is the target-side map followed
    by the classifier, so the weighted source risk must use that same
    function on the source rows (on Office-Caltech SURF this brought the
    importance-weighted pick of subspace alignment from 6.8 to 3.0 points
    from the oracle).
    """
    return np.full(len(rows), -1, dtype=np.int64)


def fold_domains(X: Any, y: ArrayLike | None, sample_domain: ArrayLike | None, owner: str,
                 task: str = "auto") -> Domains:
    """Domains of a validation fold: ``sample_domain``, else inferred from the mask of ``y``.

    ``owner`` (the scorer's name) is named in errors; ``task`` is how the
    scored estimator reads the mask (:func:`~sktransfer._labels._task_of`):
    for a regressor only NaN masks ``y`` and ``-1`` is a target value, as
    in its ``fit``, so a fold whose labelled rows hold ``-1`` is neither
    called ambiguous nor read as masked source rows.

    The inference is :func:`~sktransfer.domain.check_domains`' rule (labelled
    rows are source, masked rows target) without its refusal of labelled rows
    that are all class 1 beside masked ones. That refusal guards a whole
    ``y`` against ``{-1, 1}`` labels; a fold is a subset of the rows, and on a
    skewed source it often holds one class only (breast cancer split on the
    mean radius: 94% of the source rows are benign, and 21 of 23 candidates of
    a ``HalvingGridSearchCV`` scored NaN). The splitters and ``fit`` still
    check the whole ``y``.
    """
    if sample_domain is None and y is not None:
        labelled = ~unlabelled_mask(y, task)
        inferred = np.where(labelled, INFERRED_SOURCE, INFERRED_TARGET).astype(np.int64)
        return replace(check_domains(X, y, inferred, needs=(), estimator=owner, task=task), inferred=True)
    return check_domains(X, y, sample_domain, needs=(), estimator=owner, task=task)


def fold_rows(X: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` (integer indices) of an array, DataFrame or list."""
    return _take(X, rows)


class DomainScorer:
    """Base of the scorers: validates the fold's domains, then scores.

    Called ``scorer(estimator, X, y, sample_domain=None)`` by
    ``GridSearchCV``/``cross_validate`` (``sample_domain`` only arrives with
    metadata routing on; with it off, domains are inferred from the mask of
    ``y``: labelled rows are source, masked rows target). Subclasses set
    ``_needs`` and write ``_score(estimator, X, y, domains, **metadata)``
    returning a number where higher is better. A score that comes out NaN
    or infinite is a ``ValueError`` naming the scorer and the likely cause
    (``_nonfinite_cause``), never a NaN for ``GridSearchCV`` to rank.
    """

    #: What the fold must hold, among "source_labels", "target".
    _needs: tuple[str, ...] = ("target",)
    #: Metadata requested from the caller besides ``sample_domain``.
    _extra_metadata: tuple[str, ...] = ()
    #: Whether the score reads ``predict_proba`` (checked before the fold is read).
    _reads_proba: bool = False
    #: The likely cause of a NaN or infinite score, for the error.
    _nonfinite_cause: str = (
        "The estimator's predictions on the fold are likely NaN or inf (a diverged fit), or the metric "
        "is undefined on the rows it scored (R^2 of fewer than two rows)."
    )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor's parameters, as scikit-learn's ``clone`` reads them.

        Parameters
        ----------
        deep : bool, default=True
            Ignored; scorers hold no nested parameters of their own.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        names = [
            name for name, p in inspect.signature(type(self).__init__).parameters.items()
            if name != "self" and p.kind in kinds
        ]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> DomainScorer:
        """Set constructor parameters.

        Parameters
        ----------
        **params : dict
            New values.

        Returns
        -------
        self : DomainScorer
            The scorer.
        """
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for {type(self).__name__}; valid: {sorted(valid)}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __call__(self, estimator: Any, X: Any, y: ArrayLike | None = None,
                 sample_domain: ArrayLike | None = None, **metadata: Any) -> float:
        """Score a fitted ``estimator`` on a validation fold.

        Parameters
        ----------
        estimator : estimator instance
            Fitted on the training fold.
        X : array-like, DataFrame or list of shape (n_samples, ...)
            Rows of the validation fold, source and target together.
        y : array-like of shape (n_samples,), default=None
            Labels of the fold, masked (``-1`` or ``NaN``) on target rows.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain of each row (> 0 source, < 0 target); inferred from the
            mask of ``y`` when None.
        **metadata : dict
            Extra routed metadata (``target_labels`` for
            :class:`SupervisedScorer`).

        Returns
        -------
        score : float
            Higher is better.
        """
        unknown = set(metadata) - set(self._extra_metadata)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected metadata {sorted(unknown)}.")
        self._check_estimator(estimator)
        domains = self._fold(X, y, sample_domain, estimator)
        score = float(self._score(estimator, X, None if y is None else np.asarray(y), domains, **metadata))
        check_finite_result(score, type(self).__name__, "score on this validation fold", self._nonfinite_cause)
        return score

    def _check_estimator(self, estimator: Any) -> None:
        """Refuse an estimator this score cannot read, before the fold is read.

        The fold's mask is read as the estimator reads it (NaN only for a
        regressor), so a regressor given to a score of classes would
        otherwise hear about its mask first, not about what it lacks.
        """
        if self._reads_proba and not hasattr(estimator, "predict_proba"):
            raise _missing_method_error(estimator, "predict_proba")

    def _fold(self, X: Any, y: ArrayLike | None, sample_domain: ArrayLike | None, estimator: Any) -> Domains:
        """The validation fold's domains, the mask of ``y`` read as ``estimator`` reads it, checked to hold what
        this scorer needs."""
        domains = fold_domains(X, y, sample_domain, type(self).__name__, _task_of(estimator))
        self._check_fold(domains)
        return domains

    def _check_fold(self, domains: Domains) -> None:
        name = type(self).__name__
        how = (
            "domains were inferred from y: labelled rows are source, masked rows target"
            if domains.inferred
            else "from sample_domain"
        )
        if "target" in self._needs and not domains.target.any():
            raise ValueError(
                f"{name} scores target rows, but this validation fold has none ({how}). Split with "
                "sktransfer.model_selection.DomainShuffleSplit(test_rows='all'), which puts target rows "
                "in every validation fold (its default, test_rows='labelled', keeps them for training, "
                "for scikit-learn's scorers), and keep the target labels masked in y (or pass "
                "sample_domain with routing on)."
            )
        if "source_labels" in self._needs and not (domains.source & domains.labelled).any():
            raise ValueError(
                f"{name} needs labelled source rows in the validation fold, but it has none ({how}). "
                "Split with sktransfer.model_selection.DomainShuffleSplit(test_rows='all')."
            )

    def _score(self, estimator: Any, X: Any, y: np.ndarray | None, domains: Domains, **metadata: Any) -> float:
        raise NotImplementedError

    def get_metadata_routing(self) -> MetadataRequest:
        """Request ``sample_domain`` (and the scorer's extra metadata) for scoring.

        With metadata routing on, ``GridSearchCV.fit(X, y, sample_domain=sd)``
        then slices ``sd`` per fold and hands it to the scorer.

        Returns
        -------
        routing : MetadataRequest
            The request.
        """
        request = MetadataRequest(owner=type(self).__name__)
        for param in ("sample_domain", *self._extra_metadata):
            request.score.add_request(param=param, alias=True)
        return request


def default_metric(estimator: Any):
    """Accuracy for classifiers, R^2 for regressors."""
    return r2_score if is_regressor(estimator) else accuracy_score


def default_weighter(cv=None):
    """The scorers' default density-ratio estimator: a standardised logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from ..reweighting import DiscriminativeWeighter

    return DiscriminativeWeighter(make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)), cv=cv)


def target_proba(estimator: Any, X: Any, domains: Domains, owner: str) -> np.ndarray:
    """Predicted class probabilities of the fold's target rows, checked finite."""
    rows = np.flatnonzero(domains.target)
    proba = call_with_domains(estimator, "predict_proba", fold_rows(X, rows), domains.sample_domain[rows])
    what = f"probabilities {type(estimator).__name__} predicted for the target rows"
    return check_finite_result(proba, owner, what, _PROBA_CAUSE)
