"""EfficientNet-Lite0 features at every tap in one forward pass, cached under /tmp.

``ImageFeatureExtractor(layer=k)`` runs the backbone up to tap ``k`` for each
layer it is asked for: reading the 5 taps of the last blocks one by one costs
about 4 full passes (the early, high-resolution blocks dominate on the CPU).
This helper runs the extractor's own backbone, preprocessing and pooling once
per image and keeps every tap, so the layer-selection benchmark pays one pass;
``check_against_extractor`` confirms on a few images that each tap equals what
the public ``ImageFeatureExtractor(layer=k).transform`` returns.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("SKTRANSFER_LAYER_CACHE", "/tmp/sktransfer_layer_selection"))
#: The candidate layers: the pooled output and the taps of the last blocks (``ImageFeatureExtractor.layer``).
LAYERS = (-5, -4, -3, -2, -1)


def _backbone_and_reader():
    import torch

    from sktransfer.deep import ImageFeatureExtractor
    from sktransfer.deep._extraction._image_reader import ImageReader
    from sktransfer.deep._runtime import Runtime

    extractor = ImageFeatureExtractor(device="cpu", num_workers=0)
    backbone = extractor._backbone()
    backbone.to(torch.device("cpu"))
    reader = ImageReader("layer_selection", batch_size=64, num_workers=0)
    return backbone, reader, Runtime(torch.device("cpu"), torch.float32)


def _key(images: np.ndarray) -> str:
    h = hashlib.sha256(b"efficientnet_lite0|avg|v1|")
    h.update(str(images.shape).encode())
    h.update(np.ascontiguousarray(images).tobytes())
    return h.hexdigest()[:24]


def all_taps(images: np.ndarray, *, batch_size: int = 64, progress: bool = False) -> dict[int, np.ndarray]:
    """``{layer: (n, d) float32}`` for every layer in :data:`LAYERS`; read from the cache when there.

    ``images`` is ``(n, H, W)`` floats in [0, 1] (grey), as ImageFeatureExtractor reads them.
    """
    path = CACHE / f"{_key(images)}.npz"
    if path.exists():
        with np.load(path) as data:
            return {layer: data[f"l{-layer}"] for layer in LAYERS}
    import torch

    from sktransfer.deep._backbones._pooling import pool

    backbone, reader, runtime = _backbone_and_reader()
    module = backbone.module
    n_taps = len(backbone.tap_names) - 1  # the last tap name is "pooled"
    items = reader.check(images)
    out: dict[int, list] = {layer: [] for layer in LAYERS}
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            rows = np.arange(start, min(start + batch_size, len(images)))
            x = reader.prepare(reader.host_batch(items, rows, backbone), backbone, runtime)
            final, inter = module.forward_intermediates(x, indices=list(range(n_taps)))
            out[-1].append(module.forward_head(final, pre_logits=True).numpy())
            for layer in LAYERS[:-1]:
                out[layer].append(pool(inter[n_taps + 1 + layer], "avg").numpy())
            if progress:
                print(f"  {rows[-1] + 1}/{len(images)}", flush=True)
    feats = {layer: np.concatenate(v).astype(np.float32) for layer, v in out.items()}
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **{f"l{-layer}": f for layer, f in feats.items()})
    os.replace(tmp, path)
    return feats


def check_against_extractor(images: np.ndarray, feats: dict[int, np.ndarray], n: int = 4) -> float:
    """Largest relative difference between :func:`all_taps` and the public extractor on ``n`` images."""
    from sktransfer.deep import ImageFeatureExtractor

    worst = 0.0
    for layer in LAYERS:
        ext = ImageFeatureExtractor(layer=layer, device="cpu", num_workers=0).fit(images[:n])
        ref = ext.transform(images[:n])
        diff = np.abs(ref - feats[layer][:n]).max() / max(np.abs(ref).max(), 1e-12)
        worst = max(worst, float(diff))
    return worst
