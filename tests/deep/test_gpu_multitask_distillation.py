"""Multi-task and distillation estimators on a CUDA device (marker ``gpu``, skipped without CUDA).

Each trains in fp32 and in the device's autocast precision, is deterministic
with ``random_state``, agrees with the CPU fit's predictions on an easy task,
and pickles to a model that predicts on the CPU.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sktransfer.datasets import make_domain_shift  # noqa: E402
from sktransfer.deep import DistillationClassifier, MultiTaskClassifier  # noqa: E402

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]


def _two_tasks():
    rng = np.random.RandomState(0)
    y = np.arange(240) % 4
    X = (rng.normal(size=(240, 6)) + 3 * np.eye(4, 6)[y]).astype(np.float32)
    Y = np.c_[y, y % 2]
    Y[::3, 0] = -1  # a third of the rows labelled for parity only
    return X, Y


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_multitask_trains_on_cuda_and_adds_a_head(precision):
    X, Y = _two_tasks()
    params = dict(backbone=None, shared=(32,), max_epochs=5, device="cuda", precision=precision, random_state=0)
    a = MultiTaskClassifier(**params).fit(X, Y)
    b = MultiTaskClassifier(**params).fit(X, Y)
    np.testing.assert_allclose(a.predict_proba(X)[0], b.predict_proba(X)[0], atol=1e-5)
    cpu = MultiTaskClassifier(**{**params, "device": "cpu", "precision": "fp32"}).fit(X, Y)
    assert np.mean(a.predict(X) == cpu.predict(X)) > 0.9
    body = {k: v.detach().cpu().clone() for k, v in a.net_.state_dict().items()}
    a.partial_fit(X, (np.arange(len(X)) % 4 >= 2).astype(int), classes=[0, 1], task=2)
    kept = a.net_.state_dict()
    assert all(torch.equal(body[k], kept[k].detach().cpu()) for k in body)  # the shared body and old heads
    restored = pickle.loads(pickle.dumps(a))
    assert restored.predict(X).shape == (len(X), 3)


@pytest.mark.parametrize("precision", ["fp32", "auto"])
def test_distillation_trains_on_cuda_from_a_teacher(precision):
    from sklearn.linear_model import LogisticRegression

    X, y, sd = make_domain_shift(n_samples=300, n_features=6, random_state=0)
    X = X.astype(np.float32)
    teacher = LogisticRegression().fit(X[y != -1], y[y != -1])
    params = dict(backbone=None, head=(16,), max_epochs=30, device="cuda", precision=precision, random_state=0)
    a = DistillationClassifier(teacher, **params).fit(X, y)
    b = DistillationClassifier(teacher, **params).fit(X, y)
    proba = a.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba, b.predict_proba(X), atol=1e-5)
    assert np.mean(a.predict(X) == teacher.predict(X)) > 0.9  # the student follows its teacher
    assert pickle.loads(pickle.dumps(a)).predict(X).shape == (len(X),)
