"""``AudioFeatureExtractor``: a frozen speech encoder (Wav2Vec2, HuBERT) as a scikit-learn transformer."""

from __future__ import annotations

from numbers import Integral

from ..._compat import Interval, StrOptions
from .._backbones._pooling import AUDIO_POOLINGS
from .._backbones._registry import DEFAULT_AUDIO_BACKBONE
from ._audio_reader import AudioReader
from ._extractor import LOADING_PARAMS_DOC, DeepFeatureExtractor


class AudioFeatureExtractor(DeepFeatureExtractor):
    """Clip embeddings from a frozen pretrained speech encoder, as a transformer.

    Each waveform is resampled to the model's rate, scaled to zero mean and
    unit variance (as the model was trained), run through the encoder and
    averaged over its own frames; the rows come back in input order.
    Waveforms are sorted by length so that a batch pads only to its own
    longest one, and padded frames never enter a pooled vector. Models whose
    first convolution is normalised over time (GroupNorm: wav2vec2-base,
    hubert-base-ls960), which padding would change, are run on batches of
    equal-length waveforms only: a clip gets the same embedding alone or in
    any batch.

    Parameters
    ----------
    backbone : str, path or transformers model, default="wav2vec2-base"
        ``"wav2vec2-base"`` (``facebook/wav2vec2-base``) or
        ``"hubert-base-ls960"`` (``facebook/hubert-base-ls960``), ``"hf:NAME"``
        (another Hugging Face speech encoder of the wav2vec 2.0 layout), a
        local Hugging Face folder, or a loaded model such as a
        ``transformers.Wav2Vec2Model``. No wheel ships audio weights:
        pretrained weights are read from the local Hugging Face cache, and an
        error names the command that fetches them when they are not there;
        ``weights="random"`` builds a registered model from its
        ``transformers`` config class with no file at all.
    layer : int or str, default=-1
        ``-1`` is the model's last hidden state; ``0`` is the feature
        projection (convolutional features at the transformer's width),
        ``1 … L`` the transformer layers (``-2`` the last one). The layers
        above the one read are not run; for speech content the middle layers
        often transfer better than the last.
    pooling : {"auto", "mean", "avg", "max", "avgmax"}, default="auto"
        Over the frames of each waveform; ``"auto"`` is ``"mean"``
        (``"avg"`` is the same), ``"avgmax"`` concatenates mean and max.
    sampling_rate : int, default=16000
        Rate, in Hz, of the array inputs; they are resampled to the model's
        rate (16 kHz for both registered models) with
        ``scipy.signal.resample_poly`` when it differs. WAV files are read at
        the rate in their header.
    weights : str, default="pretrained"
        ``"pretrained"``, ``"random"`` or a state-dict file.
{loading_params}    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU.
    precision : {"auto", "fp32", "bf16", "fp16"}, default="auto"
        Autocast dtype; ``"auto"`` is bf16 on GPUs that have it.
    batch_size : int or "auto", default="auto"
        Waveforms per forward pass (``"auto"``: 64 on CUDA, 4 on the CPU),
        halved on out-of-memory. GroupNorm models batch only waveforms of
        equal length.
    compile : bool, default=False
        ``torch.compile`` the forward pass.
    cache : None, str, path or joblib.Memory, default=None
        Folder of the per-clip embedding cache, keyed on the samples and their
        rate (a file: its bytes).
    progress : bool, default=False
        Show a tqdm progress bar.

    Attributes
    ----------
    n_features_out_ : int
        Length of each embedding (the model's hidden size; twice it for ``"avgmax"``).
    layer_name_ : str
        Name of the layer read (``"pooled"`` for ``layer=-1``).
    layer_names_ : list of str
        Every readable layer of the backbone, input first (valid ``layer`` names).
    backbone_name_ : str
        Short model name, the prefix of the feature names.
    device_ : str
        Device resolved at fit.
    preprocess_config_ : dict
        The model's ``sampling_rate`` and whether waveforms are normalised.

    See Also
    --------
    TextFeatureExtractor : The same for texts.
    ImageFeatureExtractor : The same for images.

    Notes
    -----
    Inputs are a list of 1-D float waveforms of any lengths (a 2-D float
    array is read as equal-length clips, one per row), paths of WAV files
    (integer PCM or float, read with ``scipy.io.wavfile``; channels are
    averaged), or a mix. Integer arrays are refused: their scale is not
    known. A waveform shorter than the model's first frame (400 samples, 25
    ms, at 16 kHz) raises an error at ``transform``.

    References
    ----------
    .. [1] Baevski, A. et al. (2020). wav2vec 2.0: A framework for
       self-supervised learning of speech representations. NeurIPS.
    .. [2] Hsu, W.-N. et al. (2021). HuBERT: Self-supervised speech
       representation learning by masked prediction of hidden units.
       IEEE/ACM TASLP.

    Examples
    --------
    A tiny untrained Wav2Vec2 (the registered models work the same way, with
    their weights in the Hugging Face cache or ``weights="random"``):

    >>> import numpy as np
    >>> from transformers import Wav2Vec2Config, Wav2Vec2Model
    >>> from sktransfer.deep import AudioFeatureExtractor
    >>> tiny = Wav2Vec2Model(Wav2Vec2Config(
    ...     hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
    ...     conv_dim=(32,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2))
    >>> t = np.arange(16000) / 16000
    >>> clips = [np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 880 * t[:8000])]
    >>> ext = AudioFeatureExtractor(tiny).fit(clips)
    >>> ext.transform(clips).shape
    (2, 32)
    >>> ext.layer_names_
    ['feature_projection', 'encoder.layers.0', 'encoder.layers.1', 'pooled']
    """

    __doc__ = __doc__.replace("{loading_params}", LOADING_PARAMS_DOC)
    modality = "audio"
    _pooling_options = AUDIO_POOLINGS

    _parameter_constraints: dict = {
        **DeepFeatureExtractor._parameter_constraints,
        "pooling": [StrOptions(set(AUDIO_POOLINGS))],
        "sampling_rate": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, backbone=DEFAULT_AUDIO_BACKBONE, *, layer=-1, pooling="auto", sampling_rate=16000,
                 weights="pretrained", download=False, allow_pickle=False, device="auto", precision="auto",
                 batch_size="auto", compile=False, cache=None, progress=False):
        self.backbone = backbone
        self.layer = layer
        self.pooling = pooling
        self.sampling_rate = sampling_rate
        self.weights = weights
        self.download = download
        self.allow_pickle = allow_pickle
        self.device = device
        self.precision = precision
        self.batch_size = batch_size
        self.compile = compile
        self.cache = cache
        self.progress = progress

    def _input_reader(self) -> AudioReader:
        return AudioReader(type(self).__name__, batch_size=self.batch_size, sampling_rate=self.sampling_rate)
