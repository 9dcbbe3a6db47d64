"""Helpers of ``benchmarks/extract_throughput.py``: the naive reference loops and the synthetic inputs.

The reference loops are written the way a tutorial writes them, and share
nothing with ``sktransfer.deep`` but the model object (a copy of the same
weights):

* images: ``torchvision.transforms.Compose([Resize, CenterCrop, ToTensor(),
  Normalize(mean, std)])`` applied to each PIL image, ``torch.stack`` of 32
  of them, the batch moved to the device, ``model(batch)`` in fp32 under
  ``torch.no_grad()`` with the model in eval mode, features copied back to
  the host batch by batch;
* texts: the Hugging Face tokenizer on 32 texts (``padding=True``,
  ``truncation=True``, ``max_length``), ``AutoModel`` forward in fp32 under
  ``torch.no_grad()``, masked mean pooling (and the L2 normalisation of
  sentence-transformers when the model has it).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

NAIVE_BATCH = 32


# --------------------------------------------------------------------------- naive loops
def tutorial_transform(config: Any, *, at_input_size: bool = False) -> Any:
    """The per-image torchvision pipeline for a backbone's ``ImageConfig``.

    ``at_input_size``: images that are already the model's input size skip
    Resize/CenterCrop, as the extractor does for such arrays (so both compute
    the same thing, and the naive loop does no work that ours skips).
    """
    import torchvision.transforms as T

    interp = T.InterpolationMode.BICUBIC if config.interpolation == "bicubic" else T.InterpolationMode.BILINEAR
    tail = [T.ToTensor(), T.Normalize(config.mean, config.std)]
    if at_input_size:
        return T.Compose(tail)
    return T.Compose([T.Resize(config.resize, interpolation=interp), T.CenterCrop(config.size), *tail])


def timm_pooled(model: Any, x: Any) -> Any:
    """A timm model's pooled pre-logits features (the input of its classifier)."""
    return model.forward_head(model.forward_features(x), pre_logits=True)


def naive_image_features(model: Any, items: Any, config: Any, device: Any, *,
                         feature_fn: Callable[[Any, Any], Any] = timm_pooled,
                         batch_size: int = NAIVE_BATCH) -> np.ndarray:
    """Features of ``items`` (file paths, or an NxHxWx3 uint8 array), the tutorial way."""
    import torch
    from PIL import Image

    is_array = isinstance(items, np.ndarray)
    transform = tutorial_transform(config, at_input_size=is_array and tuple(items.shape[1:3]) == tuple(config.size))
    outs = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            tensors = []
            for item in items[start:start + batch_size]:
                image = Image.fromarray(item) if is_array else Image.open(item).convert("RGB")
                tensors.append(transform(image))
            batch = torch.stack(tensors).to(device)
            outs.append(feature_fn(model, batch).cpu())
    return torch.cat(outs).numpy()


def naive_text_features(model: Any, tokenizer: Any, texts: list[str], device: Any, *, max_length: int,
                        normalize: bool, batch_size: int = NAIVE_BATCH) -> np.ndarray:
    """Sentence embeddings of ``texts``, the Hugging Face model-card way (mean pooling)."""
    import torch

    outs = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                            max_length=max_length, return_tensors="pt").to(device)
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            emb = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if normalize:
                emb = torch.nn.functional.normalize(emb, p=2, dim=1)
            outs.append(emb.cpu())
    return torch.cat(outs).numpy()


def row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``a`` with the same row of ``b``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    num = (a * b).sum(1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return num / np.maximum(den, 1e-30)


# --------------------------------------------------------------------------- inputs
def make_arrays(n: int, size: tuple[int, int], *, seed: int = 0, unique: int = 1024) -> np.ndarray:
    """``n`` uint8 NxHxWx3 images (random pixels; ``unique`` distinct ones, repeated)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (min(n, unique), *size, 3), dtype=np.uint8)
    if len(base) == n:
        return base
    return np.ascontiguousarray(np.resize(base, (n, *size, 3)))


def _smooth_image(rng: np.random.Generator, width: int, height: int) -> Any:
    """A photo-like random image: octaves of bicubically upsampled noise plus fine grain."""
    from PIL import Image

    acc = np.zeros((height, width, 3), np.float32)
    for gw, gh, amp in ((4, 3, 90.0), (16, 12, 45.0), (64, 48, 25.0), (250, 188, 16.0)):
        low = rng.integers(0, 256, (gh, gw, 3), dtype=np.uint8)
        up = np.asarray(Image.fromarray(low).resize((width, height), Image.Resampling.BICUBIC), np.float32)
        acc += (up - 127.5) * (amp / 127.5)
    acc += rng.standard_normal((height, width, 1), dtype=np.float32) * 4.0 + 127.5
    return Image.fromarray(np.clip(acc, 0, 255).astype(np.uint8))


def _jpeg_bytes(image: Any, quality: int) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def make_jpegs(folder: str | os.PathLike, n: int, *, unique: int = 512, width: int = 500, height: int = 375,
               target_bytes: int = 60_000, seed: int = 0) -> tuple[list[str], dict]:
    """Write ``n`` JPEG files of ``width`` x ``height`` of about ``target_bytes`` each.

    ``min(n, unique)`` distinct images are encoded (the JPEG quality is chosen
    once so that the files average ``target_bytes``); further files are
    byte copies of them under other names. Returns the paths and a summary.
    """
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    k = min(n, unique)
    images = [_smooth_image(rng, width, height) for _ in range(k)]
    probe = images[: min(8, k)]
    lo, hi = 30, 98  # the smallest quality whose mean size reaches the target
    while lo < hi:
        mid = (lo + hi) // 2
        if np.mean([len(_jpeg_bytes(im, mid)) for im in probe]) < target_bytes:
            lo = mid + 1
        else:
            hi = mid
    quality = lo
    blobs = [_jpeg_bytes(im, quality) for im in images]
    paths = []
    for i in range(n):
        path = folder / f"img_{i:06d}.jpg"
        path.write_bytes(blobs[i % k])
        paths.append(str(path))
    sizes = np.array([len(blobs[i % k]) for i in range(n)])
    info = {"n_files": n, "n_unique": k, "width": width, "height": height, "jpeg_quality": quality,
            "mean_bytes": float(sizes.mean()), "min_bytes": int(sizes.min()), "max_bytes": int(sizes.max())}
    return paths, info


_WORDS = (
    "the of and to in is was for on that with as by at from it his an were are which this be or has had not "
    "but first one their its new after who they have her she two been other when there all also into only "
    "time more school some city most years would during up over can made may three about state world "
    "family group people long part used known well between film under high since year before way both "
    "later then many while second most against such game music team where house work life death home war "
    "water place name day small night early great good book back end number old church road line river "
    "power early light area land market field story country company history local general public office"
).split()


def make_texts(n: int, *, min_words: int, max_words: int, seed: int = 0) -> list[str]:
    """``n`` distinct English-like texts of ``min_words``..``max_words`` common words (1 token each)."""
    rng = np.random.default_rng(seed)
    words = np.asarray(_WORDS)
    lengths = rng.integers(min_words, max_words + 1, n)
    return [f"{i} " + " ".join(words[rng.integers(0, len(words), m)]) for i, m in enumerate(lengths)]


def token_lengths(tokenizer: Any, texts: list[str]) -> np.ndarray:
    """Tokens per text (special tokens included), without truncation."""
    enc = tokenizer(texts, truncation=False, padding=False)
    return np.asarray([len(ids) for ids in enc["input_ids"]])
