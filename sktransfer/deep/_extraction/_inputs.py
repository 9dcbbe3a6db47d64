"""The input protocol of the deep estimators: how one kind of input is read for a backbone.

An :class:`InputReader` turns what a user passes (paths, images, texts) into
host batches and host batches into model inputs on the device. The
extractors read only through one (their ``_input_reader`` hook builds it
from their parameters), and fine-tuning takes the reader of its fitted
extractor with :func:`input_reader`: both read the same items the same way,
and neither reaches into the other's private methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._backbones._base import Backbone
from .._runtime import Runtime


class InputReader:
    """Check, key, batch and prepare one kind of input for a backbone.

    A reader holds its extractor's reading settings (batch size, decoding
    workers, what to do with unreadable items, text length), never a model.

    Parameters
    ----------
    owner : str
        The estimator named in errors.
    """

    #: ``"image"``, ``"text"`` or ``"audio"``
    modality: str = "image"

    def __init__(self, owner: str):
        self.owner = owner

    def check(self, X: Any) -> Any:  # pragma: no cover - abstract
        """The items of ``X`` (a sequence the other methods index by row); raises on a wrong kind."""
        raise NotImplementedError

    def content_keys(self, items: Any) -> list[bytes | None]:  # pragma: no cover - abstract
        """A hash of each item's content for the embedding cache (None: unreadable, a miss)."""
        raise NotImplementedError

    def batches(self, items: Any, rows: np.ndarray, backbone: Backbone, runtime: Runtime,
                skipped: list[str]) -> Iterator[tuple[np.ndarray, Any]]:  # pragma: no cover - abstract
        """Yield ``(rows, host batch)`` over ``rows`` of ``items``, in any order and batch size.

        Items that cannot be read are appended to ``skipped`` (described) when
        the reader skips them, and raise otherwise.
        """
        raise NotImplementedError

    def host_batch(self, items: Any, rows: np.ndarray, backbone: Backbone) -> Any:  # pragma: no cover - abstract
        """Distinct ``rows`` of ``items``, in that order, as one host batch (what :meth:`prepare` takes)."""
        raise NotImplementedError

    @staticmethod
    def prepare(batch: Any, backbone: Backbone, runtime: Runtime) -> Any:  # pragma: no cover - abstract
        """A host batch as model inputs on the runtime's device.

        A static method, so that a compiled forward function closes over no
        reader or estimator.
        """
        raise NotImplementedError

    def probe(self, backbone: Backbone) -> Any:  # pragma: no cover - abstract
        """A host batch of one neutral item, to measure the output width."""
        raise NotImplementedError

    def preprocess_config(self, backbone: Backbone) -> dict:  # pragma: no cover - abstract
        """The preprocessing applied for ``backbone`` (image size and normalisation, or text length)."""
        raise NotImplementedError


def input_reader(extractor: Any) -> InputReader:
    """The reader of ``extractor`` (a :class:`DeepFeatureExtractor`), as it reads at ``transform``.

    Fine-tuning reads its inputs through the reader of its fitted extractor,
    so that training, prediction and the frozen embeddings see the same items.
    """
    return extractor._input_reader()
