"""Per-item embedding cache on disk.

One ``.npy`` file per (item content, extraction config): CV folds and grid
points that share a backbone, layer and pooling read what another already
computed, whatever the rows they were given. Writes go to a temporary file in
the same folder and are renamed into place (atomic on POSIX and Windows), so
processes sharing a cache never read a half-written file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


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
    """

    def __init__(self, folder: Path, config: str):
        self.config = config
        self.root = Path(folder) / "sktransfer_embeddings" / hashlib.sha256(config.encode()).hexdigest()[:24]

    def _path(self, key: bytes) -> Path:
        hexkey = key.hex()
        return self.root / hexkey[:2] / f"{hexkey}.npy"

    def get(self, key: bytes | None) -> np.ndarray | None:
        """The stored vector for ``key``, or None (a missing or unreadable file, or no key, is a miss)."""
        if key is None:  # an item that could not be read, hence hashed
            return None
        try:
            return np.load(self._path(key), allow_pickle=False)
        except (OSError, ValueError):
            return None

    def put(self, key: bytes | None, vector: np.ndarray) -> None:
        if key is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(vector, dtype=np.float32), allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

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
