"""Datasets with a source and a target domain: synthetic shifts and offline digits."""

from ._digits import load_digits_shift
from ._synthetic import make_domain_shift

__all__ = ["load_digits_shift", "make_domain_shift"]
