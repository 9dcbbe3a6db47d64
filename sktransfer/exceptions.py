"""Warning categories raised by sktransfer, so users can filter them precisely."""

from __future__ import annotations

__all__ = ["DegenerateWeightsWarning", "SktransferWarning"]


class SktransferWarning(UserWarning):
    """Base class of every warning sktransfer raises."""


class DegenerateWeightsWarning(SktransferWarning):
    """Importance weights are valid but concentrated on a few rows.

    Raised when the effective sample size of the weights is a small share of
    the rows they weigh: the fit then rests on a handful of rows.
    """
