"""CUDA paths (marker ``gpu``, skipped without CUDA): bf16 autocast, JPEG files
decoded on the GPU through the extractor, and features close to the CPU fp32 ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from sktransfer.deep import ImageFeatureExtractor, SkippedItemsWarning, TextFeatureExtractor
from sktransfer.deep._extraction import _image_loader

from .conftest import make_images

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning"),
]


def _cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture
def jpeg_folder(tmp_path):
    """Six JPEGs of assorted sizes, two of them over twice the resize target."""
    shapes = [(300, 400), (224, 224), (180, 260), (600, 520), (97, 150), (256, 300)]
    paths = []
    for i, (h, w) in enumerate(shapes):
        paths.append(str(tmp_path / f"{i}.jpg"))
        Image.fromarray(make_images(1, h, w, seed=i)[0]).save(paths[-1], quality=92)
    return paths


def test_bf16_autocast_on_cuda_is_close_to_cpu_fp32(backbone_of):
    x = make_images(4, 224, 224, seed=0)
    cpu = ImageFeatureExtractor(device="cpu", precision="fp32", num_workers=0).fit(x).transform(x)
    gpu = ImageFeatureExtractor(device="cuda", precision="bf16").fit(x)
    assert gpu.device_.startswith("cuda")
    dtypes = []
    stem = backbone_of("efficientnet_lite0", "pretrained").module.conv_stem
    handle = stem.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    try:
        out = gpu.transform(x)
    finally:
        handle.remove()
    assert dtypes and set(dtypes) == {torch.bfloat16}
    assert out.dtype == np.float32 and (_cosines(out, cpu) > 0.99).all()


def test_auto_precision_on_cuda_is_half_precision():
    from sktransfer.deep._runtime import resolve_runtime

    runtime = resolve_runtime("auto", "auto", True, owner="X")
    assert runtime.is_cuda and runtime.dtype in (torch.bfloat16, torch.float16)


def test_jpeg_files_are_decoded_on_the_gpu_close_to_the_cpu_path(jpeg_folder, monkeypatch):
    cpu = ImageFeatureExtractor(device="cpu", precision="fp32", num_workers=0).fit(jpeg_folder)
    expected = cpu.transform(jpeg_folder)
    real, decoded = _image_loader.decode_jpeg_batch, []

    def spy(datas, config, device):
        decoded.append((len(datas), torch.device(device).type))
        return real(datas, config, device)

    monkeypatch.setattr(_image_loader, "decode_jpeg_batch", spy)
    gpu = ImageFeatureExtractor(device="cuda", batch_size=4).fit(jpeg_folder)
    out = gpu.transform(jpeg_folder)
    assert sum(n for n, _ in decoded) == len(jpeg_folder) and {d for _, d in decoded} == {"cuda"}
    assert (_cosines(out, expected) > 0.99).all(), _cosines(out, expected)


def test_corrupt_jpeg_on_the_gpu_path_is_named_or_skipped(jpeg_folder, tmp_path):
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes(open(jpeg_folder[0], "rb").read()[:300])
    files = jpeg_folder[:2] + [str(bad)] + jpeg_folder[2:3]
    with pytest.raises(ValueError, match=r"truncated\.jpg"):
        ImageFeatureExtractor(device="cuda").fit(files).transform(files)
    with pytest.warns(SkippedItemsWarning, match=r"truncated\.jpg"):
        out = ImageFeatureExtractor(device="cuda", on_error="skip").fit(files).transform(files)
    assert np.isnan(out[2]).all() and np.isfinite(out[[0, 1, 3]]).all()


def test_text_on_cuda_is_close_to_cpu_fp32():
    texts = ["the battery died after a week", "great sound, fast shipping", "ok"]
    cpu = TextFeatureExtractor(device="cpu", precision="fp32").fit(texts).transform(texts)
    gpu = TextFeatureExtractor(device="cuda", precision="bf16").fit(texts).transform(texts)
    assert (_cosines(gpu, cpu) > 0.99).all()


# -- fine-tuning on CUDA ------------------------------------------------------------------------------
def _finetuner(**params):
    from sktransfer.deep import FineTuneClassifier

    params = {"weights": "random", "n_trainable_blocks": 1, "max_epochs": 2, "head_epochs": 0, "batch_size": 4,
              "device": "cuda", "random_state": 0, **params}
    return FineTuneClassifier("timm:test_efficientnet", **params)


def test_finetune_on_cuda_keeps_images_on_the_device_in_bf16_channels_last(images160, monkeypatch):
    from sktransfer.deep._finetune import _data

    X, y = images160
    placed, seen = [], []
    place = _data.TrainingData.place

    def spy(self, runtime):
        place(self, runtime)
        placed.append((self.placement, self.inputs.device.type))

    monkeypatch.setattr(_data.TrainingData, "place", spy)
    clf = _finetuner(augment=True)
    original = clf._train

    def hooked(net, *args, **kwargs):
        stem = net.body.conv_stem
        stem.register_forward_hook(lambda m, i, o: seen.append(
            (i[0].is_contiguous(memory_format=torch.channels_last), o.dtype)))
        return original(net, *args, **kwargs)

    clf._train = hooked
    clf.fit(X, y)
    assert placed == [("device", "cuda")]
    assert seen and all(cl and dtype == torch.bfloat16 for cl, dtype in seen)
    again = _finetuner(augment=True).fit(X, y)
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-4)  # same seed, same device


def test_finetune_on_cuda_from_pinned_memory_matches_the_device_placement(images160, monkeypatch):
    from sktransfer.deep._finetune import _data

    X, y = images160
    on_device = _finetuner().fit(X, y).predict_proba(X)
    monkeypatch.setattr(_data, "DEVICE_SHARE", 0.0)  # nothing fits: pinned host memory, prefetched
    pinned = _finetuner().fit(X, y).predict_proba(X)
    np.testing.assert_allclose(pinned, on_device, atol=1e-3)


def test_batch_augmentation_on_cuda_matches_the_cpu():
    from sktransfer.deep import BatchAugmentation
    from sktransfer.deep._finetune._augment import apply_jitter

    x = torch.randint(0, 256, (16, 64, 64, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    params = BatchAugmentation().draw(16, (64, 64), "cpu", torch.Generator().manual_seed(1))
    cpu = apply_jitter(x, params)
    moved = type(params)(*(getattr(params, f).cuda() for f in ("boxes", "flip", "brightness", "contrast",
                                                                "saturation")))
    gpu = apply_jitter(x.cuda(), moved).cpu()
    assert (gpu.int() - cpu.int()).abs().max() <= 1


def test_partial_fit_on_cuda_keeps_its_optimizer_state_on_the_host(images160):
    X, y = images160
    clf = _finetuner(max_epochs=1)
    clf.partial_fit(X, y, classes=[0, 1])
    clf.partial_fit(X, y)
    tensors = [v for s in clf._optimizer_state["state"].values() for v in s.values() if torch.is_tensor(v)]
    assert tensors and all(t.device.type == "cpu" for t in tensors)
