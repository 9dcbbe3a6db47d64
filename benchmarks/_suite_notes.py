"""Hand-written notes of BENCHMARKS.md: why we are where we are, per dataset.

Written after reading the numbers of the last full run; the "Where we are
below" lists above each note are generated, so a regression shows there even
when a note is stale.
"""

NOTES: dict[str, str] = {}
