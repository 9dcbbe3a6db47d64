"""Timing of the suite's fits: one run, or the fastest of a few for fits too short for one run to resolve."""

from __future__ import annotations

import time

#: a fit shorter than this (s) is timed again, up to ``SHORT_FIT_REPEATS`` runs in all, and its fastest run
#: kept: on a shared 2-core machine one run of a 0.05 s fit varies up to 3x (timeit's rule: the minimum is the
#: run least disturbed by the rest of the machine)
SHORT_FIT_S, SHORT_FIT_REPEATS = 0.1, 5


def timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds)``."""
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def timed_fit(fn, *args, **kwargs):
    """``(output of the first run, fit time)``: a short fit is repeated, every library alike, the fastest kept.

    ``fn`` must fit from scratch at each call (a fresh fit of the same
    estimator), so every run does the same work.
    """
    out, best = timed(fn, *args, **kwargs)
    for _ in range(SHORT_FIT_REPEATS - 1):
        if best >= SHORT_FIT_S:
            break
        best = min(best, timed(fn, *args, **kwargs)[1])
    return out, best
