"""A label-free alarm for adaptation that overrides what the source model was sure of.

After a :class:`~sktransfer.pipeline.DAPipeline` with feature-adaptation steps
is fitted, the same pipeline without its adaptation steps (and weighters) is
fitted too, and both predict the target rows of the fit. Among the target rows
that the unadapted model gives a probability of at least ``CONFIDENT``, the
share whose predicted class the adaptation changes is the *flip rate*.

Why this and not the held-out source accuracy: on breast cancer split on the
mean radius, CORAL, subspace alignment and TCA take the target accuracy from
92% to 39-49%, yet the adapted model still classifies held-out source rows,
passed through the map deployed on new rows, at 94-96% (97% unadapted): a
marginal alignment that erases a difference carrying the labels leaves the
source side intact. It does flip 41-91% of the target rows the unadapted
model was sure of. ``benchmarks/negative_transfer.py`` measures the rule on 11
tasks x 3 aligners (logistic regression): at 0.35 it warns on 10 of the 13
fits that lost 5 points or more, and on 4 of the 15 that lost nothing, three
of them USPS -> MNIST on raw pixels, where the unadapted model is confidently
wrong (12% accuracy) and the flips are corrections.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier

from ._rows import _take
from .base import accepts_sample_domain
from .domain import Domains
from .exceptions import NegativeTransferWarning

#: Probability above which the unadapted model counts as sure of a target row.
CONFIDENT = 0.9
#: Share of those rows whose class may change before the pipeline warns.
MAX_FLIP_RATE = 0.35
#: Fewer confident target rows than this are too few to judge.
MIN_CONFIDENT_ROWS = 10


def adaptation_steps(pipeline: Any) -> list[str]:
    """Names of the steps that adapt: domain-aware transformers and weighters."""
    return [
        name
        for name, step in pipeline.steps[:-1]
        if not (step is None or isinstance(step, str))
        and (hasattr(step, "compute_weights") or accepts_sample_domain(step))
    ]


def flip_rate(pipeline: Any, X: Any, y: Any, domains: Domains, params: dict) -> float | None:
    """Share of the unadapted model's confident target predictions that ``pipeline`` changes.

    None when it cannot be judged: no feature-adaptation step, a final step
    that is not a classifier with ``predict_proba``, or fewer than
    ``MIN_CONFIDENT_ROWS`` confident target rows.
    """
    steps = adaptation_steps(pipeline)
    maps = [name for name in steps if accepts_sample_domain(pipeline.named_steps[name])
            and not hasattr(pipeline.named_steps[name], "compute_weights")]
    final = pipeline.steps[-1][1]
    if final is None or isinstance(final, str):  # 'passthrough': nothing predicts
        return None
    if not maps or not is_classifier(final) or not hasattr(final, "predict_proba"):
        return None
    target = np.flatnonzero(domains.target)
    if target.size < MIN_CONFIDENT_ROWS:
        return None
    plain = clone(pipeline).set_params(check_negative_transfer=False, **{name: "passthrough" for name in steps})
    plain.fit(X, y, sample_domain=domains.sample_domain, **params)
    X_target = _take(X, target)
    proba = plain.predict_proba(X_target)
    sure = proba.max(axis=1) >= CONFIDENT
    if sure.sum() < MIN_CONFIDENT_ROWS:
        return None
    before = plain.classes_[np.argmax(proba[sure], axis=1)]
    after = pipeline.predict(_take(X_target, np.flatnonzero(sure)))
    return float(np.mean(after != before))


def warn_if_flipped(rate: float | None, pipeline: Any) -> None:
    """Warn with :class:`~sktransfer.exceptions.NegativeTransferWarning` above ``MAX_FLIP_RATE``."""
    if rate is None or rate < MAX_FLIP_RATE:
        return
    warnings.warn(
        f"DAPipeline: the adaptation step(s) {adaptation_steps(pipeline)} change the class of "
        f"{rate:.0%} of the target rows that the same pipeline without them predicts with "
        f"probability >= {CONFIDENT}. Either the unadapted model is confidently wrong on the "
        "target (a strong shift, which adaptation corrects), or the alignment removed a "
        "difference between the domains that carried the labels (a selection on the features, "
        "or a change of class proportions), which makes the target predictions much worse. "
        "Check a few target labels, or compare both pipelines with a domain-adaptation scorer "
        "before trusting the adapted one. DAPipeline(check_negative_transfer=False) skips this "
        "check; flip_rate_ keeps its value.",
        NegativeTransferWarning,
        stacklevel=4,  # warn_if_flipped <- DAPipeline.fit <- _fit_context <- the caller
    )
