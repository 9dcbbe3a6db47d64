"""Sanity of the benchmark's Office-Caltech10 SURF loader on the real files.

Runs only where the shared data folder sits beside the checkout (as in CI).
Reference: PUBLISHED.md (A), MEDA (ACM MM 2018) Table 2, column "1NN": a
1-nearest-neighbour classifier is deterministic, so the loader must reproduce
it exactly, which pins down the files and the preprocessing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from benchmarks._office_caltech import TASKS, load_surf_domain, task_name

DATA_HOME = Path(__file__).resolve().parents[2] / "shared" / "data"
pytestmark = pytest.mark.skipif(
    not (DATA_HOME / "office_caltech10_surf").is_dir(), reason="shared data folder not present"
)

PUBLISHED_1NN = [23.7, 25.8, 25.5, 26.0, 29.8, 25.5, 19.9, 23.0, 59.2, 26.3, 28.5, 63.4]


def test_one_nn_reproduces_the_published_column():
    data = {d: load_surf_domain(DATA_HOME, d) for d in "ACDW"}
    got = []
    for s, t in TASKS:
        (Xs, ys), (Xt, yt) = data[s], data[t]
        got.append(100 * np.mean(KNeighborsClassifier(1).fit(Xs, ys).predict(Xt) == yt))
    assert [round(a, 1) for a in got] == PUBLISHED_1NN, dict(zip(map(lambda p: task_name(*p), TASKS), got))
    assert round(float(np.mean(got)), 1) == 31.4


def test_bad_checksum_and_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="office_caltech10_surf"):
        load_surf_domain(tmp_path, "A")
    folder = tmp_path / "office_caltech10_surf"
    folder.mkdir()
    (folder / "amazon_SURF_L10.mat").write_bytes(b"not the file")
    with pytest.raises(ValueError, match="sha256 mismatch"):
        load_surf_domain(tmp_path, "A")
