"""DAPipeline: a scikit-learn Pipeline that knows about domains and weights.

In ``fit`` each step gets ``sample_domain`` when its ``fit`` accepts it,
weighters (steps with ``compute_weights``) produce per-row weights, and before
the final estimator the rows whose label is masked are dropped and the weights
passed as ``sample_weight``. Everything after ``fit`` is the ordinary
``Pipeline``, with rows treated as target unless ``sample_domain`` is passed.
"""

from __future__ import annotations

import logging
import time
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sklearn import get_config
from sklearn.base import clone
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import (
    UNUSED,
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, check_memory

from ._compat import _fit_context, _num_samples
from ._labels import _task_of
from ._negative_transfer import flip_rate, warn_if_flipped
from ._pipeline_steps import _fit_transform_step, _is_skipped, _is_weighter
from ._rows import _take, _take_params, labelled_rows_for_score
from ._sample_weights import check_importance_weights, check_sample_weight, warn_if_concentrated
from .base import accepts_sample_domain, accepts_sample_weight
from .domain import Domains, check_domains

__all__ = ["DAPipeline", "make_da_pipeline"]

logger = logging.getLogger(__name__)

_FIT_METHODS = ("fit", "fit_transform", "fit_predict")


def _final_has(attr: str):
    def check(self: DAPipeline) -> bool:
        final = self.steps[-1][1]
        if not _is_skipped(final):
            getattr(final, attr)
        return True

    return check


def _inference_method(method: str, verb: str, returns: str):
    """Build ``DAPipeline.<method>``: transform the rows through the steps, then
    call ``<method>`` of the final estimator (one body for predict & co.)."""

    returns = returns.replace("\n", "\n    ")  # the docstring below is indented one level more
    def inference(self, X: Any, sample_domain: ArrayLike | int | None = None, **params):
        return self._call_final(method, X, sample_domain, params)

    inference.__name__ = method
    inference.__qualname__ = f"DAPipeline.{method}"
    inference.__doc__ = f"""Transform the rows (as target unless told otherwise) and {verb}.

        Parameters
        ----------
        X : iterable
            Rows to process.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Domain of each row; None treats every row as target.
        **params : dict
            Parameters of the final estimator's ``{method}``.

        Returns
        -------
        {returns}
        """
    # Decorate last: available_if copies the name and docstring when applied.
    return available_if(_final_has(method))(inference)


def _inner_estimators(step: Any) -> list:
    """The estimators a step holds inside it (its deep parameters), when it is not itself domain-aware."""
    if _is_skipped(step) or _is_weighter(step) or accepts_sample_domain(step) or not hasattr(step, "get_params"):
        return []
    return [v for v in step.get_params(deep=True).values() if hasattr(v, "fit")]


def _domain_aware_names(estimators: list, weighters_only: bool = False) -> list[str]:
    """Class names of the domain-aware estimators (adapters, weighters) among ``estimators``."""
    from .base import DomainAwareMixin

    return sorted({type(v).__name__ for v in estimators
                   if _is_weighter(v) or (not weighters_only and isinstance(v, DomainAwareMixin))})


def _nested_domain_estimators(step: Any) -> list[str]:
    """Names of the domain-aware estimators (adapters, weighters) a step holds inside it, not being one itself."""
    return _domain_aware_names(_inner_estimators(step))


def _warn_nested_domain_steps(steps: list, routed: bool, method: str) -> None:
    """Warn that a domain-aware estimator inside a step cannot receive ``sample_domain``.

    At fit with metadata routing on, it is routed to them (see
    ``_route_fit_params``); with routing off, or at inference, nothing reaches
    them, and they infer the domains from ``y``'s mask (labelled target rows
    read as source rows) or take new rows as target rows. A weighter's
    weights are lost inside a step whatever the routing.
    """
    for name, step in steps:
        inner = _inner_estimators(step)
        weighters = _domain_aware_names(inner, weighters_only=True)
        if method == "fit" and weighters:
            # routed or not, a weighter's weights leave it through the pipeline that holds it directly
            warnings.warn(f"DAPipeline step {name!r} holds {', '.join(weighters)} inside it: its weights cannot "
                          "reach the final step from there and are lost. Make the weighter a step of this "
                          "pipeline.", UserWarning, stacklevel=4)
        nested = [] if routed else _domain_aware_names(inner)
        if nested:
            how = ("with metadata routing off it cannot reach them, so they infer the domains from y's mask "
                   "(labelled target rows read as source rows, several domains as one); enable routing "
                   "(sklearn.set_config(enable_metadata_routing=True)) or make them steps of the pipeline"
                   if method == "fit" else
                   "it does not reach them at inference, so they take every row as a target row")
            warnings.warn(f"DAPipeline step {name!r} holds {', '.join(nested)} inside it, which take sample_domain; "
                          f"{how}.", UserWarning, stacklevel=4)


class DAPipeline(Pipeline):
    """Pipeline for domain adaptation: routes domains, drops masked rows, passes weights.

    A :class:`sklearn.pipeline.Pipeline` whose ``fit``:

    - passes ``sample_domain`` to every step whose ``fit`` accepts it (the
      adaptation steps of sktransfer); other steps are fitted as usual on all
      rows, source and target;
    - collects per-row weights from weighter steps (steps with a
      ``compute_weights`` method; their output is ``X`` unchanged) and
      multiplies them; a weighter weighs the source rows, and every target
      row keeps weight 1 (it is a draw from the target), so the target rows
      whose label is given train the final step beside the weighted source
      rows;
    - before the final estimator, drops the rows whose label is masked (``-1``
      or ``NaN``) when the final step predicts, and passes the weights as
      ``sample_weight``; a final step that cannot take ``sample_weight``
      raises instead of silently ignoring the weights. A final step whose
      ``fit`` accepts ``sample_domain`` gets every row and the domains.

    ``predict``, ``transform`` and the other methods treat rows as target
    unless ``sample_domain`` is passed; ``score`` ignores masked rows.

    Works in ``GridSearchCV`` and ``cross_validate`` with metadata routing off
    (pass ``sample_domain=`` to their ``fit``, which slices it per fold) and on
    (``sample_domain`` is requested by default).

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As in :class:`~sklearn.pipeline.Pipeline`.
    transform_input : None
        Not supported; present for compatibility with ``Pipeline``.
    memory : str, joblib.Memory or None, default=None
        Caches fitted intermediate steps, as in ``Pipeline``.
    verbose : bool, default=False
        Log the time each step takes (logger ``sktransfer.pipeline``, INFO).
    check_negative_transfer : bool, default=True
        After ``fit``, when the pipeline has feature-adaptation steps and ends
        in a classifier with ``predict_proba``, also fit it without its
        adaptation steps and weighters, and warn
        (:class:`~sktransfer.exceptions.NegativeTransferWarning`) when the
        adaptation changes the class of 35% or more of the target rows that
        the unadapted pipeline predicts with probability >= 0.9 (at least 10
        such rows). It costs one more fit of the other steps; False skips it.

    Attributes
    ----------
    named_steps : Bunch
        The steps, by name.
    flip_rate_ : float or None
        The share of confident unadapted target predictions that the
        adaptation changed in the last ``fit`` (see
        ``check_negative_transfer``); None when not checked or not judgeable.
    sample_weight_ : ndarray of shape (n_rows_for_final,) or None
        Weights passed to the final estimator in the last ``fit``: the
        product of the weighters' weights (1 on target rows) and the final
        step's own ``sample_weight``, None when there were neither.

    See Also
    --------
    make_da_pipeline : Build a DAPipeline with automatic step names.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sktransfer.alignment import CORAL
    >>> from sktransfer.datasets import make_domain_shift
    >>> from sktransfer.pipeline import make_da_pipeline
    >>> X, y, sample_domain = make_domain_shift(n_samples=50, shift="subspace", random_state=0)
    >>> pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    >>> pipe = pipe.fit(X, y, sample_domain=sample_domain)
    >>> pipe.predict(X[sample_domain < 0]).shape
    (50,)
    """

    # fit_transform and fit_predict compose fit with transform / predict, whose
    # requests must agree (scikit-learn < 1.9 refuses otherwise). Meta-estimators
    # never forward sample_domain to score or to the probability methods, so
    # GridSearchCV scores identically with routing on and off.
    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__transform = {"sample_domain": True}
    __metadata_request__predict = {"sample_domain": True}
    __metadata_request__predict_proba = {"sample_domain": False}
    __metadata_request__predict_log_proba = {"sample_domain": False}
    __metadata_request__decision_function = {"sample_domain": False}
    # score's own sample_weight argument only forwards to the final step, which
    # states its request itself (as in Pipeline): the pipeline consumes nothing.
    __metadata_request__score = {"sample_domain": False, "sample_weight": UNUSED}

    def __init__(self, steps, *, transform_input=None, memory=None, verbose=False, check_negative_transfer=True):
        super().__init__(steps, transform_input=transform_input, memory=memory, verbose=verbose)
        self.check_negative_transfer = check_negative_transfer

    def __getitem__(self, ind):
        """A step, or a sub-pipeline (a DAPipeline with this one's settings) for a slice."""
        out = super().__getitem__(ind)
        if isinstance(ind, slice):
            # scikit-learn rebuilds a slice from memory and verbose only: check_negative_transfer=False
            # came back True, and the slice ran the extra unadapted fit the user had turned off
            out.set_params(check_negative_transfer=self.check_negative_transfer)
        return out

    def get_metadata_routing(self):
        """Metadata routing: the steps' requests plus this pipeline's own.

        As ``Pipeline``'s, except that ``sample_domain`` is consumed by the
        pipeline itself, and that a step whose ``transform`` takes
        ``sample_domain`` gets no metadata routed to ``transform`` from
        ``predict``/``score``/``transform``: new rows are target rows unless
        ``sample_domain`` is passed to this pipeline explicitly.

        Returns
        -------
        routing : MetadataRouter
            The routing of this pipeline.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        inference = ("predict", "predict_proba", "predict_log_proba", "decision_function",
                     "transform", "score")
        for name, step in self.steps[:-1]:
            if _is_skipped(step):
                continue
            mapping = MethodMapping()
            for caller in _FIT_METHODS:
                if hasattr(step, "fit_transform"):
                    mapping.add(caller=caller, callee="fit_transform")
                else:
                    mapping.add(caller=caller, callee="fit").add(caller=caller, callee="transform")
            if not accepts_sample_domain(step, "transform"):
                for caller in inference:
                    mapping.add(caller=caller, callee="transform")
            if hasattr(step, "inverse_transform"):
                mapping.add(caller="inverse_transform", callee="inverse_transform")
            router.add(method_mapping=mapping, **{name: step})
        name, final = self.steps[-1]
        if _is_skipped(final):
            return router
        mapping = MethodMapping()
        for method in ("fit", "fit_transform", "fit_predict", "inverse_transform", *inference):
            if hasattr(final, method):
                mapping.add(caller=method, callee=method)
        if not hasattr(final, "fit_transform") and hasattr(final, "transform"):
            mapping.add(caller="fit_transform", callee="fit").add(caller="fit_transform", callee="transform")
        router.add(method_mapping=mapping, **{name: final})
        return router

    # ----------------------------------------------------------------- checks
    def _check_steps(self) -> None:
        if self.transform_input is not None:
            raise ValueError(
                "DAPipeline does not support transform_input; leave it None."
            )
        if not self.steps:
            raise ValueError(
                "DAPipeline needs at least one step; got none. Pass the steps, e.g. "
                "make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())."
            )
        names = [name for name, _ in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"DAPipeline step names must be unique; got {names}.")
        for name, step in self.steps[:-1]:
            if _is_skipped(step):
                continue
            if not hasattr(step, "fit") or not (
                hasattr(step, "transform") or hasattr(step, "fit_transform") or _is_weighter(step)
            ):
                raise TypeError(
                    f"Step {name!r} of DAPipeline must be a transformer (fit and "
                    f"transform) or a weighter (fit and compute_weights), or "
                    f"'passthrough'; got {type(step).__name__}."
                )
        name, final = self.steps[-1]
        if not _is_skipped(final) and not hasattr(final, "fit"):
            raise TypeError(
                f"The last step {name!r} of DAPipeline must have a fit method or be "
                f"'passthrough'; got {type(final).__name__}."
            )

    def _route_fit_params(self, params: dict, sample_domain: ArrayLike | None = None) -> dict[str, Bunch]:
        routing = get_config().get("enable_metadata_routing", False)
        _warn_nested_domain_steps(self.steps, routing, "fit")
        if routing:
            routed = process_routing(self, "fit", **params)
            out = {name: routed[name] for name, step in self.steps if not _is_skipped(step)}
            if sample_domain is not None:
                # A domain-aware estimator nested in a step (a ColumnTransformer, a Pipeline, a
                # FeatureUnion) got nothing and inferred the domains from y's mask, where
                # scikit-learn's Pipeline routes sample_domain to it. Such a step gets it as
                # metadata to route on (the steps that take it themselves get it as an argument).
                for name, step in self.steps:
                    if name in out and _nested_domain_estimators(step):
                        out[name] = Bunch(**{m: {**out[name].get(m, {}), "sample_domain": sample_domain}
                                             for m in _FIT_METHODS})
            return out
        per_step = {
            name: Bunch(**{m: {} for m in _FIT_METHODS})
            for name, step in self.steps
        }
        for key, value in params.items():
            step, sep, param = key.partition("__")
            if not sep or step not in per_step:
                raise ValueError(
                    f"DAPipeline.fit does not accept the {key} parameter. Pass "
                    "parameters of a step as <step name>__<parameter>, e.g. "
                    "logisticregression__sample_weight=w; sample_domain is passed "
                    "as sample_domain=."
                )
            for method in _FIT_METHODS:
                per_step[step][method][param] = value
        return per_step

    # -------------------------------------------------------------------- fit
    def _fit_steps(
        self, X: Any, y: ArrayLike | None, sample_domain: ArrayLike | None, params: dict
    ) -> tuple[Any, Domains | None, np.ndarray | None, dict]:
        """Fit every step but the last; return X for the last step and the weights."""
        self.steps = list(self.steps)
        self._check_steps()
        domains = (
            None
            if y is None and sample_domain is None
            else check_domains(X, y, sample_domain, needs=(), estimator=self)
        )
        # Before a regressor, NaN is the only mask: domains inferred that way go to the
        # steps, which could not tell an integer target's -1 values from the class mask.
        # Otherwise the steps get sample_domain as given (a step that needs it given,
        # such as FeatureAugmentation, still says so).
        regression = domains is not None and domains.inferred and _task_of(self) == "regression"
        step_domains = domains.sample_domain if regression else sample_domain
        routed = self._route_fit_params(params, step_domains)
        memory = check_memory(self.memory)
        fit_step = memory.cache(_fit_transform_step)
        weights = None
        Xt = X
        for idx, (name, step) in enumerate(self.steps[:-1]):
            if _is_skipped(step):
                continue
            start = time.perf_counter()
            if getattr(memory, "location", None) is not None:
                step = clone(step)
            Xt, fitted, step_weights = fit_step(step, Xt, y, step_domains, domains, routed[name])
            self.steps[idx] = (name, fitted)
            if step_weights is not None:
                weights = step_weights if weights is None else weights * step_weights
            if self.verbose:
                logger.info("fitted step %r in %.2fs", name, time.perf_counter() - start)
        return Xt, domains, weights, routed.get(self.steps[-1][0], Bunch(fit={}))

    def _final_fit_args(
        self,
        Xt: Any,
        y: ArrayLike | None,
        sample_domain: ArrayLike | None,
        domains: Domains | None,
        weights: np.ndarray | None,
        params: dict,
        predictor: bool,
    ) -> tuple[Any, Any, dict]:
        """Rows, labels and keyword arguments for the final step's fit.

        ``params`` are the final step's own fit parameters; a ``sample_weight``
        among them multiplies the weighters' weights, and every per-row one
        follows the rows that are kept.
        """
        final_name, final = self.steps[-1]
        params = dict(params)
        n_samples = _num_samples(Xt)
        user_weight = params.pop("sample_weight", None)
        from_weighters = weights is not None
        if user_weight is not None:
            user_weight = check_sample_weight(user_weight, n_samples, "DAPipeline")
            weights = user_weight if weights is None else weights * user_weight
        kwargs: dict = {}
        if accepts_sample_domain(final):
            kwargs["sample_domain"] = sample_domain
        elif predictor and domains is not None and y is not None and not domains.labelled.all():
            keep = domains.labelled
            if not keep.any():
                raise ValueError(
                    "DAPipeline has no labelled rows to train its final step "
                    f"{final_name!r} on: every label in y is masked (-1 or NaN). Pass "
                    "the labels of the source rows."
                )
            rows = np.flatnonzero(keep)
            Xt, y = _take(Xt, rows), np.asarray(y)[keep]
            weights = None if weights is None else weights[keep]
            params = _take_params(params, rows, n_samples)
        if weights is not None:
            if from_weighters and not accepts_sample_weight(final):
                weighters = [n for n, s in self.steps[:-1] if _is_weighter(s)]
                raise TypeError(
                    f"The weighter step(s) {weighters} produce sample weights, but the "
                    f"final step {final_name!r} ({type(final).__name__}) does not accept "
                    "sample_weight in fit, so the weights would be lost. Use an "
                    "estimator that takes sample_weight."
                )
            if from_weighters:
                weights = check_importance_weights(weights, "DAPipeline")
                if "sample_domain" not in kwargs:  # the weights of the training rows only
                    warn_if_concentrated(weights, "DAPipeline")
            kwargs["sample_weight"] = weights
        self.sample_weight_ = weights
        return Xt, y, {**kwargs, **params}

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None, **params):
        """Fit the steps in turn, then the final estimator on the labelled rows.

        Parameters
        ----------
        X : iterable
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Labels, with unknown (target) labels masked: ``-1`` for classes,
            ``NaN`` for regression targets.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row (> 0 source, < 0 target); inferred from the mask
            of ``y`` when None.
        **params : dict
            Routing off: ``<step>__<param>`` parameters of the steps' ``fit``.
            Routing on: metadata routed to the steps that request it.

        Returns
        -------
        self : DAPipeline
            The fitted pipeline.
        """
        Xt, domains, weights, final_params = self._fit_steps(X, y, sample_domain, params)
        final = self.steps[-1][1]
        self.sample_weight_ = None  # no final step, no weights passed (not the last fit's)
        if not _is_skipped(final):
            Xt, yt, kwargs = self._final_fit_args(
                Xt, y, sample_domain, domains, weights, final_params.get("fit", {}),
                predictor=hasattr(final, "predict"),
            )
            final.fit(Xt, yt, **kwargs)
        self.flip_rate_ = None
        if self.check_negative_transfer and domains is not None and y is not None:
            self.flip_rate_ = flip_rate(self, X, y, domains, params)
            warn_if_flipped(self.flip_rate_, self)
        return self

    def _can_fit_transform(self) -> bool:
        final = self.steps[-1][1]
        return _is_skipped(final) or hasattr(final, "transform") or hasattr(final, "fit_transform")

    @available_if(_can_fit_transform)
    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(
        self, X: Any, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None, **params
    ):
        """Fit every step and return the output of the last one for all rows.

        Parameters
        ----------
        X : iterable
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Labels with target labels masked.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row; inferred from the mask of ``y`` when None.
        **params : dict
            As in :meth:`fit`.

        Returns
        -------
        Xt : ndarray of shape (n_samples, n_features_out)
            Every row, transformed by the fitted steps (source rows mapped as
            in training).
        """
        Xt, domains, weights, final_params = self._fit_steps(X, y, sample_domain, params)
        final = self.steps[-1][1]
        self.sample_weight_, self.flip_rate_ = None, None  # this fit's, not an earlier one's
        if _is_skipped(final):
            return Xt
        method = "fit_transform" if hasattr(final, "fit_transform") else "fit"
        Xt, yt, kwargs = self._final_fit_args(
            Xt, y, sample_domain, domains, weights, final_params.get(method, {}), predictor=False
        )
        if method == "fit_transform":
            return final.fit_transform(Xt, yt, **kwargs)
        final.fit(Xt, yt, **kwargs)
        if "sample_domain" in kwargs and domains is not None and accepts_sample_domain(final, "transform"):
            return final.transform(Xt, sample_domain=domains.sample_domain)
        return final.transform(Xt)

    @available_if(_final_has("predict"))
    def fit_predict(
        self, X: Any, y: ArrayLike | None = None, sample_domain: ArrayLike | None = None, **params
    ) -> np.ndarray:
        """Fit as :meth:`fit`, then predict every row of ``X`` as the domain it was fitted as.

        scikit-learn's ``Pipeline.fit_predict`` calls the final step's
        ``fit_predict`` on every row: it would leave out the weighters'
        weights, train the final step on the masked target rows (a
        classifier learning ``-1`` as a class) and refuse ``sample_domain``.
        Here the steps and the final estimator are fitted by :meth:`fit`
        (weights passed, masked rows dropped), and the rows are then
        predicted with their domains (source rows mapped as in training),
        masked ones included.

        Parameters
        ----------
        X : iterable
            Source and target rows, stacked.
        y : array-like of shape (n_samples,), default=None
            Labels with target labels masked.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain id per row; inferred from the mask of ``y`` when None.
        **params : dict
            As in :meth:`fit`.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The fitted pipeline's prediction of every row.
        """
        self.fit(X, y, sample_domain, **params)
        domains = (None if y is None and sample_domain is None
                   else check_domains(X, y, sample_domain, needs=(), estimator=self))
        return self.predict(X, sample_domain=None if domains is None else domains.sample_domain)

    # ------------------------------------------------------------- inference
    def _transform_steps(self, X: Any, sample_domain: ArrayLike | int | None, routed: Any) -> Any:
        Xt = X
        for name, step in self.steps[:-1]:
            if _is_skipped(step) or _is_weighter(step):
                continue
            # A domain-aware step gets no metadata at inference (new rows are target rows).
            kwargs = dict(routed[name].get("transform", {})) if routed is not None else {}
            if sample_domain is not None and accepts_sample_domain(step, "transform"):
                kwargs["sample_domain"] = sample_domain
            Xt = step.transform(Xt, **kwargs)
        return Xt

    def _call_final(self, method: str, X: Any, sample_domain: Any, params: dict, *args: Any) -> Any:
        check_is_fitted(self)
        if sample_domain is not None:
            _warn_nested_domain_steps(self.steps, False, method)
        if get_config().get("enable_metadata_routing", False):
            routed = process_routing(self, method, **params)
            final_params = routed[self.steps[-1][0]][method]
        else:
            routed, final_params = None, params
        Xt = self._transform_steps(X, sample_domain, routed)
        final = self.steps[-1][1]
        if _is_skipped(final):
            return Xt
        if sample_domain is not None and accepts_sample_domain(final, method):
            final_params = {**final_params, "sample_domain": sample_domain}
        return getattr(final, method)(Xt, *args, **final_params)

    predict = _inference_method("predict", "predict", "y_pred : ndarray of shape (n_samples,)\n        Predictions.")
    predict_proba = _inference_method(
        "predict_proba", "predict probabilities",
        "proba : ndarray of shape (n_samples, n_classes)\n        Class probabilities.",
    )
    predict_log_proba = _inference_method(
        "predict_log_proba", "predict log-probabilities",
        "log_proba : ndarray of shape (n_samples, n_classes)\n        Log of the class probabilities.",
    )
    decision_function = _inference_method(
        "decision_function", "apply ``decision_function``",
        "scores : ndarray of shape (n_samples,) or (n_samples, n_classes)\n"
        "        Decision function values.",
    )

    transform = _inference_method(
        "transform", "apply every step's ``transform``",
        "Xt : ndarray of shape (n_samples, n_features_out)\n        Transformed rows.",
    )

    @available_if(_final_has("score"))
    def score(
        self,
        X: Any,
        y: ArrayLike | None = None,
        sample_weight: ArrayLike | None = None,
        sample_domain: ArrayLike | int | None = None,
        **params,
    ) -> float:
        """Score the final estimator on the rows whose label is known.

        Rows whose label is masked (``-1`` or ``NaN``) cannot be scored and are
        left out, so in ``GridSearchCV`` without a domain-adaptation scorer
        the score is the accuracy on the labelled (source) rows of the fold.

        Parameters
        ----------
        X : iterable
            Rows to score.
        y : array-like of shape (n_samples,), default=None
            True labels, masked where unknown.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.
        sample_domain : array-like of shape (n_samples,) or int, default=None
            Domain of each row; None treats every row as target.
        **params : dict
            Parameters of the final estimator's ``score``.

        Returns
        -------
        score : float
            The final estimator's score on the labelled rows.
        """
        args: tuple = ()
        if y is not None:
            X, y, sample_weight, sample_domain = labelled_rows_for_score(
                self, X, y, sample_weight, sample_domain
            )
            args = (y,)
        if sample_weight is not None:
            params = {**params, "sample_weight": sample_weight}
        return self._call_final("score", X, sample_domain, params, *args)


def make_da_pipeline(
    *steps: Any, memory: Any = None, verbose: bool = False, check_negative_transfer: bool = True
) -> DAPipeline:
    """Build a :class:`DAPipeline`, naming the steps after their classes.

    Parameters
    ----------
    *steps : estimators
        The steps, in order. Adaptation steps (CORAL, weighters, ...) and plain
        scikit-learn transformers mix freely; the last is the final estimator.
    memory : str, joblib.Memory or None, default=None
        Caches fitted intermediate steps.
    verbose : bool, default=False
        Log the time each step takes.
    check_negative_transfer : bool, default=True
        Warn when adaptation overrides many confident predictions of the
        unadapted pipeline; see :class:`DAPipeline`.

    Returns
    -------
    pipeline : DAPipeline
        The pipeline, with lower-cased class names as step names.

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from sktransfer.alignment import SubspaceAlignment
    >>> from sktransfer.pipeline import make_da_pipeline
    >>> pipe = make_da_pipeline(SubspaceAlignment(n_components=2), KNeighborsClassifier(1))
    >>> [name for name, _ in pipe.steps]
    ['subspacealignment', 'kneighborsclassifier']
    """
    return DAPipeline(
        make_pipeline(*steps).steps, memory=memory, verbose=verbose,
        check_negative_transfer=check_negative_transfer,
    )
