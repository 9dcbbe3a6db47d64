"""The evidence TransferAdvisor gathers about one candidate: scores and negative-transfer checks.

Every number here is computed without a target label (except the scores of
:class:`SupervisedScorer`, on target rows that carry one): on a validation
fold of held-out labelled source rows and every target row, for a candidate
fitted on the other source rows and every target row.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import train_test_split

from .._labels import _label_kind, signed_labels
from .._negative_transfer import CONFIDENT, MIN_CONFIDENT_ROWS
from .._rows import _take
from ..base import accepts_sample_domain
from ..pipeline import make_da_pipeline
from ._neighbor_consistency import neighbor_kappa, target_neighbors

__all__ = ["Fold", "adapts", "candidate_steps", "check_maskable", "combine_evidence", "committee_agreement",
           "fit_candidate", "fold_neighbors", "gather_evidence", "holdout_fold", "labelled_cv_correct",
           "masked_copy", "prediction_summary", "risk_rows"]


def check_maskable(y: np.ndarray) -> None:
    """Refuse string class labels: the advisor hides target labels from its candidates with the mask -1.

    numpy writes -1 into an array of strings as a string, cut to the
    array's width (``'-'`` for 1-character labels), which no check can
    tell from a real class, so the candidates would learn the masked rows
    as one more class.
    """
    if _label_kind(np.asarray(y), "classification") == "string":
        raise TypeError(
            "TransferAdvisor hides the labels of target rows from its candidates by masking them "
            "with -1, and string class labels cannot hold that mask (numpy writes it into them as "
            "the string '-1', or '-' for 1-character labels). String labels cannot be masked: encode "
            "the classes as integers first (sklearn.preprocessing.LabelEncoder fitted on the "
            "labelled rows), then mark unlabelled rows with -1."
        )


def masked_copy(y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A copy of the class labels ``y`` with ``rows`` (a boolean mask or indices) masked with -1.

    The copy's dtype must hold -1: boolean labels would store it as True
    and unsigned ones cannot store it, so both are widened to the smallest
    signed integer type that holds them (as :func:`mask_target_labels`
    does); a model trained on them predicts 0 and 1 for False and True,
    which compare equal to the original labels. Rows a float ``y`` already
    masks with NaN are masked with -1 too: NaN beside -1 is an ambiguous
    mask. String labels are refused (:func:`check_maskable`).
    """
    check_maskable(y)
    out = np.array(y, copy=True)
    out = signed_labels(out)
    if out.dtype.kind == "f":
        out[np.isnan(out)] = -1
    out[rows] = -1
    return out


@dataclass(frozen=True)
class Fold:
    """Rows of the advisor's one validation split (integer indices into the fit's rows)."""

    train: np.ndarray  # labelled source rows the candidates learn from, plus every target row
    source_test: np.ndarray  # held-out labelled source rows
    target: np.ndarray  # every target row
    target_labelled: np.ndarray  # target rows (of ``target``) whose label the caller gave
    y_train: np.ndarray = field(repr=False)  # y of ``train``, every target label masked
    sd: np.ndarray = field(repr=False)  # sample_domain of every row


def holdout_fold(y: np.ndarray, domains: Any, test_size: float, rng: Any) -> Fold:
    """The advisor's validation split: a stratified share of the labelled source rows held out, every target row kept."""
    n = len(y)
    source = np.flatnonzero(domains.source & domains.labelled)
    target = np.flatnonzero(domains.target)
    labels = y[source]
    _, counts = np.unique(labels, return_counts=True)
    stratify = labels if counts.min() >= 2 and len(source) * test_size >= len(counts) else None
    if len(source) < 4:
        raise ValueError(
            f"TransferAdvisor holds out {test_size:.0%} of the labelled source rows to score the "
            f"candidates, but there are only {len(source)}: pass more labelled source rows."
        )
    train_source, test_source = train_test_split(
        source, test_size=test_size, stratify=stratify, random_state=rng.randint(2**31 - 1))
    train = np.sort(np.concatenate([train_source, target]))
    y_train = masked_copy(y[train], domains.target[train])  # a few target labels score the candidates; never train
    labelled_target = target[domains.labelled[target]]
    return Fold(train=train, source_test=np.sort(test_source), target=target,
                target_labelled=labelled_target, y_train=y_train, sd=domains.sample_domain[:n])


def candidate_steps(spec: Any) -> list:
    """The adaptation steps of a candidate: None or 'passthrough' is none, a list is kept, one step is a list of one."""
    if spec is None or (isinstance(spec, str) and spec == "passthrough"):
        return []
    if isinstance(spec, (list, tuple)):
        return [clone(step) for step in spec if step is not None and not isinstance(step, str)]
    return [clone(spec)]


def adapts(spec: Any) -> bool:
    """Whether a candidate has an adaptation step: a weighter or a domain-aware transformer."""
    return any(hasattr(step, "compute_weights") or accepts_sample_domain(step) for step in candidate_steps(spec))


def fit_candidate(spec: Any, estimator: Any, X: Any, y: np.ndarray, sd: np.ndarray) -> Any:
    """``make_da_pipeline(*steps, clone(estimator))`` fitted on ``(X, y, sd)``, its own alarm off."""
    pipe = make_da_pipeline(*candidate_steps(spec), clone(estimator), check_negative_transfer=False)
    with warnings.catch_warnings():
        # the advisor reports convergence and weight warnings as evidence, not as noise
        warnings.simplefilter("ignore")
        return pipe.fit(X, y, sample_domain=sd)


#: folds of the labelled cross-validation: the k-th labelled target row of each class is held out in fold
#: k mod LABELLED_CV_FOLDS (3 labelled rows a class: each fold holds one of each out)
LABELLED_CV_FOLDS = 3


def labelled_cv_correct(spec: Any, estimator: Any, X: Any, y: np.ndarray, domains: Any) -> np.ndarray | None:
    """1.0 / 0.0 per target row whose label the caller gave (in row order), each predicted by the candidate
    trained on every row with that row's fold of labelled target rows masked: what the target labels add to
    a candidate, which the held-out source split (where they are masked) cannot show. None with fewer than 2
    such rows, or labels that cannot be masked (not numbers or booleans)."""
    rows = np.flatnonzero(domains.target & domains.labelled)
    if len(rows) < 2 or np.asarray(y).dtype.kind not in "biuf":
        return None
    labels = y[rows]
    fold = np.zeros(len(rows), dtype=int)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        fold[members] = np.arange(len(members)) % LABELLED_CV_FOLDS
    correct = np.zeros(len(rows))
    for k in np.unique(fold):
        held = rows[fold == k]
        y_fold = masked_copy(y, held)
        pipe = fit_candidate(spec, estimator, X, y_fold, domains.sample_domain)
        correct[fold == k] = np.asarray(pipe.predict(_take(X, held))) == y[held]
    return correct


def prediction_summary(pipe: Any, X_target: Any) -> dict:
    """Predicted classes and their probabilities on the target rows (rows treated as target)."""
    proba = pipe.predict_proba(X_target) if hasattr(pipe, "predict_proba") else None
    pred = pipe.classes_[np.argmax(proba, axis=1)] if proba is not None else np.asarray(pipe.predict(X_target))
    return {"pred": pred, "proba": proba, "classes": np.asarray(pipe.classes_)}


def _class_shares(pred: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return np.array([np.mean(pred == c) for c in classes]) if len(pred) else np.zeros(len(classes))


def _flip_rate(baseline: dict, pred: np.ndarray) -> float | None:
    """Share of the baseline's confident target predictions (probability >= CONFIDENT) that ``pred`` changes."""
    if baseline["proba"] is None:
        return None
    sure = baseline["proba"].max(axis=1) >= CONFIDENT
    if sure.sum() < MIN_CONFIDENT_ROWS:
        return None
    return float(np.mean(pred[sure] != baseline["pred"][sure]))


def risk_rows(pipe: Any, X_fold: Any, y_fold: np.ndarray, sd_fold: np.ndarray, X_labelled: Any,
              y_labelled: np.ndarray) -> np.ndarray:
    """Per-row estimates of the deployed model's log loss on the target domain.

    DEV's terms on the validation fold's held-out source rows
    (:meth:`DeepEmbeddedValidationScorer.risk_terms`: importance-weighted
    losses with its control variate), then the plain loss of each target row
    whose label the caller gave (``X_labelled``, ``y_labelled``; may be
    empty). Every candidate gets them on the same rows, in the same order,
    so the rule can compare two candidates row by row.
    """
    from ._scorer_base import as_target
    from ._validation_scorers import DeepEmbeddedValidationScorer, _row_losses

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        terms = DeepEmbeddedValidationScorer().risk_terms(pipe, X_fold, y_fold, sample_domain=sd_fold)
    if len(y_labelled):
        rows = np.arange(len(y_labelled))
        terms = np.concatenate([terms, _row_losses(pipe, X_labelled, y_labelled, as_target(rows))])
    return terms


def fold_neighbors(X: Any, fold: Fold) -> tuple[np.ndarray, np.ndarray] | None:
    """The nearest-neighbour graph of the fold's target rows (:func:`target_neighbors`: the rows in it, positions
    in ``fold.target``, and their neighbours), or None where X is not numeric feature rows."""
    X_target = _take(X, fold.target)
    if not hasattr(X_target, "shape") or len(X_target.shape) != 2 or len(fold.target) < 2:
        return None
    try:
        return target_neighbors(X_target)
    except (TypeError, ValueError):  # not numbers (texts, categories): the rule falls back to DEV
        return None


def gather_evidence(
    pipe: Any, X: Any, y: np.ndarray, fold: Fold, scorers: dict, baseline: dict | None,
    target_labels: np.ndarray | None, neighbors: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Scores and checks of one fitted candidate on the fold (see TransferAdvisor's Notes)."""
    source_pred = np.asarray(pipe.predict(_take(X, fold.source_test)))  # as target rows: the deployed map
    y_source = y[fold.source_test]
    target = prediction_summary(pipe, _take(X, fold.target))
    classes = np.unique(y_source)
    evidence: dict = {
        "source_accuracy": float(np.mean(source_pred == y_source)),
        # the balanced version: a model that predicts the majority source class everywhere is not accurate
        "source_balanced_accuracy": float(np.mean([np.mean(source_pred[y_source == c] == c) for c in classes])),
        "target_class_shares": _class_shares(target["pred"], classes).tolist(),
        "target_confidence": None if target["proba"] is None else float(target["proba"].max(axis=1).mean()),
        "neighbor_consistency": None if neighbors is None else neighbor_kappa(target["pred"][neighbors[0]], neighbors[1]),
        # 1.0 / 0.0 per target row the caller labelled (fold.target is sorted): the labelled check pairs them
        "labelled_correct": (target["pred"][np.searchsorted(fold.target, fold.target_labelled)]
                             == y[fold.target_labelled]).astype(float).tolist() if len(fold.target_labelled) else None,
    }
    rows = np.concatenate([fold.source_test, fold.target])
    X_fold, y_fold, sd_fold = _take(X, rows), np.concatenate([y_source, np.full(len(fold.target), -1)]), fold.sd[rows]
    scores, errors = {}, {}
    for name, scorer in scorers.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if type(scorer).__name__ == "SupervisedScorer":
                    if target_labels is None:
                        continue
                    labels = np.concatenate([np.full(len(fold.source_test), -1), target_labels])
                    scores[name] = float(scorer(pipe, X_fold, y_fold, sample_domain=sd_fold, target_labels=labels))
                else:
                    scores[name] = float(scorer(pipe, X_fold, y_fold, sample_domain=sd_fold))
        except Exception as exc:  # a scorer that cannot judge this candidate is evidence too
            errors[name] = f"{type(exc).__name__}: {exc}"[:300]
    try:
        labelled = fold.target_labelled
        evidence["risk_rows"] = risk_rows(pipe, X_fold, y_fold, sd_fold, _take(X, labelled), y[labelled])
        evidence["dev_risk"] = float(np.mean(evidence["risk_rows"][: len(fold.source_test)]))
    except Exception as exc:  # no density ratio on this representation: the rule cannot weigh the candidate
        evidence["risk_rows"], evidence["dev_risk"] = None, None
        errors["DEV"] = f"{type(exc).__name__}: {exc}"[:300]
    evidence["scores"], evidence["score_errors"] = scores, errors
    if baseline is not None:
        evidence["flip_rate"] = _flip_rate(baseline, target["pred"])
        base_shares = _class_shares(baseline["pred"], classes)
        evidence["class_share_change"] = float(0.5 * np.abs(np.asarray(evidence["target_class_shares"]) - base_shares).sum())
        evidence["agreement_with_baseline"] = float(np.mean(target["pred"] == baseline["pred"]))
    evidence["_target_summary"] = target
    return evidence


def combine_evidence(repeats: list[dict]) -> dict:
    """One candidate's evidence over repeated held-out splits: numbers and scores averaged, DEV's per-row
    terms joined (every candidate has them on the same rows in the same order), score errors merged."""
    first = repeats[0]
    if len(repeats) == 1:
        return first
    out: dict = {}
    for key, value in first.items():
        values = [rep.get(key) for rep in repeats]
        if key == "risk_rows":
            out[key] = None if any(v is None for v in values) else np.concatenate(values)
        elif key == "scores":
            names = set.intersection(*(set(v) for v in values))
            out[key] = {name: float(np.mean([v[name] for v in values])) for name in first["scores"] if name in names}
        elif key == "score_errors":
            out[key] = {name: error for v in values for name, error in v.items()}
        elif any(v is None for v in values):
            out[key] = None
        elif isinstance(value, list):
            out[key] = np.mean(values, axis=0).tolist()
        else:
            out[key] = float(np.mean(values))
    if out.get("risk_rows") is not None:
        out["dev_risk"] = float(np.mean([rep["dev_risk"] for rep in repeats]))
    return out


def committee_agreement(summaries: dict) -> dict:
    """``{name: share of target rows where it predicts the committee's class}``, the committee being every candidate.

    The committee's class of a row is that of highest mean probability over
    the candidates (a candidate without ``predict_proba`` votes with a one-hot
    row), as :class:`EnsembleAgreementScorer` over the candidates themselves.
    """
    classes = next(iter(summaries.values()))["classes"]
    votes = []
    for summary in summaries.values():
        proba = summary["proba"]
        if proba is None:
            proba = (summary["pred"][:, None] == classes[None, :]).astype(float)
        votes.append(proba)
    committee = classes[np.argmax(np.mean(votes, axis=0), axis=1)]
    return {name: float(np.mean(summary["pred"] == committee)) for name, summary in summaries.items()}
