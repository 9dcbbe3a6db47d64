"""Fine-tuning, what trains: every freeze setting changes exactly the parameters
of its blocks (the others, and every BatchNorm buffer, stay bit-identical to the
shared pretrained model), ``requires_grad`` per epoch (head epochs, gradual
unfreezing top first), and the learning rate of each block (``lr_decay``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sktransfer.deep import FineTuneClassifier
from sktransfer.deep._backbones._registry import resolve_backbone
from sktransfer.deep._finetune._blocks import parameter_blocks, trainable_block_indices

TINY = "timm:test_efficientnet"  # six blocks, BatchNorm everywhere


def _shared(spec=TINY):
    """The cached backbone the estimator deep-copies, and a copy of its state before any fit."""
    shared = resolve_backbone(spec, "random", "image", owner="test")
    return shared, {k: v.detach().clone() for k, v in shared.module.state_dict().items()}


def _changed(after, before, names):
    return [n for n in names if not torch.equal(after[n], before[n])]


def _fit(X, y, spec=TINY, **params):
    params = {"weights": "random", "max_epochs": 2, "head_epochs": 1, "batch_size": 4, "lr": 0.01,
              "random_state": 0, **params}
    return FineTuneClassifier(spec, **params).fit(X, y)


@pytest.mark.parametrize("n_trainable_blocks, augment", [(0, True), (1, False), (2, False), ("all", False)])
def test_each_freeze_setting_trains_exactly_its_blocks(images160, train_recorder, n_trainable_blocks, augment):
    X, y = images160
    shared, before = _shared()
    blocks = parameter_blocks(shared)
    clf = _fit(X, y, n_trainable_blocks=n_trainable_blocks, augment=augment)

    open_ = trainable_block_indices(len(blocks), n_trainable_blocks)
    assert len(open_) == {0: 0, 1: 1, 2: 2, "all": len(blocks)}[n_trainable_blocks]
    after = clf.net_.body.state_dict()
    for i, block in enumerate(blocks):
        if i in open_:
            assert _changed(after, before, block) == block, f"block {i} should have trained"
        else:
            assert _changed(after, before, block) == [], f"block {i} should be frozen"
    # Everything outside the blocks (BatchNorm running statistics of every block, trained or
    # not: the backbone stays in eval mode; timm's unused classifier) is untouched.
    in_blocks = {n for block in blocks for n in block}
    assert any("running_mean" in n for n in before)
    assert _changed(after, before, [n for n in before if n not in in_blocks]) == []
    # The shared, cached model was never trained: only the estimator's deep copy was.
    assert _changed(shared.module.state_dict(), before, list(before)) == []

    # requires_grad per epoch: the head alone first, then the open blocks; the head always trains.
    trainable = {n for i in open_ for n in blocks[i]}
    assert [e["body"] for e in train_recorder["epochs"]] == [set(), trainable]
    assert all(e["head"] for e in train_recorder["epochs"])
    assert [r["n_trainable_blocks"] for r in clf.history_] == [0, len(open_)]
    assert not any(p.requires_grad for p in clf.net_.body.parameters())  # frozen again after fit


def test_frozen_fast_path_keeps_the_backbone_out_of_the_network(images160, train_recorder):
    X, y = images160
    clf = _fit(X, y, n_trainable_blocks=0)
    assert clf.net_.adapter is None
    assert list(clf.net_.body.parameters()) == []
    assert all(k.startswith("head.") for k in clf.net_.state_dict())
    assert [len(g) for g in train_recorder["groups"]] == [1]  # the head's group only
    assert clf.predict(X).shape == (8,)


def test_head_epochs_train_the_head_alone(images160, train_recorder):
    X, y = images160
    shared, before = _shared()
    top = parameter_blocks(shared)[-1]
    clf = _fit(X, y, n_trainable_blocks=1, head_epochs=2, max_epochs=3)
    assert [r["n_trainable_blocks"] for r in clf.history_] == [0, 0, 1]
    assert [e["body"] for e in train_recorder["epochs"]] == [set(), set(), set(top)]
    # With as many head epochs as epochs, the backbone never trains.
    clf = _fit(X, y, n_trainable_blocks=1, head_epochs=2, max_epochs=2)
    assert _changed(clf.net_.body.state_dict(), before, top) == []


def test_gradual_unfreezing_opens_one_block_per_epoch_top_first(images160, train_recorder):
    X, y = images160
    shared, before = _shared("timm:test_resnet")
    blocks = parameter_blocks(shared)
    clf = _fit(X, y, spec="timm:test_resnet", n_trainable_blocks=3, gradual_unfreezing=True, max_epochs=3)
    assert [r["n_trainable_blocks"] for r in clf.history_] == [0, 1, 2]
    top, second, third = blocks[-1], blocks[-2], blocks[-3]
    assert [e["body"] for e in train_recorder["epochs"]] == [set(), set(top), set(top) | set(second)]
    after = clf.net_.body.state_dict()
    assert _changed(after, before, top) == top
    assert _changed(after, before, second) == second
    # The third block was planned (it has its learning rate) but never opened: bit-identical.
    assert _changed(after, before, third) == []
    assert _changed(after, before, [n for block in blocks[:-3] for n in block]) == []
    names = [g["name"] for g in train_recorder["groups"][0]]
    assert names == ["head"] + [f"block{len(blocks) - r}" for r in (1, 2, 3)]


def test_gradual_unfreezing_without_head_epochs_starts_with_the_top_block(images160):
    X, y = images160
    clf = _fit(X, y, n_trainable_blocks="all", gradual_unfreezing=True, head_epochs=0, max_epochs=2)
    assert [r["n_trainable_blocks"] for r in clf.history_] == [1, 2]


@pytest.mark.parametrize("regularization", [None, "l2sp"])
def test_learning_rates_decay_by_depth_from_the_top(images160, train_recorder, regularization):
    """Head at ``lr``; block ``r`` from the top (r = 1, 2, ...) at ``lr * lr_decay**r``."""
    X, y = images160
    lr, decay = 0.02, 0.3
    clf = _fit(X, y, n_trainable_blocks="all", lr=lr, lr_decay=decay, max_epochs=1, weight_decay=0.05,
               regularization=regularization)
    shared, _ = _shared()
    blocks = parameter_blocks(shared)
    groups = train_recorder["groups"][0]
    assert groups[0]["name"] == "head" and groups[0]["lr"] == lr
    assert [id(p) for p in groups[0]["params"]] == [id(p) for p in clf.net_.head.parameters()]
    body = dict(clf.net_.body.named_parameters())
    assert len(groups) == 1 + len(blocks)
    for r, group in enumerate(groups[1:], start=1):
        i = len(blocks) - r
        assert group["name"] == f"block{i}"
        assert group["lr"] == pytest.approx(lr * decay**r, rel=1e-12)
        assert [id(p) for p in group["params"]] == [id(body[n]) for n in blocks[i]]
        # Decoupled weight decay pulls toward zero; with L2-SP the penalty replaces it on the backbone.
        assert group["weight_decay"] == (0.0 if regularization == "l2sp" else 0.05)
    assert train_recorder["optimizer_kwargs"][0]["weight_decay"] == 0.05  # the head's
    # Every parameter sits in at most one group.
    ids = [id(p) for g in groups for p in g["params"]]
    assert len(ids) == len(set(ids))


def test_every_group_follows_the_same_schedule(images160, monkeypatch):
    """The per-step rate of each group is its base rate times one warm-up + cosine factor."""
    from sktransfer.deep._finetune import _base, _training

    lrs = []

    def make_optimizer(groups, **kwargs):
        optimizer, scheduler = _training.make_optimizer(groups, **kwargs)

        class Recording:
            def step(self):
                lrs.append([g["lr"] for g in optimizer.param_groups])
                scheduler.step()

        return optimizer, Recording()

    monkeypatch.setattr(_base, "make_optimizer", make_optimizer)
    X, y = images160
    _fit(X, y, n_trainable_blocks=2, lr=0.01, lr_decay=0.5, head_epochs=0, max_epochs=2, warmup_fraction=0.25)
    lrs = np.array(lrs)
    assert lrs.shape == (4, 3)  # 2 epochs x 2 batches of 4 rows; head + 2 blocks
    factor = lrs[:, 0] / 0.01
    # A warm-up of 1 step (25% of 4) reaching 1, then cosine over the 3 others: 1, cos^2(pi/6), cos^2(pi/3).
    np.testing.assert_allclose(factor, [1.0, 1.0, 0.5 * (1 + np.cos(np.pi / 3)), 0.5 * (1 + np.cos(2 * np.pi / 3))],
                               atol=1e-12)
    np.testing.assert_allclose(lrs[:, 1], lrs[:, 0] * 0.5)
    np.testing.assert_allclose(lrs[:, 2], lrs[:, 0] * 0.25)


def test_text_backbone_fine_tunes_its_top_layer_only():
    """all-MiniLM-L6-v2 with one trainable block: the last transformer layer trains, the rest
    (embeddings, layers 0-4, the unused pooler) stays equal to the offline pretrained weights."""
    texts = ["great sound and fast shipping", "the battery died after a week", "works perfectly, love it",
             "broke on the first day", "excellent value for money", "terrible, do not buy",
             "very happy with this purchase", "cheap plastic, returned it"]
    y = np.array([1, 0] * 4)
    shared = resolve_backbone("all-MiniLM-L6-v2", "pretrained", "text", owner="test")
    before = {k: v.detach().clone() for k, v in shared.module.state_dict().items()}
    blocks = parameter_blocks(shared)
    clf = FineTuneClassifier("all-MiniLM-L6-v2", n_trainable_blocks=1, head_epochs=0, max_epochs=2,
                             batch_size=4, lr=0.01, random_state=0).fit(texts, y)
    after = clf.net_.body.state_dict()
    assert blocks[-1][0].startswith("encoder.layer.5.")
    assert _changed(after, before, blocks[-1]) == blocks[-1]
    in_top = set(blocks[-1])
    assert _changed(after, before, [n for n in before if n not in in_top]) == []
    assert clf.predict(texts).shape == (8,)
    assert set(clf.predict(texts)) <= {0, 1}


def test_batchnorm_train_runs_the_open_blocks_norms_on_batch_statistics(images160):
    """batchnorm="train": the BatchNorm layers of the trained blocks run in train mode (batch
    statistics) and update their running statistics; those of frozen blocks stay in eval mode and
    bit-identical; during the head epoch none trains; after fit all are in eval mode again."""
    X, y = images160
    shared, before = _shared()
    blocks = parameter_blocks(shared)
    seen: dict[str, list[bool]] = {}

    def record(clf):
        for name, m in clf.net_.body.named_modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.register_forward_hook(lambda mod, i, o, name=name: seen.setdefault(name, []).append(mod.training))

    clf = FineTuneClassifier(TINY, weights="random", n_trainable_blocks=1, batchnorm="train", max_epochs=2,
                             head_epochs=1, batch_size=4, lr=0.01, random_state=0)
    original = clf._train

    def hooked(net, *args, **kwargs):
        record(clf)
        return original(net, *args, **kwargs)

    clf._train = hooked
    clf.fit(X, y)
    top = {n for n in blocks[-1]}
    norms_top = {n for n, m in clf.net_.body.named_modules()
                 if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and f"{n}.weight" in top}
    assert norms_top and set(seen) > norms_top
    per_epoch = len(X) // 4  # two training batches per epoch, no validation
    for name, modes in seen.items():
        assert modes[:per_epoch] == [False] * per_epoch  # the head epoch
        assert modes[per_epoch:] == [name in norms_top] * per_epoch
    after = clf.net_.body.state_dict()
    moved = {n.rsplit(".", 1)[0] for n in _changed(after, before, [n for n in before if "running_mean" in n])}
    assert moved == norms_top
    assert not any(m.training for m in clf.net_.modules())
    # "frozen", the default, never leaves eval mode (covered above: every buffer bit-identical)
