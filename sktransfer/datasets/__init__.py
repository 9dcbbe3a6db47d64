"""Datasets with a source and a target domain: synthetic shifts, offline digits, Office-Caltech10."""

from ._digits import load_digits_shift
from ._office_caltech import fetch_office_caltech
from ._synthetic import make_domain_shift

__all__ = ["fetch_office_caltech", "load_digits_shift", "make_domain_shift"]
