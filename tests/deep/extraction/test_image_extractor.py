"""ImageFeatureExtractor: every pooling against a manual computation from the raw
layer output, layer selection (only the layers needed run), and scikit-learn
citizenship (feature names, pandas output, pipelines, CV, grid search with
workers, DA pipelines, pickling and cloning).
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sktransfer.alignment import CORAL
from sktransfer.deep import ImageFeatureExtractor
from sktransfer.domain import stack_domains
from sktransfer.pipeline import make_da_pipeline

from ..conftest import make_images


def _normalise(uint8_nhwc, config):
    x = torch.from_numpy(np.ascontiguousarray(uint8_nhwc)).permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(config.mean).view(1, 3, 1, 1)) / torch.tensor(config.std).view(1, 3, 1, 1)


def _raw(backbone, x, name):
    """Output of submodule ``name`` in a full forward pass (a hook, not the package's tap code)."""
    seen = {}
    handle = backbone.module.get_submodule(name).register_forward_hook(lambda m, i, o: seen.setdefault("o", o))
    try:
        with torch.inference_mode():
            backbone.module(_normalise(x, backbone.config))
    finally:
        handle.remove()
    return seen["o"]


@pytest.fixture
def x160():
    """Two images at the tiny models' input size: no resize, so the raw forward is comparable."""
    return make_images(2, 160, 160, seed=5)


def _close(actual, expected):
    np.testing.assert_allclose(actual, np.asarray(expected), rtol=1e-4, atol=1e-5)


# -- pooling ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, layer", [("timm:test_resnet", "layer2"), ("timm:test_efficientnet", "blocks.3")])
def test_cnn_poolings_of_an_inner_layer(tiny, backbone_of, x160, spec, layer):
    fmap = _raw(backbone_of(spec), x160, layer)  # (N, C, H, W)
    avg, mx = fmap.mean(dim=(2, 3)), fmap.amax(dim=(2, 3))
    expected = {"auto": avg, "avg": avg, "max": mx, "avgmax": torch.cat([avg, mx], 1), "flatten": fmap.flatten(1)}
    for pooling, want in expected.items():
        ext = tiny(spec, layer=layer, pooling=pooling).fit(x160)
        assert ext.n_features_out_ == want.shape[1]
        _close(ext.transform(x160), want)


def test_cnn_poolings_of_the_final_layer(tiny, backbone_of, x160):
    backbone = backbone_of("timm:test_resnet")
    with torch.inference_mode():
        final = backbone.module.forward_features(_normalise(x160, backbone.config))
        head = backbone.module.forward_head(final, pre_logits=True)
    avg, mx = final.mean(dim=(2, 3)), final.amax(dim=(2, 3))
    expected = {"auto": head, "avg": avg, "max": mx, "avgmax": torch.cat([avg, mx], 1), "flatten": final.flatten(1)}
    for pooling, want in expected.items():
        _close(tiny("timm:test_resnet", pooling=pooling).fit(x160).transform(x160), want)


def test_cls_pooling_on_a_cnn_map_is_refused(tiny, x160):
    with pytest.raises(ValueError, match=r"pooling='cls' needs a token sequence.*feature map"):
        tiny("timm:test_resnet", pooling="cls").fit(x160)


def test_vit_poolings(tiny, backbone_of, x160):
    """Tokens: ``cls`` is token 0; avg and max leave the class token out."""
    backbone = backbone_of("timm:test_vit")
    assert backbone.n_prefix == 1
    with torch.inference_mode():
        tokens = backbone.module.forward_features(_normalise(x160, backbone.config))  # (N, 1 + 100, D)
        head = backbone.module.forward_head(tokens, pre_logits=True)
    patches = tokens[:, 1:]
    avg, mx = patches.mean(1), patches.amax(1)
    expected = {"auto": head, "cls": tokens[:, 0], "avg": avg, "max": mx, "avgmax": torch.cat([avg, mx], 1),
                "flatten": tokens.flatten(1)}
    for pooling, want in expected.items():
        _close(tiny("timm:test_vit", pooling=pooling).fit(x160).transform(x160), want)
    inner = _raw(backbone, x160, "blocks.2")[:, 1:]
    _close(tiny("timm:test_vit", layer=2, pooling="max").fit(x160).transform(x160), inner.amax(1))
    with pytest.raises(ValueError, match=r"pooling='cls' needs a token sequence"):
        tiny("timm:test_vit", layer=2, pooling="cls").fit(x160)  # inner ViT layers come as maps


def test_bad_pooling_is_refused(tiny, x160):
    with pytest.raises(ValueError, match=r"pooling"):
        tiny(pooling="mean").fit(x160)  # a text pooling name


# -- layers ----------------------------------------------------------------------------------
def test_layer_by_index_negative_index_and_name_agree(tiny, backbone_of, x160):
    names = backbone_of("timm:test_resnet").tap_names
    assert names == ["act1", "layer1", "layer2", "layer3", "layer4", "pooled"]
    outs = []
    for layer in (2, -4, "layer2"):
        ext = tiny("timm:test_resnet", layer=layer).fit(x160)
        assert ext.layer_name_ == "layer2"
        outs.append(ext.transform(x160))
    np.testing.assert_array_equal(outs[0], outs[1])
    np.testing.assert_array_equal(outs[0], outs[2])
    backbone = backbone_of("timm:test_resnet")
    widths = [tiny("timm:test_resnet", layer=i).fit(x160).n_features_out_ for i in range(6)]
    assert widths == [_raw(backbone, x160, name).shape[1] for name in names[:-1]] + [backbone.module.num_features]


@pytest.mark.parametrize("layer", [6, -7, 100])
def test_layer_deeper_than_the_model_is_a_clear_error(tiny, x160, layer):
    with pytest.raises(ValueError, match=rf"layer={layer} is deeper than test_resnet, which has 6 readable "
                                         r"layers \(indices -6..5, -1 = pooled output\)"):
        tiny("timm:test_resnet", layer=layer).fit(x160)


def test_unknown_layer_name_lists_the_names(tiny, x160):
    with pytest.raises(ValueError, match=r"layer='layer9' is not a layer of test_resnet.*'layer4', 'pooled'"):
        tiny("timm:test_resnet", layer="layer9").fit(x160)


@pytest.mark.parametrize("spec, layer, later", [
    ("timm:test_efficientnet", 1, ["blocks.2", "blocks.4", "conv_head"]),
    ("timm:test_resnet", "layer1", ["layer2", "layer4"]),
    ("timm:test_vit", 1, ["blocks.2", "blocks.5", "norm"]),
])
def test_layers_after_the_one_read_do_not_run(tiny, backbone_of, x160, spec, layer, later):
    backbone = backbone_of(spec)
    calls = {name: 0 for name in [backbone.tap_names[1] if isinstance(layer, int) else layer] + later}

    def counter(name):
        def hook(*args):
            calls[name] += 1
        return hook

    handles = [backbone.module.get_submodule(n).register_forward_hook(counter(n)) for n in calls]
    try:
        tiny(spec, layer=layer).fit(x160).transform(x160)
    finally:
        for h in handles:
            h.remove()
    read, *rest = calls
    assert calls[read] in (1, 2)  # the transform, and fit's probe unless a fit already measured the width
    assert all(calls[n] == 0 for n in rest), calls


# -- scikit-learn citizenship ----------------------------------------------------------------
def test_feature_names_and_pandas_output(tiny, images):
    ext = tiny("timm:test_resnet", layer=2)
    with pytest.raises(NotFittedError):
        ext.transform(images)
    ext.fit(images)
    names = ext.get_feature_names_out()
    assert list(names) == [f"test_resnet_{i}" for i in range(48)] and ext.backbone_name_ == "test_resnet"
    ext.set_output(transform="pandas")
    frame = ext.transform(images)
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(names)
    np.testing.assert_array_equal(frame.to_numpy(), ext.set_output(transform="default").transform(images))


def test_pandas_output_keeps_the_index_of_a_series_input(tiny, images, tmp_path):
    from PIL import Image

    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    series = pd.Series(paths, index=["a", "b", "c"])
    frame = tiny().set_output(transform="pandas").fit(series).transform(series)
    assert frame.index.tolist() == ["a", "b", "c"]


def _two_classes(n, seed):
    """Dark versus bright images: separable by any feature extractor."""
    x = make_images(n, 24, 24, seed=seed)
    y = np.arange(n) % 2
    x[y == 0] //= 4
    return x, y


def test_pipeline_and_cross_validation(tiny):
    X, y = _two_classes(12, seed=0)
    pipe = make_pipeline(tiny("timm:test_resnet", layer=1), StandardScaler(), LogisticRegression())
    assert pipe.fit(X, y).score(X, y) == 1.0
    scores = cross_val_score(pipe, X, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.mean() > 0.7


def _small_net(width, seed):
    """A plain Sequential with fixed weights (32x32 input): worker processes get the
    same model by unpickling it, and need not import timm."""
    g = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, width, 3, stride=2), torch.nn.ReLU(),
                              torch.nn.Conv2d(width, 2 * width, 3, stride=2), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    net.pretrained_cfg = {"input_size": (3, 32, 32), "crop_pct": 1.0, "mean": (0.5,) * 3, "std": (0.5,) * 3}
    return net


def test_grid_search_over_backbone_and_layer_with_workers():
    X, y = _two_classes(8, seed=1)
    pipe = make_pipeline(ImageFeatureExtractor(num_workers=0), StandardScaler(), LogisticRegression())
    grid = {"imagefeatureextractor__backbone": [_small_net(4, seed=0), _small_net(6, seed=1)],
            "imagefeatureextractor__layer": [-1, "1"]}
    cv = KFold(2, shuffle=True, random_state=0)
    parallel = GridSearchCV(pipe, grid, cv=cv, n_jobs=2).fit(X, y)
    serial = GridSearchCV(pipe, grid, cv=cv, n_jobs=1).fit(X, y)
    assert len(parallel.cv_results_["params"]) == 4
    np.testing.assert_allclose(parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    best = parallel.best_estimator_[0]
    assert best.layer_name_ in ("pooled", "1") and best.n_features_out_ in (4, 6, 8, 12)


def test_grid_search_routes_backbone_and_layer_to_the_extractor(tiny):
    """Each candidate's score equals cross_val_score of the pipeline built by hand."""
    X, y = _two_classes(8, seed=4)
    pipe = make_pipeline(tiny(), StandardScaler(), LogisticRegression())
    grid = {"imagefeatureextractor__backbone": ["timm:test_resnet", "timm:test_efficientnet"],
            "imagefeatureextractor__layer": [1, -1]}
    cv = KFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y)
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        by_hand = make_pipeline(tiny(params["imagefeatureextractor__backbone"],
                                     layer=params["imagefeatureextractor__layer"]),
                                StandardScaler(), LogisticRegression())
        assert cross_val_score(by_hand, X, y, cv=cv).mean() == pytest.approx(score)
    best = search.best_estimator_[0]
    assert (best.backbone, best.layer) == tuple(search.best_params_[f"imagefeatureextractor__{k}"]
                                                for k in ("backbone", "layer"))


def test_da_pipeline_with_coral_matches_the_steps_run_by_hand(tiny):
    """make_da_pipeline passes sample_domain to CORAL (not to the extractor), and the
    classifier gets only the labelled source rows."""
    Xs, ys = _two_classes(8, seed=2)
    Xt = make_images(6, 24, 24, seed=3)
    X, y, sample_domain = stack_domains(source=(Xs, ys), target=Xt)
    assert X.shape == (14, 24, 24, 3)
    pipe = make_da_pipeline(tiny("timm:test_resnet", layer=2), CORAL(), LogisticRegression())
    pipe.fit(X, y, sample_domain=sample_domain)
    feats = tiny("timm:test_resnet", layer=2).fit(X).transform(X)
    coral = CORAL().fit(feats, y, sample_domain=sample_domain)
    aligned = coral.transform(feats, sample_domain=sample_domain)
    clf = LogisticRegression().fit(aligned[sample_domain > 0], ys)
    np.testing.assert_allclose(pipe.predict_proba(Xt), clf.predict_proba(coral.transform(feats[8:])), atol=1e-5)
    lists = stack_domains(source=(list(Xs), ys), target=list(Xt))[0]
    assert isinstance(lists, list)
    np.testing.assert_array_equal(pipe.fit(lists, y, sample_domain=sample_domain).predict(list(Xt)),
                                  pipe.predict(Xt))


def test_pickle_round_trip_is_small_and_identical(tiny, images):
    ext = tiny("timm:test_resnet").fit(images)
    blob = pickle.dumps(ext)
    assert len(blob) < 100_000  # parameters only; the model lives in the backbone cache
    np.testing.assert_array_equal(pickle.loads(blob).transform(images), ext.transform(images))
    default = ImageFeatureExtractor(num_workers=0).fit(images)
    assert len(pickle.dumps(default)) < 100_000


def test_clone_get_params_and_set_params(tiny, images):
    ext = tiny("timm:test_resnet", layer=2, cache=None)
    params = ext.get_params()
    assert set(params) == {"backbone", "layer", "pooling", "weights", "download", "allow_pickle", "device",
                           "precision", "batch_size",
                           "channels_last", "compile", "num_workers", "cache", "progress", "on_error"}
    ext.fit(images)
    copy = clone(ext)
    assert copy.get_params() == params and not hasattr(copy, "n_features_out_")
    np.testing.assert_array_equal(copy.fit(images).transform(images), ext.transform(images))
    assert copy.set_params(layer=1, pooling="max") is copy
    assert copy.fit(images).layer_name_ == "layer1" and copy.transform(images).shape == (3, 32)


def test_fit_transform_batch_size_and_memory_format_do_not_change_features(tiny, images):
    reference = tiny("timm:test_resnet").fit(images).transform(images)
    np.testing.assert_array_equal(tiny("timm:test_resnet").fit_transform(images), reference)
    for params in ({"batch_size": 1}, {"batch_size": 2, "channels_last": False}, {"progress": True}):
        np.testing.assert_allclose(tiny("timm:test_resnet", **params).fit(images).transform(images), reference,
                                   rtol=1e-4, atol=1e-6, err_msg=str(params))


@pytest.mark.parametrize("params, match", [
    ({"batch_size": 0}, "batch_size"),
    ({"num_workers": -1}, "num_workers"),
    ({"on_error": "ignore"}, "on_error"),
    ({"precision": "fp64"}, "precision"),
    ({"channels_last": "yes"}, "channels_last"),
    ({"layer": 1.5}, "layer"),
])
def test_invalid_parameters_are_rejected_at_fit(tiny, images, params, match):
    with pytest.raises(ValueError, match=match):
        tiny(**params).fit(images)


@pytest.mark.slow
def test_compiled_forward_gives_the_same_features(tiny, images):
    """``compile=True`` (torch.compile; a minute of compilation on a CPU)."""
    expected = tiny("timm:test_resnet").fit(images).transform(images)
    compiled = tiny("timm:test_resnet", compile=True).fit(images)
    np.testing.assert_allclose(compiled.transform(images), expected, rtol=1e-4, atol=1e-6)


def test_fit_probes_a_layer_width_once_per_backbone(tiny, backbone_of, x160, monkeypatch):
    """In a grid search every fit of a cached (layer, pooling) skips the probe forward."""
    from sktransfer.deep import clear_backbone_cache
    from sktransfer.deep._extraction._extractor import DeepFeatureExtractor

    clear_backbone_cache()  # a fresh backbone has measured no width yet
    ext = tiny("timm:test_resnet", layer=1).fit(x160)
    assert ext.layer_names_ == backbone_of("timm:test_resnet").tap_names
    probes = []
    real = DeepFeatureExtractor._run
    monkeypatch.setattr(DeepFeatureExtractor, "_run", lambda self, *a: probes.append(1) or real(self, *a))
    again = tiny("timm:test_resnet", layer=1).fit(x160)
    assert probes == [] and again.n_features_out_ == ext.n_features_out_
    tiny("timm:test_resnet", layer=1, pooling="avgmax").fit(x160)
    assert probes == [1]


def test_transferability_scorer_ranks_backbones_and_layers_without_a_head():
    """The issue's use: GridSearchCV over an extractor alone, scored by LogME on the held-out fold."""
    from sktransfer.metrics import logme_score
    from sktransfer.model_selection import TransferabilityScorer

    X, y = _two_classes(8, seed=2)
    grid = {"backbone": [_small_net(4, seed=0), _small_net(6, seed=1)], "layer": [-1, "1"]}
    cv = KFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(ImageFeatureExtractor(num_workers=0), grid, cv=cv,
                          scoring=TransferabilityScorer("logme")).fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # each candidate's score is LogME of its features on the validation fold, by hand
    train, test = next(cv.split(X))
    params = search.cv_results_["params"][0]
    fitted = ImageFeatureExtractor(num_workers=0, **params).fit(X[train], y[train])
    by_hand = logme_score(fitted.transform(X[test]), y[test])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(by_hand, rel=1e-6)
    assert search.best_estimator_.n_features_out_ in (4, 6, 8, 12)
