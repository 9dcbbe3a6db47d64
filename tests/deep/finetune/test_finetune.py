"""FineTuneClassifier and FineTuneRegressor as scikit-learn estimators: they
learn (features, a real pretrained backbone), are deterministic under
``random_state`` without touching the global RNG, pickle and clone, run in a
grid search, take the frozen fast path through the extractor's cache, continue
with ``partial_fit`` and ``warm_start``, and refuse bad input clearly.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_sample_image
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from sktransfer.deep import FineTuneClassifier, FineTuneRegressor, ImageFeatureExtractor

from ..conftest import make_images

TINY = "timm:test_efficientnet"


def _features(n=60, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(np.float32)
    return X, (X[:, 0] - X[:, 1] > 0).astype(int)


def _tiny(**params):
    params = {"weights": "random", "max_epochs": 2, "batch_size": 4, "random_state": 0, **params}
    return FineTuneClassifier(TINY, **params)


# -- learning ----------------------------------------------------------------------------------
def test_learns_a_separable_problem_from_features():
    X, _ = _features(90)
    y = np.digitize(X[:, 0] + X[:, 1], [-0.7, 0.7])  # three classes, linear boundaries
    clf = FineTuneClassifier(None, max_epochs=40, lr=0.05, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    assert clf.classes_.tolist() == [0, 1, 2]
    proba = clf.predict_proba(X)
    assert proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert clf.n_features_in_ == 4 and clf.n_epochs_ == 40
    assert clf.history_[-1]["train_loss"] < clf.history_[0]["train_loss"]


def test_learns_a_linear_regression_from_features():
    X, _ = _features(80, d=3)
    y = 10 + X @ np.array([1.0, -2.0, 0.5]) * 5
    reg = FineTuneRegressor(None, max_epochs=60, lr=0.05, random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert reg.predict(X).shape == (80,)
    Y = np.column_stack([y, -y])
    reg2 = FineTuneRegressor(None, max_epochs=60, lr=0.05, random_state=0).fit(X, Y)
    assert reg2.predict(X).shape == (80, 2) and reg2.score(X, Y) > 0.9


def test_string_labels_and_a_hidden_layer():
    X, y = _features(60)
    labels = np.array(["no", "yes"])[y]
    clf = FineTuneClassifier(None, head=(16,), dropout=0.1, max_epochs=30, lr=0.05, random_state=0).fit(X, labels)
    assert set(clf.predict(X)) <= {"no", "yes"} and clf.score(X, labels) > 0.9
    assert [type(m).__name__ for m in clf.net_.head] == ["Linear", "ReLU", "Dropout", "Linear"]


def _crops(image, n, rng, size=224):
    tops = rng.integers(0, image.shape[0] - size, n)
    lefts = rng.integers(0, image.shape[1] - size, n)
    return np.stack([image[t:t + size, left:left + size] for t, left in zip(tops, lefts)])


def test_pretrained_backbone_separates_two_photos():
    """efficientnet_lite0 (offline ImageNet weights), frozen: crops of sklearn's china.jpg against
    crops of flower.jpg, at the model's 224x224 input, are learned and generalise to new crops."""
    pytest.importorskip("PIL")
    rng = np.random.default_rng(0)
    china, flower = load_sample_image("china.jpg"), load_sample_image("flower.jpg")
    X = np.concatenate([_crops(china, 12, rng), _crops(flower, 12, rng)])
    y = np.array(["china"] * 12 + ["flower"] * 12)
    train = np.r_[0:8, 12:20]
    clf = FineTuneClassifier(max_epochs=8, lr=0.01, batch_size=8, random_state=0).fit(X[train], y[train])
    assert clf.net_.adapter is None  # frozen and not augmented: the head trains on embeddings
    assert clf.score(X[train], y[train]) == 1.0
    test = np.setdiff1d(np.arange(24), train)
    assert clf.score(X[test], y[test]) >= 0.875


# -- determinism ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["features", "trainable", "augment"])
def test_same_random_state_same_model_and_the_global_rng_untouched(images160, kind):
    if kind == "features":
        X, y = _features(40)

        def make(rs):
            return FineTuneClassifier(None, head=(8,), dropout=0.2, noise_std=0.5, max_epochs=3,
                                      early_stopping=True, batch_size=8, random_state=rs)
    else:
        X, y = images160

        def make(rs):
            return _tiny(n_trainable_blocks=1, augment=kind == "augment", dropout=0.2, random_state=rs)

    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    a = make(0).fit(X, y).predict_proba(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()
    b = make(0).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    c = make(1).fit(X, y).predict_proba(X)
    assert not np.array_equal(a, c)


def test_a_first_load_of_the_backbone_does_not_change_the_fit(images160, fresh_backbone_cache):
    """The first fit loads (and randomly initialises) the backbone; the head's initialisation must
    not depend on it, so a fit with an empty cache equals one with a warm cache."""
    X, y = images160
    first = _tiny(n_trainable_blocks=1).fit(X, y).predict_proba(X)
    second = _tiny(n_trainable_blocks=1).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)


def test_random_state_instance_is_consumed_not_copied():
    X, y = _features(30)
    clf = FineTuneClassifier(None, max_epochs=2, random_state=np.random.RandomState(0))
    a = clf.fit(X, y).predict_proba(X)
    b = clf.fit(X, y).predict_proba(X)
    assert not np.array_equal(a, b)


# -- pickling and cloning ---------------------------------------------------------------------------
@pytest.mark.parametrize("n_trainable_blocks", [0, 1])
def test_pickle_round_trip(images160, n_trainable_blocks):
    X, y = images160
    clf = _tiny(n_trainable_blocks=n_trainable_blocks).fit(X, y)
    expected = clf.predict_proba(X)
    state = clf.__getstate__()
    assert "net_" not in state
    keys = set(state["_net_state"])
    blob = pickle.dumps(clf)
    if n_trainable_blocks == 0:
        assert all(k.startswith("head.") for k in keys)
        assert len(blob) < 50_000  # the head alone: no backbone in the pickle
    else:
        assert any(k.startswith("body.") for k in keys)
        n_body = sum(p.numel() for p in clf.net_.body.parameters())
        assert len(blob) > 4 * n_body  # the trained backbone travels (float32)
    loaded = pickle.loads(blob)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert loaded.history_ == clf.history_ and loaded.classes_.tolist() == [0, 1]
    for (name, a), b in zip(clf.net_.state_dict().items(), loaded.net_.state_dict().values()):
        assert torch.equal(a, b), name
    assert not loaded.net_.training


def test_pickle_of_a_feature_model_and_of_a_regressor():
    X, y = _features(30)
    for est in (FineTuneClassifier(None, max_epochs=2, random_state=0).fit(X, y),
                FineTuneRegressor(None, max_epochs=2, random_state=0).fit(X, X[:, 0] * 3)):
        loaded = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_clone_gives_an_unfitted_copy(images160):
    X, y = images160
    clf = _tiny(n_trainable_blocks=1, lr=0.02, head=(8,)).fit(X, y)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    assert not hasattr(twin, "net_") and not hasattr(twin, "classes_")
    with pytest.raises(NotFittedError):
        twin.predict(X)
    with pytest.raises(NotFittedError):
        FineTuneRegressor(None).predict(np.zeros((2, 3)))


def test_grid_search_over_trainable_blocks(images160):
    X, y = images160
    search = GridSearchCV(_tiny(max_epochs=1), {"n_trainable_blocks": [0, 1]}, cv=2, n_jobs=1).fit(X, y)
    assert search.best_params_["n_trainable_blocks"] in (0, 1)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_estimator_.n_trainable_blocks == search.best_params_["n_trainable_blocks"]
    assert search.predict(X).shape == (8,)


# -- the frozen fast path --------------------------------------------------------------------------
def test_fast_path_equals_a_head_trained_on_the_extractors_features(images160):
    X, y = images160
    clf = _tiny(max_epochs=3).fit(X, y)
    features = ImageFeatureExtractor(TINY, weights="random").fit_transform(X)
    manual = FineTuneClassifier(None, max_epochs=3, batch_size=4, random_state=0).fit(features, y)
    np.testing.assert_allclose(clf.predict_proba(X), manual.predict_proba(features), rtol=1e-6, atol=1e-7)
    assert [r["train_loss"] for r in clf.history_] == pytest.approx([r["train_loss"] for r in manual.history_])


def test_fast_path_reads_the_cache(images160, tmp_path, monkeypatch):
    from sktransfer.deep._extraction import _extractor

    computed = []
    run_batches = _extractor.run_batches

    def counting(runner, batches, total, **kw):
        for rows, feats in run_batches(runner, batches, total, **kw):
            computed.append(len(rows))
            yield rows, feats

    monkeypatch.setattr(_extractor, "run_batches", counting)
    X, y = images160
    first = _tiny(cache=tmp_path).fit(X, y)
    assert sum(computed) == 8
    assert len(list(tmp_path.glob("sktransfer_embeddings/*/*/*.npy"))) == 8
    computed.clear()
    second = _tiny(cache=tmp_path).fit(X, y)  # a new estimator: every embedding comes from disk
    assert sum(computed) == 0
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_predict_follows_the_fitted_network_not_later_params(images160):
    X, y = images160
    clf = _tiny(n_trainable_blocks=1).fit(X, y)
    expected = clf.predict_proba(X)
    clf.set_params(n_trainable_blocks=0)  # would be the fast path, but net_ holds the backbone
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(clf)).predict_proba(X), expected)


def test_augmentation_with_a_frozen_backbone_runs_it_in_the_network(images160):
    X, y = images160
    seen = []
    clf = _tiny(augment=lambda img: seen.append(tuple(img.shape)) or img.flip(-1)).fit(X, y)
    assert clf.net_.adapter is not None
    assert seen and set(seen) == {(3, 160, 160)}  # CxHxW uint8 images, one call per image
    assert clf.predict(X).shape == (8,)


def test_images_of_another_size_and_files(tmp_path):
    from PIL import Image

    images = make_images(6, 48, 64, seed=1)
    paths = []
    for i, img in enumerate(images):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(img).save(paths[-1])
    y = np.array([0, 1] * 3)
    clf = _tiny(n_trainable_blocks=1, max_epochs=1).fit(images, y)
    np.testing.assert_allclose(clf.predict_proba([str(p) for p in paths]), clf.predict_proba(images), atol=1e-5)


# -- partial_fit and warm_start ----------------------------------------------------------------------
def test_partial_fit_needs_classes_first_and_refuses_new_labels():
    X, y = _features(20)
    clf = FineTuneClassifier(None, random_state=0)
    with pytest.raises(ValueError, match="needs classes= at its first call"):
        clf.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[1\] that are not among the classes \[0, 2\]"):
        clf.partial_fit(X, y, classes=[0, 2])
    clf.partial_fit(X[y == 0], y[y == 0], classes=[0, 1])  # a batch may lack some classes
    assert clf.classes_.tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"FineTuneClassifier.partial_fit got labels \[7\]"):
        clf.partial_fit(X[:2], [0, 7])
    with pytest.raises(ValueError, match="not the classes"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    clf.partial_fit(X, y, classes=[1, 0])  # the same classes, in any order


def test_partial_fit_reduces_the_training_loss():
    X, y = _features(60)
    clf = FineTuneClassifier(None, lr=0.02, random_state=0)
    for _ in range(15):
        clf.partial_fit(X, y, classes=[0, 1])
    losses = [r["train_loss"] for r in clf.history_]
    assert len(losses) == clf.n_epochs_ == 15
    assert losses[-1] < 0.6 * losses[0]
    assert clf.score(X, y) > 0.9
    reg = FineTuneRegressor(None, lr=0.02, random_state=0)
    for _ in range(15):
        reg.partial_fit(X, X[:, 0] * 2)
    assert reg.history_[-1]["train_loss"] < 0.6 * reg.history_[0]["train_loss"]


def test_partial_fit_continues_adamw_across_calls():
    """Three one-step partial fits are three steps of one AdamW (moments and step count carried
    over), replayed here by hand from the same initial head; a fresh optimizer per call would
    make three first steps. Changing lr between calls takes effect."""
    X, y = _features(24)
    clf = FineTuneClassifier(None, lr=0.05, batch_size=64, grad_clip=None, random_state=0)
    seed = np.random.RandomState(0).randint(0, 2**31 - 1)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        clf.classes_ = np.array([0, 1])
        head = clf._new_net(4, 2)  # the initial head partial_fit builds
    del clf.classes_
    optimizer = torch.optim.AdamW(head.parameters(), lr=0.05, weight_decay=0.01)
    xt, yt = torch.as_tensor(X), torch.as_tensor(y)
    for lr in (0.05, 0.05, 0.01):
        clf.set_params(lr=lr)
        clf.partial_fit(X, y, classes=[0, 1])
        optimizer.param_groups[0]["lr"] = lr
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(head(xt), yt).backward()
        optimizer.step()
        for ours, replay in zip(clf.net_.state_dict().values(), head.state_dict().values()):
            torch.testing.assert_close(ours, replay, rtol=1e-5, atol=1e-6)
    assert int(clf._optimizer_state["state"][0]["step"]) == 3
    assert int(pickle.loads(pickle.dumps(clf))._optimizer_state["state"][0]["step"]) == 3
    clf.fit(X, y)
    assert not hasattr(clf, "_optimizer_state")  # fit's schedule starts its own optimizer


def test_a_saved_optimizer_state_for_other_parameters_starts_afresh():
    from sktransfer.deep._finetune._training import resume_optimizer

    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))
    old = torch.optim.AdamW([a], lr=0.1)
    a.grad = torch.ones(2)
    old.step()
    new = torch.optim.AdamW([a, b], lr=0.5)
    resume_optimizer(new, old.state_dict())  # two parameters now, one then: nothing loaded
    assert not new.state and new.param_groups[0]["lr"] == 0.5
    same = torch.optim.AdamW([a], lr=0.5, weight_decay=0.0)
    resume_optimizer(same, old.state_dict())  # loaded, at the current lr and decay
    assert int(same.state[a]["step"]) == 1
    assert same.param_groups[0]["lr"] == 0.5 and same.param_groups[0]["weight_decay"] == 0.0


def test_a_pickle_rebuilds_the_fitted_network_after_set_params():
    X, y = _features(30)
    clf = FineTuneClassifier(None, max_epochs=2, random_state=0).fit(X, y)
    clf.set_params(head=(5,), dropout=0.3)  # not what was fitted; the pickle must still load
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_partial_fit_with_balanced_weights_is_refused():
    X, y = _features(20)
    with pytest.raises(ValueError, match="cannot balance classes from one batch"):
        FineTuneClassifier(None, class_weight="balanced").partial_fit(X, y, classes=[0, 1])
    clf = FineTuneClassifier(None, class_weight="balanced", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="cannot balance classes from one batch"):
        clf.partial_fit(X, y)  # a later call would recompute the weights from its batch alone


def test_a_failed_first_partial_fit_leaves_no_classes_for_a_later_fit():
    X, y = _features(30)
    y = y + 5  # classes 5 and 6
    bad = X.copy()
    bad[0, 0] = np.nan
    clf = FineTuneClassifier(None, max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match="NaN"):
        clf.partial_fit(bad, y, classes=[5, 6, 7, 8])
    assert "_classes_given" not in vars(clf)
    clf.fit(X, y)
    np.testing.assert_array_equal(clf.classes_, [5, 6])
    assert clf.predict_proba(X).shape == (30, 2)


def test_warm_start_continues_from_the_current_weights():
    X, y = _features(60)
    clf = FineTuneClassifier(None, lr=0.02, max_epochs=5, warm_start=True, random_state=0).fit(X, y)
    first = [r["train_loss"] for r in clf.history_]
    clf.fit(X, y)
    assert len(clf.history_) == 10 and [r["epoch"] for r in clf.history_] == list(range(10))
    assert clf.history_[5]["train_loss"] < first[0]
    assert clf.history_[5]["train_loss"] < first[-1] * 1.05
    cold = FineTuneClassifier(None, lr=0.02, max_epochs=5, random_state=0).fit(X, y)
    cold.fit(X, y)
    assert [r["train_loss"] for r in cold.history_] == pytest.approx(first)  # starts anew, same seed


def test_warm_start_refuses_new_labels_and_a_switch_of_path(images160):
    X, y = _features(20)
    clf = FineTuneClassifier(None, max_epochs=1, warm_start=True, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"warm start\) got labels \[5\]"):
        clf.fit(X, np.where(y == 1, 5, 0))
    reg = FineTuneRegressor(None, max_epochs=1, warm_start=True).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="fitted on 1 output"):
        reg.fit(X, X[:, :2])
    images, labels = images160
    clf = _tiny(max_epochs=1).fit(images, labels)
    clf.set_params(n_trainable_blocks=1, warm_start=True)
    with pytest.raises(ValueError, match="warm_start=True continues the fitted network, which is the head alone"):
        clf.fit(images, labels)
    clf.set_params(warm_start=False).fit(images, labels)  # starting anew is fine
    assert clf.net_.adapter is not None


# -- bad input ---------------------------------------------------------------------------------------
def test_regressor_refuses_labels():
    X, _ = _features(6)
    with pytest.raises(ValueError, match="FineTuneRegressor needs numeric targets.*Use FineTuneClassifier"):
        FineTuneRegressor(None).fit(X, ["cat", "dog"] * 3)
    with pytest.raises(ValueError, match="got infinite targets, or NaN in some but not all outputs"):
        FineTuneRegressor(None).fit(X, [1.0, np.inf] * 3)
    with pytest.raises(ValueError, match="got infinite targets, or NaN in some but not all outputs"):
        FineTuneRegressor(None).fit(X, np.column_stack([np.ones(6), [1.0, np.nan] * 3]))
    with pytest.raises(ValueError, match=r"shape \(n_samples,\) or \(n_samples, n_outputs\)"):
        FineTuneRegressor(None).fit(X, np.zeros((6, 2, 2)))


def test_regressor_refuses_targets_too_large_to_standardise():
    """Their variance overflowed: the scale was inf, every standardised target 0 and every prediction
    0 * inf = NaN, silently. Up to the overflow, predictions stay finite and on the targets' scale."""
    X, _ = _features(8)
    y = np.linspace(-1, 1, 8)
    match = (r"FineTuneRegressor: the mean, standard deviation and standardised values of the targets came out "
             r"non-finite .* too large to standardise \(\|y\| up to 1e\+300\): rescale y")
    reg = FineTuneRegressor(None, max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match=match):
        reg.fit(X, y * 1e300)
    assert not hasattr(reg, "y_mean_") and not hasattr(reg, "n_outputs_")  # nothing half-fitted
    pred = reg.fit(X, y * 1e150).predict(X)
    assert np.isfinite(pred).all() and 1e148 < np.abs(pred).max() < 1e152
    # partial_fit standardises new targets with the fitted scale: 1e300 / 1 overflows float32.
    reg.fit(X, y)
    with pytest.raises(ValueError, match=r"too large to standardise \(\|y\| up to 1e\+300\)"):
        reg.partial_fit(X, y * 1e300)
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize("estimator", [FineTuneClassifier, FineTuneRegressor])
def test_features_too_large_to_square_are_refused_at_fit_and_predict(estimator):
    """Feature inputs (backbone=None) go through the library's one magnitude check: float32 features
    of 1e20 trained on an overflowing loss (its squares are inf) without an error."""
    X, y = _features(8)
    name = estimator.__name__
    with pytest.raises(ValueError, match=rf"{name}: X has values up to \S+e\+20 in absolute value, too large "
                                         r"to square.*Rescale the features"):
        estimator(None, max_epochs=1).fit(X * 1e20, y)
    est = estimator(None, max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=rf"{name}: X has values up to \S+e\+20"):
        est.predict(X * 1e20)


def test_classifier_refuses_bad_targets():
    X, _ = _features(6)
    with pytest.raises(ValueError, match="FineTuneClassifier needs at least 2 classes; got 1 class: \\[1\\]"):
        FineTuneClassifier(None).fit(X, [1] * 6)
    with pytest.raises(ValueError, match="needs class labels; got a target of type 'continuous'"):
        FineTuneClassifier(None).fit(X, np.linspace(0, 1, 6))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FineTuneClassifier(None).fit(X, [0, 1] * 4)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FineTuneClassifier(None).fit(X[:4], [0, 1] * 3)
    with pytest.raises(ValueError, match="Unknown label type"):
        FineTuneClassifier(None).fit(X, np.array([object()] * 6))
    for est in (FineTuneClassifier(None), FineTuneRegressor(None)):
        with pytest.raises(ValueError, match="requires y to be passed, but the target y is None"):
            est.fit(X, None)


# -- the label mask: -1 (classes) and NaN (targets) mark unlabelled rows, never a class -----------------
def _same_fit(a, b, X):
    np.testing.assert_array_equal(a.classes_, b.classes_) if hasattr(a, "classes_") else None
    for (name, p), (_, q) in zip(a.net_.named_parameters(), b.net_.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("mask", [-1, np.nan], ids=["-1", "NaN"])
def test_classifier_leaves_unlabelled_rows_out_and_never_learns_the_mask_as_a_class(mask):
    X, y = _features(40)
    y_masked = y.astype(type(mask))
    y_masked[::4] = mask
    keep = np.arange(40) % 4 != 0
    masked = FineTuneClassifier(None, max_epochs=3, random_state=0).fit(X, y_masked)
    assert masked.classes_.tolist() == [0, 1] and masked.predict_proba(X).shape == (40, 2)
    _same_fit(masked, FineTuneClassifier(None, max_epochs=3, random_state=0).fit(X[keep], y[keep]), X)


def test_classifier_score_leaves_unlabelled_rows_out():
    X, y = _features(40)
    clf = FineTuneClassifier(None, max_epochs=3, random_state=0).fit(X, y)
    y_masked = np.where(np.arange(40) % 4 == 0, -1, y)
    keep = y_masked != -1
    assert clf.score(X, y_masked) == clf.score(X[keep], y[keep])
    with pytest.raises(ValueError, match=r"FineTuneClassifier.score needs labelled rows"):
        clf.score(X, np.full(40, -1))


def test_classifier_leaves_unlabelled_images_out(images160):
    """The rows of a list of images are taken as a list (the frozen-embedding and the trained-block paths)."""
    images, y = images160
    X = list(images)
    y_masked = np.where(np.arange(8) < 2, -1, y)
    for blocks in (0, 1):
        masked = _tiny(n_trainable_blocks=blocks, max_epochs=1).fit(X, y_masked)
        assert masked.classes_.tolist() == [0, 1]
        _same_fit(masked, _tiny(n_trainable_blocks=blocks, max_epochs=1).fit(X[2:], y[2:]), X)


def test_classifier_partial_fit_skips_unlabelled_rows_and_refuses_the_mask_as_a_class():
    X, y = _features(40)
    y_masked = np.where(np.arange(40) % 5 == 0, -1, y)
    clf = FineTuneClassifier(None, random_state=0).partial_fit(X, y_masked, classes=[0, 1])
    assert clf.classes_.tolist() == [0, 1]
    clf.partial_fit(X, y_masked)  # -1 is not an unseen label
    with pytest.raises(ValueError, match=r"classes=\[-1, 1\], but -1 \(or NaN\) marks an unlabelled row and "
                                         r"cannot be a class"):
        FineTuneClassifier(None).partial_fit(X, y, classes=[-1, 1])


def test_regressor_leaves_nan_rows_out_and_keeps_minus_one_as_a_value():
    X, _ = _features(40)
    y = X @ np.array([1.0, -2.0, 0.5, 0.0])
    y[3] = -1.0  # a real value of a regression target
    y_masked = y.copy()
    y_masked[::4] = np.nan
    keep = np.arange(40) % 4 != 0
    masked = FineTuneRegressor(None, max_epochs=3, random_state=0).fit(X, y_masked)
    _same_fit(masked, FineTuneRegressor(None, max_epochs=3, random_state=0).fit(X[keep], y[keep]), X)
    both = np.column_stack([y_masked, 2 * y_masked])  # multi-output: NaN in every output masks the row
    masked2 = FineTuneRegressor(None, max_epochs=3, random_state=0).fit(X, both)
    assert masked2.predict(X).shape == (40, 2)
    np.testing.assert_allclose(masked2.y_mean_, [y[keep].mean(), 2 * y[keep].mean()])


@pytest.mark.parametrize(
    "estimator, y, match",
    [
        (FineTuneClassifier, [-1] * 6, r"needs labelled source rows, but every source label is masked"),
        (FineTuneRegressor, [np.nan] * 6, r"needs labelled source rows, but every source label is masked"),
        (FineTuneClassifier, [1, -1, 1, -1, 1, -1], r"y holds only the values -1 and 1"),
        (FineTuneClassifier, [0.0, 1.0, -1.0, np.nan, 0.0, 1.0], r"y holds both NaN and -1"),
    ],
)
def test_masks_the_rule_refuses(estimator, y, match):
    X, _ = _features(6)
    with pytest.raises(ValueError, match=match):
        estimator(None, max_epochs=1).fit(X, y)


def test_inputs_of_the_wrong_modality(images160):
    images, y = images160
    with pytest.raises(ValueError, match="is a text model, but X does not hold texts"):
        FineTuneClassifier("all-MiniLM-L6-v2").fit(images, y)
    with pytest.raises(ValueError, match="is an image model, but X holds strings that are not image files"):
        _tiny().fit(["a fine day", "a bad day"] * 4, y)


def test_invalid_heads():
    X, y = _features(6)
    with pytest.raises(ValueError, match="head hidden sizes must be positive ints"):
        FineTuneClassifier(None, head=(0,)).fit(X, y)
    with pytest.raises(ValueError, match="head hidden sizes must be positive ints"):
        FineTuneClassifier(None, head=(8, 2.5)).fit(X, y)
    with pytest.raises(ValueError, match="The 'head' parameter of FineTuneClassifier must be"):
        FineTuneClassifier(None, head="mlp").fit(X, y)


@pytest.mark.parametrize("param, value", [("lr_decay", 2), ("lr_decay", 0), ("n_trainable_blocks", -1),
                                          ("n_trainable_blocks", "some"), ("lr", 0), ("max_epochs", 0),
                                          ("validation_fraction", 1.0), ("regularization", "l1"),
                                          ("dropout", 1.0), ("precision", "fp8")])
def test_invalid_params(param, value):
    X, y = _features(6)
    # sklearn's InvalidParameterError (a ValueError), with its one template.
    with pytest.raises(ValueError, match=f"The '{param}' parameter of FineTuneClassifier must be"):
        FineTuneClassifier(None, **{param: value}).fit(X, y)


def test_feature_count_is_checked_at_predict():
    X, y = _features(10)
    clf = FineTuneClassifier(None, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="4 features"):
        clf.predict(X[:, :3])


def test_tags():
    assert FineTuneRegressor(None).__sklearn_tags__().target_tags.multi_output
    tags = FineTuneClassifier(None).__sklearn_tags__().input_tags
    assert tags.two_d_array and not tags.string
    tags = FineTuneClassifier().__sklearn_tags__().input_tags
    assert tags.string and not tags.two_d_array


@pytest.mark.slow
@parametrize_with_checks([FineTuneClassifier(None, max_epochs=30, lr=0.05, random_state=0),
                          FineTuneRegressor(None, max_epochs=30, lr=0.05, random_state=0)],
                         expected_failed_checks=lambda est: {
                             "check_classifiers_classes": "-1 is the label mask; {-1, 1} labels clash with it"}
                         if isinstance(est, FineTuneClassifier) else {})
def test_sklearn_checks_on_feature_inputs(estimator, check):
    """scikit-learn's estimator checks on the feature-input variant (tests/test_common.py leaves
    sktransfer.deep out, since it needs torch); about 15 s on one CPU thread."""
    check(estimator)


def test_plot_history():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = _features(40)
    clf = FineTuneClassifier(None, max_epochs=3, early_stopping=True, random_state=0).fit(X, y)
    ax = clf.plot_history()
    try:
        assert isinstance(ax, matplotlib.axes.Axes)
        assert [line.get_label() for line in ax.get_lines()] == ["train loss", "validation loss"]
        assert len(ax.get_lines()[0].get_xdata()) == 3
    finally:
        plt.close("all")
    with pytest.raises(NotFittedError):
        FineTuneClassifier(None).plot_history()


def test_training_blocks_below_an_inner_layer_is_refused(images160):
    X, y = images160
    clf = FineTuneClassifier("timm:test_efficientnet", weights="random", layer=-2, n_trainable_blocks=1)
    with pytest.raises(ValueError, match="blocks are counted from the backbone's output"):
        clf.fit(X, y)


def test_hidden_sizes_may_be_numpy_ints():
    X = np.random.default_rng(0).normal(size=(20, 3)).astype("float32")
    y = np.arange(20) % 2
    clf = FineTuneClassifier(backbone=None, head=(np.int64(4),), max_epochs=1, random_state=0).fit(X, y)
    assert clf.net_.head[0].out_features == 4


def test_unpickling_a_trained_backbone_needs_no_pretrained_weights(images160, monkeypatch):
    """The pickle carries every weight: loading rebuilds the architecture alone (weights='random')."""
    from sktransfer.deep._backbones import _registry

    X, y = images160
    clf = FineTuneClassifier("timm:test_efficientnet", weights="random", n_trainable_blocks=1, max_epochs=1,
                             batch_size=8, random_state=0).fit(X, y)
    expected = clf.predict_proba(X)
    blob = pickle.dumps(clf)
    real_load = _registry._load
    asked = []

    def recording_load(spec, weights, modality, **kwargs):
        asked.append(weights)
        return real_load(spec, weights, modality, **kwargs)

    _registry.clear_backbone_cache()
    monkeypatch.setattr(_registry, "_load", recording_load)
    np.testing.assert_allclose(pickle.loads(blob).predict_proba(X), expected, atol=1e-6)
    assert asked and set(asked) == {"random"}
