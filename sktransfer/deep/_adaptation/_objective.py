"""The training objective of deep domain adaptation: a supervised loss plus a domain loss on paired batches.

The fine-tuning training loop (``_finetune._training``) calls an objective as
``batch_loss(batch)``. :class:`DomainObjective` pairs each batch of labelled
rows with as many target rows (drawn without replacement, cycling through
the target rows), runs the network once on each, and adds ``loss_weight``
times the domain loss of the features (the input of the head's last linear
layer) or of the outputs to the supervised loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._torch import import_torch
from ._adversarial import dann_loss, domain_discriminator
from ._conditional import MULTILINEAR_MAX_FEATURES, cdan_loss, random_multilinear_matrices
from ._confusion import mcc_loss
from ._divergence import coral_loss, mmd_loss
from ._reversal import dann_schedule

#: the domain losses, and which of them need class probabilities (classifiers only)
LOSSES = ("coral", "mmd", "dann", "cdan", "cdan+e", "mcc")
CLASSIFIER_LOSSES = ("cdan", "cdan+e", "mcc")
#: losses that act on the features below the head's last layer (they need something trainable there)
FEATURE_LOSSES = ("coral", "mmd", "dann", "cdan", "cdan+e")
#: MCC's temperature (Jin et al. 2020)
MCC_TEMPERATURE = 2.5


class DomainObjective:
    """``supervised(outputs_s, y_s) + loss_weight * domain loss`` of one paired batch.

    Parameters
    ----------
    net : torch.nn.Module
        The fine-tuning network (``features_and_outputs``).
    supervised : callable
        ``supervised(outputs, targets) -> scalar tensor`` on the labelled rows.
    loss : str or None
        One of :data:`LOSSES`; None trains on the labelled rows alone.
    loss_weight : float
        Weight of the domain loss.
    target_rows : ndarray of int
        Rows of the training data that are target rows (labelled or not).
    ramp_steps : int
        Steps over which the domain loss is switched on: at step ``t`` the
        adversarial losses reverse their gradient with the factor
        ``dann_schedule(min(1, t / ramp_steps))`` and the other losses are
        multiplied by it; 0 gives the full weight from the first step.
    discriminator : tuple of int
        Hidden sizes of the domain discriminator (DANN, CDAN).
    runtime : Runtime
        Device of the run.
    seed : int
        Seeds the discriminator's initialisation and CDAN's random matrices.
    """

    def __init__(self, net: Any, supervised: Any, loss: str | None, loss_weight: float, target_rows: np.ndarray,
                 ramp_steps: int, discriminator: tuple[int, ...], runtime: Any, seed: int):
        self.net, self.supervised, self.loss, self.loss_weight = net, supervised, loss, loss_weight
        self.target_rows, self.ramp_steps, self.step = target_rows, ramp_steps, 0
        self.discriminator, self.random_matrices = None, None
        last = net.head[-1]
        width, n_out = last.in_features, last.out_features
        if loss in ("dann", "cdan", "cdan+e"):
            d_in = width
            if loss != "dann":
                d_in = width * n_out
                if d_in > MULTILINEAR_MAX_FEATURES:
                    matrices = random_multilinear_matrices(width, n_out, random_state=seed)
                    self.random_matrices = tuple(m.to(runtime.device) for m in matrices)
                    d_in = matrices[0].shape[1]
            self.discriminator = domain_discriminator(d_in, discriminator, random_state=seed).to(runtime.device)
        self._order: np.ndarray = np.zeros(0, dtype=np.int64)

    def param_groups(self, *, lr: float, weight_decay: float) -> list[dict]:
        """The discriminator's parameters, trained at the head's learning rate (none without one)."""
        if self.discriminator is None:
            return []
        return [{"params": list(self.discriminator.parameters()), "lr": lr, "name": "discriminator",
                 "weight_decay": weight_decay}]

    def batches(self, supervised: Iterator[tuple[Any, Any]], data: Any, runtime: Any, *,
                rng: np.random.RandomState, augment: Any = None, noise_std: float = 0.0,
                generator: Any = None) -> Iterator[tuple[Any, Any, Any]]:
        """``(inputs, targets, target_inputs)``: each labelled batch with as many target rows."""
        import torch

        here = data.inputs.device if getattr(data, "placement", "host") == "device" else torch.device("cpu")
        for inputs, targets in supervised:
            rows = self._next_target_rows(max(2, len(targets)), rng)
            target_inputs = data.batch(torch.as_tensor(rows, dtype=torch.long).to(here), runtime, train=True,
                                       augment=augment, noise_std=noise_std, generator=generator)
            yield inputs, targets, target_inputs

    def _next_target_rows(self, n: int, rng: np.random.RandomState) -> np.ndarray:
        taken = []
        while n > 0:
            if len(self._order) == 0:
                self._order = self.target_rows[rng.permutation(len(self.target_rows))]
            take, self._order = self._order[:n], self._order[n:]
            taken.append(take)
            n -= len(take)
        return np.concatenate(taken)

    def __call__(self, batch: tuple[Any, Any, Any]) -> Any:
        inputs, targets, target_inputs = batch
        fs, out_s = self.net.features_and_outputs(inputs)
        loss = self.supervised(out_s.float(), targets)
        if self.loss is None:
            return loss
        ft, out_t = self.net.features_and_outputs(target_inputs)
        coeff = self.ramp()
        self.step += 1
        return loss + self.loss_weight * self.domain_loss(fs.float(), ft.float(), out_s.float(), out_t.float(),
                                                          coeff)

    def ramp(self) -> float:
        """The factor of the domain loss at this step: ``dann_schedule(step / ramp_steps)``, then 1."""
        if self.ramp_steps <= 0 or self.step >= self.ramp_steps:
            return 1.0
        return dann_schedule(self.step / self.ramp_steps)

    def domain_loss(self, fs: Any, ft: Any, out_s: Any, out_t: Any, coeff: float) -> Any:
        """The domain loss of one batch's source and target features and outputs, switched on by ``coeff``.

        The adversarial losses reverse their gradient by ``coeff`` (the
        discriminator learns at full strength); the others are multiplied by it.
        """
        torch = import_torch("domain adaptation")
        if self.loss == "coral":
            return coeff * coral_loss(fs, ft)
        if self.loss == "mmd":
            return coeff * mmd_loss(fs, ft)
        if self.loss == "mcc":
            return coeff * mcc_loss(out_t, MCC_TEMPERATURE)
        if self.loss == "dann":
            return dann_loss(self.discriminator, fs, ft, coeff)
        ps, pt = torch.softmax(out_s, dim=1), torch.softmax(out_t, dim=1)
        return cdan_loss(self.discriminator, fs, ft, ps, pt, coeff, entropy_conditioning=self.loss == "cdan+e",
                         random_matrices=self.random_matrices)
