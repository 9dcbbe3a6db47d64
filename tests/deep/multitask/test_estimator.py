"""MultiTaskClassifier: the masked joint loss, the new-task head on a frozen body, sklearn's API, bad inputs."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.deep import MultiTaskClassifier

torch = pytest.importorskip("torch")

from sktransfer.deep._multitask._heads import MultiTaskLoss  # noqa: E402

SMALL = dict(backbone=None, shared=(8,), max_epochs=10, batch_size=16, lr=0.05, random_state=0)


def _data(n=80, seed=0):
    """Features and two tasks; task 1 is labelled on the first half of the rows only."""
    X = np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)
    y = np.column_stack([X[:, 0] > 0, (X[:, 1] > 0).astype(int) + (X[:, 1] > 1)]).astype(int)
    y[n // 2:, 1] = -1
    return X, y


def test_joint_loss_against_a_hand_computation():
    """sum_t w_t * mean CE over the rows labelled for t, by hand with numpy (log-softmax written out)."""
    rng = np.random.default_rng(1)
    out = rng.normal(size=(5, 5))  # task 0: 2 classes, task 1: 3 classes
    targets = np.array([[0, 2], [1, -1], [-1, 0], [1, 1], [-1, -1]])
    weights = [0.5, 2.0]

    def ce(logits, k):
        return -(logits[k] - np.log(np.exp(logits).sum()))

    expected = 0.0
    for t, (cols, w) in enumerate(zip([slice(0, 2), slice(2, 5)], weights)):
        rows = [i for i in range(5) if targets[i, t] >= 0]
        expected += w * np.mean([ce(out[i, cols], targets[i, t]) for i in rows])
    got = MultiTaskLoss([2, 3], weights)(torch.as_tensor(out), torch.as_tensor(targets))
    assert float(got) == pytest.approx(expected, rel=1e-12)


def test_a_task_without_labels_in_the_batch_adds_zero_and_unlabelled_entries_no_gradient():
    out = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    targets = torch.tensor([[0, -1], [1, -1], [-1, -1]])
    loss = MultiTaskLoss([2, 3], [1.0, 1.0])(out, targets)
    alone = MultiTaskLoss([2], [1.0])(out[:2, :2], targets[:2, :1])
    assert float(loss.detach()) == pytest.approx(float(alone.detach())) and torch.isfinite(loss)
    loss.backward()
    # Rows labelled for one task only move only that task's logits; the row labelled for none moves nothing.
    assert torch.all(out.grad[:, 2:] == 0) and torch.all(out.grad[2] == 0) and torch.any(out.grad[:2, :2] != 0)


def test_fit_predict_shapes_classes_and_score():
    X, y = _data()
    clf = MultiTaskClassifier(**SMALL).fit(X, y)
    assert clf.n_tasks_ == 2 and [c.tolist() for c in clf.classes_] == [[0, 1], [0, 1, 2]]
    pred = clf.predict(X)
    assert pred.shape == (80, 2) and set(np.unique(pred[:, 1])) <= {0, 1, 2}
    proba = clf.predict_proba(X)
    assert [p.shape for p in proba] == [(80, 2), (80, 3)]
    np.testing.assert_allclose([p.sum(axis=1) for p in proba], 1.0, rtol=1e-6)
    np.testing.assert_array_equal(pred[:, 1], clf.classes_[1][proba[1].argmax(axis=1)])
    labelled = y[:, 1] >= 0
    expected = (np.mean(pred[:, 0] == y[:, 0]) + np.mean(pred[labelled, 1] == y[labelled, 1])) / 2
    assert clf.score(X, y) == pytest.approx(expected)
    assert clf.score(X, y) > 0.7


def test_rows_labelled_for_one_task_train_only_that_task():
    """Task 1's head sees only its labelled rows: changing task 1's labels on rows where it is -1 in one fit and
    dropping those rows' task-1 labels elsewhere changes nothing; a row labelled for no task is left out."""
    X, y = _data()
    a = MultiTaskClassifier(**SMALL).fit(X, y)
    # Rows labelled for no task are dropped before the fit: adding some leaves the model identical.
    X2 = np.vstack([X, np.random.default_rng(5).normal(size=(7, 4)).astype(np.float32)])
    y2 = np.vstack([y, -np.ones((7, 2), int)])
    b = MultiTaskClassifier(**SMALL).fit(X2, y2)
    np.testing.assert_array_equal(a.predict_proba(X)[1], b.predict_proba(X)[1])
    # With task 0 weighted 0, task 0's labels cannot change anything.
    flipped = y.copy()
    flipped[:, 0] = 1 - flipped[:, 0]
    w = dict(SMALL, task_weights=[0.0, 1.0])
    np.testing.assert_array_equal(MultiTaskClassifier(**w).fit(X, y).predict_proba(X)[1],
                                  MultiTaskClassifier(**w).fit(X, flipped).predict_proba(X)[1])


def test_new_task_head_trains_while_the_shared_body_stays_bit_identical():
    X, y = _data()
    clf = MultiTaskClassifier(**SMALL).fit(X, y)
    before = {k: v.clone() for k, v in clf.net_.state_dict().items()}
    old = clf.predict_proba(X)
    y_new = (X[:, 2] > 0).astype(int)
    clf.partial_fit(X, y_new, classes=[0, 1], task=2)
    first = {k: v.clone() for k, v in clf.net_.state_dict().items() if k not in before}
    for _ in range(5):
        clf.partial_fit(X, y_new, task=2)
    after = clf.net_.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())  # trunk and old heads untouched
    assert first and all(not torch.equal(after[k], v) for k, v in first.items())  # the new head learnt
    assert clf.n_tasks_ == 3 and clf.predict(X).shape == (80, 3)
    for p_old, p_new in zip(old, clf.predict_proba(X)):
        np.testing.assert_array_equal(p_old, p_new)
    assert np.mean(clf.predict(X)[:, 2] == y_new) > 0.7
    # Every parameter trains again in a later joint epoch.
    assert all(p.requires_grad for p in clf.net_.head.parameters())


def test_partial_fit_of_a_fitted_head_trains_that_head_only():
    X, y = _data()
    clf = MultiTaskClassifier(**SMALL).fit(X, y)
    before = {k: v.clone() for k, v in clf.net_.state_dict().items()}
    clf.partial_fit(X, y[:, 0], task=0)
    changed = {k for k, v in clf.net_.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("head.3.heads.0.") for k in changed)


def test_joint_partial_fit_from_scratch_and_continued():
    X, y = _data()
    clf = MultiTaskClassifier(**SMALL)
    for _ in range(3):
        clf.partial_fit(X, y, classes=None if hasattr(clf, "classes_") else [[0, 1], [0, 1, 2]])
    assert clf.n_epochs_ == 3 and clf.n_tasks_ == 2  # one epoch per call


def test_determinism_with_random_state():
    X, y = _data()

    def run():
        clf = MultiTaskClassifier(**SMALL).fit(X, y)
        clf.partial_fit(X, (X[:, 3] > 0).astype(int), classes=[0, 1], task=2)
        return clf.predict_proba(X)

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_clone_pickle_and_pipeline():
    X, y = _data()
    clf = MultiTaskClassifier(**SMALL)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(X, y).partial_fit(X, (X[:, 3] > 0).astype(int), classes=[0, 1], task=2)
    clf.set_params(shared=(4, 4), head=(3,))  # a pickle rebuilds the network as fitted, not as set since
    loaded = pickle.loads(pickle.dumps(clf))
    for a, b in zip(clf.predict_proba(X), loaded.predict_proba(X)):
        np.testing.assert_array_equal(a, b)
    pipe = make_pipeline(StandardScaler(), MultiTaskClassifier(**SMALL)).fit(X, y)
    assert pipe.predict(X).shape == (80, 2) and pipe.score(X, y) > 0.7


def test_no_shared_layers_and_a_hidden_head_per_task():
    X, y = _data()
    clf = MultiTaskClassifier(**{**SMALL, "shared": (), "head": (5,)}).fit(X, y)
    assert clf.predict(X).shape == (80, 2)
    clf.partial_fit(X, y[:, 0], classes=[0, 1], task=2)
    assert clf.n_tasks_ == 3


def test_trainable_backbone_blocks_are_shared(images160):
    """With a backbone, its trainable blocks are the shared part; a new head leaves them bit-identical."""
    X, labels = images160
    y = np.column_stack([labels, [0, 0, 1, 1] * 2])
    y[4:, 1] = -1
    clf = MultiTaskClassifier("timm:test_efficientnet", weights="random", n_trainable_blocks=1, head_epochs=0,
                              shared=(), max_epochs=2, batch_size=4, lr=0.01, random_state=0).fit(X, y)
    assert clf.net_.adapter is not None and clf.predict(X).shape == (8, 2)
    before = {k: v.clone() for k, v in clf.net_.state_dict().items()}
    clf.partial_fit(X, labels, classes=[0, 1], task=2)
    after = clf.net_.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before.items())
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(loaded.predict_proba(X)[2], clf.predict_proba(X)[2], atol=1e-6)


@pytest.mark.parametrize("y, match", [
    (np.zeros(80, int), r"shape \(n_samples, n_tasks\)"),
    (np.column_stack([np.arange(80) % 2, -np.ones(80, int)]), "task 1 .* has no labelled row"),
    (np.column_stack([np.arange(80) % 2, np.zeros(80, int)]), "at least 2 classes in every task"),
    (np.column_stack([np.arange(80) % 2, np.linspace(0, 1, 80)]), "needs class labels in task 1"),
    (np.zeros((80, 0), int), "at least one task"),
])
def test_bad_y_at_fit(y, match):
    X, _ = _data()
    with pytest.raises(ValueError, match=match):
        MultiTaskClassifier(**SMALL).fit(X, y)


def test_bad_task_weights_and_shared():
    X, y = _data()
    with pytest.raises(ValueError, match="task_weights must hold 2"):
        MultiTaskClassifier(**{**SMALL, "task_weights": [1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="task_weights must hold 2"):
        MultiTaskClassifier(**{**SMALL, "task_weights": [0.0, 0.0]}).fit(X, y)
    with pytest.raises(ValueError, match="shared must be a tuple of positive ints"):
        MultiTaskClassifier(**{**SMALL, "shared": (0,)}).fit(X, y)


def test_bad_partial_fit_calls():
    X, y = _data()
    with pytest.raises(ValueError, match="fitted shared body"):
        MultiTaskClassifier(**SMALL).partial_fit(X, y[:, 0], classes=[0, 1], task=0)
    with pytest.raises(ValueError, match="needs classes= at its first call"):
        MultiTaskClassifier(**SMALL).partial_fit(X, y)
    with pytest.raises(ValueError, match="cannot be a class"):
        MultiTaskClassifier(**SMALL).partial_fit(X, y, classes=[[-1, 1], [0, 1, 2]])
    clf = MultiTaskClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="cannot be a class"):
        clf.partial_fit(X, y[:, 0], classes=[-1, 0, 1], task=2)
    with pytest.raises(ValueError, match="new task; pass its classes"):
        clf.partial_fit(X, y[:, 0], task=2)
    with pytest.raises(ValueError, match="neither a fitted task"):
        clf.partial_fit(X, y[:, 0], classes=[0, 1], task=3)
    with pytest.raises(TypeError, match="task must be an int"):
        clf.partial_fit(X, y[:, 0], task="0")
    with pytest.raises(ValueError, match=r"labels \[5\] that are not among its classes"):
        clf.partial_fit(X, np.full(80, 5), task=0)
    with pytest.raises(ValueError, match="no labelled row"):
        clf.partial_fit(X, -np.ones(80, int), classes=[0, 1], task=2)
    with pytest.raises(ValueError, match="y has 1 task"):
        clf.partial_fit(X, y[:, :1])
    # A failed new-task call (X of the wrong width) leaves no half-added task behind.
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :3], y[:, 0], classes=[0, 1], task=2)
    assert clf.n_tasks_ == 2 and len(clf.net_.head[-1].heads) == 2


def test_unfitted_and_score_errors():
    X, y = _data()
    with pytest.raises(NotFittedError):
        MultiTaskClassifier(**SMALL).predict(X)
    clf = MultiTaskClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="y has 1 task"):
        clf.score(X, y[:, :1])
    with pytest.raises(ValueError, match="no labelled entry"):
        clf.score(X, -np.ones_like(y))


def test_a_mask_that_a_string_task_turned_into_a_string_is_refused():
    """One task's string labels make numpy turn the whole y into strings, the other task's -1 included;
    judged column by column '-1' read as a number and was learnt as a class (predicted on unlabelled rows)."""
    from sktransfer.deep import MultiTaskClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype("float32")
    words = np.where(X[:, 0] > 0, "yes", "no")
    numbers = (X[:, 1] > 0).astype(int)
    numbers[20:] = -1
    with pytest.raises(TypeError, match="numpy turns the -1"):
        MultiTaskClassifier(backbone=None, max_epochs=1, random_state=0).fit(X, np.column_stack([words, numbers]))


def test_string_labels_that_read_as_numbers_stay_strings():
    """An object column of strings was parsed as floats: '01' and '1' merged into the class 1.0."""
    import pandas as pd

    from sktransfer.deep import MultiTaskClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype("float32")
    codes = np.array(["01", "1", "2"])[np.digitize(X[:, 0], [-0.4, 0.4])]
    Y = pd.DataFrame({"code": codes, "sign": np.where(X[:, 1] > 0, "pos", "neg")})
    clf = MultiTaskClassifier(backbone=None, max_epochs=2, random_state=0).fit(X, Y)
    assert clf.classes_[0].tolist() == ["01", "1", "2"]
    assert set(clf.predict(X)[:, 0]) <= {"01", "1", "2"}
