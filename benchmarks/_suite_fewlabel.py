"""The suite's few-labels protocol: the methods that need some labelled target rows.

Protocol (semi-supervised domain adaptation, Saenko et al. 2010's 3 labelled
target rows per class): every source row labelled; ``labelled_per_class``
target rows per class drawn at random (seeds 0, 1, ...; a class with fewer
rows gives all but one), the other target rows scored. Where a dataset has a
held-out target test set (Amazon), the labelled rows are drawn from the
target rows seen during adaptation and the test rows are scored. Every method
uses the same base learner, a logistic regression whose C is chosen once per
task by 2-fold stratified CV on the source rows alone, so the methods differ
only in how they use the target labels:

- Target only: the logistic regression on the labelled target rows.
- Source only: on the source rows (no target label used).
- Source + target: on both, pooled.
- FeatureAugmentation: Daume III's (source, target, shared) copies, then it.
- TrAdaBoost: 10 boosting rounds of it (Dai et al. 2007), with the paper's
  0/1 loss and with ``loss="probability"`` (1 - p(true class), the loss of
  ADAPT's TrAdaBoost, whose column sits on that row).
- RegularTransfer: logistic loss on the target rows plus
  ``alpha ||theta - theta_source||^2`` at our default alpha (0.1), from the
  source model.
- PretrainFineTune: an SGD logistic regression (alpha = 1 / (C n_source))
  fitted on the source rows, then 10 epochs of ``partial_fit`` on the
  labelled target rows.

ADAPT, when importable, runs its FA, TrAdaBoost and RegularTransferLC with the
same base learner and draws. Its RegularTransferLC is least squares on +-1
targets at its default ``lambda_`` = 1, not the logistic loss: the same idea,
another loss, so each library runs its own default strength.
"""

from __future__ import annotations

import numpy as np

from benchmarks._timing import timed_fit

__all__ = ["FEW", "METHODS", "choose_C", "few_labelled", "run_fewlabel_task"]

FEW = {
    "labelled_per_class": 3,
    "n_estimators": 10,
    "C_grid": [1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3],
    "cv_folds": 2,
    #: ADAPT's RegularTransferLC default strength (ours runs its own default, alpha = 0.1)
    "adapt_lambda": 1.0,
    "n_finetune_iter": 10,
}
METHODS = (
    "Target only (LR)",
    "Source only (LR)",
    "Source + target (LR)",
    "FeatureAugmentation (LR)",
    "TrAdaBoost (LR)",
    "TrAdaBoost, loss='probability' (LR)",
    "RegularTransfer (LR)",
    "PretrainFineTune (SGD)",
)


def few_labelled(yt, seed: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of ``k`` labelled target rows per class (fewer where a class is
    small, always leaving one row to score), and of every other row."""
    yt = np.asarray(yt)
    rng = np.random.RandomState(seed)
    few = []
    for c in np.unique(yt):
        rows = np.flatnonzero(yt == c)
        if len(rows) >= 2:
            few.append(rng.choice(rows, min(k, len(rows) - 1), replace=False))
    few = np.sort(np.concatenate(few)) if few else np.array([], dtype=int)
    return few, np.setdiff1d(np.arange(len(yt)), few)


def choose_C(Xs, ys) -> float:
    """C of the logistic regression, by stratified 2-fold CV on the source rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    cv = StratifiedKFold(FEW["cv_folds"], shuffle=True, random_state=0)
    search = GridSearchCV(LogisticRegression(max_iter=1000), {"C": FEW["C_grid"]}, cv=cv).fit(Xs, ys)
    return float(search.best_params_["C"])


def _ours(C: float, n_source: int, seed: int) -> dict:
    """label -> (fit(Xs, ys, Xl, yl) -> model, how the model predicts target rows)."""
    from sklearn.linear_model import LogisticRegression, SGDClassifier

    from sktransfer import stack_domains
    from sktransfer.alignment import FeatureAugmentation
    from sktransfer.boosting import TrAdaBoostClassifier
    from sktransfer.parameter import PretrainFineTune, RegularTransferClassifier
    from sktransfer.pipeline import make_da_pipeline

    def lr():
        return LogisticRegression(C=C, max_iter=1000)

    def domain_fit(model):
        def fit(Xs, ys, Xl, yl):
            X, y, sd = stack_domains(source=(Xs, ys), target=(Xl, yl))
            return model.fit(X, y, sample_domain=sd)

        return fit

    sgd = SGDClassifier(loss="log_loss", alpha=1.0 / (C * n_source), random_state=seed)
    return {
        "Target only (LR)": lambda Xs, ys, Xl, yl: lr().fit(Xl, yl),
        "Source only (LR)": lambda Xs, ys, Xl, yl: lr().fit(Xs, ys),
        "Source + target (LR)": lambda Xs, ys, Xl, yl: lr().fit(np.vstack([Xs, Xl]), np.r_[ys, yl]),
        "FeatureAugmentation (LR)": domain_fit(make_da_pipeline(FeatureAugmentation(), lr())),
        "TrAdaBoost (LR)": domain_fit(TrAdaBoostClassifier(lr(), n_estimators=FEW["n_estimators"], random_state=seed)),
        "TrAdaBoost, loss='probability' (LR)": domain_fit(
            TrAdaBoostClassifier(lr(), n_estimators=FEW["n_estimators"], loss="probability", random_state=seed)
        ),
        "RegularTransfer (LR)": domain_fit(RegularTransferClassifier(source_estimator=lr())),
        "PretrainFineTune (SGD)": domain_fit(
            PretrainFineTune(sgd, n_finetune_iter=FEW["n_finetune_iter"], random_state=seed)
        ),
    }


class _TargetSide:
    """An ADAPT model whose ``predict`` is told the rows are target rows."""

    def __init__(self, model):
        self.model = model

    def predict(self, X):
        return self.model.predict(X, domain="tgt")


def _adapt(C: float, n_source: int, seed: int) -> dict:
    from adapt.feature_based import FA
    from adapt.instance_based import TrAdaBoost
    from adapt.parameter_based import RegularTransferLC
    from sklearn.linear_model import LogisticRegression

    def lr():
        return LogisticRegression(C=C, max_iter=1000)

    common = {"verbose": 0, "random_state": seed}
    return {
        "FeatureAugmentation (LR)": lambda Xs, ys, Xl, yl: _TargetSide(
            FA(lr(), Xt=Xl, yt=yl, **common).fit(Xs, ys)
        ),
        "TrAdaBoost, loss='probability' (LR)": lambda Xs, ys, Xl, yl: TrAdaBoost(
            lr(), n_estimators=FEW["n_estimators"], Xt=Xl, yt=yl, **common
        ).fit(Xs, ys),
        "RegularTransfer (LR)": lambda Xs, ys, Xl, yl: RegularTransferLC(
            lr().fit(Xs, ys), lambda_=FEW["adapt_lambda"], **common
        ).fit(Xl, yl),
    }


def run_fewlabel_task(Xs, ys, Xt, yt, impl: str, seeds: int, methods=None, Xtest=None, ytest=None) -> dict:
    """Mean target accuracy (%) and fit time of each few-label method over ``seeds`` draws.

    The labelled rows are drawn from ``(Xt, yt)``; the rows scored are the
    others, or ``(Xtest, ytest)`` when given. A method that raises gives
    ``{"error": ...}``.
    """
    C = choose_C(Xs, ys)
    runs: dict = {}
    errors: dict = {}
    for seed in range(seeds):
        few, rest = few_labelled(yt, seed, FEW["labelled_per_class"])
        Xe, ye = (Xtest, ytest) if Xtest is not None else (Xt[rest], yt[rest])
        fits = (_ours if impl == "ours" else _adapt)(C, len(Xs), seed)
        for label, fit in fits.items():
            if (methods is not None and label not in methods) or label in errors:
                continue
            try:
                model, fit_s = timed_fit(fit, Xs, ys, Xt[few], yt[few])
                acc = 100 * float(np.mean(model.predict(Xe) == ye))
            except Exception as exc:  # a method failing on a task is a result, not a crash
                errors[label] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                continue
            runs.setdefault(label, []).append((acc, fit_s))
    out = {label: {"acc": float(np.mean([a for a, _ in r])), "fit_s": float(np.mean([f for _, f in r]))}
           for label, r in runs.items()}
    return {**out, **errors}
