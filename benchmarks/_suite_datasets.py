"""The datasets of the benchmark suite: tasks, protocol, published numbers.

Every dataset follows the "full" protocol of the tables it reproduces
(PUBLISHED.md (H) 2): all source rows labelled, all target rows unlabelled
during adaptation, accuracy on every target row. Preprocessing is per domain
and is the one of the code behind those tables; each is pinned by a
deterministic 1-NN baseline that must match the published "1NN" column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["DATASETS", "Dataset"]


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset: how to load a task, and what was published for it."""

    name: str
    tasks: tuple[tuple[str, str], ...]
    load: Callable  # (data_home, source, target) -> Xs, ys, Xt, yt
    protocol: str
    published_source: str = ""
    #: table row -> {task name: accuracy (%)}, as printed in PUBLISHED.md. The
    #: baselines and TCA are 1-NN columns (JDA-style tables); the CORAL column
    #: comes from CORAL's own linear-SVM code (benchmarks/alignment.py shows it).
    published: dict = field(default_factory=dict)
    #: tasks run by --quick
    quick_tasks: int = 1

    def task_name(self, source: str, target: str) -> str:
        return f"{source}->{target}"


def _office_loader(features: str, preprocess: str):
    def load(data_home, s, t):
        from sktransfer.datasets import fetch_office_caltech

        (Xs, ys), (Xt, yt) = fetch_office_caltech((s, t), features=features, preprocess=preprocess,
                                                  data_home=data_home, download_if_missing=False,
                                                  return_X_y=True)
        return Xs, ys, Xt, yt

    return load


def _pair_loader(fetch_name: str, names: dict):
    def load(data_home, s, t):
        import sktransfer.datasets as datasets
        from sktransfer.datasets._office_caltech import _l2_rows  # the loaders' own row normalisation

        fetch = getattr(datasets, fetch_name)
        (Xs, ys), (Xt, yt) = fetch((names[s], names[t]), data_home=data_home, download_if_missing=False,
                                   return_X_y=True)
        return _l2_rows(np.asarray(Xs, float)), ys, _l2_rows(np.asarray(Xt, float)), yt

    return load


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
        }),
    ),
    "office_caltech_decaf": Dataset(
        name="Office-Caltech10 DeCAF6 (4096-d; only D and W are public)",
        tasks=(("W", "D"), ("D", "W")),
        load=_office_loader("decaf", "l2"),
        protocol="each row L2-normalised (the usual preprocessing of deep features)",
        published_source="PUBLISHED.md (B): MEDA, ACM MM 2018, Table 4",
        published=_published((("W", "D"), ("D", "W")), {
            "NA (1-NN)": [98.1, 91.5], "NA (SVM)": [100.0, 98.3], "TCA (1-NN)": [100.0, 99.7], "CORAL (SVM)": [100.0, 99.3],
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
        }),
    ),
    "coil20": Dataset(
        name="COIL20 (JDA release, 32x32 = 1024-d)",
        tasks=(("1", "2"), ("2", "1")),
        load=_pair_loader("fetch_coil20", {"1": "coil1", "2": "coil2"}),
        protocol="each row L2-normalised (JDA code)",
        published_source="none verified (PUBLISHED.md (C) notes)",
    ),
}
