"""Loader for the Office-Caltech10 SURF (800-d bag of visual words) benchmark.

The files are Boqing Gong's original ``*_SURF_L10.mat`` files (GFK package), as
described in ``SOURCES.md`` section 1 of the shared data folder. Each file holds
``fts`` (n x 800 uint8 visual-word counts) and ``labels`` (n x 1, values 1..10).

Expected layout::

    <data_home>/office_caltech10_surf/amazon_SURF_L10.mat
    <data_home>/office_caltech10_surf/Caltech10_SURF_L10.mat
    <data_home>/office_caltech10_surf/dslr_SURF_L10.mat
    <data_home>/office_caltech10_surf/webcam_SURF_L10.mat

``data_home`` may also point directly at the ``office_caltech10_surf`` folder.

Labels are returned **shifted to 0..9** (``labels - 1``), as ``int64``.

Preprocessing (always applied to one domain at a time, never across domains):

``"none"``
    raw visual-word counts, as float64.
``"l1"``
    each row divided by its sum.
``"l2"``
    each row divided by its Euclidean norm (raw counts, unit L2 rows).
``"zscore"`` (default, the standard protocol)
    ``"l1"``, then per-column z-score within the domain using the population
    std (``ddof=0``, MATLAB ``zscore(X, 1)``); NaN (zero-variance column) -> 0.
    This is the preprocessing of the GFK / SA / CORAL / BDA / MEDA code.
    1-NN (Euclidean) from all source rows to all target rows under it
    reproduces the published "1NN" column of MEDA (ACM MM 2018) Table 2
    exactly on all 12 tasks (mean 31.4).
``"zscore_l2"``
    ``"zscore"`` followed by unit-L2 rows (what JDA/BDA code does to the
    z-scored features before learning the projection).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

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

#: domain code -> (file stem, human-readable name)
DOMAINS = {
    "A": ("amazon", "amazon"),
    "C": ("Caltech10", "caltech"),
    "D": ("dslr", "dslr"),
    "W": ("webcam", "webcam"),
}

_ALIASES = {
    "a": "A", "amazon": "A",
    "c": "C", "caltech": "C", "caltech10": "C", "caltech256": "C",
    "d": "D", "dslr": "D",
    "w": "W", "webcam": "W",
}

#: sha256 of each file, from SOURCES.md section 1.
SURF_SHA256 = {
    "amazon_SURF_L10.mat": "df32548b994e18d364c99e1f317e1fae100597259f0423a41b90f4f68187bb1f",
    "Caltech10_SURF_L10.mat": "4f9334c8ced489d5054de97a5fd51a61f017f3bcd1f38c9a85c6d78cb9d7bda5",
    "dslr_SURF_L10.mat": "44d673c68e1d07b837893aa74dba3b986e4a6cc3fd66f0dd357683bdef059216",
    "webcam_SURF_L10.mat": "a6a9c78b4b7181dfbb58bcfd351d4ebd737f171c31247b8884948aa156d3f700",
}

#: The 12 (source, target) tasks, in the row order of PUBLISHED.md table (A).
TASKS = (
    ("C", "A"), ("C", "W"), ("C", "D"),
    ("A", "C"), ("A", "W"), ("A", "D"),
    ("W", "C"), ("W", "A"), ("W", "D"),
    ("D", "C"), ("D", "A"), ("D", "W"),
)

PREPROCESSINGS = ("none", "l1", "l2", "zscore", "zscore_l2")

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

N_FEATURES = 800
N_CLASSES = 10


def task_name(source, target):
    """``"C->A"`` style name of a task."""
    return f"{_domain_code(source)}->{_domain_code(target)}"


def _domain_code(domain):
    if not isinstance(domain, str):
        raise TypeError(f"domain must be a string, got {type(domain).__name__}")
    code = _ALIASES.get(domain.strip().lower())
    if code is None:
        raise ValueError(
            f"Unknown Office-Caltech10 domain {domain!r}; expected one of "
            "'A' (amazon), 'C' (caltech), 'D' (dslr), 'W' (webcam)."
        )
    return code


def _surf_dir(data_home):
    if data_home is None:
        data_home = os.environ.get("SKTRANSFER_DATA_HOME")
        if data_home is None:
            raise ValueError(
                "data_home is None and the SKTRANSFER_DATA_HOME environment "
                "variable is not set."
            )
    base = Path(data_home).expanduser()
    if not base.is_dir():
        raise FileNotFoundError(f"data_home {str(base)!r} does not exist or is not a folder.")
    folder = base / SUBDIR
    if folder.is_dir():
        return folder
    if base.name == SUBDIR or (base / "amazon_SURF_L10.mat").is_file():
        return base
    raise FileNotFoundError(
        f"data_home {str(base)!r} has no {SUBDIR!r} folder; expected the "
        f"Office-Caltech10 SURF files in {str(folder)!r}."
    )


def _sha256(path, chunk=1 << 20):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _verified_path(folder, filename, check_hash=True):
    path = folder / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"Office-Caltech10 SURF file {filename!r} is missing from {str(folder)!r}."
        )
    if check_hash:
        expected = SURF_SHA256[filename]
        got = _sha256(path)
        if got != expected:
            raise ValueError(
                f"sha256 mismatch for Office-Caltech10 SURF file {str(path)!r}: "
                f"expected {expected}, got {got}. The file is corrupted or is "
                "not the original GFK release."
            )
    return path


def _l1_rows(X):
    s = X.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = X / s
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def _l2_rows(X):
    n = np.linalg.norm(X, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return X / n


def _zscore_cols(X):
    mean = X.mean(axis=0)
    std = X.std(axis=0, ddof=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (X - mean) / std
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def preprocess_surf(X, preprocess="zscore"):
    """Apply one of :data:`PREPROCESSINGS` to the raw counts of ONE domain."""
    X = np.asarray(X, dtype=np.float64)
    if preprocess == "none":
        return X.copy()
    if preprocess == "l1":
        return _l1_rows(X)
    if preprocess == "l2":
        return _l2_rows(X)
    if preprocess == "zscore":
        return _zscore_cols(_l1_rows(X))
    if preprocess == "zscore_l2":
        return _l2_rows(_zscore_cols(_l1_rows(X)))
    raise ValueError(
        f"Unknown preprocess {preprocess!r}; expected one of {PREPROCESSINGS}."
    )


def load_surf_domain(data_home, domain, preprocess="zscore", *, check_hash=True):
    """Load one Office-Caltech10 SURF domain.

    Parameters
    ----------
    data_home : str or Path
        Folder that contains ``office_caltech10_surf/`` (or that folder itself).
        ``None`` reads the ``SKTRANSFER_DATA_HOME`` environment variable.
    domain : {"A", "C", "D", "W"}
        amazon, caltech, dslr, webcam (full names are accepted too).
    preprocess : {"none", "l1", "l2", "zscore", "zscore_l2"}, default="zscore"
        See the module docstring. Computed on this domain only.
    check_hash : bool, default=True
        Verify the file's sha256 against SOURCES.md.

    Returns
    -------
    X : ndarray of shape (n, 800), float64
    y : ndarray of shape (n,), int64, labels 0..9 (the file's 1..10 minus 1)
    """
    from scipy.io import loadmat

    if preprocess not in PREPROCESSINGS:
        raise ValueError(
            f"Unknown preprocess {preprocess!r}; expected one of {PREPROCESSINGS}."
        )
    code = _domain_code(domain)
    filename = f"{DOMAINS[code][0]}_SURF_L10.mat"
    path = _verified_path(_surf_dir(data_home), filename, check_hash=check_hash)
    mat = loadmat(path)
    if "fts" not in mat or "labels" not in mat:
        raise ValueError(f"{str(path)!r} lacks the 'fts'/'labels' keys.")
    X = np.asarray(mat["fts"], dtype=np.float64)
    y = np.asarray(mat["labels"]).ravel().astype(np.int64) - 1
    if X.ndim != 2 or X.shape[1] != N_FEATURES or X.shape[0] != y.shape[0]:
        raise ValueError(f"Unexpected shapes in {str(path)!r}: fts {X.shape}, labels {y.shape}.")
    return preprocess_surf(X, preprocess), y


def load_surf_task(data_home, source, target, preprocess="zscore", *, check_hash=True):
    """Load a (source, target) task; each domain is preprocessed on its own.

    Returns ``Xs, ys, Xt, yt``.
    """
    Xs, ys = load_surf_domain(data_home, source, preprocess, check_hash=check_hash)
    Xt, yt = load_surf_domain(data_home, target, preprocess, check_hash=check_hash)
    return Xs, ys, Xt, yt
