"""Datasets with a source and a target domain: synthetic shifts, offline digits, benchmark downloads."""

from ._amazon_reviews import fetch_amazon_reviews
from ._coil20 import fetch_coil20
from ._digits import load_digits_shift
from ._mnist_usps import fetch_mnist_usps
from ._office31 import fetch_office31
from ._office_caltech import fetch_office_caltech
from ._synthetic import make_domain_shift

__all__ = [
    "fetch_amazon_reviews",
    "fetch_coil20",
    "fetch_mnist_usps",
    "fetch_office31",
    "fetch_office_caltech",
    "load_digits_shift",
    "make_domain_shift",
]
