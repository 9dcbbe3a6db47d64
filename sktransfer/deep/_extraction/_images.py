"""Image inputs: what users pass (paths, PIL images, arrays, tensors) to uint8 batches.

Everything is streamed: a batch of items is decoded, resized and cropped to the
backbone's input size as uint8 (4x smaller than float32), and only then moved
to the device, where it is normalised. A folder of 100k images is never held
decoded in memory.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._backbones._base import ImageConfig

JPEG_MAGIC = b"\xff\xd8\xff"


class ImageReadError(ValueError):
    """An image file or item that cannot be decoded; names the item."""


def _is_pil(obj: Any) -> bool:
    return type(obj).__module__.startswith("PIL.") and hasattr(obj, "convert")


def _kind(obj: Any) -> str:
    if isinstance(obj, (str, os.PathLike)):
        return "path"
    if _is_pil(obj):
        return "pil"
    if isinstance(obj, np.ndarray):
        return "array"
    if type(obj).__module__.startswith("torch") and hasattr(obj, "numpy"):
        return "array"
    return type(obj).__name__


class ImageItems:
    """A sequence of images of one kind, decoded one item (or one batch) at a time.

    Parameters
    ----------
    items : sequence
        Paths, PIL images, or HxW[xC] arrays (one per item), or one NxHxWxC array.
    kind : {"path", "pil", "array"}
    array : ndarray of shape (N, H, W, 3), dtype uint8, or None
        The items as one array, when they came as one: sliced without decoding
        when already at the input size.
    """

    def __init__(self, items: Sequence, kind: str, array: np.ndarray | None = None):
        self.items = items
        self.kind = kind
        self.array = array

    def __len__(self) -> int:
        return len(self.items)

    def describe(self, i: int) -> str:
        return f"file {os.fspath(self.items[i])!r}" if self.kind == "path" else f"image at row {i}"

    def content_key(self, i: int) -> bytes:
        """A hash of the item's content (file bytes, pixels), not of its name.

        A palette image (modes ``"P"``, ``"PA"``) is hashed as the RGB pixels
        the model sees: its own bytes are indices into a palette they do not
        hold, so two images with other palettes would share a key.
        """
        h = hashlib.blake2b(digest_size=20)
        item = self.items[i]
        if self.kind == "path":
            try:
                with open(item, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            except OSError as exc:
                raise ImageReadError(f"Cannot read {self.describe(i)}: {exc}") from exc
        elif self.kind == "pil":
            h.update(f"{item.mode}{item.size}".encode())
            h.update((item.convert("RGB") if item.mode in ("P", "PA") else item).tobytes())
        else:
            arr = np.ascontiguousarray(item)
            h.update(f"{arr.dtype}{arr.shape}".encode())
            h.update(arr.tobytes())
        return h.digest()

    def read_bytes(self, i: int) -> bytes:
        with open(self.items[i], "rb") as f:
            return f.read()

    def load(self, i: int, config: ImageConfig, *, data: bytes | None = None) -> np.ndarray:
        """Item ``i`` resized and centre-cropped to ``config.size``, as HxWx3 uint8.

        ``data``, the bytes of a file item already read, saves reading it again.
        """
        try:
            image = self._pil(i, config, data)
            return pil_resize_crop(image, config)
        except ImageReadError:
            raise
        except Exception as exc:  # PIL raises many kinds for corrupt files
            raise ImageReadError(f"Cannot decode {self.describe(i)}: {type(exc).__name__}: {exc}") from exc

    def _pil(self, i: int, config: ImageConfig, data: bytes | None = None) -> Any:
        import io

        from PIL import Image

        item = self.items[i]
        if self.kind == "path":
            # Closed on the way out: multi-frame formats (GIF, TIFF) keep their file open after loading.
            with Image.open(io.BytesIO(data) if data is not None else item) as image:
                if image.format == "JPEG":
                    # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the target is that much smaller.
                    image.draft("RGB", (config.resize, config.resize))
                return pil_to_rgb(image, self.describe(i))  # a loaded copy, independent of the file
        if self.kind == "pil":
            return pil_to_rgb(item, self.describe(i))
        return Image.fromarray(to_uint8_hwc(np.asarray(item), self.describe(i))).convert("RGB")


def pil_to_rgb(image: Any, what: str) -> Any:
    """An 8-bit RGB copy of a PIL image.

    PIL's own ``convert("RGB")`` clips 16-bit, 32-bit integer and float modes
    to 0-255 (a 16-bit photo turns white, a float one black); those go
    through :func:`to_uint8_hwc`, which scales them. Mode ``"I"`` (32-bit
    integers, how PIL opens some 16-bit files) is read as 16-bit.
    """
    from PIL import Image

    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        pixels = np.asarray(image)
        if image.mode == "I":
            if pixels.size and (pixels.min() < 0 or pixels.max() > 65535):
                raise ImageReadError(f"{what} is a 32-bit integer image with values outside 0-65535; save it "
                                     "as 8-bit or 16-bit, or pass it as floats scaled to [0, 1].")
            pixels = pixels.astype(np.uint16)
        return Image.fromarray(to_uint8_hwc(pixels, what)).convert("RGB")
    return image.convert("RGB")


def to_uint8_hwc(arr: np.ndarray, what: str) -> np.ndarray:
    """One image as HxWx{1,3,4} uint8.

    uint16 pixels (0-65535) are scaled by 255/65535 and floats are read as
    values in [0, 1], both rounded to the nearest level: never clipped. NaN
    pixels, floats outside [0, 1] and other dtypes raise.
    """
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # CHW (a tensor row) → HWC
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ImageReadError(f"{what} has shape {arr.shape}; expected HxW, HxWx3 or HxWx4.")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind == "u" and arr.dtype.itemsize == 2:
        # 65535 / 257 = 255: the 16-bit range onto the 8-bit one, level for level.
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise ImageReadError(f"{what} has NaN pixels; fill or drop them before extracting features.")
        if arr.size and (arr.min() < 0 or arr.max() > 1):
            raise ImageReadError(
                f"{what} is a float image with values outside [0, 1] (min {float(arr.min()):.4g}, max "
                f"{float(arr.max()):.4g}); pass uint8 pixels (0-255), uint16 (0-65535) or floats scaled to [0, 1]."
            )
        return np.round(arr.astype(np.float32) * 255).astype(np.uint8)
    raise ImageReadError(f"{what} has dtype {arr.dtype}; expected uint8 (0-255), uint16 (0-65535) or floats in "
                         "[0, 1]. Convert it, e.g. arr.astype(np.uint8) for 8-bit values held as integers.")


def pil_resize_crop(image: Any, config: ImageConfig) -> np.ndarray:
    """Resize the shorter side to ``config.resize`` and centre-crop ``config.size``."""
    from PIL import Image

    w, h = image.size
    th, tw = config.size
    if (h, w) != (th, tw):
        scale = config.resize / min(w, h)
        nw, nh = max(tw, round(w * scale)), max(th, round(h * scale))
        resample = Image.Resampling.BICUBIC if config.interpolation == "bicubic" else Image.Resampling.BILINEAR
        image = image.resize((nw, nh), resample=resample)
        left, top = (nw - tw) // 2, (nh - th) // 2
        image = image.crop((left, top, left + tw, top + th))
    return np.array(image, dtype=np.uint8)  # a writable copy: torch.from_numpy warns on read-only arrays


def check_images(X: Any, *, owner: str) -> ImageItems:
    """Classify ``X`` into items of one kind (one NxHxWxC input also kept whole, as uint8, in ``array``).

    A 3-D array is N grayscale HxW images. Raises a clear error for empty
    input, mixed kinds, unsupported types and a single unwrapped image (a
    path, a PIL image, or a 3-D array that looks like one HxWxC image).
    """
    if hasattr(X, "to_numpy") and not hasattr(X, "numpy"):  # pandas Series / one-column frame
        X = X.to_numpy()
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
    if type(X).__module__.startswith("torch") and hasattr(X, "numpy"):
        X = X.detach().cpu().numpy()
        if X.ndim == 4 and X.shape[1] in (1, 3, 4):
            X = np.moveaxis(X, 1, -1)  # NCHW tensor → NHWC
    if isinstance(X, (str, os.PathLike)) or _is_pil(X):
        raise TypeError(f"{owner} expects a sequence of images; wrap a single image in a list: [image].")
    if isinstance(X, np.ndarray) and X.dtype.kind in "uif":
        if X.ndim == 3:
            _check_not_one_image(X, owner)
            X = X[..., None]
        if X.ndim != 4 or X.shape[-1] not in (1, 3, 4):
            raise ValueError(
                f"{owner} got an array of shape {X.shape}; expected N images as NxHxW or NxHxWxC "
                "(C = 1, 3 or 4), or NxCxHxW as a torch tensor."
            )
        if len(X) == 0:
            raise ValueError(f"{owner} got 0 images; at least 1 is required.")
        if X.shape[-1] == 4:
            X = X[..., :3]
        if X.dtype != np.uint8:
            X = to_uint8_hwc(X.reshape(-1, *X.shape[2:]), "the image array").reshape(X.shape[:3] + (-1,))
        if X.shape[-1] == 1:
            X = np.repeat(X, 3, axis=-1)
        return ImageItems(X, "array", array=X)
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            f"{owner} expects image paths, PIL images, uint8 arrays (NxHxWxC) or tensors (NxCxHxW); "
            f"got {type(X).__name__}."
        ) from None
    if not items:
        raise ValueError(f"{owner} got 0 images; at least 1 is required.")
    kinds = {_kind(item) for item in items}
    if len(kinds) > 1:
        raise TypeError(f"{owner} got mixed input types {sorted(kinds)}; pass images of one kind.")
    kind = kinds.pop()
    if kind not in ("path", "pil", "array"):
        raise TypeError(
            f"{owner} cannot read items of type {kind}; pass image paths, PIL images or arrays."
        )
    return ImageItems(items, kind)


def _check_not_one_image(X: np.ndarray, owner: str) -> None:
    """Refuse a 3-D array that looks like one HxWxC image rather than N grayscale HxW images.

    A 3-D array is N grayscale images. One whose last axis is 3 or 4 and at
    most a quarter of each other axis (``(224, 224, 3)``) is almost surely a
    single colour image, which would otherwise be read as 224 images of
    224x3 pixels.
    """
    c = X.shape[-1]
    if c in (3, 4) and min(X.shape[:2]) >= 4 * c:
        raise ValueError(
            f"{owner} got an array of shape {X.shape}, which looks like one HxWxC image: a 3-D array is read as "
            f"N grayscale HxW images, and a last axis of {c}, much smaller than the other two, is more likely "
            "colour channels. Pass a sequence of images: wrap a single image in a list ([image]) or add a batch "
            f"axis (image[None]). If it really is {X.shape[0]} grayscale images {c} pixels wide, add a channel "
            "axis: X[..., None]."
        )


def decode_jpeg_batch(datas: list[bytes], config: ImageConfig, device: Any) -> Any:
    """Decode JPEG bytes on ``device`` (nvjpeg on CUDA), resize and crop there: NxHxWx3 uint8.

    The same function runs on the CPU (``device="cpu"``), which is how it is tested
    without a GPU.
    """
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    tensors = [torch.frombuffer(bytearray(d), dtype=torch.uint8) for d in datas]
    with warnings.catch_warnings():
        # torchvision 0.29 deprecates its decoders in favour of TorchCodec, which
        # is not a dependency (yet); decode_jpeg still works and is what nvjpeg offers.
        warnings.simplefilter("ignore", DeprecationWarning)
        images = decode_jpeg(tensors, mode=ImageReadMode.RGB, device=device)
    # Resize images of one size together (a folder is often all one size).
    out = torch.empty((len(images), 3, *config.size), dtype=torch.uint8, device=images[0].device)
    by_shape: dict[tuple, list[int]] = {}
    for j, img in enumerate(images):
        by_shape.setdefault(tuple(img.shape), []).append(j)
    for idx in by_shape.values():
        out[idx] = tensor_resize_crop(torch.stack([images[j] for j in idx]), config)
    return out.permute(0, 2, 3, 1)


def tensor_resize_crop(image: Any, config: ImageConfig) -> Any:
    """The torch twin of :func:`pil_resize_crop` for a CxHxW uint8 tensor on any device."""
    from torchvision.transforms.v2 import InterpolationMode
    from torchvision.transforms.v2 import functional as F

    th, tw = config.size
    h, w = image.shape[-2:]
    if (h, w) != (th, tw):
        # The sizes and offsets of pil_resize_crop: F.resize truncates the longer side
        # and F.center_crop rounds odd margins up, a pixel away from the PIL path.
        scale = config.resize / min(w, h)
        nw, nh = max(tw, round(w * scale)), max(th, round(h * scale))
        mode = InterpolationMode.BICUBIC if config.interpolation == "bicubic" else InterpolationMode.BILINEAR
        image = F.resize(image, [nh, nw], interpolation=mode, antialias=True)
        image = F.crop(image, (nh - th) // 2, (nw - tw) // 2, th, tw)
    return image
