"""DomainAdaptationClassifier / DomainAdaptationRegressor: the domain contract, the objective, sklearn's API."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold

from sktransfer import make_da_pipeline
from sktransfer.datasets import make_domain_shift
from sktransfer.deep import DomainAdaptationClassifier, DomainAdaptationRegressor

torch = pytest.importorskip("torch")

from sktransfer.deep._adaptation import _objective  # noqa: E402
from sktransfer.deep._adaptation._divergence import coral_loss  # noqa: E402
from sktransfer.deep._adaptation._reversal import dann_schedule  # noqa: E402

LOSSES = [None, "coral", "mmd", "dann", "cdan", "cdan+e", "mcc"]
SMALL = dict(backbone=None, head=(8,), discriminator=(16,), max_epochs=3, batch_size=16, random_state=0)


def _shift(task="classification", n=120):
    X, y, sd = make_domain_shift(n_samples=n, task=task, shift="subspace", n_features=4, mask_target=False,
                                 random_state=0)
    masked = np.where(sd < 0, -1 if task == "classification" else np.nan, y)
    return X.astype(np.float32), masked, y, sd


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_fits_predicts_and_is_deterministic(loss):
    X, y, _, sd = _shift()
    a = DomainAdaptationClassifier(loss=loss, **SMALL).fit(X, y, sample_domain=sd)
    b = DomainAdaptationClassifier(loss=loss, **SMALL).fit(X, y, sample_domain=sd)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert set(a.classes_) == {0, 1}  # -1 is the mask, never a class
    assert a.n_epochs_ == 3 and np.isfinite(a.history_[-1]["train_loss"])


@pytest.mark.parametrize("loss", [None, "coral", "mmd", "dann"])
def test_regressor_losses(loss):
    X, y, y_true, sd = _shift("regression")
    reg = DomainAdaptationRegressor(loss=loss, **SMALL).fit(X, y, sample_domain=sd)
    assert np.isfinite(reg.predict(X)).all()
    assert np.isfinite(reg.score(X[sd < 0], y_true[sd < 0]))


def test_the_domain_loss_changes_the_fit_and_the_weight_zero_does_not():
    X, y, _, sd = _shift()
    none = DomainAdaptationClassifier(loss=None, **SMALL).fit(X, y, sample_domain=sd).predict_proba(X)
    zero = DomainAdaptationClassifier(loss="coral", loss_weight=0.0, **SMALL).fit(X, y, sample_domain=sd)
    coral = DomainAdaptationClassifier(loss="coral", loss_weight=5.0, ramp_steps=0, **SMALL).fit(X, y, sample_domain=sd)
    # loss_weight=0 leaves the network where the source-only run ends (same draws, same steps).
    np.testing.assert_allclose(zero.predict_proba(X), none, atol=1e-6)
    assert np.abs(coral.predict_proba(X) - none).max() > 1e-3


def test_the_unlabelled_target_rows_are_trained_on_but_never_as_a_class():
    X, y, _, sd = _shift()
    clf = DomainAdaptationClassifier(loss="mcc", **SMALL).fit(X, y, sample_domain=sd)
    assert clf.classes_.tolist() == [0, 1]
    # Without sample_domain the unlabelled rows are the target rows.
    same = DomainAdaptationClassifier(loss="mcc", **SMALL).fit(X, y)
    np.testing.assert_array_equal(same.predict_proba(X), clf.predict_proba(X))


def test_objective_is_the_supervised_loss_plus_the_weighted_domain_loss():
    """One batch by hand: cross-entropy of the source rows + loss_weight * Deep CORAL of the hidden features."""
    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Dropout(0.0), torch.nn.Linear(4, 2))

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.head = head

        def features_and_outputs(self, x):
            features = self.head[:-1](x)
            return features, self.head[-1](features)

    xs, xt = torch.randn(6, 3), torch.randn(5, 3) + 1.0
    ys = torch.tensor([0, 1, 0, 1, 1, 0])
    objective = _objective.DomainObjective(Net(), torch.nn.CrossEntropyLoss(), "coral", 0.7, np.arange(5),
                                           ramp_steps=0, discriminator=(4,), runtime=_Cpu(), seed=0)
    value = objective((xs, ys, xt))
    hs, ht = head[:-1](xs), head[:-1](xt)
    expected = torch.nn.functional.cross_entropy(head[-1](hs), ys) + 0.7 * coral_loss(hs, ht)
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    # With a ramp, step k weighs the domain loss by 2 / (1 + exp(-10 k / ramp_steps)) - 1 (0 at the first step).
    ramped = _objective.DomainObjective(Net(), torch.nn.CrossEntropyLoss(), "coral", 0.7, np.arange(5),
                                        ramp_steps=4, discriminator=(4,), runtime=_Cpu(), seed=0)
    supervised = torch.nn.functional.cross_entropy(head[-1](hs), ys)
    for k in range(6):
        factor = 2 / (1 + math.exp(-10 * k / 4)) - 1 if k < 4 else 1.0
        expected = supervised + 0.7 * factor * coral_loss(hs, ht)
        assert ramped((xs, ys, xt)).item() == pytest.approx(expected.item(), rel=1e-6)


class _Cpu:
    device = torch.device("cpu")


def test_adversarial_losses_follow_the_dann_schedule(monkeypatch):
    X, y, _, sd = _shift()
    seen = []
    real = _objective.dann_loss

    def spy(discriminator, fs, ft, coeff):
        seen.append(coeff)
        return real(discriminator, fs, ft, coeff)

    monkeypatch.setattr(_objective, "dann_loss", spy)
    # ramp_steps=None: over the whole run (Ganin and Lempitsky)
    DomainAdaptationClassifier(loss="dann", ramp_steps=None, **SMALL).fit(X, y, sample_domain=sd)
    steps = len(seen)
    assert steps > 10 and seen[0] == 0.0  # no reversed gradient at the start
    np.testing.assert_allclose(seen, [dann_schedule(k / steps) for k in range(steps)])
    # the default: over 1000 steps whatever the run's length (the authors' code), so a short run adapts little
    seen.clear()
    DomainAdaptationClassifier(loss="dann", **SMALL).fit(X, y, sample_domain=sd)
    np.testing.assert_allclose(seen, [dann_schedule(k / 1000) for k in range(steps)])
    assert max(seen) < 0.5
    # a ramp shorter than the run ends at exactly 1; 0 is the full weight from the first step
    for ramp, expected in ((5, [dann_schedule(k / 5) for k in range(5)] + [1.0] * (steps - 5)), (0, [1.0] * steps)):
        seen.clear()
        DomainAdaptationClassifier(loss="dann", ramp_steps=ramp, **SMALL).fit(X, y, sample_domain=sd)
        np.testing.assert_allclose(seen, expected)


def test_each_target_row_is_drawn_once_per_cycle():
    objective = _objective.DomainObjective.__new__(_objective.DomainObjective)
    objective.target_rows, objective._order = np.arange(10, 17), np.zeros(0, dtype=np.int64)
    rng = np.random.RandomState(0)
    drawn = np.concatenate([objective._next_target_rows(3, rng) for _ in range(7)])  # 21 rows = 3 cycles
    for cycle in drawn.reshape(3, 7):
        assert sorted(cycle) == list(range(10, 17))


def test_gradient_reversal_makes_the_features_fool_the_discriminator():
    """The sign: with DANN the features' gradient from the domain loss is reversed, so the
    discriminator (trained to separate) ends no better than at the start on well-separated domains."""
    X, y, _, sd = _shift()
    X = X.copy()
    X[sd < 0] += 3.0
    clf = DomainAdaptationClassifier(loss="dann", loss_weight=1.0, **{**SMALL, "max_epochs": 15})
    clf.fit(X, y, sample_domain=sd)
    with torch.no_grad():
        fs, _ = clf.net_.features_and_outputs(torch.as_tensor(X[sd > 0]))
        ft, _ = clf.net_.features_and_outputs(torch.as_tensor(X[sd < 0]))
    source_only = DomainAdaptationClassifier(loss=None, **{**SMALL, "max_epochs": 15}).fit(X, y, sample_domain=sd)
    with torch.no_grad():
        gs, _ = source_only.net_.features_and_outputs(torch.as_tensor(X[sd > 0]))
        gt, _ = source_only.net_.features_and_outputs(torch.as_tensor(X[sd < 0]))
    gap = (fs.mean(0) - ft.mean(0)).norm() / fs.std(0).mean()
    gap_source_only = (gs.mean(0) - gt.mean(0)).norm() / gs.std(0).mean()
    assert gap < gap_source_only


@pytest.mark.parametrize("cls", [DomainAdaptationClassifier, DomainAdaptationRegressor])
def test_parameters_clone_and_pickle(cls):
    params = cls().get_params()
    assert params["head"] == (256,) and params["loss"] == "dann" and params["loss_weight"] == 1.0
    assert params["discriminator"] == (1024, 1024)
    assert not hasattr(cls(), "partial_fit")
    task = "classification" if cls is DomainAdaptationClassifier else "regression"
    X, y, _, sd = _shift(task)
    est = cls(loss="coral", **SMALL)
    assert clone(est).get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        est.predict(X)
    est.fit(X, y, sample_domain=sd)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert est.n_features_in_ == 4


def test_bad_inputs_are_refused_clearly():
    X, y, y_true, sd = _shift()
    with pytest.raises(ValueError, match="target"):  # every row a labelled source row
        DomainAdaptationClassifier(**SMALL).fit(X, y_true, sample_domain=np.ones(len(y), int))
    with pytest.raises(ValueError, match="label"):  # no labelled row at all
        DomainAdaptationClassifier(**SMALL).fit(X, np.full(len(y), -1), sample_domain=sd)
    Xr, yr, _, sdr = _shift("regression")
    for loss in ("cdan", "cdan+e", "mcc"):
        with pytest.raises(ValueError, match="needs a classifier"):
            DomainAdaptationRegressor(loss=loss, **SMALL).fit(Xr, yr, sample_domain=sdr)
    with pytest.raises(ValueError, match="needs class labels"):
        DomainAdaptationClassifier(loss="mcc", **SMALL).fit(Xr, yr, sample_domain=sdr)
    with pytest.raises(ValueError, match="head='linear'"):
        DomainAdaptationClassifier(**{**SMALL, "head": "linear"}, loss="coral").fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="loss"):
        DomainAdaptationClassifier(**SMALL, loss="wasserstein").fit(X, y, sample_domain=sd)
    with pytest.raises(ValueError, match="discriminator"):
        DomainAdaptationClassifier(**{**SMALL, "discriminator": (0,)}).fit(X, y, sample_domain=sd)
    for ramp in (-1, 2.5, "auto"):
        with pytest.raises(ValueError, match="ramp_steps"):
            DomainAdaptationClassifier(**SMALL, ramp_steps=ramp).fit(X, y, sample_domain=sd)


def test_in_a_pipeline_and_a_grid_search():
    X, y, y_true, sd = _shift()
    pipe = make_da_pipeline(DomainAdaptationClassifier(loss="coral", **SMALL))
    pipe.fit(X, y, sample_domain=sd)
    assert pipe.predict(X[sd < 0]).shape == ((sd < 0).sum(),)
    # Grid over the loss weight, scored on the labelled (source) rows of each fold.
    search = GridSearchCV(DomainAdaptationClassifier(loss="coral", **SMALL), {"loss_weight": [0.0, 1.0]},
                          cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, y, sample_domain=sd)
    assert set(search.cv_results_["param_loss_weight"]) == {0.0, 1.0}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.parametrize("loss", ["coral", "dann", "mcc"])
def test_on_images_the_trained_blocks_move_and_a_grid_over_depth_runs(images160, loss):
    """A tiny timm backbone: the domain loss reaches the trained blocks; frozen blocks stay bit-identical."""
    from sktransfer.deep._backbones._registry import resolve_backbone

    X, labels = images160
    y = np.where(np.arange(8) < 4, labels, -1)
    sd = np.where(np.arange(8) < 4, 1, -1)
    clf = DomainAdaptationClassifier("timm:test_efficientnet", weights="random", head="linear", loss=loss,
                                     n_trainable_blocks=1, head_epochs=0, max_epochs=2, batch_size=4,
                                     discriminator=(8,), ramp_steps=0, random_state=0).fit(X, y, sample_domain=sd)
    shared = dict(resolve_backbone("timm:test_efficientnet", "random", "image", owner="test").module.named_parameters())
    trained = dict(clf.net_.adapter.module.named_parameters())
    moved = {n for n, p in trained.items() if not torch.equal(p.detach().cpu(), shared[n].detach().cpu())}
    assert moved and len(moved) < len(trained)
    assert clf.predict(X).shape == (8,)
    # The same run without the domain term ends elsewhere in the trained block: the domain loss reached it.
    plain = clone(clf).set_params(loss_weight=0.0).fit(X, y, sample_domain=sd)
    plain_params = dict(plain.net_.adapter.module.named_parameters())
    assert any(not torch.equal(trained[n], plain_params[n]) for n in moved)
    if loss == "coral":
        search = GridSearchCV(clone(clf).set_params(max_epochs=1), {"n_trainable_blocks": [1, 2]},
                              cv=KFold(2, shuffle=True, random_state=0))
        search.fit(X, y, sample_domain=sd)
        assert len(search.cv_results_["params"]) == 2


def test_coral_with_batches_of_one_row_is_refused_by_its_parameter():
    """A covariance needs two rows: every step failed inside the loss ("coral_loss needs at least 2 row(s)")."""
    from sktransfer.datasets import make_domain_shift
    from sktransfer.deep import DomainAdaptationClassifier

    X, y, sd = make_domain_shift(n_samples=20, random_state=0)
    with pytest.raises(ValueError, match="batch_size=1"):
        DomainAdaptationClassifier(backbone=None, loss="coral", batch_size=1, max_epochs=1).fit(
            X.astype("float32"), y, sample_domain=sd)


def test_string_labels_beside_the_mask_get_the_librarys_refusal():
    """numpy's "'<' not supported between 'int' and 'str'" came out of type_of_target before."""
    from sktransfer.datasets import make_domain_shift
    from sktransfer.deep import DomainAdaptationClassifier

    X, y, sd = make_domain_shift(n_samples=20, random_state=0)
    labels = np.array(["a", "b"], dtype=object)[np.where(y == -1, 0, y)]
    labels[y == -1] = -1
    with pytest.raises(TypeError, match="String labels cannot be masked"):
        DomainAdaptationClassifier(backbone=None, max_epochs=1).fit(X.astype("float32"), labels, sample_domain=sd)
