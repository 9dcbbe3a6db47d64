"""Benchmark view of the Office-Caltech10 SURF loader.

The implementation (files, sha256, domain aliases, preprocessing, label shift)
is ``sktransfer.datasets._office_caltech``, behind ``fetch_office_caltech``;
this module keeps the names the benchmarks import, plus the benchmark's task
list and published reference accuracies (PUBLISHED.md table (A)). It never
downloads: a missing file is an error.

``data_home`` is the folder that contains ``office_caltech10_surf/`` (or that
folder itself); labels are 0..9; preprocessing, computed per domain, is one of
``PREPROCESSINGS``: ``"none"``, ``"l1"``, ``"l2"``, ``"zscore"`` (the standard
protocol, under which a 1-NN reproduces MEDA's "1NN" column exactly) and
``"zscore_l2"``.
"""

from __future__ import annotations

import os
from pathlib import Path

from sktransfer.datasets._office_caltech import (
    DOMAINS,
    SURF_SHA256,
    _domain_code,
    _load_domain,
    _preprocess,
)
from sktransfer.datasets._office_caltech import SURF_PREPROCESSINGS as PREPROCESSINGS

__all__ = [
    "DOMAINS",
    "TASKS",
    "PREPROCESSINGS",
    "PUBLISHED_1NN",
    "PUBLISHED_SVM",
    "SURF_SHA256",
    "load_surf_domain",
    "load_surf_task",
    "preprocess_surf",
    "task_name",
]

SUBDIR = "office_caltech10_surf"

#: The 12 (source, target) tasks, in the row order of PUBLISHED.md table (A).
TASKS = (
    ("C", "A"), ("C", "W"), ("C", "D"),
    ("A", "C"), ("A", "W"), ("A", "D"),
    ("W", "C"), ("W", "A"), ("W", "D"),
    ("D", "C"), ("D", "A"), ("D", "W"),
)

#: Published no-adaptation accuracies (%), PUBLISHED.md table (A) (MEDA, ACM MM
#: 2018, Table 2), keyed like ``task_name``. "1NN" is reproduced exactly by
#: ``KNeighborsClassifier(n_neighbors=1)`` on ``preprocess="zscore"``; "SVM" is
#: not reproduced exactly by any sklearn linear SVM we tried (ours is higher).
PUBLISHED_1NN = {
    "C->A": 23.7, "C->W": 25.8, "C->D": 25.5, "A->C": 26.0, "A->W": 29.8, "A->D": 25.5,
    "W->C": 19.9, "W->A": 23.0, "W->D": 59.2, "D->C": 26.3, "D->A": 28.5, "D->W": 63.4,
}
PUBLISHED_SVM = {
    "C->A": 53.1, "C->W": 41.7, "C->D": 47.8, "A->C": 41.7, "A->W": 31.9, "A->D": 44.6,
    "W->C": 28.8, "W->A": 27.6, "W->D": 78.3, "D->C": 26.4, "D->A": 26.2, "D->W": 52.5,
}


def task_name(source, target):
    """``"C->A"`` style name of a task."""
    return f"{_domain_code(source)}->{_domain_code(target)}"


def preprocess_surf(X, preprocess="zscore"):
    """Apply one of :data:`PREPROCESSINGS` to the raw counts of ONE domain."""
    return _preprocess(X, preprocess, "surf")


def _surf_dir(data_home):
    if data_home is None:
        data_home = os.environ.get("SKTRANSFER_DATA_HOME")
        if data_home is None:
            raise ValueError("data_home is None and the SKTRANSFER_DATA_HOME environment variable is not set.")
    base = Path(data_home).expanduser()
    if not base.is_dir():
        raise FileNotFoundError(f"data_home {str(base)!r} does not exist or is not a folder.")
    if not (base / SUBDIR).is_dir() and (base.name == SUBDIR or (base / "amazon_SURF_L10.mat").is_file()):
        return base
    return base / SUBDIR


def load_surf_domain(data_home, domain, preprocess="zscore", *, check_hash=True):
    """Load one Office-Caltech10 SURF domain as ``(X, y)``: X (n, 800) float64, y int64 0..9.

    ``data_home`` is the folder that contains ``office_caltech10_surf/`` (or
    that folder); None reads ``SKTRANSFER_DATA_HOME``. ``domain`` is "A", "C",
    "D" or "W" (full names accepted). ``preprocess`` is one of
    :data:`PREPROCESSINGS`, computed on this domain only. ``check_hash``
    verifies the file's sha256 (a mismatch raises ``ValueError``); a missing
    file raises ``FileNotFoundError``.
    """
    return _load_domain(_surf_dir(data_home), domain, "surf", preprocess,
                        download_if_missing=False, check_hash=check_hash)


def load_surf_task(data_home, source, target, preprocess="zscore", *, check_hash=True):
    """Load a (source, target) task; each domain is preprocessed on its own.

    Returns ``Xs, ys, Xt, yt``.
    """
    Xs, ys = load_surf_domain(data_home, source, preprocess, check_hash=check_hash)
    Xt, yt = load_surf_domain(data_home, target, preprocess, check_hash=check_hash)
    return Xs, ys, Xt, yt
