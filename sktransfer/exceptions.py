"""Warning categories raised by sktransfer, so users can filter them precisely."""

from __future__ import annotations

__all__ = ["SktransferWarning"]


class SktransferWarning(UserWarning):
    """Base class of every warning sktransfer raises."""
