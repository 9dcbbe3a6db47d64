"""Fine-tuning, how it trains: the warm-up + cosine schedule, the L2-SP penalty
(by hand, and its pull toward the pretrained weights, also across partial fits),
early stopping (stops after ``n_iter_no_change`` worse epochs and restores the
best epoch's weights), epoch-end hooks, class weights and tiny batches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import log_loss
from sklearn.utils.class_weight import compute_class_weight

from sktransfer.deep import FineTuneClassifier, FineTuneRegressor
from sktransfer.deep._backbones._registry import resolve_backbone
from sktransfer.deep._finetune import _base, _training
from sktransfer.deep._finetune._blocks import parameter_blocks
from sktransfer.deep._finetune._training import L2SP, EarlyStopping, make_optimizer, warmup_cosine

TINY = "timm:test_efficientnet"


def _features(n=40, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


# -- schedule --------------------------------------------------------------------------------
def test_warmup_cosine_by_hand():
    # Linear warm-up (step+1)/warmup, then 0.5 (1 + cos(pi * progress)) over the remaining steps.
    assert [warmup_cosine(s, 10, 4) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert warmup_cosine(4, 10, 4) == 1.0
    assert warmup_cosine(7, 10, 4) == pytest.approx(0.5)  # halfway through the 6 cosine steps
    assert warmup_cosine(5, 10, 4) == pytest.approx(0.5 * (1 + math.cos(math.pi / 6)))
    assert warmup_cosine(10, 10, 4) == pytest.approx(0.0, abs=1e-15)
    assert warmup_cosine(50, 10, 4) == pytest.approx(0.0, abs=1e-15)  # past the end: stays at 0
    assert warmup_cosine(0, 10, 0) == 1.0
    assert warmup_cosine(0, 1, 0) == 1.0


def test_make_optimizer_scales_each_group():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    optimizer, scheduler = make_optimizer([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.01}],
                                          weight_decay=0.0, total_steps=10, warmup_fraction=0.2)
    assert isinstance(optimizer, torch.optim.AdamW)
    seen = []
    for _ in range(10):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    expected = [warmup_cosine(s, 10, 2) for s in range(10)]
    np.testing.assert_allclose(np.array(seen), np.outer(expected, [0.1, 0.01]))


def test_adamw_is_fused_only_when_every_parameter_is_on_cuda():
    from types import SimpleNamespace

    from sktransfer.deep._finetune._training import fused_on

    cuda, cpu = SimpleNamespace(is_cuda=True), SimpleNamespace(is_cuda=False)
    assert fused_on([{"params": [cuda]}, {"params": [cuda, cuda]}]) is True
    assert fused_on([{"params": [cuda]}, {"params": [cpu]}]) is None
    assert fused_on([{"params": []}]) is None
    optimizer, _ = make_optimizer([{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.1}],
                                  weight_decay=0.0, total_steps=1, warmup_fraction=0.0)
    assert not optimizer.defaults["fused"]  # the CPU keeps torch's default


def test_history_records_the_rate_after_each_epoch(train_recorder):
    X, y = _features(40)
    clf = FineTuneClassifier(None, lr=0.1, max_epochs=5, batch_size=10, warmup_fraction=0.2, random_state=0)
    clf.fit(X, y)
    kwargs = train_recorder["optimizer_kwargs"][0]
    assert kwargs["total_steps"] == 20 and kwargs["warmup_fraction"] == 0.2  # 5 epochs x 4 batches
    lrs = [r["lr"] for r in clf.history_]
    np.testing.assert_allclose(lrs, [0.1 * warmup_cosine(4 * (e + 1), 20, 4) for e in range(5)], atol=1e-15)


# -- L2-SP -------------------------------------------------------------------------------------
def test_l2sp_penalty_by_hand():
    """Li et al. (2018), eq. (3): alpha/2 ||w - w0||^2 over the fine-tuned backbone weights plus
    beta/2 ||w||^2 over the new head; frozen parameters do not count."""
    torch.manual_seed(0)
    body, head = torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)
    frozen = torch.nn.Parameter(torch.ones(4), requires_grad=False)
    params = {"w": body.weight, "b": body.bias, "frozen": frozen}
    w0 = {n: p.detach().numpy().copy() for n, p in params.items()}
    penalty = L2SP(params, head.parameters(), alpha=0.3, beta=0.05)
    head_sq = sum(float((p.detach() ** 2).sum()) for p in head.parameters())
    assert float(penalty().detach()) == pytest.approx(0.5 * 0.05 * head_sq)
    with torch.no_grad():
        body.weight.add_(torch.arange(6.0).view(2, 3) / 10)
        body.bias.sub_(0.5)
        frozen.add_(7.0)
    moved = sum(((params[n].detach().numpy() - w0[n]) ** 2).sum() for n in ("w", "b"))
    assert float(penalty().detach()) == pytest.approx(0.5 * 0.3 * moved + 0.5 * 0.05 * head_sq, rel=1e-6)
    # The gradient pulls toward the start: alpha (w - w0).
    penalty().backward()
    np.testing.assert_allclose(body.weight.grad.numpy(), 0.3 * (body.weight.detach().numpy() - w0["w"]), rtol=1e-6)


def test_l2sp_anchor_can_be_given():
    p = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    penalty = L2SP({"p": p}, [], alpha=2.0, beta=0.0, start={"p": torch.tensor([0.0, 0.0])})
    assert float(penalty().detach()) == pytest.approx(0.5 * 2.0 * 5.0)


def _top_block_distance(clf):
    shared = resolve_backbone(TINY, "random", "image", owner="test")
    start = dict(shared.module.named_parameters())
    body = dict(clf.net_.body.named_parameters())
    top = parameter_blocks(shared)[-1]
    return math.sqrt(sum(float(((body[n] - start[n]) ** 2).sum()) for n in top))


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_l2sp_keeps_the_backbone_near_the_pretrained_weights(images160, how):
    """With a huge alpha the fine-tuned block stays much closer to its start than without.

    partial_fit makes one step per call here: anchored at each call's own start (as a penalty
    built from the current weights would be), that step would feel no pull at all and the
    block would drift as far as without L2-SP; anchored at the pretrained weights, it stays.
    """
    X, y = images160
    distance = {}
    for reg in (None, "l2sp"):
        clf = FineTuneClassifier(TINY, weights="random", n_trainable_blocks=1, head_epochs=0, lr=0.01,
                                 max_epochs=4, batch_size=4 if how == "fit" else 8, weight_decay=0.0,
                                 regularization=reg, l2sp_alpha=1e4, random_state=0)
        if how == "fit":
            clf.fit(X, y)
        else:
            for _ in range(6):
                clf.partial_fit(X, y, classes=[0, 1])
        distance[reg] = _top_block_distance(clf)
    assert distance[None] > 0
    assert distance["l2sp"] < 0.5 * distance[None]


def test_l2sp_penalises_the_head_even_with_a_frozen_backbone(monkeypatch):
    built = []
    monkeypatch.setattr(_base, "L2SP", lambda *a, **k: built.append(L2SP(*a, **k)) or built[-1])
    X, y = _features(20)
    FineTuneClassifier(None, regularization="l2sp", l2sp_beta=0.5, max_epochs=1, random_state=0).fit(X, y)
    (penalty,) = built
    assert penalty.backbone_params == {} and penalty.beta == 0.5 and len(penalty.head_params) == 2


# -- early stopping ----------------------------------------------------------------------------
def test_early_stopping_patience():
    stopper, model = EarlyStopping(patience=2), torch.nn.Linear(1, 1)
    assert [stopper.update(e, loss, model) for e, loss in enumerate([3.0, 2.0, 2.5, 1.5, 1.6, 1.5])] == \
        [False, False, False, False, False, True]
    assert stopper.best_epoch == 3 and stopper.best_loss == 1.5  # a tie is not an improvement


def test_early_stopping_restores_the_best_epoch_scripted(monkeypatch):
    """Validation losses are scripted (best at epoch 2); the weights after fit are exactly those
    the network had at the end of epoch 2, and training stopped n_iter_no_change epochs later."""
    script = iter([1.0, 0.8, 0.5, 0.6, 0.55, 0.9, 0.1, 0.1])
    states = []
    evaluate, end_epoch = _training.Loop.evaluate, _training.Loop.end_epoch

    def scripted(self, batches):
        _, out = evaluate(self, batches)
        return next(script), out

    def snapshot(self, record):
        states.append({k: v.detach().clone() for k, v in self.model.state_dict().items()})
        return end_epoch(self, record)

    monkeypatch.setattr(_training.Loop, "evaluate", scripted)
    monkeypatch.setattr(_training.Loop, "end_epoch", snapshot)
    X, y = _features(40)
    clf = FineTuneClassifier(None, early_stopping=True, n_iter_no_change=3, max_epochs=20, lr=0.05,
                             random_state=0).fit(X, y)
    assert clf.best_epoch_ == 2
    assert clf.n_epochs_ == len(clf.history_) == 6  # epochs 3, 4, 5 were not better
    assert [r["val_loss"] for r in clf.history_] == [1.0, 0.8, 0.5, 0.6, 0.55, 0.9]
    final = clf.net_.state_dict()
    assert all(torch.equal(final[k], states[2][k]) for k in final)
    assert not all(torch.equal(final[k], states[-1][k]) for k in final)


def test_early_stopping_on_a_real_overfit(monkeypatch):
    """A noisy problem and a wide head: validation loss falls, then rises as the head memorises
    the noise. best_epoch_ is the argmin of the recorded validation losses, and the restored
    network reproduces that loss on the held-out rows."""
    split = {}
    validation_split = _base._BaseFineTune._validation_split

    def spy(self, rows, targets, rng):
        split["train"], split["val"] = validation_split(self, rows, targets, rng)
        return split["train"], split["val"]

    monkeypatch.setattr(_base._BaseFineTune, "_validation_split", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 20)).astype(np.float32)
    y = (X[:, 0] + 0.7 * rng.normal(size=80) > 0).astype(int)
    clf = FineTuneClassifier(None, head=(128,), lr=0.01, max_epochs=60, early_stopping=True,
                             validation_fraction=0.25, n_iter_no_change=3, batch_size=8, weight_decay=0.0,
                             warmup_fraction=0.0, random_state=0).fit(X, y)
    val_losses = [r["val_loss"] for r in clf.history_]
    assert clf.best_epoch_ == int(np.argmin(val_losses)) > 0
    assert clf.n_epochs_ == clf.best_epoch_ + 1 + 3 < 60
    val = split["val"]
    assert len(val) == 20
    assert np.all(np.abs(np.bincount(y[val]) - 0.25 * np.bincount(y)) <= 1)  # stratified
    assert log_loss(y[val], clf.predict_proba(X[val]), labels=[0, 1]) == pytest.approx(min(val_losses), rel=1e-5)
    assert clf.history_[clf.best_epoch_]["val_score"] == pytest.approx(clf.score(X[val], y[val]))


def test_a_fit_without_early_stopping_drops_the_old_best_epoch():
    X, y = _features(40)
    clf = FineTuneClassifier(None, early_stopping=True, max_epochs=2, random_state=0).fit(X, y)
    assert hasattr(clf, "best_epoch_")
    clf.set_params(early_stopping=False).fit(X, y)
    assert not hasattr(clf, "best_epoch_")


def test_an_epoch_end_hook_can_stop_training(monkeypatch):
    @__import__("dataclasses").dataclass
    class StopAtOne(_training.Loop):
        def __post_init__(self):
            self.on_epoch_end.append(lambda record: record["epoch"] == 1)

    monkeypatch.setattr(_base, "Loop", StopAtOne)
    X, y = _features(20)
    clf = FineTuneClassifier(None, max_epochs=10, random_state=0).fit(X, y)
    assert clf.n_epochs_ == 2


# -- loss details -------------------------------------------------------------------------------
def test_balanced_class_weight_is_sklearns(train_recorder):
    X, _ = _features(30)
    y = np.array(["a"] * 20 + ["b"] * 6 + ["c"] * 4)
    FineTuneClassifier(None, class_weight="balanced", max_epochs=1, random_state=0).fit(X, y)
    weight = train_recorder["loops"][0].loss_fn.weight
    np.testing.assert_allclose(weight.numpy(), compute_class_weight("balanced", classes=np.unique(y), y=y),
                               rtol=1e-6)


def test_dict_class_weight_is_keyed_by_the_labels(train_recorder):
    X, _ = _features(30)
    y = np.array([10, 20, 30] * 10)
    clf = FineTuneClassifier(None, class_weight={20: 5.0}, max_epochs=1, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.class_weight_, [1.0, 5.0, 1.0])
    np.testing.assert_array_equal(train_recorder["loops"][0].loss_fn.weight.numpy(), [1.0, 5.0, 1.0])


def test_a_changed_class_weight_applies_to_warm_starts_and_partial_fits(train_recorder):
    """class_weight_ is recomputed at every fit and partial_fit, not kept from the first fit."""
    X, y = _features(30)
    clf = FineTuneClassifier(None, max_epochs=1, random_state=0).fit(X, y)
    assert clf.class_weight_ is None
    clf.set_params(warm_start=True, class_weight={1: 50.0}).fit(X, y)
    np.testing.assert_array_equal(clf.class_weight_, [1.0, 50.0])
    np.testing.assert_array_equal(train_recorder["loops"][-1].loss_fn.weight.numpy(), [1.0, 50.0])
    clf.set_params(class_weight="balanced").fit(X, y)
    np.testing.assert_allclose(clf.class_weight_, compute_class_weight("balanced", classes=np.array([0, 1]), y=y), rtol=1e-6)
    clf.set_params(class_weight={0: 3.0}).partial_fit(X, y)
    np.testing.assert_array_equal(train_recorder["loops"][-1].loss_fn.weight.numpy(), [3.0, 1.0])
    clf.set_params(class_weight=None).partial_fit(X, y)
    assert clf.class_weight_ is None and train_recorder["loops"][-1].loss_fn.weight is None
    with pytest.raises(ValueError, match=r"classes \[1\] are not in this fit's y"):
        clf.set_params(class_weight="balanced").fit(X[y == 0], y[y == 0])


def test_regressor_loss_is_mse_on_standardised_targets():
    X, _ = _features(40)
    y = 100 + 50 * X[:, 0]
    reg = FineTuneRegressor(None, max_epochs=1, random_state=0).fit(X, y)
    assert reg.y_mean_ == pytest.approx([y.mean()]) and reg.y_scale_ == pytest.approx([y.std()])
    assert isinstance(reg._loss_fn(None), torch.nn.MSELoss)


def test_batch_size_one_trains(train_recorder):
    X, y = _features(6)
    clf = FineTuneClassifier(None, batch_size=1, max_epochs=1, random_state=0).fit(X, y)
    assert clf.history_[0]["train_loss"] > 0
    assert train_recorder["optimizer_kwargs"][0]["total_steps"] == 6


def test_a_lone_last_row_is_skipped():
    """Five rows in batches of two: the fifth row of each shuffled epoch is left out (no batch
    statistics for the noise), the others train."""
    from sktransfer.deep._finetune._data import TrainingData, iterate
    from sktransfer.deep._runtime import resolve_runtime

    data = TrainingData("features", np.arange(10, dtype=np.float32).reshape(5, 2))
    runtime = resolve_runtime("cpu", "fp32", False, owner="test")
    data.place(runtime)
    targets = torch.arange(5)
    batches = list(iterate(data, targets, np.arange(5), 2, runtime, train=True, rng=np.random.RandomState(0)))
    assert [len(t) for _, t in batches] == [2, 2]
    assert all(torch.equal(x[:, 0], 2.0 * t) for x, t in batches)  # inputs and targets of the same rows
    batches = list(iterate(data, targets, np.arange(5), 2, runtime, train=False))
    assert [len(t) for _, t in batches] == [2, 2, 1]
