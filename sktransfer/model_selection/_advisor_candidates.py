"""What TransferAdvisor compares by default: the candidates, their final estimator, the scorers."""

from __future__ import annotations

from typing import Any

from ._advisor_rule import BASELINE

__all__ = ["default_candidates", "default_estimator", "default_scorers"]


def default_estimator() -> Any:
    """A logistic regression (the default candidates standardise the features before it)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


def default_candidates(random_state: int | None = None) -> dict:
    """No adaptation, CORAL, subspace alignment, linear TCA, and two weighters; each after a StandardScaler."""
    from sklearn.preprocessing import StandardScaler

    from ..alignment import CORAL, SubspaceAlignment, TransferComponentAnalysis
    from ..reweighting import KMM, DiscriminativeWeighter

    return {
        BASELINE: [StandardScaler()],
        "CORAL": [StandardScaler(), CORAL()],
        "SA": [StandardScaler(), SubspaceAlignment(n_components=20)],
        "TCA": [StandardScaler(), TransferComponentAnalysis(n_components=20, kernel="linear")],
        "DiscriminativeWeighter": [StandardScaler(), DiscriminativeWeighter()],
        "KMM": [StandardScaler(), KMM(random_state=random_state)],
    }


def default_scorers() -> dict:
    """The label-free scorers the advisor reads, plus SupervisedScorer for a few target labels."""
    from ._prediction_scorers import PredictionEntropyScorer
    from ._scorers import ImportanceWeightedScorer, SupervisedScorer
    from ._validation_scorers import CircularValidationScorer

    return {
        "importance weighted": ImportanceWeightedScorer(),
        "reverse validation": CircularValidationScorer(),
        "prediction entropy": PredictionEntropyScorer(),
        "target labels": SupervisedScorer(),
    }
