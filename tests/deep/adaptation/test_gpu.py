"""The losses on a CUDA device (marker ``gpu``, skipped without CUDA): the CPU values, finite gradients."""

from __future__ import annotations

import pytest
import torch

from sktransfer.deep._adaptation._adversarial import dann_loss, domain_discriminator
from sktransfer.deep._adaptation._conditional import cdan_loss, random_multilinear_matrices
from sktransfer.deep._adaptation._confusion import mcc_loss
from sktransfer.deep._adaptation._divergence import coral_loss, mmd_loss

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _losses(fs, ft, ps, pt, logits, disc, matrices):
    return {
        "coral": coral_loss(fs, ft),
        "mmd": mmd_loss(fs, ft),
        "dann": dann_loss(disc["dann"], fs, ft, coeff=0.5),
        "cdan+e": cdan_loss(disc["cdan"], fs, ft, ps, pt, 0.5, entropy_conditioning=True),
        "cdan_random": cdan_loss(disc["random"], fs, ft, ps, pt, 0.5, random_matrices=matrices),
        "mcc": mcc_loss(logits),
    }


def test_cuda_matches_cpu_and_gradients_are_finite():
    gen = torch.Generator().manual_seed(0)
    fs, ft = torch.randn(16, 8, generator=gen), torch.randn(12, 8, generator=gen) + 0.3
    logits = torch.randn(28, 5, generator=gen)
    ps, pt = logits[:16].softmax(1), logits[16:].softmax(1)
    disc = {"dann": domain_discriminator(8, hidden=(16,), dropout=0.0, random_state=0),
            "cdan": domain_discriminator(40, hidden=(16,), dropout=0.0, random_state=1),
            "random": domain_discriminator(32, hidden=(16,), dropout=0.0, random_state=2)}
    matrices = random_multilinear_matrices(8, 5, 32, random_state=0)  # CPU: cdan_loss moves them
    cpu = _losses(fs, ft, ps, pt, logits, disc, matrices)
    cuda_in = [t.cuda().requires_grad_() for t in (fs, ft, ps, pt, logits)]
    cuda = _losses(*cuda_in, {k: v.cuda() for k, v in disc.items()}, matrices)
    for name, value in cuda.items():
        assert value.device.type == "cuda"
        assert value.item() == pytest.approx(cpu[name].item(), rel=1e-4, abs=1e-6), name
    sum(cuda.values()).backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in cuda_in[:2])


@pytest.mark.parametrize("loss", ["coral", "mmd", "dann", "cdan", "cdan+e", "mcc"])
def test_estimator_trains_on_cuda_in_every_precision(loss):
    """The estimator on CUDA (bf16/fp16 autocast where the device has it): finite, deterministic, CPU-loadable."""
    import pickle

    import numpy as np

    from sktransfer.datasets import make_domain_shift
    from sktransfer.deep import DomainAdaptationClassifier

    X, y, sd = make_domain_shift(n_samples=200, shift="subspace", n_features=6, random_state=0)
    X = X.astype(np.float32)
    for precision in ("fp32", "auto"):
        params = dict(backbone=None, loss=loss, head=(32,), discriminator=(64,), max_epochs=3, device="cuda",
                      precision=precision, random_state=0)
        a = DomainAdaptationClassifier(**params).fit(X, y, sample_domain=sd)
        b = DomainAdaptationClassifier(**params).fit(X, y, sample_domain=sd)
        proba = a.predict_proba(X)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba, b.predict_proba(X), atol=1e-5)
        assert pickle.loads(pickle.dumps(a)).predict(X).shape == (len(X),)
