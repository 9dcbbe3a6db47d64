"""Sharp labelled source, corrupted unlabelled target: the layer-selection cases.

COIL20 (JDA release, ``../shared/data/coil20``): source COIL1 (720 sharp
32x32 grey images of 20 objects), target COIL2 (the other 720 poses),
Gaussian-blurred (``scipy.ndimage.gaussian_filter``, sigma in pixels of the
32x32 image) or with additive Gaussian noise. MNIST->USPS (JDA release,
``../shared/data/mnist_usps``, 16x16): a class-stratified sample of each
domain, the USPS target blurred. A stand-in for the issue's LFW faces with a
blurred target (no LFW offline).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

#: (dataset, corruption, strength) cases; the first of each dataset is the quick run's.
CASES = (
    ("coil20", "blur", 2.0),
    ("coil20", "blur", 1.0),
    ("coil20", "noise", 0.3),
    ("mnist_usps", "blur", 1.0),
    ("mnist_usps", "blur", 0.0),
)
QUICK_CASES = (("coil20", "blur", 2.0), ("mnist_usps", "blur", 1.0))
N_DIGITS = 600  # rows per digits domain


def _images(X: np.ndarray, side: int) -> np.ndarray:
    return X.reshape(-1, side, side)


def _stratified(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    classes = np.unique(y)
    per = n // len(classes)
    rows = [rng.choice(np.flatnonzero(y == c), per, replace=False) for c in classes]
    return np.sort(np.concatenate(rows))


def corrupt(images: np.ndarray, corruption: str, strength: float, seed: int = 0) -> np.ndarray:
    """Blurred (sigma ``strength`` px) or noisy (std ``strength``) copies, clipped to [0, 1]."""
    if strength == 0:
        return images.copy()
    if corruption == "blur":
        return np.stack([gaussian_filter(im, strength) for im in images]).clip(0, 1)
    if corruption == "noise":
        rng = np.random.default_rng(seed)
        return (images + rng.normal(0, strength, images.shape)).clip(0, 1)
    raise ValueError(corruption)


def load_case(dataset: str, corruption: str, strength: float, data_home: str):
    """``(source_images, ys, target_images, yt)``: images (n, H, W) floats in [0, 1]."""
    if dataset == "coil20":
        from sktransfer.datasets import fetch_coil20

        (Xs, ys), (Xt, yt) = fetch_coil20(data_home=data_home, return_X_y=True, download_if_missing=False)
        side = 32
    elif dataset == "mnist_usps":
        from sktransfer.datasets import fetch_mnist_usps

        (Xs, ys), (Xt, yt) = fetch_mnist_usps(data_home=data_home, return_X_y=True, download_if_missing=False)
        rng = np.random.default_rng(0)
        s, t = _stratified(ys, N_DIGITS, rng), _stratified(yt, N_DIGITS, rng)
        Xs, ys, Xt, yt = Xs[s], ys[s], Xt[t], yt[t]
        side = 16
    else:
        raise ValueError(dataset)
    src = _images(np.asarray(Xs, dtype=np.float64), side)
    tgt = corrupt(_images(np.asarray(Xt, dtype=np.float64), side), corruption, strength)
    return src, np.asarray(ys), tgt, np.asarray(yt)
