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


#: glibc's ``mallopt`` parameters: memory freed below the trim threshold stays with the process, and blocks under
#: the mmap threshold come from the heap (``man mallopt``); 32 MiB is the largest mmap threshold glibc allows
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _KEEP_BYTES = -1, -3, 32 * 2**20


def keep_freed_memory() -> bool:
    """Let the process reuse the memory it frees instead of handing it back to the kernel (glibc only).

    An iterative solver allocates its temporaries afresh at each step; by
    default glibc serves every block of 128 KiB or more with a new ``mmap``
    and returns it on ``free``, so each step faults its pages in again. On
    this virtual machine that fault cost swings from run to run: POT's
    Sinkhorn on COIL20 1->2 (720 x 720 plans) took 5.4 to 26 s for the same
    work in one process, whichever library called it, and 5.6 to 6.3 s with
    freed memory kept. Every library runs in the suite's process, so all
    are timed alike. Returns False where glibc's ``mallopt`` is missing.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
