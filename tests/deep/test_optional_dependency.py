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
