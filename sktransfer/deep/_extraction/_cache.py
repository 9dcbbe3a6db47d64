"""Per-item embedding cache on disk.

One ``.npy`` file per (item content, extraction config): CV folds and grid
points that share a backbone, layer and pooling read what another already
computed, whatever the rows they were given. Writes go to a temporary file in
the same folder, are flushed to disk (``fsync``) and only then renamed into
place (atomic on POSIX and Windows), so processes sharing a cache, or a
machine that lost power, never leave a half-written entry under a real name.
An entry is used only if it is exactly what the extractor would compute: a
finite float32 vector of the right length; anything else is a miss, computed
again and rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ...exceptions import SktransferWarning

logger = logging.getLogger(__name__)


class EmbeddingCacheWarning(SktransferWarning):
    """The embedding cache folder cannot be written; extraction goes on without storing new entries."""


def cache_folder(cache: Any, *, owner: str) -> Path | None:
    """The folder behind ``cache``: ``None``, a path, or a ``joblib.Memory``."""
    if cache is None:
        return None
    if isinstance(cache, (str, os.PathLike)):
        return Path(cache)
    location = getattr(cache, "location", "missing")
    if location == "missing":
        raise TypeError(f"{owner}: cache must be None, a folder path or a joblib.Memory, got {type(cache).__name__}.")
    return None if location is None else Path(location)


class EmbeddingCache:
    """Store and fetch one feature vector per item key under a config namespace.

    Parameters
    ----------
    folder : Path
        Root folder; created on first write.
    config : str
        Everything besides the item that changes its features (backbone weights,
        layer, pooling, preprocessing, precision). Hashed into a sub-folder.
    n_features : int
        Length of every vector; a stored entry of another shape is a miss.

    Attributes
    ----------
    write_error : str or None
        Why the cache cannot be written (set by :meth:`check_writable` or a
        failed :meth:`put`); from then on nothing more is written.
    """

    def __init__(self, folder: Path, config: str, n_features: int):
        self.config = config
        self.n_features = int(n_features)
        self.root = Path(folder) / "sktransfer_embeddings" / hashlib.sha256(config.encode()).hexdigest()[:24]
        self.write_error: str | None = None

    def _path(self, key: bytes) -> Path:
        hexkey = key.hex()
        return self.root / hexkey[:2] / f"{hexkey}.npy"

    def check_writable(self) -> str | None:
        """Probe the folder with a temporary file; returns (and records) why it cannot be written, or None."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, probe = tempfile.mkstemp(dir=self.root, suffix=".tmp")
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            self.write_error = f"{type(exc).__name__}: {exc}"
        return self.write_error

    def get(self, key: bytes | None) -> np.ndarray | None:
        """The stored vector for ``key``, or None.

        A missing, empty or unreadable file, an entry of another shape or dtype,
        one holding NaN or infinity, and no key at all are misses.
        """
        if key is None:  # an item that could not be read, hence hashed
            return None
        path = self._path(key)
        try:
            vector = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - whatever a damaged file raises, it is a miss
            logger.debug("embedding cache: unreadable entry %s (%s: %s)", path, type(exc).__name__, exc)
            return None
        if vector.shape != (self.n_features,) or vector.dtype != np.float32 or not np.isfinite(vector).all():
            logger.debug("embedding cache: invalid entry %s (shape %s, dtype %s)", path, vector.shape, vector.dtype)
            return None
        return vector

    def put(self, key: bytes | None, vector: np.ndarray) -> None:
        """Store ``vector`` for ``key``; non-finite vectors are not stored, and a failed write stops all writing."""
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        if key is None or self.write_error is not None or not np.isfinite(vector).all():
            return
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                np.save(f, vector, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())  # the bytes are on disk before the name points at them
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            self.write_error = f"{type(exc).__name__}: {exc}"
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)

    def lookup(self, keys: list[bytes | None]) -> tuple[dict[int, np.ndarray], list[int]]:
        """Split rows into hits (row → vector) and misses (rows to compute)."""
        hits, misses = {}, []
        for i, key in enumerate(keys):
            vec = self.get(key)
            if vec is None:
                misses.append(i)
            else:
                hits[i] = vec
        logger.info("embedding cache: %d hits, %d misses", len(hits), len(misses))
        return hits, misses
