"""How waveforms are read: checked, resampled to the model's rate, normalised, batched by length.

Items are 1-D float arrays (any length, at ``sampling_rate``) or paths of WAV
files (read with ``scipy.io.wavfile``, at their own rate; channels averaged).
Resampling is polyphase filtering (``scipy.signal.resample_poly``).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterator
from math import gcd
from typing import Any

import numpy as np

from .._backbones._base import Backbone
from .._runtime import Runtime, resolve_batch_size
from .._torch import import_torch
from ._inputs import InputReader

#: integer PCM -> float in [-1, 1): the full scale of each sample type
_PCM_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2147483648.0, np.dtype(np.int64): 2.0 ** 63}


def read_wav(path: str, *, owner: str, header_only: bool = False) -> tuple[int, Any]:
    """``(rate, mono float32 waveform)`` of a WAV file, or ``(rate, n_samples)`` with ``header_only``."""
    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():  # unknown chunks (LIST, cue) are skipped with a warning
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            try:
                rate, data = wavfile.read(path, mmap=header_only)
            except ValueError:  # 24-bit files cannot be memory-mapped
                rate, data = wavfile.read(path)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(
            f"{owner} cannot read {path!r} as a WAV file ({type(exc).__name__}: {exc}). Files are read with "
            "scipy.io.wavfile, which reads WAV only (integer PCM or float): convert other formats first, or "
            "pass the decoded waveform as a float array with its sampling_rate."
        ) from None
    if header_only:
        return int(rate), int(data.shape[0])
    if data.dtype == np.uint8:  # 8-bit WAV is unsigned, centred on 128
        wave = (data.astype(np.float32) - 128.0) / 128.0
    elif data.dtype in _PCM_SCALE:  # 24-bit samples come left-aligned in int32
        wave = data.astype(np.float32) / np.float32(_PCM_SCALE[data.dtype])
    else:
        wave = data.astype(np.float32)
    if wave.ndim == 2:
        wave = wave.mean(axis=1)
    return int(rate), np.ascontiguousarray(wave, dtype=np.float32)


def resampled_length(n: int, rate: int, target: int) -> int:
    """Samples after ``resample_poly`` from ``rate`` to ``target``: ``ceil(n * up / down)``."""
    g = gcd(rate, target)
    up, down = target // g, rate // g
    return -(-n * up // down)


class AudioReader(InputReader):
    """The :class:`InputReader` of waveforms.

    Parameters
    ----------
    owner : str
        The estimator named in errors.
    batch_size : int or "auto"
        Waveforms per batch (``"auto"``: by device, see ``resolve_batch_size``).
    sampling_rate : int
        Rate of the array inputs (files carry their own).
    """

    modality = "audio"

    def __init__(self, owner: str, *, batch_size: int | str = "auto", sampling_rate: int = 16000):
        super().__init__(owner)
        self.batch_size = batch_size
        self.sampling_rate = sampling_rate

    def check(self, X: Any) -> list[Any]:
        owner = self.owner
        if isinstance(X, (str, os.PathLike)):
            raise TypeError(f"{owner} expects a sequence of waveforms or WAV paths; wrap a single file in a "
                            "list: [path].")
        if hasattr(X, "to_numpy"):
            X = X.to_numpy()
        if isinstance(X, np.ndarray) and X.dtype != object:
            if X.ndim == 1:
                raise ValueError(
                    f"{owner} got one 1-D array of {X.shape[0]} values. A single waveform goes in a list: "
                    "[waveform]; waveforms of equal length can be stacked as a 2-D array (n_clips, n_samples)."
                )
            if X.ndim != 2:
                raise ValueError(
                    f"{owner} expects a list of 1-D waveforms or a 2-D array (n_clips, n_samples) of mono "
                    f"clips, got an array of shape {X.shape}."
                )
            if X.shape[1] < X.shape[0] and X.shape[1] <= 8:
                raise ValueError(
                    f"{owner} reads a 2-D array as (n_clips, n_samples), one mono clip per row, but got shape "
                    f"{X.shape}: {X.shape[1]} sample(s) per clip. If this is one recording of shape (n_samples, "
                    "n_channels), pass [x.mean(axis=1)]; if it is one waveform as a column, pass [x.ravel()]."
                )
        try:
            raw = list(X)
        except TypeError:
            raise TypeError(f"{owner} expects a list of waveforms (1-D float arrays) or WAV paths, got "
                            f"{type(X).__name__}.") from None
        if not raw:
            raise ValueError(f"{owner} got 0 waveforms; at least 1 is required.")
        return [self._check_item(i, item) for i, item in enumerate(raw)]

    def _check_item(self, i: int, item: Any) -> Any:
        owner = self.owner
        if isinstance(item, (str, os.PathLike)):
            path = os.fspath(item)
            if not os.path.isfile(path):
                raise ValueError(f"{owner}: item {i}, {path!r}, is not a file: no WAV file to read there.")
            return path
        if isinstance(item, (bytes, bytearray)):
            raise TypeError(f"{owner}: item {i} is {type(item).__name__}; decode audio files to a float array, "
                            "or pass the path of a WAV file.")
        wave = np.asarray(item)
        if wave.dtype.kind in "iu":
            raise TypeError(
                f"{owner}: item {i} is an array of {wave.dtype}. Integer samples have no agreed scale: convert "
                "them to float in [-1, 1] (int16 PCM: x / 32768)."
            )
        if wave.dtype.kind != "f":
            raise TypeError(f"{owner}: item {i} is not a float waveform (got {type(item).__name__} of dtype "
                            f"{wave.dtype}).")
        if wave.ndim != 1:
            hint = " average the channels of a (n_samples, n_channels) recording: x.mean(axis=1)" \
                if wave.ndim == 2 else ""
            raise ValueError(f"{owner}: item {i} has shape {wave.shape}; waveforms are mono 1-D arrays.{hint}")
        if wave.size == 0:
            raise ValueError(f"{owner}: item {i} is an empty waveform.")
        if not np.isfinite(wave).all():
            raise ValueError(f"{owner}: item {i} holds NaN or infinite samples.")
        return np.ascontiguousarray(wave, dtype=np.float32)

    def content_keys(self, items: list[Any]) -> list[bytes]:
        keys = []
        for item in items:
            h = hashlib.blake2b(digest_size=20)
            if isinstance(item, str):  # the file's bytes: its rate and samples are in them
                h.update(b"wav|")
                with open(item, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
            else:
                h.update(f"{self.sampling_rate}|".encode())
                h.update(item.tobytes())
            keys.append(h.digest())
        return keys

    def _source(self, item: Any) -> tuple[int, int]:
        """(rate, n_samples) of an item, without decoding a file."""
        if isinstance(item, str):
            return read_wav(item, owner=self.owner, header_only=True)
        return self.sampling_rate, item.shape[0]

    def batches(self, items: list[Any], rows: np.ndarray, backbone: Backbone, runtime: Runtime,
                skipped: list[str]) -> Iterator[tuple[np.ndarray, Any]]:
        size = resolve_batch_size(self.batch_size, runtime, "audio")
        target = backbone.sampling_rate
        lengths = {}
        for r in rows:
            rate, n = self._source(items[r])
            lengths[int(r)] = resampled_length(n, rate, target)
            if lengths[int(r)] < backbone.min_samples:
                raise ValueError(
                    f"{self.owner}: item {int(r)} is {n} samples at {rate} Hz ({1000 * n / rate:.3g} ms), too short "
                    f"for {backbone.name}, whose convolutions need {backbone.min_samples} samples at {target} Hz "
                    f"({1000 * backbone.min_samples / target:.3g} ms) for one frame. Pad it with zeros or leave it out."
                )
        # Longest first: each batch pads only to its own longest waveform, and an out-of-memory error,
        # if any, comes on the first batch. A GroupNorm feature encoder normalises over the whole padded
        # length, so for those models a batch holds waveforms of one length only.
        order = rows[np.argsort([-lengths[int(r)] for r in rows], kind="stable")]
        runs = [order] if backbone.pads else np.split(order, np.flatnonzero(
            np.diff([lengths[int(r)] for r in order])) + 1)
        for run in runs:
            for start in range(0, len(run), size):
                chunk = run[start:start + size]
                batch = self.host_batch(items, chunk, backbone)
                yield chunk, {k: v.pin_memory() for k, v in batch.items()} if runtime.is_cuda else batch

    def waveform(self, item: Any, backbone: Backbone) -> np.ndarray:
        """One item as the model reads it: at its rate, and normalised if it wants that."""
        rate, wave = read_wav(item, owner=self.owner) if isinstance(item, str) else (self.sampling_rate, item)
        if rate != backbone.sampling_rate:
            from scipy.signal import resample_poly

            g = gcd(rate, backbone.sampling_rate)
            wave = resample_poly(wave, backbone.sampling_rate // g, rate // g)
        if backbone.normalize:  # transformers' zero_mean_unit_var_norm
            wave = wave.astype(np.float64)
            wave = (wave - wave.mean()) / np.sqrt(wave.var() + 1e-7)
        return np.asarray(wave, dtype=np.float32)

    def host_batch(self, items: list[Any], rows: np.ndarray, backbone: Backbone) -> dict:
        """The waveforms of ``rows`` zero-padded to the longest of them, with a 0/1 ``attention_mask``."""
        torch = import_torch(self.owner)
        waves = [self.waveform(items[int(r)], backbone) for r in rows]
        width = max(len(w) for w in waves)
        values = np.zeros((len(waves), width), dtype=np.float32)
        mask = np.zeros((len(waves), width), dtype=np.int64)
        for i, w in enumerate(waves):
            values[i, :len(w)] = w
            mask[i, :len(w)] = 1
        return {"input_values": torch.from_numpy(values), "attention_mask": torch.from_numpy(mask)}

    @staticmethod
    def prepare(batch: dict, backbone: Backbone, runtime: Runtime) -> dict:
        return {k: v.to(runtime.device, non_blocking=True) for k, v in batch.items()}

    def probe(self, backbone: Backbone) -> dict:
        torch = import_torch(self.owner)
        n = max(backbone.min_samples, backbone.sampling_rate // 10)
        return {"input_values": torch.zeros(1, n), "attention_mask": torch.ones(1, n, dtype=torch.int64)}

    def preprocess_config(self, backbone: Backbone) -> dict:
        return {"sampling_rate": backbone.sampling_rate, "normalize": backbone.normalize}
