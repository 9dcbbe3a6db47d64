"""Warning categories raised by sktransfer, so users can filter them precisely."""

from __future__ import annotations

__all__ = ["DegenerateWeightsWarning", "NegativeTransferWarning", "SktransferWarning"]


class SktransferWarning(UserWarning):
    """Base class of every warning sktransfer raises."""


class DegenerateWeightsWarning(SktransferWarning):
    """Importance weights are valid but concentrated on a few rows.

    Raised by :class:`~sktransfer.reweighting.ImportanceWeightedEstimator`
    and :class:`~sktransfer.pipeline.DAPipeline` when Kish's effective
    sample size of the weights, ``(sum w)^2 / sum w^2``, is below 20% of the
    rows they weigh: the fit then rests on a few rows. The threshold is
    measured: over 1,200 fits with KMM, KLIEP, uLSIF, KDE and classifier
    weights (a logistic regression and a ridge on covariate shifts of
    ``make_domain_shift``, a logistic regression on the digits shift),
    compared with the same model unweighted, 21% to 48% of the fits in each
    5%-wide band of the share below 20% lost more than 5 points of accuracy
    (or of R² x 100), and at most 8% in each band above.
    """


class NegativeTransferWarning(SktransferWarning):
    """Adaptation may have made the target predictions worse.

    Raised by :class:`~sktransfer.pipeline.DAPipeline` when its adaptation
    steps change the class of many target rows that the same pipeline without
    them predicts confidently (see ``DAPipeline(check_negative_transfer=...)``).
    """
