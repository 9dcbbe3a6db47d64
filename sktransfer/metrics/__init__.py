"""Shift diagnostics and transferability metrics.

Shift diagnostics measure how far apart source and target rows are
(:func:`mmd`, :func:`mmd_test`, :func:`proxy_a_distance`,
:func:`domain_shift_report`); transferability metrics rank pretrained features
or source models for a labelled target task without training a head
(:func:`logme_score`, :func:`leep_score`, :func:`nce_score`, :func:`hscore`).
"""

from ._mmd import MMDTestResult, mmd, mmd_test
from ._proxy_a_distance import proxy_a_distance
from ._shift_report import DomainShiftReport, domain_shift_report
from ._transferability import hscore, leep_score, logme_score, nce_score

__all__ = [
    "DomainShiftReport",
    "MMDTestResult",
    "domain_shift_report",
    "hscore",
    "leep_score",
    "logme_score",
    "mmd",
    "mmd_test",
    "nce_score",
    "proxy_a_distance",
]
