"""``DeepFeatureExtractor``: the template shared by the image, text and audio extractors.

``fit`` resolves the backbone, checks ``layer`` and records what the output
will be; ``transform`` reads the cache, runs the misses through the one
runtime (``deep/_runtime.py``) and writes them back. Inputs are read through
the extractor's :class:`InputReader` (``_inputs``). The loaded model lives in
the bounded backbone cache of the registry (``_backbones/_registry.py``),
never in the estimator, so ``clone``, pickling and
``GridSearchCV(n_jobs=...)`` move only parameters.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..._compat import Interval, StrOptions, _fit_context
from ...exceptions import SktransferWarning
from .._backbones._base import Backbone
from .._backbones._registry import resolve_backbone
from .._runtime import PRECISIONS, BatchRunner, Runtime, resolve_batch_size, resolve_runtime, run_batches
from .._torch import import_torch
from ._cache import EmbeddingCache, EmbeddingCacheWarning, cache_folder
from ._inputs import InputReader


class SkippedItemsWarning(SktransferWarning):
    """Some inputs could not be read and were skipped (``on_error="skip"``); their rows are NaN."""


#: The loading parameters, documented once for every deep estimator (``{loading_params}`` in a docstring).
LOADING_PARAMS_DOC = """    download : bool, default=False
        Whether ``"timm:NAME"``, ``"torchvision:NAME"`` and ``"hf:NAME"`` may
        fetch pretrained weights that are not in their library's local cache.
        Off, nothing is downloaded: weights missing from the cache raise an
        error that names them and ``download=True``. The offline defaults never
        download.
    allow_pickle : bool, default=False
        Whether a backbone file holding a whole model (``torch.save(model)``,
        or TorchScript) may be loaded. Loading such a file runs code stored in
        it: set True only for files you trust. Off, files are read with
        ``weights_only=True`` and a whole-model file raises an error. A string
        backbone is a local path only when written as one (``"file:"``, a
        path separator, or a checkpoint suffix such as ``.pt``): a bare name
        never reads a file of that name in the working directory.
"""


def _warn_unwritable(owner: str, folder: Any, error: str) -> None:
    """Warn, from transform, that its cache cannot be written (stacklevel 3: the line calling transform)."""
    warnings.warn(
        f"{owner} cannot write to its embedding cache {os.fspath(folder)!r} ({error}); it goes on without "
        "storing new embeddings (entries already there are still read). Pass a writable folder as cache, "
        "or cache=None.", EmbeddingCacheWarning, stacklevel=3)


class DeepFeatureExtractor(TransformerMixin, BaseEstimator):
    """Abstract base class of the frozen-backbone feature extractors.

    It holds what images, texts and audio share: backbone resolution, layer
    choice, the per-item cache and the runtime. It extracts nothing itself and
    cannot be instantiated (a ``TypeError`` says so): use
    :class:`ImageFeatureExtractor`, :class:`TextFeatureExtractor` or
    :class:`AudioFeatureExtractor`, or test ``isinstance`` against it.
    Subclasses list their parameters in their own ``__init__``, set
    ``modality`` and implement ``_input_reader``, which returns the
    ``InputReader`` (``sktransfer.deep._extraction._inputs``) that checks,
    batches and prepares their inputs.

    Attributes
    ----------
    n_features_out_ : int
        Length of each feature vector.
    layer_name_ : str
        Name of the layer read (``"pooled"`` for ``layer=-1``).
    layer_names_ : list of str
        Every readable layer of the backbone, input first (valid ``layer`` names).
    backbone_name_ : str
        Short backbone name, the prefix of the feature names.
    device_ : str
        Device resolved at fit.
    preprocess_config_ : dict
        Preprocessing used (image size and normalisation, text length, or audio
        sampling rate and normalisation).

    See Also
    --------
    ImageFeatureExtractor : Frozen image backbones.
    TextFeatureExtractor : Frozen text encoders.
    AudioFeatureExtractor : Frozen speech encoders.

    Examples
    --------
    >>> from sktransfer.deep import DeepFeatureExtractor, ImageFeatureExtractor
    >>> isinstance(ImageFeatureExtractor(), DeepFeatureExtractor)
    True
    """

    modality = "image"
    _pooling_options: tuple[str, ...] = ()

    _parameter_constraints: dict = {
        "backbone": "no_validation",  # a spec string, a path or an nn.Module; checked by the registry
        "layer": [Integral, str],
        "weights": [str],
        "download": ["boolean"],
        "allow_pickle": ["boolean"],
        "device": [str],
        "precision": [StrOptions(set(PRECISIONS))],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "compile": ["boolean"],
        "cache": "no_validation",  # None, a folder or a joblib.Memory; checked in cache_folder
        "progress": ["boolean"],
    }

    def __init__(self) -> None:
        """Refuse the base class itself; subclasses list their parameters explicitly, as scikit-learn requires."""
        if type(self) is DeepFeatureExtractor:
            raise TypeError(
                "DeepFeatureExtractor is the abstract base class of the deep feature extractors and extracts "
                "nothing itself. Use ImageFeatureExtractor for images or TextFeatureExtractor for texts "
                "(AudioFeatureExtractor for waveforms; or subclass DeepFeatureExtractor and implement its hooks)."
            )

    # -- the sklearn surface ------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any = None) -> DeepFeatureExtractor:
        """Load the backbone, check ``layer`` and the input, and record the output size.

        Parameters
        ----------
        X : sequence of items
            The inputs; only their kind is checked here (nothing is computed).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted extractor.
        """
        owner = type(self).__name__
        if self.pooling not in self._pooling_options:
            raise ValueError(f"{owner}: pooling must be one of {self._pooling_options}, got {self.pooling!r}.")
        cache_folder(self.cache, owner=owner)
        reader = self._input_reader()
        reader.check(X)
        backbone, runtime = self._backbone(), self._runtime()
        index = backbone.layer_index(self.layer, owner=owner)
        self.layer_name_ = backbone.tap_names[index]
        self.backbone_name_ = backbone.name
        self.device_ = str(runtime.device)
        self.preprocess_config_ = reader.preprocess_config(backbone)
        self.layer_names_ = list(backbone.tap_names)
        # The width of a (layer, pooling) is the backbone's, not the data's: probed once per backbone.
        key = (index, self.pooling, str(self.preprocess_config_))
        if key not in backbone.widths:
            backbone.widths[key] = int(self._run(backbone, runtime, reader.probe(backbone), index).shape[1])
        self.n_features_out_ = backbone.widths[key]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Features of every item of ``X``.

        Parameters
        ----------
        X : sequence of items
            The inputs (see the class docstring for the kinds accepted).

        Returns
        -------
        X_new : ndarray of shape (n_items, ``n_features_out_``), dtype float32
            One row per item, in input order.
        """
        check_is_fitted(self)
        owner = type(self).__name__
        reader = self._input_reader()
        items = reader.check(X)
        backbone, runtime = self._backbone(), self._runtime()
        index = backbone.layer_index(self.layer, owner=owner)
        out = np.full((len(items), self.n_features_out_), np.nan, dtype=np.float32)
        cache, keys, todo = None, None, np.arange(len(items))
        folder = cache_folder(self.cache, owner=owner)
        if folder is not None:
            config = self._cache_config(backbone, runtime, index, reader)
            cache = EmbeddingCache(folder, config, self.n_features_out_)
            if cache.check_writable() is not None:  # known before any forward pass, not after the last
                _warn_unwritable(owner, folder, cache.write_error)
            keys = reader.content_keys(items)
            hits, misses = cache.lookup(keys)
            for row, vec in hits.items():
                out[row] = vec
            todo = np.asarray(misses, dtype=np.intp)
        if len(todo):
            runner, skipped = self._runner(backbone, runtime, index), []
            batches = reader.batches(items, todo, backbone, runtime, skipped)
            for rows, feats in run_batches(runner, batches, len(todo),
                                           progress=self.progress, desc=owner):
                out[rows] = feats
                if cache is not None and cache.write_error is None:
                    for row, vec in zip(rows, feats):
                        cache.put(keys[row], vec)
                    if cache.write_error is not None:  # e.g. the disk filled up mid-way
                        _warn_unwritable(owner, folder, cache.write_error)
            if skipped:
                shown = "; ".join(skipped[:10]) + (" …" if len(skipped) > 10 else "")
                warnings.warn(f"{owner} skipped {len(skipped)} unreadable item(s); their rows are NaN: {shown}",
                              SkippedItemsWarning, stacklevel=2)
        return out

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names ``<backbone>_0``, ``<backbone>_1``, … of the output features.

        Parameters
        ----------
        input_features : None
            Ignored; the inputs are not tabular.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output feature.
        """
        check_is_fitted(self)
        return np.asarray([f"{self.backbone_name_}_{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    # -- shared machinery ---------------------------------------------------------
    def _backbone(self) -> Backbone:
        return resolve_backbone(self.backbone, self.weights, self.modality, owner=type(self).__name__,
                                download=self.download, allow_pickle=self.allow_pickle)

    def _runtime(self) -> Runtime:
        return resolve_runtime(self.device, self.precision, getattr(self, "channels_last", False),
                               owner=type(self).__name__)

    def _runner(self, backbone: Backbone, runtime: Runtime, index: int, *, compiled: bool | None = None) -> BatchRunner:
        torch = import_torch(type(self).__name__)
        backbone.to(runtime.device, runtime.channels_last)
        prepare, pooling = type(self._input_reader()).prepare, self.pooling

        def forward(batch: Any) -> Any:
            return backbone.features(prepare(batch, backbone, runtime), index, pooling)

        if self.compile if compiled is None else compiled:
            # One compiled graph per way of running this backbone, shared by the
            # estimators that run it that way (the closure holds no estimator).
            key = (type(self).__name__, index, pooling, str(runtime.device), str(runtime.dtype),
                   runtime.channels_last)
            if key not in backbone.compiled:
                backbone.compiled[key] = torch.compile(forward)
            forward = backbone.compiled[key]
        batch_size = resolve_batch_size(self.batch_size, runtime, self.modality)
        return BatchRunner(forward, runtime, batch_size, owner=type(self).__name__)

    def _run(self, backbone: Backbone, runtime: Runtime, batch: Any, index: int) -> np.ndarray:
        """One uncompiled pass (fit's probe: compiling for a batch of one would be wasted)."""
        return self._runner(backbone, runtime, index, compiled=False)(batch)

    def _cache_config(self, backbone: Backbone, runtime: Runtime, index: int, reader: InputReader) -> str:
        """Everything but the item that changes a feature vector, as this transform computes it.

        The preprocessing is that of ``reader``, the one that reads the items,
        not ``preprocess_config_``: after ``set_params(max_length=...)``
        without a refit, fit's would file the new embeddings under the old
        setting, for every extractor sharing the folder.
        """
        return "|".join([type(self).__name__, backbone.fingerprint, backbone.tap_names[index], self.pooling,
                         repr(reader.preprocess_config(backbone)), runtime.device.type, str(runtime.dtype)])

    # -- the hook for subclasses -----------------------------------------------------
    def _input_reader(self) -> InputReader:  # pragma: no cover - abstract
        """The reader of this extractor's inputs, built from its parameters."""
        raise NotImplementedError
