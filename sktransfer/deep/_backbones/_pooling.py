"""Reduce a layer's output (feature map or token sequence) to one vector per item."""

from __future__ import annotations

from typing import Any

IMAGE_POOLINGS = ("auto", "avg", "max", "avgmax", "cls", "flatten")
TEXT_POOLINGS = ("auto", "mean", "avg", "max", "avgmax", "cls")
AUDIO_POOLINGS = ("auto", "mean", "avg", "max", "avgmax")  # frames have no class token


def pool(out: Any, pooling: str, *, mask: Any = None, n_prefix: int = 0) -> Any:
    """Pool ``out`` to ``(N, D)``.

    Parameters
    ----------
    out : Tensor
        ``(N, C, H, W)`` map, ``(N, T, D)`` tokens or ``(N, D)`` vectors.
    pooling : {"avg", "mean", "max", "avgmax", "cls", "flatten"}
        ``avg`` and ``mean`` are the same; on tokens they skip padding (``mask``)
        and prefix tokens (``n_prefix``, e.g. a ViT's class token).
    mask : Tensor of shape (N, T), default=None
        1 for real tokens, 0 for padding.
    n_prefix : int, default=0
        Leading non-patch tokens that ``avg``/``max`` leave out.
    """
    if out.ndim == 2:
        return out
    if pooling == "flatten":
        return out.flatten(1)
    if out.ndim == 4:  # (N, C, H, W)
        if pooling == "cls":
            raise ValueError(
                "pooling='cls' needs a token sequence, but this layer outputs a feature map "
                f"of shape {tuple(out.shape)}; use 'avg', 'max', 'avgmax' or 'flatten'."
            )
        avg, mx = out.mean(dim=(2, 3)), out.amax(dim=(2, 3))
    elif out.ndim == 3:  # (N, T, D)
        if pooling == "cls":
            return out[:, 0]
        out = out[:, n_prefix:]
        if mask is None:
            avg, mx = out.mean(dim=1), out.amax(dim=1)
        else:
            m = mask[:, n_prefix:].unsqueeze(-1).to(out.dtype)
            avg = (out * m).sum(dim=1) / m.sum(dim=1).clamp(min=1)
            mx = out.masked_fill(m == 0, float("-inf")).amax(dim=1)
    else:
        raise ValueError(f"Cannot pool a layer output of shape {tuple(out.shape)}.")
    if pooling in ("avg", "mean"):
        return avg
    if pooling == "max":
        return mx
    return __import__("torch").cat([avg, mx], dim=1)  # avgmax
