"""Cross-checks of the domain-adaptation losses against skada's (skada.deep, a reference implementation).

Importing skada switches scikit-learn's metadata routing on for the whole
process, so skada runs in a subprocess on fixed arrays and sends its loss
values back. Where skada's definition differs from the paper's, the test says
how and compares after the conversion:

- Deep CORAL: the same definition (unbiased covariances, / 4 d^2).
- MMD: skada's kernel is exp(-|x - y| / s), on distances, where DAN's is
  exp(-|x - y|^2 / s); in the subprocess ``torch.cdist`` is replaced by squared
  distances, which turns skada's kernel into ours, and skada is given our bandwidths.
- DANN: skada labels source rows 0 and target rows 1 and sums the two domains'
  mean cross-entropies; ours labels source 1 and target 0 and averages them.
  skada gets probabilities sigmoid(-logit) and its loss is halved.
- CDAN: the same map (class-major outer product; for the randomized map, the
  same Gaussian matrices from the seed, drawn source matrix first); skada's
  module is given a network that outputs probabilities, as the paper's g, and
  the loss conversion is DANN's. Entropy conditioning has no skada counterpart.
- MCC: the same weights and normalisation; skada adds 1e-7 inside the
  entropy's logarithm (ours is exact), and does not detach the weights, which
  changes the gradient but not the value.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from sktransfer.deep._adaptation._adversarial import dann_loss
from sktransfer.deep._adaptation._conditional import cdan_loss, random_multilinear_matrices
from sktransfer.deep._adaptation._confusion import mcc_loss
from sktransfer.deep._adaptation._divergence import coral_loss, mmd_loss

from .test_adversarial import linear_discriminator

pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("skada", "skorch", "ot")),
    reason="skada.deep (skada, skorch, POT) is not installed",
)

_SCRIPT = r"""
import json, sys, warnings
from collections import OrderedDict
warnings.filterwarnings("ignore")
import numpy as np
import torch
from skada.deep import losses
from skada.deep._adversarial import CDANLoss, CDANModule, DANNLoss

a = {k: np.asarray(v) for k, v in json.loads(sys.argv[1]).items()}
t = lambda k: torch.tensor(a[k])
out = {"coral": losses.deepcoral_loss(t("fs"), t("ft")).item()}

cdist = torch.cdist
torch.cdist = lambda x, y, p=2.0: cdist(x, y, p=p) ** 2  # squared distances: skada's kernel becomes DAN's
out["mmd"] = losses.dan_loss(t("fs"), t("ft"), sigmas=t("bandwidths")).item()
torch.cdist = cdist

zs, zt = t("fs") @ t("w") + a["b"].item(), t("ft") @ t("w") + a["b"].item()
out["dann"] = DANNLoss()(torch.sigmoid(-zs).float(), torch.sigmoid(-zt).float()).item()  # float32 labels

class Logit(torch.nn.Module):  # skada's CDANModule gives the domain classifier the map; label-swapped probability
    def __init__(self, w, b):
        super().__init__()
        self.w, self.b = torch.tensor(w, dtype=torch.float32), float(b)
    def forward(self, h):
        return torch.sigmoid(-(h @ self.w + self.b))

x = torch.tensor(np.vstack([a["fs"], a["ft"]]), dtype=torch.float32)
ns = len(a["fs"])
for name, max_features, w in (("cdan", 10_000, a["w_outer"]), ("cdan_random", int(a["k"]), a["w_random"])):
    head = torch.nn.Linear(x.shape[1], a["head_w"].shape[0])
    with torch.no_grad():
        head.weight.copy_(torch.tensor(a["head_w"])); head.bias.copy_(torch.tensor(a["head_b"]))
    base = torch.nn.Sequential(OrderedDict(feat=torch.nn.Identity(), head=head, proba=torch.nn.Softmax(dim=1)))
    module = CDANModule(base, "feat", Logit(w, a["b"]), max_features=max_features, random_state=42).train()
    _, domain_pred, features, _, _ = module(x)
    out[name] = CDANLoss()(domain_pred[:ns], domain_pred[ns:], features[:ns], features[ns:]).item()

out["mcc"] = losses.mcc_loss(t("logits"), T=2.5).item()
print(json.dumps(out))
"""


@functools.cache
def _inputs():
    rng = np.random.default_rng(0)
    d, n_classes, k = 3, 2, 4  # d * n_classes = 6 > k: skada switches to its randomized map
    return {
        "fs": rng.normal(size=(6, d)), "ft": rng.normal(size=(6, d)) * 1.5 + 0.5,
        "bandwidths": 1.3 * 2.0 ** (np.arange(5) - 2),
        "w": rng.normal(size=d) * 0.5, "b": np.array(0.2),
        "head_w": rng.normal(size=(n_classes, d)), "head_b": rng.normal(size=n_classes),
        "w_outer": rng.normal(size=d * n_classes) * 0.5, "w_random": rng.normal(size=k) * 0.5, "k": np.array(k),
        "logits": rng.normal(size=(8, 4)) * 2,
    }


@pytest.fixture(scope="module")
def skada_values():
    payload = json.dumps({key: value.tolist() for key, value in _inputs().items()})
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, payload], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_coral_matches_skada(skada_values):
    a = _inputs()
    assert coral_loss(torch.tensor(a["fs"]), torch.tensor(a["ft"])).item() == pytest.approx(
        skada_values["coral"], rel=1e-12)


def test_mmd_matches_skada_with_squared_distances(skada_values):
    a = _inputs()
    ours = mmd_loss(torch.tensor(a["fs"]), torch.tensor(a["ft"]), sigma=1.3)  # bandwidths 1.3 * 2^(m - 2)
    assert ours.item() == pytest.approx(skada_values["mmd"], rel=1e-10)


def test_dann_is_half_skadas_label_swapped_loss(skada_values):
    a = _inputs()
    ours = dann_loss(linear_discriminator(a["w"], float(a["b"])), torch.tensor(a["fs"]), torch.tensor(a["ft"]))
    assert ours.item() == pytest.approx(skada_values["dann"] / 2, rel=1e-6)


@pytest.mark.parametrize("randomized", [False, True])
def test_cdan_is_half_skadas_label_swapped_loss(skada_values, randomized):
    a = _inputs()
    f32 = {key: torch.tensor(a[key], dtype=torch.float32) for key in ("fs", "ft", "head_w", "head_b")}
    ps, pt = (torch.softmax(f32[key] @ f32["head_w"].T + f32["head_b"], dim=1) for key in ("fs", "ft"))
    if randomized:
        disc = linear_discriminator(a["w_random"], float(a["b"])).float()
        matrices = random_multilinear_matrices(3, 2, int(a["k"]), random_state=42)
    else:
        disc, matrices = linear_discriminator(a["w_outer"], float(a["b"])).float(), None
    ours = cdan_loss(disc, f32["fs"], f32["ft"], ps, pt, random_matrices=matrices)
    key = "cdan_random" if randomized else "cdan"
    assert ours.item() == pytest.approx(skada_values[key] / 2, rel=1e-5)


def test_mcc_matches_skada(skada_values):
    ours = mcc_loss(torch.tensor(_inputs()["logits"]), temperature=2.5)
    assert ours.item() == pytest.approx(skada_values["mcc"], rel=1e-6)
