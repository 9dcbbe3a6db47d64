"""The runtime every forward pass goes through: device and precision resolution,
and the BatchRunner's out-of-memory backoff (simulated on the CPU), directly and
through both extractors.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from sktransfer.deep import ImageFeatureExtractor, TextFeatureExtractor
from sktransfer.deep._runtime import (
    BatchRunner,
    Runtime,
    is_out_of_memory,
    prefetch,
    resolve_batch_size,
    resolve_device,
    resolve_precision,
    resolve_runtime,
)

CPU = Runtime(torch.device("cpu"), torch.float32)


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


# -- device and precision --------------------------------------------------------------------
def test_explicit_cuda_without_cuda_is_a_clear_error(no_cuda, images):
    with pytest.raises(ValueError, match=r"device='cuda' but CUDA is not available; use device='auto' or 'cpu'"):
        resolve_device("cuda", owner="X")
    with pytest.raises(ValueError, match=r"ImageFeatureExtractor was given device='cuda:0'"):
        ImageFeatureExtractor("timm:test_resnet", weights="random", device="cuda:0", num_workers=0).fit(images)
    with pytest.raises(ValueError, match=r"TextFeatureExtractor was given device='cuda'"):
        TextFeatureExtractor(device="cuda").fit(["a text"])


def test_auto_device_falls_back_to_the_cpu(no_cuda, monkeypatch, tiny, images):
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto", owner="X") == torch.device("cpu")
    assert tiny().fit(images).device_ == "cpu"


def test_auto_precision_is_fp32_on_the_cpu_and_bf16_or_fp16_on_cuda(monkeypatch):
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("auto", cpu, owner="X") == torch.float32
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert resolve_precision("auto", cuda, owner="X") == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_precision("auto", cuda, owner="X") == torch.float16
    expected = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    for name, dtype in expected.items():
        assert resolve_precision(name, cpu, owner="X") == dtype
    with pytest.raises(ValueError, match=r"X: precision must be one of .*got 'fp64'"):
        resolve_precision("fp64", cpu, owner="X")


def test_runtime_autocast_and_auto_batch_sizes():
    runtime = resolve_runtime("cpu", "bf16", True, owner="X")
    assert runtime.channels_last and not runtime.is_cuda
    with runtime.autocast():
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
    with CPU.autocast():
        assert not torch.is_autocast_enabled("cpu")
    assert resolve_batch_size("auto", CPU, "image") == 16 and resolve_batch_size("auto", CPU, "text") == 32
    assert resolve_batch_size(5, CPU, "image") == 5
    cuda = Runtime(torch.device("cuda"), torch.bfloat16)
    assert resolve_batch_size("auto", cuda, "image") == 512 and resolve_batch_size("auto", cuda, "text") == 1024


def test_bf16_on_the_cpu_is_close_to_fp32(tiny, images):
    fp32 = tiny("timm:test_resnet").fit(images).transform(images)
    bf16 = tiny("timm:test_resnet", precision="bf16", device="cpu").fit(images).transform(images)
    assert bf16.dtype == np.float32 and not np.array_equal(bf16, fp32)
    cosine = (bf16 * fp32).sum(1) / np.linalg.norm(bf16, axis=1) / np.linalg.norm(fp32, axis=1)
    assert (cosine > 0.99).all()


# -- prefetching (used on CUDA; plain threads, so tested here) -----------------------------
def _prefetch_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "sktransfer-prefetch"]


def test_prefetch_keeps_order_and_forwards_errors():
    assert list(prefetch(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield from range(3)
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for item in prefetch(failing()):
            seen.append(item)
    assert seen == [0, 1, 2]


def test_prefetch_stops_its_thread_when_the_consumer_stops():
    import itertools

    produced = []

    def endless():
        for i in itertools.count():
            produced.append(i)
            yield i

    it = prefetch(endless(), depth=2)
    assert [next(it), next(it)] == [0, 1]
    it.close()
    assert _prefetch_threads() == [] and len(produced) <= 6


# -- out-of-memory backoff -------------------------------------------------------------------
class _FitsAtMost:
    """A forward pass that runs out of CUDA memory on more than ``k`` rows."""

    def __init__(self, k, error=None):
        self.k, self.sizes = k, []
        self.error = error or torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    def __call__(self, batch):
        rows = len(next(iter(batch.values()))) if isinstance(batch, dict) else len(batch)
        self.sizes.append(rows)
        if rows > self.k:
            raise self.error
        x = batch["x"] if isinstance(batch, dict) else batch
        return torch.stack([x.sum(1), x.max(1).values], dim=1)


def test_batch_runner_halves_on_oom_and_returns_the_full_result():
    x = torch.arange(60, dtype=torch.float32).reshape(20, 3)
    expected = BatchRunner(_FitsAtMost(100), CPU, 64, owner="X")(x)
    forward = _FitsAtMost(3)
    runner = BatchRunner(forward, CPU, 16, owner="X")
    np.testing.assert_array_equal(runner(x), expected)
    assert expected.shape == (20, 2) and expected.dtype == np.float32
    assert forward.sizes[:3] == [16, 8, 4] and set(forward.sizes[3:]) <= {1, 2}
    assert runner.batch_size == 2 and runner.n_backoffs == 3
    assert sum(s for s in forward.sizes if s <= 3) == 20  # every row computed exactly once


def test_batch_runner_backoff_starts_from_the_rows_it_actually_had():
    forward = _FitsAtMost(2)
    BatchRunner(forward, CPU, 64, owner="X")(torch.ones(5, 3))
    assert forward.sizes[:3] == [5, 2, 2]  # 5 rows failed: retry with 5 // 2, not 64 // 2


def test_batch_runner_treats_runtime_errors_saying_out_of_memory_as_oom():
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert is_out_of_memory(torch.cuda.OutOfMemoryError("x"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    forward = _FitsAtMost(4, error=RuntimeError("CUDA error: out of memory"))
    out = BatchRunner(forward, CPU, 8, owner="X")(torch.ones(8, 3))
    assert out.shape == (8, 2) and forward.sizes == [8, 4, 4]


def test_batch_runner_gives_up_at_batch_size_one():
    forward = _FitsAtMost(0)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        BatchRunner(forward, CPU, 4, owner="X")(torch.ones(3, 3))
    assert forward.sizes == [3, 1]


def test_batch_runner_does_not_retry_other_errors():
    forward = _FitsAtMost(0, error=ValueError("a real bug"))
    with pytest.raises(ValueError, match="a real bug"):
        BatchRunner(forward, CPU, 8, owner="X")(torch.ones(8, 3))
    assert forward.sizes == [8]


def test_batch_runner_slices_dicts_of_tensors():
    batch = {"x": torch.arange(30.0).reshape(10, 3), "mask": torch.ones(10, 3)}
    forward = _FitsAtMost(3)
    out = BatchRunner(forward, CPU, 10, owner="X")(batch)
    np.testing.assert_array_equal(out, BatchRunner(_FitsAtMost(10), CPU, 10, owner="X")(batch))


def _oom_above(monkeypatch, backbone, k):
    """Make ``backbone.features`` run out of memory on batches of more than ``k`` rows."""
    real, sizes = backbone.features, []

    def features(x, *args, **kwargs):
        rows = len(x["input_ids"]) if isinstance(x, dict) else len(x)
        sizes.append(rows)
        if rows > k:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(x, *args, **kwargs)

    monkeypatch.setattr(backbone, "features", features)
    return sizes


def test_image_extractor_survives_oom_with_the_same_features(tiny, backbone_of, monkeypatch, caplog):
    from .conftest import make_images

    x = make_images(6, 40, 40, seed=7)
    ext = tiny("timm:test_resnet", batch_size=8).fit(x)
    expected = ext.transform(x)
    sizes = _oom_above(monkeypatch, backbone_of("timm:test_resnet"), 2)
    with caplog.at_level(logging.INFO, logger="sktransfer.deep._runtime"):
        out = ext.transform(x)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert sizes[0] == 6 and max(sizes[1:]) <= 3 and sum(s for s in sizes if s <= 2) == 6
    assert "ImageFeatureExtractor: out of memory; batch size lowered to 3" in caplog.text


def test_text_extractor_survives_oom_with_the_same_features(backbone_of, monkeypatch):
    texts = ["one", "two words", "three words here", "and a fourth, longer text", "five"]
    ext = TextFeatureExtractor(batch_size=8).fit(texts)
    expected = ext.transform(texts)
    sizes = _oom_above(monkeypatch, backbone_of("all-MiniLM-L6-v2", "pretrained", "text"), 1)
    np.testing.assert_allclose(ext.transform(texts), expected, rtol=1e-4, atol=1e-5)
    assert sizes[0] == 5 and sum(s for s in sizes if s == 1) == 5


def test_extractor_propagates_errors_that_are_not_oom(tiny, backbone_of, monkeypatch, images):
    ext = tiny("timm:test_resnet").fit(images)

    def broken(*args, **kwargs):
        raise RuntimeError("expected input with 3 channels")

    monkeypatch.setattr(backbone_of("timm:test_resnet"), "features", broken)
    with pytest.raises(RuntimeError, match="expected input with 3 channels"):
        ext.transform(images)
