"""PyTorch is optional: importing sktransfer.deep never imports it, and using an
extractor without it raises an ImportError saying what to install.

These tests also run where the ``[torch]`` extra is missing; there the blocked
import below is the real one.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from sktransfer.deep import ImageFeatureExtractor, TextFeatureExtractor
from sktransfer.deep._torch import import_optional, import_torch

HINT = "pip install 'sktransfer[torch]'"


def test_importing_the_package_does_not_import_torch():
    code = ("import sys, sktransfer.deep; "
            "print(sorted(m for m in ('torch', 'timm', 'torchvision', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.fixture
def no_torch(monkeypatch):
    """Make ``import torch`` (and timm, transformers) fail as if the extra were not installed."""
    for name in ("torch", "timm", "timm.data", "torchvision", "transformers"):
        monkeypatch.setitem(sys.modules, name, None)


def test_import_torch_names_the_caller_and_the_extra(no_torch):
    with pytest.raises(ImportError, match=r"MyEstimator needs torch") as info:
        import_torch("MyEstimator")
    assert HINT in str(info.value)
    with pytest.raises(ImportError, match=r"backbone 'timm:x' needs timm") as info:
        import_optional("timm.data", needed_by="backbone 'timm:x'")
    assert HINT in str(info.value)


@pytest.mark.parametrize(
    "extractor, X",
    [
        (ImageFeatureExtractor(num_workers=0), np.zeros((2, 8, 8, 3), dtype=np.uint8)),
        (TextFeatureExtractor(), ["a text", "another"]),
    ],
    ids=["image", "text"],
)
def test_fit_without_torch_raises_the_install_hint(no_torch, extractor, X):
    with pytest.raises(ImportError, match=type(extractor).__name__) as info:
        extractor.fit(X)
    assert HINT in str(info.value)


@pytest.fixture
def tensorflow_symbols_global(monkeypatch):
    """A process where TensorFlow >= 2.20 put its symbols in the global table and Triton is installed, not imported.

    Restores ``sys.modules["triton"]`` whatever the guard does to it.
    """
    import importlib.util
    import types

    from sktransfer.deep import _torch

    monkeypatch.setitem(sys.modules, _torch._TF_GLOBAL_SYMBOLS, types.ModuleType(_torch._TF_GLOBAL_SYMBOLS))
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "triton" else find_spec(name, *a))
    saved = sys.modules.pop("triton", "absent")
    yield
    sys.modules.pop("triton", None)
    if saved != "absent":
        sys.modules["triton"] = saved


def test_triton_is_blocked_beside_tensorflow_with_a_warning(tensorflow_symbols_global):
    """TensorFlow >= 2.20 loads its LLVM globally, and Triton imported after it crashes the process
    (tensorflow/tensorflow#124205): torch imports Triton lazily, so an extractor or a fine-tune after
    ``import tensorflow`` (ADAPT imports it) died with a segmentation fault. The guard blocks Triton."""
    from sktransfer.deep._torch import block_triton_beside_tensorflow

    with pytest.warns(RuntimeWarning, match="blocked the Triton import"):
        assert block_triton_beside_tensorflow()
    assert "triton" in sys.modules and sys.modules["triton"] is None
    with pytest.raises(ImportError):
        import triton  # noqa: F401
    assert not block_triton_beside_tensorflow()  # once a process


def test_triton_is_left_alone_without_tensorflow(monkeypatch):
    from sktransfer.deep import _torch

    monkeypatch.delitem(sys.modules, _torch._TF_GLOBAL_SYMBOLS, raising=False)
    before = sys.modules.get("triton", "absent")
    assert not _torch.block_triton_beside_tensorflow()
    assert sys.modules.get("triton", "absent") is before


@pytest.mark.slow
def test_an_extractor_after_tensorflow_runs():
    """The real crash, in a subprocess (it killed the process before the guard): needs TensorFlow."""
    pytest.importorskip("tensorflow")
    code = ("import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow; import numpy as np; "
            "from sktransfer.deep import ImageFeatureExtractor; "
            "print(ImageFeatureExtractor().fit_transform(np.zeros((2, 32, 32, 3), 'float32')).shape)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().endswith("(2, 1280)")
