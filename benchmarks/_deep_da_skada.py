"""skada.deep's methods on one task's feature rows, in a child process of ``benchmarks/deep_da.py``.

Importing skada switches scikit-learn's metadata routing on for the whole
process, so skada never runs in the benchmark's own process. The parent
writes the task to an ``.npz`` file (``Xs, ys, Xt, yt``, labels already coded
0 .. C-1) and the training settings to a JSON string, and reads back one JSON
line: ``{label: {"acc": [per seed], "fit_s": [per seed]}}`` (or
``{label: {"error": ...}}`` for a method that raised)::

    python -m benchmarks._deep_da_skada TASK.npz '{"methods": ["DANN"], "seeds": [0], ...}'

What skada gets, so that only the domain loss differs from ours:

- the same network: ``Linear(d, h) - ReLU - Dropout - ... - Linear(h, C)``,
  the head of ``FineTuneClassifier(head=(h,))``, with the adaptation features
  read at the last hidden layer (``layer_name``, after its dropout);
- the same training: AdamW at the same learning rate and weight decay, the
  same per-step warm-up + cosine schedule and gradient-norm clipping (skorch
  callbacks), the same epochs and batch size: skada's
  ``DomainBalancedDataLoader`` pairs ``batch_size`` source rows with
  ``batch_size`` target rows a step, as ours, and is told to make an epoch one
  pass over the source rows, as ours (``max_samples="source"``; its default
  is a pass over the larger domain); no validation split;
- for DANN and CDAN, a working domain classifier (:class:`DomainClassifier`
  below) of the size of ours. skada 0.6.0's default ``DomainClassifier`` ends
  with ``nn.Softmax()`` over its single output, which is always 1.0: its
  binary cross-entropy is then constant and the features get no adversarial
  gradient at all. Ours keeps skada's contract (it reverses the gradient
  itself, with skada's constant coefficient 1, and returns one probability
  per row, that of the target domain, which skada's ``BCELoss`` reads);
- MCC's temperature 2.5 (the paper's, and ours; skada's default is 1).

Everything else is skada's: its losses at full weight from the first step
(ours ramps them in over 1000 steps, ``ramp_steps``), DAN's kernels (33 bandwidths around the median
distance, on distances rather than squared distances), DANN's and CDAN's
loss (the sum of the two domains' mean cross-entropies, twice our mean at the
same weight), CDAN conditioning on the classifier's logits (the paper and ours
use its softmax probabilities) and reseeding the global torch generator at
every step when ``d * C > 4096`` (``check_generator(42)`` in ``_RandomLayer``;
the head widths used here stay below it).
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections import OrderedDict

import numpy as np

#: our labels -> skada's factory
SKADA_METHODS = {"source only": "SourceOnly", "CORAL": "DeepCoral", "MMD (DAN)": "DAN", "DANN": "DANN",
                 "CDAN": "CDAN", "MCC": "MCC"}
#: skada's CDAN switches to its randomized multilinear map above this width (``max_features``)
CDAN_MAX_FEATURES = 4096


def base_module(n_in: int, n_classes: int, head: list[int], dropout: float):
    """The classifier (``FineTuneClassifier``'s head) and the name of its last hidden layer.

    skada calls its module with a ``sample_weight`` keyword, which a plain
    ``nn.Sequential`` refuses: the layers sit in one that ignores it.
    """
    from torch import nn

    layers: OrderedDict = OrderedDict()
    width = n_in
    for i, h in enumerate(head):
        layers[f"hidden{i}"] = nn.Linear(width, h)
        layers[f"relu{i}"] = nn.ReLU()
        layers[f"dropout{i}"] = nn.Dropout(dropout)
        width = h
    layers["out"] = nn.Linear(width, n_classes)

    class Head(nn.Sequential):
        def forward(self, x, sample_weight=None):
            return super().forward(x)

    return Head(layers), f"dropout{len(head) - 1}"


def domain_classifier(n_in: int, hidden: list[int], dropout: float):
    """A working :class:`DomainClassifier` (built after the torch import, which the module avoids)."""
    import torch
    from skada.deep.modules import GradientReversalLayer
    from torch import nn

    class DomainClassifier(nn.Module):
        """skada's domain-classifier contract (reversal inside, one probability per row) with a sigmoid output."""

        def __init__(self):
            super().__init__()
            layers: list = []
            width = n_in
            for h in hidden:
                layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
                width = h
            self.net = nn.Sequential(*layers, nn.Linear(width, 1))

        def forward(self, x, sample_weight=None):
            return torch.sigmoid(self.net(GradientReversalLayer.apply(x, 1.0))).squeeze(-1)

    return DomainClassifier()


def _callbacks(spec: dict, steps_per_epoch: int) -> list:
    """skorch callbacks giving skada our schedule (per-step warm-up + cosine) and gradient clipping."""
    import torch
    from skorch.callbacks import GradientNormClipping, LRScheduler

    from sktransfer.deep._finetune._training import warmup_cosine

    total = spec["epochs"] * max(1, steps_per_epoch)
    warmup = int(round(spec["warmup_fraction"] * total))
    callbacks = [("schedule", LRScheduler(policy=torch.optim.lr_scheduler.LambdaLR,
                                          lr_lambda=lambda step: warmup_cosine(step, total, warmup),
                                          step_every="batch"))]
    if spec.get("grad_clip"):
        callbacks.append(("clip", GradientNormClipping(gradient_clip_value=spec["grad_clip"])))
    return callbacks


def make_net(label: str, spec: dict, n_in: int, n_classes: int, n_source: int):
    """skada's estimator for ``label`` with the shared settings of ``spec``."""
    import torch
    from skada import deep

    module, layer = base_module(n_in, n_classes, spec["head"], spec["dropout"])
    bs = spec["batch_size"]
    source_steps = (n_source - n_source % bs) // bs
    # an epoch is one pass over the source rows, as ours (skada's default is max(n_s, n_t) rows)
    loader = {} if label == "source only" else {"iterator_train__max_samples": "source"}
    common = dict(**loader, max_epochs=spec["epochs"], batch_size=bs, lr=spec["lr"], optimizer=torch.optim.AdamW,
                  optimizer__weight_decay=spec["weight_decay"], train_split=None, device=spec["device"],
                  verbose=0, callbacks=_callbacks(spec, source_steps))
    reg = spec["loss_weight"]
    width = spec["head"][-1]
    disc = (spec["discriminator"], spec["discriminator_dropout"])
    if label == "source only":
        return deep.SourceOnly(module, layer, **common)
    if label == "CORAL":
        return deep.DeepCoral(module, layer, reg=reg, **common)
    if label == "MMD (DAN)":
        return deep.DAN(module, layer, reg=reg, **common)
    if label == "DANN":
        return deep.DANN(module, layer, reg=reg, domain_classifier=domain_classifier(width, *disc), **common)
    if label == "CDAN":
        n_in_disc = min(width * n_classes, CDAN_MAX_FEATURES)
        return deep.CDAN(module, layer, reg=reg, max_features=CDAN_MAX_FEATURES,
                         domain_classifier=domain_classifier(n_in_disc, *disc), **common)
    if label == "MCC":
        return deep.MCC(module, layer, reg=reg, T=spec["mcc_temperature"], **common)
    raise ValueError(f"no skada counterpart for {label!r}")


def run(task: dict, spec: dict) -> dict:
    """Accuracy (%) on the target rows and fit time of each method, per seed."""
    import torch

    Xs, ys, Xt, yt = (task[k] for k in ("Xs", "ys", "Xt", "yt"))
    X = np.vstack([Xs, Xt]).astype(np.float32)
    y = np.r_[ys, np.full(len(Xt), -1)].astype(np.int64)
    sd = np.r_[np.ones(len(Xs), int), np.full(len(Xt), -2)]
    n_classes = int(ys.max()) + 1
    # untimed: the process's first fit pays for imports and kernel set-up, which no method should
    make_net("source only", {**spec, "epochs": 1}, X.shape[1], n_classes, len(Xs)).fit(X, y, sample_domain=sd)
    out: dict = {}
    for label in spec["methods"]:
        runs: dict = {"acc": [], "fit_s": []}
        try:
            for seed in spec["seeds"]:
                torch.manual_seed(seed)  # the module's initial weights and the loader's shuffling
                net = make_net(label, spec, X.shape[1], n_classes, len(Xs))
                start = time.perf_counter()
                net.fit(X, y, sample_domain=sd)
                runs["fit_s"].append(time.perf_counter() - start)
                pred = net.predict(Xt.astype(np.float32), sample_domain=np.full(len(Xt), -2))
                runs["acc"].append(100.0 * float(np.mean(pred == yt)))
        except Exception as exc:  # a method failing on a task is a result, not a crash
            runs = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        out[label] = runs
    return out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    warnings.filterwarnings("ignore")
    with np.load(argv[0]) as data:
        task = {k: data[k] for k in ("Xs", "ys", "Xt", "yt")}
    spec = json.loads(argv[1])
    if spec.get("threads"):
        import torch

        torch.set_num_threads(int(spec["threads"]))
    print(json.dumps(run(task, spec)))


if __name__ == "__main__":
    main()
