"""The training loop as later estimators use it: a loss of their own per batch, the epoch loop around it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep._finetune._net import build_net
from sktransfer.deep._finetune._training import (
    ConstantSchedule,
    EarlyStopping,
    Loop,
    Unfreezing,
    run_epochs,
    supervised_loss,
    train_step,
)
from sktransfer.deep._runtime import resolve_runtime

CPU = resolve_runtime("cpu", "fp32", False, owner="test")


def _net(seed=0):
    torch.manual_seed(seed)
    return build_net(None, "linear", 3, 2, layer=-1, pooling="auto", dropout=0.0, owner="test")


def _batches(n_batches=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(4, 3, generator=g), torch.randint(0, 2, (4,), generator=g), torch.randn(5, 3, generator=g))
            for _ in range(n_batches)]


def _with_target_term(net, weight):
    """A domain-adaptation-like loss: cross-entropy on (inputs, targets) plus a term on target inputs."""
    ce = torch.nn.CrossEntropyLoss()

    def batch_loss(batch):
        xs, ys, xt = batch
        return ce(net(xs), ys) + weight * net(xt).pow(2).mean()

    return batch_loss


def test_train_step_applies_the_gradient_of_the_given_batch_loss():
    net, (batch,) = _net(), _batches(1)
    replay = _net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = train_step(_with_target_term(net, 0.5), batch, optimizer, ConstantSchedule(), CPU)
    expected = _with_target_term(replay, 0.5)(batch)
    expected.backward()
    assert float(loss) == pytest.approx(float(expected.detach())) and not loss.requires_grad
    for ours, theirs in zip(net.parameters(), replay.parameters()):
        torch.testing.assert_close(ours.detach(), (theirs - 0.1 * theirs.grad).detach())


def test_train_step_adds_the_penalty_and_clips():
    net, (batch,) = _net(), _batches(1)
    before = [p.detach().clone() for p in net.parameters()]
    optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    train_step(supervised_loss(net, torch.nn.CrossEntropyLoss()), batch, optimizer, ConstantSchedule(), CPU,
               grad_clip=1e-3, penalty=lambda: 1e6 * sum(p.pow(2).sum() for p in net.parameters()))
    step = torch.cat([(p.detach() - b).ravel() for p, b in zip(net.parameters(), before)])
    assert float(step.norm()) == pytest.approx(1e-3, rel=1e-4)  # a huge penalty's gradient, clipped


def test_run_epochs_trains_on_a_plugged_in_loss_and_records_each_epoch():
    net, batches = _net(), _batches(3)
    loop = Loop(net, torch.nn.CrossEntropyLoss(), CPU, grad_clip=None, batch_loss=_with_target_term(net, 10.0))
    seen = []
    loop.on_epoch_end.append(lambda record: seen.append(record["epoch"]) or False)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
    history = [{"epoch": 0}]  # an earlier fit's epoch: numbering goes on from it
    run_epochs(loop, optimizer, ConstantSchedule(), epochs=4, unfreezing=Unfreezing([]), train_batches=lambda: batches,
               history=history)
    assert [r["epoch"] for r in history] == [0, 1, 2, 3, 4] and seen == [1, 2, 3, 4]
    assert history[1].keys() == {"epoch", "train_loss", "n_trainable_blocks", "lr", "seconds"}
    assert history[-1]["train_loss"] < history[1]["train_loss"]
    assert not net.training  # left in eval mode
    plain = _net()  # the same run on the supervised loss alone
    run_epochs(Loop(plain, torch.nn.CrossEntropyLoss(), CPU, grad_clip=None), torch.optim.SGD(plain.parameters(), lr=0.05),
               ConstantSchedule(), epochs=4, unfreezing=Unfreezing([]), train_batches=lambda: batches, history=[])
    with torch.no_grad():
        ours, theirs = (sum(float(m(xt).pow(2).mean()) for _, _, xt in batches) for m in (net, plain))
    assert ours < 0.5 * theirs  # the plugged-in term pulled the target outputs toward 0


def test_run_epochs_validates_stops_early_and_restores_the_best_epoch():
    net, batches = _net(), _batches(2)
    loop = Loop(net, torch.nn.CrossEntropyLoss(), CPU)
    scores = iter([(1.0, 0.1), (0.5, 0.2), (0.7, 0.3), (0.9, 0.4), (0.1, 0.5)])
    states = []

    def validate():
        states.append({k: v.clone() for k, v in net.state_dict().items()})
        return next(scores)

    history = []
    stopper = EarlyStopping(patience=2)
    run_epochs(loop, torch.optim.SGD(net.parameters(), lr=0.1), ConstantSchedule(), epochs=10,
               unfreezing=Unfreezing([]), train_batches=lambda: [b[:2] for b in batches], history=history,
               validate=validate, stopper=stopper)
    assert [r["val_loss"] for r in history] == [1.0, 0.5, 0.7, 0.9] and history[1]["val_score"] == 0.2
    assert stopper.best_epoch == 1
    assert all(torch.equal(v, states[1][k]) for k, v in net.state_dict().items())


@pytest.mark.parametrize("head_epochs, gradual, partial, expected", [
    (1, False, False, [0, 2, 2, 2]),
    (1, True, False, [0, 1, 2, 2]),
    (0, True, False, [1, 2, 2, 2]),
    (2, True, True, [2, 2, 2, 2]),
])
def test_unfreezing_opens_blocks_by_epoch(head_epochs, gradual, partial, expected):
    blocks = [[torch.nn.Parameter(torch.ones(1))], [torch.nn.Parameter(torch.ones(1))]]  # top first
    unfreezing = Unfreezing(blocks, head_epochs, gradual, partial=partial)
    net = type("Net", (), {"adapter": None, "training_norms": {"x"}})()
    for epoch, n in enumerate(expected):
        assert unfreezing.open(net, epoch) == n
        assert [p.requires_grad for params in blocks for p in params] == [d < n for d in range(2)]
    unfreezing.close(net)
    assert not any(p.requires_grad for params in blocks for p in params) and net.training_norms == set()


def test_an_epoch_with_no_batch_reports_zero_loss():
    net = _net()
    loop = Loop(net, torch.nn.CrossEntropyLoss(), CPU)
    assert loop.train_epoch([], torch.optim.SGD(net.parameters(), lr=0.1), ConstantSchedule()) == 0.0
    xs, ys, _ = _batches(1)[0]
    loss, out = loop.evaluate([(xs, ys)])
    assert np.isfinite(loss) and out.shape == (4, 2)
