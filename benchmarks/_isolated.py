"""Fit-time and peak-memory runs, one child process per run.

Each run is a fresh interpreter (so its peak RSS is its own) under a memory cap
(``RLIMIT_AS``) and a wall-clock timeout. The child prints one JSON line; the
parent turns crashes, memory errors and timeouts into a status string.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def synthetic_domains(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` rows, half source ``N(0, I)``, half target ``N(0.5, 1.3^2 I)``."""
    rng = np.random.RandomState(seed)
    half = n // 2
    X = rng.normal(size=(n, d))
    X[half:] = X[half:] * 1.3 + 0.5
    sd = np.r_[np.ones(half, int), -np.ones(n - half, int)]
    return X, sd


def synthetic_classes(n: int, d: int, n_classes: int = 10, seed: int = 0):
    """``n`` rows of ``n_classes`` Gaussian classes, half source and half a shifted target.

    Class means are drawn once (0.25 per feature, so that 1-NN confuses some
    classes); the target rows are scaled by 1.3 and moved by 0.5.
    Returns ``X, y, sample_domain`` with the target labels masked (-1), and the
    target's true labels.
    """
    rng = np.random.RandomState(seed)
    half = n // 2
    means = rng.normal(scale=0.25, size=(n_classes, d))
    labels = rng.randint(n_classes, size=n)
    X = means[labels] + rng.normal(size=(n, d))
    X[half:] = X[half:] * 1.3 + 0.5
    y = labels.copy()
    y[half:] = -1
    sd = np.r_[np.ones(half, int), -np.ones(n - half, int)]
    return X, y, sd, labels[half:]


def report_fit(fit, extra: dict | None = None) -> None:
    """Child side: time ``fit()`` and print fit time and peak RSS as one JSON line."""
    base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    result = fit()
    fit_s = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    more = extra(result) if callable(extra) else (extra or {})
    print(json.dumps({
        "fit_s": fit_s, "peak_rss_mb": peak_kb / 1024, "data_rss_mb": base_kb / 1024, **more,
    }, default=str))


def run_child(cmd: list[str], timeout: float, memory_limit_gb: float) -> dict[str, Any]:
    """Parent side: run one child, return its JSON plus ``status`` and ``wall_s``."""
    limit = int(memory_limit_gb * 2**30)

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout,
            preexec_fn=cap_memory, cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timeout (> {timeout:g} s)", "wall_s": time.perf_counter() - start}
    wall = time.perf_counter() - start
    if proc.returncode == 0:
        return {"status": "ok", "wall_s": wall, **json.loads(proc.stdout.strip().splitlines()[-1])}
    err = proc.stderr.strip().splitlines() or ["(no message)"]
    if any(s in proc.stderr for s in ("MemoryError", "Unable to allocate", "bad_alloc", "OOM")):
        status = f"out of memory (> {memory_limit_gb:g} GB cap)"
    else:
        status = "failed: " + err[-1][:120]
    return {"status": status, "wall_s": wall}


def python_cmd(module: str, *args: str, python: str | None = None) -> list[str]:
    """``python -m module args...`` with this interpreter or another one."""
    return [python or sys.executable, "-m", module, *map(str, args)]


def add_child_arguments(parser, timeout: float) -> None:
    """The options every isolated-fit benchmark takes: row width, and each child's time and memory caps."""
    parser.add_argument("--features", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=timeout, help="seconds a child may run")
    parser.add_argument("--memory-limit-gb", type=float, default=8.0, help="address-space cap of a child")


def run_if_child(spec, one_run) -> bool:
    """In a child process (``spec`` is its hidden ``NAME N D`` option), run ``one_run(NAME, N, D)``.

    Returns whether it ran, so that ``main`` can return at once.
    """
    if not spec:
        return False
    name, n, d = spec
    one_run(name, int(n), int(d))
    return True
