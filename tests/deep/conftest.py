"""Shared fixtures of the deep tests (every wing's folder): tiny images, image files, tiny backbones.

Everything runs on the CPU with the offline default weights or timm's ``test_*``
models (random weights, 160x160 input), a handful of rows and no DataLoader
workers unless a test is about them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

if any(importlib.util.find_spec(m) is None for m in ("torch", "torchvision", "timm", "transformers")):
    # A partial install (torch but not timm, ...): only the import-error tests can run.
    # Without torch at all the root conftest.py leaves this folder out.
    _here = Path(__file__).parent
    collect_ignore = [str(p.relative_to(_here)) for p in _here.rglob("test_*.py")
                      if p.name != "test_optional_dependency.py"]

TINY = "timm:test_efficientnet"


def make_images(n: int, height: int, width: int, seed: int) -> np.ndarray:
    """``n`` smooth colour images (gradients plus a square), uint8 NxHxWx3."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
    out = np.empty((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        a, b, c = rng.uniform(0.2, 1.0, 3)
        img = np.stack([a * yy, b * xx, c * (1 - yy) * xx], axis=-1)
        top, left = rng.integers(0, height // 2), rng.integers(0, width // 2)
        img[top:top + height // 3, left:left + width // 3] = rng.uniform(0, 1, 3)
        img = img + rng.normal(0, 0.03, img.shape)
        out[i] = np.clip(np.round(img * 255), 0, 255).astype(np.uint8)
    return out


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """One intra-op thread: tiny models gain nothing from more, and on a loaded
    machine a thread pool waiting on a descheduled peer runs 10-100x slower."""
    try:
        import torch
    except ImportError:
        yield
        return
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def images() -> np.ndarray:
    """Three 40x52 RGB images: not the input size, so they go through the PIL resize."""
    return make_images(3, 40, 52, seed=0)


@pytest.fixture
def tiny():
    """A factory of ImageFeatureExtractor over a tiny random timm model, decoding in-process."""
    from sktransfer.deep import ImageFeatureExtractor

    def make(backbone=TINY, **params):
        params.setdefault("weights", "random")
        params.setdefault("num_workers", 0)
        return ImageFeatureExtractor(backbone, **params)

    return make


@pytest.fixture
def backbone_of():
    """The shared (cached) Backbone object an extractor with these params uses."""
    from sktransfer.deep._backbones._registry import resolve_backbone

    def get(spec=TINY, weights="random", modality="image"):
        return resolve_backbone(spec, weights, modality, owner="test")

    return get


@pytest.fixture
def fresh_backbone_cache(monkeypatch):
    """An empty backbone cache for this test only; the shared one is restored after."""
    from collections import OrderedDict

    from sktransfer.deep._backbones import _registry

    monkeypatch.setattr(_registry, "_cache", OrderedDict())
    return _registry


@pytest.fixture
def images160() -> tuple[np.ndarray, np.ndarray]:
    """Eight 160x160 images (the tiny timm models' input size: no resize) and two balanced labels."""
    return make_images(8, 160, 160, seed=3), np.array([0, 1] * 4)


@pytest.fixture
def train_recorder(monkeypatch):
    """Swap the fine-tuning loop for one whose epoch-end hook records, per epoch, which parameters
    could train (``requires_grad``), and, per fit, the optimiser's groups as built and the loss.

    Returns a dict with ``epochs`` (list of {"body": set of names, "head": bool}), ``groups`` (list of
    lists of {"name", "lr", "weight_decay", "params"}), ``optimizer_kwargs`` and ``loops``.
    """
    from dataclasses import dataclass

    from sktransfer.deep._finetune import _base, _training

    seen: dict = {"epochs": [], "groups": [], "optimizer_kwargs": [], "loops": []}

    @dataclass
    class RecordingLoop(_training.Loop):
        def __post_init__(self) -> None:
            self.on_epoch_end.append(self._record)
            seen["loops"].append(self)

        def _record(self, record: dict) -> bool:
            body = dict(self.model.body.named_parameters())
            seen["epochs"].append({"body": {n for n, p in body.items() if p.requires_grad},
                                   "head": all(p.requires_grad for p in self.model.head.parameters()),
                                   "record": dict(record)})
            return False

    def make_optimizer(groups, **kwargs):
        # Read before the scheduler scales the learning rates in place.
        seen["groups"].append([{"name": g["name"], "lr": g["lr"], "weight_decay": g.get("weight_decay"),
                                "params": list(g["params"])} for g in groups])
        seen["optimizer_kwargs"].append(kwargs)
        return _training.make_optimizer(groups, **kwargs)

    monkeypatch.setattr(_base, "Loop", RecordingLoop)
    monkeypatch.setattr(_base, "make_optimizer", make_optimizer)
    return seen
