"""Cross-checks against skada (a reference implementation), where it is installed.

Importing skada switches scikit-learn's metadata routing on for the whole
process, which would make the routing-off tests of this suite test nothing, so
skada only ever runs in a subprocess here.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from sktransfer.alignment import CORAL, SubspaceAlignment

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("skada") is None, reason="skada is not installed"
)

_SCRIPT = """
import json, sys
import numpy as np
import skada
X = np.array(json.loads(sys.argv[1])); sd = np.array(json.loads(sys.argv[2]))
coral = skada.CORALAdapter(reg=None).fit_transform(X, None, sample_domain=sd)
sa = skada.SubspaceAlignmentAdapter(n_components=3).fit_transform(X, None, sample_domain=sd)
print(json.dumps({"coral": np.asarray(coral).tolist(), "sa": np.asarray(sa).tolist()}))
"""


@pytest.fixture(scope="module")
def skada_outputs():
    rng = np.random.default_rng(0)
    n = 80  # same size per domain: skada's covariances divide by n, ours by n - 1
    Xs = rng.normal(size=(n, 5)) @ rng.normal(size=(5, 5))
    Xt = rng.normal(size=(n, 5)) @ rng.normal(size=(5, 5)) + 2.0
    X = np.vstack([Xs, Xt])
    sd = np.r_[np.ones(n, int), np.full(n, -2)]
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, json.dumps(X.tolist()), json.dumps(sd.tolist())],
        capture_output=True, text=True, check=True,
    )
    out = json.loads(proc.stdout)
    return X, sd, {k: np.array(v) for k, v in out.items()}


def test_coral_matches_skada(skada_outputs):
    """skada centres each domain and does not add the target mean back; ours
    moves source rows to the target mean and leaves target rows as they are.
    Up to that translation of every row the maps agree."""
    X, sd, ref = skada_outputs
    ours = CORAL(reg=0.0).fit_transform(X, sample_domain=sd)
    shift = X[sd < 0].mean(axis=0)
    np.testing.assert_allclose(ours - shift, ref["coral"], rtol=1e-7, atol=1e-7)


def test_subspace_alignment_matches_skada(skada_outputs):
    X, sd, ref = skada_outputs
    ours = SubspaceAlignment(n_components=3).fit_transform(X, sample_domain=sd)
    np.testing.assert_allclose(ours, ref["sa"], rtol=1e-7, atol=1e-7)
