"""Audio backbone adapters: Hugging Face speech encoders of the wav2vec 2.0 family (Wav2Vec2, HuBERT).

These models read a raw waveform: a stack of 1-D convolutions (the feature
encoder, 20 ms frames at 16 kHz) feeds a transformer. Two facts shape how
they are run. The frames of a waveform are the ones its convolutions see in
full (:meth:`HFAudioBackbone.frame_lengths`), so the padded frames of a
batch are known and left out of pooling. And the base models (wav2vec2-base,
hubert-base-ls960) normalise their first convolution with a GroupNorm over
time, which padding changes: those are only run on batches of equal-length
waveforms (``pads = False``), while models with a layer-norm feature encoder
(the large ones) pad within a batch and mask the padding.
"""

from __future__ import annotations

import os
from typing import Any

from .._torch import import_optional, import_torch
from ._base import Backbone, missing_weights_error
from ._files import load_state_dict_file
from ._pooling import pool
from ._stop import run_until
from ._text import _hf_source

#: Registered audio backbones: short name -> (Hugging Face name, transformers config class whose
#: defaults are that model's architecture, used for weights="random" without any file).
REGISTERED = {
    "wav2vec2-base": ("facebook/wav2vec2-base", "Wav2Vec2Config"),
    "hubert-base-ls960": ("facebook/hubert-base-ls960", "HubertConfig"),
}
_BY_HUB_NAME = {hub: short for short, (hub, _) in REGISTERED.items()}

#: Preprocessing of the family when a model has no ``preprocessor_config.json``: 16 kHz, each
#: waveform scaled to zero mean and unit variance (transformers' ``Wav2Vec2FeatureExtractor`` defaults).
DEFAULT_SAMPLING_RATE = 16000
DEFAULT_NORMALIZE = True


def registered_name(spec: str) -> str | None:
    """The short registered name of ``spec`` (``"wav2vec2-base"``, ``"facebook/wav2vec2-base"`` or
    ``"hf:facebook/wav2vec2-base"``), or None."""
    name = spec[3:] if spec.startswith("hf:") else spec
    if name in REGISTERED:
        return name
    return _BY_HUB_NAME.get(name)


class HFAudioBackbone(Backbone):
    """A Hugging Face speech encoder of the wav2vec 2.0 layout and its preprocessing.

    Taps are the feature projection (the convolutional features projected to
    the transformer's width, before any position information) and each
    transformer layer; ``pooled`` is the last hidden state (after the final
    layer norm of stable-layer-norm models). Every output is pooled over the
    waveform's own frames.

    Attributes
    ----------
    sampling_rate : int
        The rate the model was trained at; inputs are resampled to it.
    normalize : bool
        Whether each waveform is scaled to zero mean and unit variance first.
    pads : bool
        Whether waveforms of different lengths may share a padded batch
        (False for a GroupNorm feature encoder, whose statistics padding changes).
    min_samples : int
        The shortest waveform, at ``sampling_rate``, that yields one frame.
    """

    modality = "audio"

    def __init__(self, module: Any, name: str, source: str, *, sampling_rate: int, normalize: bool):
        n_layers = len(module.get_submodule("encoder.layers"))
        taps = ["feature_projection"] + [f"encoder.layers.{i}" for i in range(n_layers)]
        super().__init__(module, name, taps, source)
        config = module.config
        self.sampling_rate = int(sampling_rate)
        self.normalize = bool(normalize)
        self.pads = getattr(config, "feat_extract_norm", "layer") != "group"
        self._convs = list(zip(config.conv_kernel, config.conv_stride))
        # An adapter (Wav2Vec2 add_adapter) shortens the last hidden state by its stride, once per layer.
        adapter = getattr(config, "add_adapter", False) and getattr(module, "adapter", None) is not None
        self._adapter = (int(config.adapter_stride), int(config.num_adapter_layers)) if adapter else None
        need = 1
        for kernel, stride in reversed(self._convs):
            need = (need - 1) * stride + kernel
        self.min_samples = need

    def frame_lengths(self, n_samples: Any, *, final: bool) -> Any:
        """Frames of waveforms ``n_samples`` long: those the convolutions see in full (and the adapter's)."""
        n = n_samples
        for kernel, stride in self._convs:
            n = (n - kernel) // stride + 1
        if final and self._adapter is not None:
            stride, n_layers = self._adapter
            for _ in range(n_layers):
                n = (n - 1) // stride + 1
        return n

    def _call(self, x: dict) -> Any:
        return self.module(input_values=x["input_values"], attention_mask=x["attention_mask"])

    def _final(self, x: dict) -> Any:
        return self._call(x).last_hidden_state

    def _tap(self, x: dict, i: int) -> Any:
        return run_until(self.module, self.tap_names[i], lambda: self._call(x))

    def features(self, x: Any, layer: int, pooling: str, *, mask: Any = None) -> Any:
        torch = import_torch(self.name)
        final = layer == len(self.tap_names) - 1
        out = self._final(x) if final else self._tap(x, layer)
        lengths = self.frame_lengths(x["attention_mask"].sum(dim=1), final=final)
        frames = torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]
        return pool(out, "mean" if pooling == "auto" else pooling, mask=frames)


def _check_layout(module: Any, spec: str, *, owner: str) -> Any:
    """The base model of ``module`` if it has the wav2vec 2.0 layout, else a TypeError naming what is read."""
    base = getattr(module, "base_model", module)  # Wav2Vec2ForCTC & co. -> their Wav2Vec2Model
    config = getattr(base, "config", None)
    try:
        base.get_submodule("feature_extractor")
        base.get_submodule("feature_projection")
        base.get_submodule("encoder.layers")
        ok = config is not None and hasattr(config, "conv_kernel") and hasattr(config, "conv_stride")
    except AttributeError:
        ok = False
    if not ok:
        kind = getattr(config, "model_type", None) or type(module).__name__
        raise TypeError(
            f"{owner} reads speech encoders of the wav2vec 2.0 family (a convolutional feature encoder, then "
            f"a transformer: Wav2Vec2Model, HubertModel, ...), but backbone {spec!r} is a {kind!r} model. Use "
            "'wav2vec2-base', 'hubert-base-ls960', 'hf:NAME' of such a model, or a loaded one."
        )
    return base


def _preprocessing(source: str | None, download: bool) -> tuple[int, bool]:
    """Sampling rate and normalisation from the model's ``preprocessor_config.json``, else the family's."""
    if source:
        transformers = import_optional("transformers", needed_by="audio backbones")
        try:
            fe = transformers.AutoFeatureExtractor.from_pretrained(source, local_files_only=not download)
        except (OSError, ValueError, ConnectionError):
            pass  # no preprocessor_config.json (a folder from save_pretrained): the family's defaults
        else:
            return (int(getattr(fe, "sampling_rate", DEFAULT_SAMPLING_RATE)),
                    bool(getattr(fe, "do_normalize", DEFAULT_NORMALIZE)))
    return DEFAULT_SAMPLING_RATE, DEFAULT_NORMALIZE


def fetch_command(name: str) -> str:
    """How to put a Hugging Face model into the local cache on a machine with network access."""
    return (f"hf download {name} (the huggingface_hub command line), or python -c \"from transformers import "
            f"AutoModel, AutoFeatureExtractor; AutoModel.from_pretrained('{name}'); "
            f"AutoFeatureExtractor.from_pretrained('{name}')\"")


def load_hf_audio(name_or_path: str, weights: str, *, owner: str, download: bool = False) -> HFAudioBackbone:
    """``hf:NAME``, a registered name, or a local Hugging Face folder, as an audio backbone.

    ``weights="random"`` of a registered name builds the model from its
    transformers config class in code: no file is read or fetched. Other
    names read their config (random) or weights (pretrained) from the folder
    or the local Hugging Face cache; with ``download=False`` nothing is fetched.
    """
    transformers = import_optional("transformers", needed_by=f"backbone {name_or_path!r}")
    is_dir = os.path.isdir(name_or_path)
    short = None if is_dir else registered_name(name_or_path)
    hub = REGISTERED[short][0] if short else name_or_path
    spec = name_or_path if is_dir else f"hf:{hub}"
    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()
    try:
        if weights != "pretrained" and short is not None:  # random, or a state-dict file loaded below
            config = getattr(transformers, REGISTERED[short][1])()
            module, source = transformers.AutoModel.from_config(config), None
        else:
            source = _hf_source(hub, download)
            if weights != "pretrained":
                config = transformers.AutoConfig.from_pretrained(source, local_files_only=not download)
                module = transformers.AutoModel.from_config(config)
            else:
                module = transformers.AutoModel.from_pretrained(source, local_files_only=not download)
    except (OSError, ValueError, ConnectionError) as exc:
        raise missing_weights_error(spec, fetch_command(hub), exc, downloadable=not is_dir) from exc
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()
    module = _check_layout(module, spec, owner=owner)
    if weights not in ("pretrained", "random"):
        load_state_dict_file(module, weights, spec=spec)
    rate, normalize = _preprocessing(source, download)
    name = (short or os.path.basename(os.path.normpath(hub))).replace("-", "_").replace(".", "_").lower()
    return HFAudioBackbone(module, name, f"{spec}|{weights}", sampling_rate=rate, normalize=normalize)


def check_audio_module(module: Any, *, owner: str, download: bool = False) -> HFAudioBackbone:
    """A loaded model given as ``backbone``: a wav2vec 2.0-family encoder (or a model built on one).

    Its preprocessing comes from the folder or cached model its config names,
    when there is one, else the family's (16 kHz, normalised).
    """
    base = _check_layout(module, type(module).__name__, owner=owner)
    path = getattr(base.config, "_name_or_path", "") or ""
    source = None
    if path:
        try:
            source = _hf_source(path, download)
        except (OSError, ValueError):
            source = None
    rate, normalize = _preprocessing(source, download)
    return HFAudioBackbone(base, type(base).__name__.lower(), "module", sampling_rate=rate, normalize=normalize)
