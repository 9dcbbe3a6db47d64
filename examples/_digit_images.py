"""Digit images for the deep-transfer examples: MNIST -> USPS, or the bundled 8x8 digits.

``load_digit_domains(data_home)`` returns two domains of grey digit images as
float arrays in [0, 1] (N x H x W, ink bright on black), ready for
``ImageFeatureExtractor`` (which resizes them to the backbone's 224 x 224 input
and repeats the grey channel three times) and, flattened, for a pixel model:

- With ``<data_home>/mnist_usps/MNIST_vs_USPS.mat`` (the 16 x 16 MNIST and
  USPS digits of Long et al.'s JDA release, ICCV 2013; see ``SOURCES.md`` in
  the shared data folder): source = 2,000 MNIST digits, target = 1,800 USPS
  digits. The file stores one image per *column*, row-major, labels 1..10 for
  the digits 0..9; the images were checked upright by rendering them.
- Without it (a clean clone, where ``../shared/data`` does not exist):
  scikit-learn's bundled 8 x 8 digits through
  :func:`sktransfer.datasets.load_digits_shift` (source = the even-index
  images, target = the odd-index ones blurred, moved half a pixel and with
  more contrast), divided by 16.

Either way a black border (2 pixels on 16 x 16, 1 on 8 x 8) is added, so that
the centre crop of the extractor's resize (224 of 256 pixels) cuts background,
not strokes.

Run ``python examples/_digit_images.py [--data-home DIR]`` to print what it finds.
"""

from __future__ import annotations

import argparse
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: ``--data-home`` default: the shared data folder next to the repository.
DEFAULT_DATA_HOME = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MNIST_USPS = Path("mnist_usps") / "MNIST_vs_USPS.mat"
MNIST_USPS_SHA256 = "2b87e5a793e77826417e6c483e0850d6666c9746717bce2561db43f3f30efd4d"


@dataclass
class DigitDomains:
    """Source and target digit images (N x H x W floats in [0, 1]) and their labels 0-9."""

    X_source: np.ndarray
    y_source: np.ndarray
    X_target: np.ndarray
    y_target: np.ndarray
    source_name: str
    target_name: str
    description: str


def _pad(images: np.ndarray, width: int) -> np.ndarray:
    return np.pad(images, ((0, 0), (width, width), (width, width)))


def load_digit_domains(data_home: str | Path | None = DEFAULT_DATA_HOME) -> DigitDomains:
    """MNIST -> USPS from ``data_home`` if the file is there, else the bundled digits shift."""
    path = None if data_home is None else Path(data_home).expanduser() / MNIST_USPS
    if path is not None and path.is_file():
        from scipy.io import loadmat

        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != MNIST_USPS_SHA256:
            raise ValueError(f"{path} has sha256 {digest}, not the JDA release's {MNIST_USPS_SHA256}.")
        mat = loadmat(path)

        def images(key: str) -> np.ndarray:  # columns are images, each stored row by row
            return _pad(mat[key].T.reshape(-1, 16, 16).astype(np.float32), 2)

        return DigitDomains(
            images("X_src"), mat["Y_src"].ravel().astype(int) - 1,
            images("X_tar"), mat["Y_tar"].ravel().astype(int) - 1,
            "MNIST", "USPS", f"MNIST -> USPS, 16x16 digits from {path}",
        )
    from sktransfer.datasets import load_digits_shift

    data = load_digits_shift()
    source = data.sample_domain > 0
    imgs = _pad((data.images / 16.0).astype(np.float32), 1)
    where = "no --data-home" if path is None else f"{path} not found"
    return DigitDomains(
        imgs[source], data.target_true[source], imgs[~source], data.target_true[~source],
        "digits", "shifted digits",
        f"scikit-learn's 8x8 digits -> blurred, shifted copies (load_digits_shift; {where})",
    )


def per_class(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of ``n`` rows of each class of ``y`` (all of a class if it has fewer)."""
    picks = [rng.permutation(np.flatnonzero(y == c))[:n] for c in np.unique(y)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DEFAULT_DATA_HOME))
    args = parser.parse_args()
    d = load_digit_domains(args.data_home)
    print(d.description)
    for name, X, y in ((d.source_name, d.X_source, d.y_source), (d.target_name, d.X_target, d.y_target)):
        print(f"{name}: {X.shape[0]} images of {X.shape[1]}x{X.shape[2]}, per class {np.bincount(y).tolist()}")


if __name__ == "__main__":
    main()
