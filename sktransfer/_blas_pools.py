"""scipy's own OpenBLAS thread pool, held to one thread while sktransfer fits.

numpy's and scipy's wheels each bundle an OpenBLAS, each with its own thread
pool, and an idle OpenBLAS thread spins for a while before it sleeps
(scipy/scipy#15050, OpenMathLib/OpenBLAS#5383). Code that alternates numpy
products with scipy routines (L-BFGS-B inside scikit-learn's
LogisticRegression, ARPACK, ``scipy.linalg``) then has each pool's threads
spinning against the other's, which on a 2-core machine cost up to 100 ms a
switch. With scipy's pool on one thread while we fit (numpy's untouched),
``benchmarks/blas_pools.py`` measured, on 2 cores and the first task of
SURF, COIL20 and MNIST-USPS: BBSEWeighter 7.9-11.3x faster, JDOTClassifier
2.0-5.9x, KLIEP 1.8-2.5x, SubspaceAlignment 1.2-1.5x, DiscriminativeWeighter
4.5-9.9x where its domain classifier takes more than a few ms, and no method
slower beyond the run-to-run spread (the largest gap there, JDA-20 on
MNIST-USPS at 0.75, was a tie over 8 alternating rounds: 0.196 against
0.199 s). Where scipy shares numpy's BLAS (conda, MKL, a source build)
there is no second pool and nothing is limited.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["ENABLED", "one_scipy_blas_thread", "scipy_own_blas"]

#: Switch used by ``benchmarks/blas_pools.py`` to measure fits without the limit.
ENABLED = True


def _is_scipy_bundled(path: str) -> bool:
    """Whether ``path`` is a library shipped inside scipy's wheel (``scipy.libs``, ``scipy/.dylibs``...)."""
    parent = os.path.dirname(path)
    name, grandparent = os.path.basename(parent), os.path.basename(os.path.dirname(parent))
    return name == "scipy.libs" or (name in (".dylibs", ".libs") and grandparent == "scipy")


@functools.lru_cache(maxsize=1)
def scipy_own_blas() -> Any:
    """A threadpoolctl controller of the OpenBLAS scipy's wheel bundles beside another BLAS, or None."""
    try:
        import scipy.linalg  # noqa: F401  (loads scipy's BLAS, so the search below sees it)
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
    except Exception:  # no threadpoolctl support on this platform: leave the pools alone
        return None
    blas = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
    own = [lib.filepath for lib in blas if lib.internal_api == "openblas" and _is_scipy_bundled(lib.filepath)]
    if not own or len(own) == len(blas):  # no second pool for it to fight
        return None
    return controller.select(filepath=own)


_lock = threading.Lock()
#: fits inside the limit now (several threads may fit at once), and the limiter that set it
_active = {"depth": 0, "limiter": None}


@contextlib.contextmanager
def one_scipy_blas_thread() -> Iterator[None]:
    """A context in which scipy's own OpenBLAS (if it has one beside numpy's) runs on one thread.

    The thread count is process-wide: the first fit to enter sets it and the
    last to leave restores it, so fits run in parallel threads (joblib's
    threading backend) never leave scipy's pool limited after they end.
    """
    own = scipy_own_blas() if ENABLED else None
    if own is None:
        yield
        return
    with _lock:
        if _active["depth"] == 0:
            _active["limiter"] = own.limit(limits=1)
        _active["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _active["depth"] -= 1
            if _active["depth"] == 0:
                _active["limiter"].restore_original_limits()
                _active["limiter"] = None
