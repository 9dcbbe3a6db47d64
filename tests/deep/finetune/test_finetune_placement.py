"""Where fine-tuning keeps its inputs and how batches reach the device.

No GPU here: the CUDA decisions are tested with the device's free memory and
pinning mocked, and the paths they pick are run on the CPU, where each must give
the same batches as the plain host path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep import BatchAugmentation
from sktransfer.deep._finetune import _data
from sktransfer.deep._finetune._data import TrainingData, iterate, placement_for
from sktransfer.deep._runtime import Runtime, resolve_runtime, training_runtime

CPU = resolve_runtime("cpu", "fp32", False, owner="test")
CUDA = Runtime(torch.device("cuda"), torch.bfloat16)  # described, never run


def test_placement_follows_the_devices_free_memory(monkeypatch):
    monkeypatch.setattr(_data, "free_device_memory", lambda device: 4000)
    assert placement_for(1000, CUDA) == "device"  # a quarter of the free memory fits
    assert placement_for(1001, CUDA) == "pinned"
    assert placement_for(10**12, CPU) == "host"  # the CPU never asks


def test_channels_last_for_images_only():
    assert training_runtime(CUDA, True).channels_last and training_runtime(CPU, True).channels_last
    assert not training_runtime(CUDA, False).channels_last and not training_runtime(CPU, False).channels_last
    assert training_runtime(CUDA, True).dtype == torch.bfloat16


class _Reader:
    @staticmethod
    def prepare(x, backbone, runtime):
        return x.float()


def _batches(data, runtime=CPU, **kwargs):
    targets = torch.arange(len(data))
    out = list(iterate(data, targets, np.arange(len(data)), 4, runtime, train=True, rng=np.random.RandomState(0),
                       generator=torch.Generator().manual_seed(0), **kwargs))
    return [(x.clone(), t.clone()) for x, t in out]


@pytest.mark.parametrize("kind", ["features", "images"])
def test_pinned_and_device_placements_give_the_host_batches(monkeypatch, kind):
    rng = np.random.default_rng(0)
    if kind == "features":
        inputs, kwargs = rng.normal(size=(10, 3)).astype(np.float32), dict(noise_std=0.3)
    else:
        inputs, kwargs = rng.integers(0, 256, (10, 12, 12, 3)).astype(np.uint8), dict(augment=BatchAugmentation())
    pinned = []
    monkeypatch.setattr(_data, "pin", lambda t: pinned.append(t.shape) or t.clone())

    def placed(where):
        data = TrainingData(kind, inputs.copy(), _Reader())
        data.place(CPU)
        data.placement = where  # what place() picks on CUDA (tested above); its moves are no-ops on the CPU
        return data

    host = _batches(placed("host"), **kwargs)
    for where in ("pinned", "device"):
        got = _batches(placed(where), **kwargs)
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(host, got))
    # rows of the inputs and of the targets stay paired
    expected = inputs[np.concatenate([t.numpy() for _, t in host])]
    if kind == "images":
        assert not np.array_equal(np.concatenate([x.numpy() for x, _ in host]), expected)  # augmented
    else:
        assert np.abs(np.concatenate([x.numpy() for x, _ in host]) - expected).max() < 3  # noise on those rows
    assert pinned == [(4, *inputs.shape[1:])] * 2 + [(2, *inputs.shape[1:])]  # every pinned batch, no other


def test_place_on_cuda_moves_or_pins_the_inputs(monkeypatch):
    moved = []
    monkeypatch.setattr(torch.Tensor, "to", lambda self, *a, **k: moved.append(a) or self)
    monkeypatch.setattr(_data, "pin", lambda t: moved.append("pin") or t)
    monkeypatch.setattr(_data, "free_device_memory", lambda device: 10**9)
    data = TrainingData("features", np.zeros((10, 3), np.float32))
    data.place(CUDA)
    assert data.placement == "device" and moved == [(CUDA.device,)]
    monkeypatch.setattr(_data, "free_device_memory", lambda device: 10)
    data = TrainingData("images", np.zeros((10, 4, 4, 3), np.uint8))
    moved.clear()
    data.place(CUDA)
    assert data.placement == "pinned" and moved == ["pin"]
    texts = TrainingData("texts", ["a", "b"])
    texts.place(CUDA)
    assert texts.placement == "host" and texts.inputs == ["a", "b"]


def test_augmentation_draws_do_not_depend_on_the_models_draws():
    """The batches are made from their own generator (a prefetch thread may make them while the
    model draws its dropout masks from the global one)."""
    x = np.random.default_rng(0).integers(0, 256, (8, 12, 12, 3)).astype(np.uint8)
    data = TrainingData("images", x, _Reader())
    data.place(CPU)
    a = _batches(data, augment=BatchAugmentation())
    torch.manual_seed(123)
    torch.rand(100)
    b = []
    for x_b, t_b in iterate(data, torch.arange(8), np.arange(8), 4, CPU, train=True, rng=np.random.RandomState(0),
                            generator=torch.Generator().manual_seed(0), augment=BatchAugmentation()):
        torch.rand(50)  # the model's dropout between batches
        b.append((x_b, t_b))
    assert all(torch.equal(p[0], q[0]) for p, q in zip(a, b))
