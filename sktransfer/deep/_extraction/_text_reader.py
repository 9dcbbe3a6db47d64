"""How texts are read: checked, sorted by length, tokenised per batch and moved to the device."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._backbones._base import Backbone
from .._runtime import Runtime, resolve_batch_size
from ._inputs import InputReader


class TextReader(InputReader):
    """The :class:`InputReader` of texts.

    Parameters
    ----------
    owner : str
        The estimator named in errors.
    batch_size : int or "auto"
        Texts per batch (``"auto"``: by device, see ``resolve_batch_size``).
    max_length : int or None
        Tokens kept per text; None: the model's own.
    """

    modality = "text"

    def __init__(self, owner: str, *, batch_size: int | str = "auto", max_length: int | None = None):
        super().__init__(owner)
        self.batch_size = batch_size
        self.max_length = max_length

    def check(self, X: Any) -> list[str]:
        owner = self.owner
        if isinstance(X, str):
            raise TypeError(f"{owner} expects a sequence of texts; wrap a single text in a list: [text].")
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        try:
            texts = list(X)
        except TypeError:
            raise TypeError(f"{owner} expects a list, array or Series of str, got {type(X).__name__}.") from None
        if not texts:
            raise ValueError(f"{owner} got 0 texts; at least 1 is required.")
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"{owner} expects str items, but item {i} is a {type(t).__name__}: {t!r:.60}.")
            try:
                t.encode("utf-8")
            except UnicodeEncodeError as error:
                # A lone surrogate (e.g. from decoding with errors="surrogateescape") has no UTF-8 form,
                # and the tokenizer refuses it with a bare TypeError.
                raise ValueError(
                    f"{owner}: item {i} is not valid Unicode text: it holds the lone surrogate "
                    f"{t[error.start]!r} at position {error.start}, which cannot be encoded as UTF-8 for the "
                    "tokenizer. Replace it, e.g. text.encode('utf-8', 'replace').decode('utf-8'), or decode "
                    "the source bytes with errors='replace'."
                ) from None
        return texts

    def content_keys(self, items: list[str]) -> list[bytes]:
        return [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=20).digest() for t in items]

    def batches(self, items: list[str], rows: np.ndarray, backbone: Backbone, runtime: Runtime,
                skipped: list[str]) -> Iterator[tuple[np.ndarray, Any]]:
        size = resolve_batch_size(self.batch_size, runtime, "text")
        # Longest first: padding stays within a batch of similar lengths, and an
        # out-of-memory error, if any, comes on the first batch.
        order = rows[np.argsort([-len(items[r]) for r in rows], kind="stable")]
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            enc = self.host_batch(items, chunk, backbone)
            yield chunk, {k: v.pin_memory() for k, v in enc.items()} if runtime.is_cuda else enc

    def host_batch(self, items: list[str], rows: np.ndarray, backbone: Backbone) -> dict:
        """The texts of ``rows`` tokenised, padded to the longest of them and truncated to ``max_length``."""
        return backbone.tokenize([items[int(r)] for r in rows], self.max_length)

    @staticmethod
    def prepare(batch: dict, backbone: Backbone, runtime: Runtime) -> dict:
        return {k: v.to(runtime.device, non_blocking=True) for k, v in batch.items()}

    def probe(self, backbone: Backbone) -> dict:
        return backbone.tokenize(["a"], self.max_length)

    def preprocess_config(self, backbone: Backbone) -> dict:
        limit = getattr(getattr(backbone.module, "config", None), "max_position_embeddings", None)
        if self.max_length is not None and limit is not None and self.max_length > limit:
            raise ValueError(
                f"{self.owner}: max_length={self.max_length} is longer than {backbone.name} can read "
                f"({limit} positions); use max_length <= {limit} or None (the model's own, {backbone.max_length})."
            )
        return {"max_length": self.max_length or backbone.max_length}
