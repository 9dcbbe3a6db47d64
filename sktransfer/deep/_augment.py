"""Training-time augmentation: torchvision v2 for images, Gaussian noise for features."""

from __future__ import annotations

from typing import Any


def default_image_augmentation(size: tuple[int, int]) -> Any:
    """Random resized crop (70-100% of the area), horizontal flip and a mild colour jitter."""
    from torchvision.transforms import v2

    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.7, 1.0), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
    ])


def augment_images(batch: Any, transform: Any) -> Any:
    """Apply ``transform`` to each image of an NxHxWx3 uint8 batch (on its device), independently."""
    import torch

    chw = batch.permute(0, 3, 1, 2)
    return torch.stack([transform(img) for img in chw]).permute(0, 2, 3, 1).contiguous()


def add_feature_noise(x: Any, std: float) -> Any:
    """Gaussian noise scaled by each feature's batch standard deviation."""
    import torch

    if not std:
        return x
    scale = x.std(dim=0, keepdim=True) if len(x) > 1 else torch.ones_like(x)
    return x + std * scale * torch.randn_like(x)
