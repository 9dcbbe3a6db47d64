"""BatchAugmentation: per-image random crops, flips and colour jitter applied to a whole batch.

Cross-checked against torchvision's own functional transforms (``resized_crop``,
``adjust_brightness``, ``adjust_contrast``, ``adjust_saturation``) with the same
parameters: the batched version must compute what torchvision computes image by image.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.transforms.v2 import functional as TF

from sktransfer.deep import BatchAugmentation
from sktransfer.deep._finetune._augment import (
    JitterParams,
    add_feature_noise,
    adjust_colours,
    apply_jitter,
    augment_images,
)


def _images(n=4, h=40, w=48, seed=0):
    return torch.randint(0, 256, (n, h, w, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _params(n, box, flip=False, b=1.0, c=1.0, s=1.0):
    ones = torch.ones(n)
    return JitterParams(torch.tensor([box] * n, dtype=torch.float32), torch.full((n,), flip), b * ones, c * ones,
                        s * ones)


def test_the_whole_image_unflipped_and_unjittered_is_unchanged():
    x = _images()
    assert torch.equal(apply_jitter(x, _params(4, (0, 0, 40, 48))), x)


def test_a_flip_is_torch_flip():
    x = _images()
    assert torch.equal(apply_jitter(x, _params(4, (0, 0, 40, 48), flip=True)), x.flip(2))


@pytest.mark.parametrize("box", [(5, 7, 30, 33), (0, 0, 36, 40), (3.0, 9.0, 37, 39)])
def test_a_crop_is_torchvisions_bilinear_resized_crop(box):
    """Inside a one-pixel margin the resampling is torchvision's to the rounding of uint8; at the crop's
    edges torchvision clamps to the crop and we read the pixel next to it (it is in the image)."""
    x = _images()
    ours = apply_jitter(x, _params(4, box)).permute(0, 3, 1, 2).float()
    ref = TF.resized_crop(x.permute(0, 3, 1, 2).float(), *[int(v) for v in box], size=[40, 48], antialias=False)
    inner = (ours - ref)[:, :, 2:-2, 2:-2].abs()
    assert inner.max() <= 0.5 + 1e-3  # float32 grid coordinates
    assert (ours - ref).abs().mean() < 2.0


def test_colours_are_torchvisions_adjustments_in_order():
    x = _images().permute(0, 3, 1, 2).float() / 255
    b, c, s = torch.tensor([0.8, 1.1, 1.2, 0.9]), torch.tensor([1.15, 0.85, 1.0, 1.2]), torch.tensor([0.8, 1.2, 0.95, 1.1])
    ours = adjust_colours(x * 255, b, c, s) / 255
    ref = torch.stack([TF.adjust_saturation(TF.adjust_contrast(TF.adjust_brightness(x[i], float(b[i])), float(c[i])),
                                            float(s[i])) for i in range(4)])
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


def test_draws_are_per_image_within_their_ranges():
    aug = BatchAugmentation(scale=(0.3, 0.7), ratio=(0.8, 1.25), flip=0.3, brightness=0.1, contrast=0.3,
                            saturation=0.0)
    p = aug.draw(4000, (60, 60), "cpu", torch.Generator().manual_seed(0))
    top, left, h, w = p.boxes.unbind(1)
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 60 + 1e-4).all() and (left + w <= 60 + 1e-4).all()
    share = h * w / 3600
    assert share.min() >= 0.3 - 1e-5 and share.max() <= 0.7 + 1e-5
    assert abs(float(share.mean()) - 0.5) < 0.01  # uniform on [0.3, 0.7]: every draw fits at its first try
    assert (w / h).min() >= 0.8 - 1e-5 and (w / h).max() <= 1.25 + 1e-5
    assert abs(float(p.flip.float().mean()) - 0.3) < 0.03
    assert p.brightness.min() >= 0.9 and p.brightness.max() <= 1.1 and p.contrast.max() > 1.25
    assert (p.saturation == 1).all()
    assert len(torch.unique(share)) > 3990  # every image its own crop (float32 ties aside)


def test_a_crop_that_never_fits_falls_back_to_the_whole_image():
    # a 10-20x wider than tall crop covering most of a square image cannot fit: torchvision keeps the image
    p = BatchAugmentation(scale=(0.9, 1.0), ratio=(10, 20)).draw(5, (30, 30), "cpu", torch.Generator().manual_seed(0))
    torch.testing.assert_close(p.boxes, torch.tensor([[0.0, 0.0, 30.0, 30.0]] * 5))


def test_the_same_generator_seed_gives_the_same_batch():
    x, aug = _images(8), BatchAugmentation()
    a = aug(x, generator=torch.Generator().manual_seed(3))
    b = aug(x, generator=torch.Generator().manual_seed(3))
    c = aug(x, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and a.dtype == torch.uint8


@pytest.mark.parametrize("kwargs", [dict(scale=(0.0, 1.0)), dict(scale=(0.9, 0.5)), dict(ratio=(2.0, 1.0)),
                                    dict(flip=1.5), dict(brightness=1.0), dict(saturation=-0.1)])
def test_bad_ranges_raise(kwargs):
    with pytest.raises(ValueError, match="BatchAugmentation"):
        BatchAugmentation(**kwargs)


@pytest.mark.parametrize("batch, error, match", [
    (np.zeros((2, 8, 8, 3), np.uint8), TypeError,
     r"BatchAugmentation expects a torch\.Tensor of uint8 images .* got a numpy\.ndarray\. .*torch\.from_numpy"),
    (torch.rand(2, 8, 8, 3), TypeError, r"got dtype torch\.float32\. Convert images in \[0, 1\] with"),
    (torch.full((2, 8, 8, 3), float("nan")), TypeError, r"got dtype torch\.float32.*NaN pixels"),
    (torch.zeros((8, 8, 3), dtype=torch.uint8), ValueError, r"got shape \(8, 8, 3\): add the batch axis"),
    (torch.zeros((2, 3, 8, 8), dtype=torch.uint8), ValueError,
     r"got shape \(2, 3, 8, 8\): put the channels last: batch\.permute\(0, 2, 3, 1\)"),
    (torch.zeros((2, 8, 8, 1), dtype=torch.uint8), ValueError, r"got shape \(2, 8, 8, 1\): pass RGB images"),
], ids=["numpy", "float", "NaN float", "one image", "channels first", "one channel"])
def test_a_batch_that_is_not_uint8_nhwc_rgb_is_refused(batch, error, match):
    """A float batch used to come back as uint8, channels first were jittered as if channels last,
    and the rest failed inside torch (AttributeError, RuntimeError, IndexError)."""
    with pytest.raises(error, match=match):
        BatchAugmentation()(batch, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("shape", [(0, 16, 16, 3), (2, 0, 0, 3)], ids=["no images", "zero-pixel images"])
def test_an_empty_batch_comes_back_unchanged(shape):
    batch = torch.zeros(shape, dtype=torch.uint8)
    out = BatchAugmentation()(batch, generator=torch.Generator().manual_seed(0))
    assert out.shape == batch.shape and out.dtype == torch.uint8 and out is not batch


def test_a_batched_transform_gets_the_batch_and_a_plain_one_each_image():
    x = _images(3)
    calls = []

    class Batched:
        batched = True

        def __call__(self, batch, generator=None):
            calls.append(tuple(batch.shape))
            return batch

    augment_images(x, Batched())
    augment_images(x, lambda img: calls.append(tuple(img.shape)) or img)
    assert calls == [(3, 40, 48, 3)] + [(3, 40, 48)] * 3


def test_feature_noise_comes_from_the_generator():
    x = torch.ones((6, 3)) * torch.arange(6.0)[:, None]
    a = add_feature_noise(x, 0.5, torch.Generator().manual_seed(0))
    torch.rand(10)  # the global generator moving (dropout, say) changes nothing
    b = add_feature_noise(x, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and not torch.equal(a, x)
    np.testing.assert_allclose((a - x).std(0).numpy(), 0.5 * x.std(0).numpy(), rtol=0.8)
    assert add_feature_noise(x, 0.0) is x
