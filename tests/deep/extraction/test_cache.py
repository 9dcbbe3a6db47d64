"""The per-item embedding cache: hits skip the forward pass, the key covers the
item's content and everything that changes its features, partial hits equal no
cache, unreadable cache files are misses, and joblib.Memory is accepted.
"""

from __future__ import annotations

import shutil
import warnings

import joblib
import numpy as np
import pytest

from sktransfer.deep import TextFeatureExtractor
from sktransfer.deep._extraction._cache import EmbeddingCache, cache_folder

from ..conftest import make_images


def _npy_files(folder):
    return sorted(folder.rglob("*.npy"))


@pytest.fixture
def forward_calls(backbone_of, monkeypatch):
    """Count the rows each forward pass of a backbone gets."""

    def watch(spec="timm:test_resnet", weights="random", modality="image"):
        backbone = backbone_of(spec, weights, modality)
        real, sizes = backbone.features, []

        def features(x, *args, **kwargs):
            sizes.append(len(x["input_ids"]) if isinstance(x, dict) else len(x))
            return real(x, *args, **kwargs)

        monkeypatch.setattr(backbone, "features", features)
        return sizes

    return watch


def test_second_transform_reads_the_cache(tiny, images, tmp_path, forward_calls):
    ext = tiny("timm:test_resnet", cache=tmp_path).fit(images)
    sizes = forward_calls()
    first = ext.transform(images)
    assert sizes == [3] and len(_npy_files(tmp_path)) == 3
    assert not list(tmp_path.rglob("*.tmp"))  # atomic writes leave no temporaries
    second = ext.transform(images)
    assert sizes == [3]  # no forward pass
    np.testing.assert_array_equal(second, first)
    np.testing.assert_array_equal(first, tiny("timm:test_resnet").fit(images).transform(images))


def test_cache_is_keyed_by_content_not_by_name(tiny, images, tmp_path, forward_calls):
    from PIL import Image

    a, b = tmp_path / "a.png", tmp_path / "copy_of_a.png"
    Image.fromarray(images[0]).save(a)
    shutil.copy(a, b)
    ext = tiny("timm:test_resnet", cache=tmp_path / "cache").fit([a])
    sizes = forward_calls()
    ext.transform([a])
    np.testing.assert_array_equal(ext.transform([b]), ext.transform([a]))
    assert sizes == [1]
    Image.fromarray(images[1]).save(a)  # same name, new content: a miss
    ext.transform([a])
    assert sizes == [1, 1]


def test_cache_is_shared_by_equal_configs_only(tiny, images, tmp_path, forward_calls):
    sizes = forward_calls()

    def computed():  # forward passes over the 3 rows (fit's one-row width probe runs once per backbone)
        return [n for n in sizes if n == len(images)]

    tiny("timm:test_resnet", layer=2, cache=tmp_path).fit(images).transform(images)
    assert computed() == [3]
    tiny("timm:test_resnet", layer=2, cache=tmp_path).fit(images).transform(images)
    assert computed() == [3]  # another extractor, same config: every row from the cache
    tiny("timm:test_resnet", layer=3, cache=tmp_path).fit(images).transform(images)
    tiny("timm:test_resnet", layer=2, pooling="max", cache=tmp_path).fit(images).transform(images)
    tiny("timm:test_resnet", layer=2, precision="bf16", device="cpu", cache=tmp_path).fit(images).transform(images)
    assert computed() == [3, 3, 3, 3]
    assert len(list((tmp_path / "sktransfer_embeddings").iterdir())) == 4
    assert len(_npy_files(tmp_path)) == 12


def test_cache_is_not_shared_between_different_weights(tiny, backbone_of, images, tmp_path):
    import torch

    path = tmp_path / "zeros.pth"
    torch.save({k: torch.zeros_like(v) for k, v in backbone_of("timm:test_resnet").module.state_dict().items()}, path)
    random = tiny("timm:test_resnet", cache=tmp_path / "c").fit(images).transform(images)
    zeros = tiny("timm:test_resnet", weights=str(path), cache=tmp_path / "c").fit(images).transform(images)
    assert not np.allclose(random, zeros)
    assert len(list((tmp_path / "c" / "sktransfer_embeddings").iterdir())) == 2


def test_partial_hits_equal_no_cache(tiny, tmp_path, forward_calls):
    x = make_images(6, 30, 30, seed=11)
    ext = tiny("timm:test_resnet", cache=tmp_path).fit(x)
    sizes = forward_calls()
    ext.transform(x[[1, 4]])
    mixed = ext.transform(x)
    assert sizes == [2, 4]  # only the four new rows run
    np.testing.assert_allclose(mixed, tiny("timm:test_resnet").fit(x).transform(x), rtol=1e-5, atol=1e-6)


def test_corrupt_cache_file_is_a_miss_and_is_rewritten(tiny, images, tmp_path, forward_calls):
    ext = tiny("timm:test_resnet", cache=tmp_path).fit(images)
    expected = ext.transform(images)
    broken = _npy_files(tmp_path)[0]
    broken.write_bytes(b"\x93NUMPY garbage")
    sizes = forward_calls()
    np.testing.assert_array_equal(ext.transform(images), expected)
    assert sizes == [1]
    assert np.load(broken).shape == (expected.shape[1],)


def test_joblib_memory_is_accepted(tiny, images, tmp_path, forward_calls):
    ext = tiny("timm:test_resnet", cache=joblib.Memory(tmp_path, verbose=0)).fit(images)
    sizes = forward_calls()
    first = ext.transform(images)
    np.testing.assert_array_equal(ext.transform(images), first)
    assert sizes == [3] and len(_npy_files(tmp_path)) == 3
    assert cache_folder(joblib.Memory(None), owner="X") is None  # a Memory without location: no cache


@pytest.mark.parametrize("cache", [5, object(), ["a", "folder"]])
def test_bad_cache_type_is_a_type_error(tiny, images, cache):
    with pytest.raises(TypeError, match=r"cache must be None, a folder path or a joblib.Memory"):
        tiny(cache=cache).fit(images)


def test_text_cache(tmp_path, forward_calls):
    texts = ["first text", "second, longer text", "third"]
    ext = TextFeatureExtractor(cache=tmp_path).fit(texts)
    sizes = forward_calls("all-MiniLM-L6-v2", "pretrained", "text")
    first = ext.transform(texts)
    second = ext.transform(texts[::-1] + ["a new one"])
    assert sizes == [3, 1]
    np.testing.assert_array_equal(second[:3], first[::-1])
    assert len(_npy_files(tmp_path)) == 4


def test_embedding_cache_round_trip(tmp_path):
    cache = EmbeddingCache(tmp_path, "config-a", 4)
    key = bytes(range(20))
    assert cache.get(key) is None
    cache.put(key, np.arange(4, dtype=np.float64))
    stored = cache.get(key)
    assert stored.dtype == np.float32 and stored.tolist() == [0, 1, 2, 3]
    assert EmbeddingCache(tmp_path, "config-b", 4).get(key) is None
    hits, misses = cache.lookup([key, bytes(20)])
    assert list(hits) == [0] and misses == [1]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda path, d: np.save(path, np.ones(d + 1, np.float32)), id="longer"),
        pytest.param(lambda path, d: np.save(path, np.ones((1, d), np.float32)), id="2-d"),
        pytest.param(lambda path, d: np.save(path, np.ones(d, np.float64)), id="float64"),
        pytest.param(lambda path, d: np.save(path, np.full(d, np.nan, np.float32)), id="nan"),
        pytest.param(lambda path, d: np.save(path, np.full(d, np.inf, np.float32)), id="inf"),
        pytest.param(lambda path, d: path.write_bytes(b""), id="empty"),
        pytest.param(lambda path, d: path.write_bytes(b"\x93NUMPY\x01\x00"), id="truncated-header"),
        pytest.param(lambda path, d: np.save(path, np.array([{"a": 1}], dtype=object)), id="pickled-object"),
    ],
)
def test_invalid_cache_entry_is_a_miss_and_is_rewritten(tiny, images, tmp_path, forward_calls, damage):
    """An entry that is not exactly a finite float32 vector of the output length is never used."""
    ext = tiny("timm:test_resnet", cache=tmp_path).fit(images)
    expected = ext.transform(images)
    broken = _npy_files(tmp_path)[0]
    damage(broken, expected.shape[1])
    sizes = forward_calls()
    np.testing.assert_array_equal(ext.transform(images), expected)
    assert sizes == [1]  # the damaged row alone is computed again
    rewritten = np.load(broken)
    assert rewritten.dtype == np.float32 and rewritten.shape == (expected.shape[1],)
    assert np.isfinite(rewritten).all()


def test_non_finite_features_are_not_stored(tmp_path):
    cache = EmbeddingCache(tmp_path, "config", 3)
    cache.put(bytes(20), np.array([1.0, np.nan, 2.0]))
    assert _npy_files(tmp_path) == [] and cache.get(bytes(20)) is None


def test_entries_are_fsynced_before_they_are_renamed_into_place(tmp_path, monkeypatch):
    import os

    from sktransfer.deep._extraction import _cache

    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(_cache.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(_cache.os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    cache = EmbeddingCache(tmp_path, "config", 2)
    for i in range(3):
        cache.put(bytes([i] * 20), np.ones(2))
    assert events == ["fsync", "replace"] * 3


def test_unwritable_cache_warns_before_the_forward_pass_and_goes_on(tiny, images, tmp_path, forward_calls):
    from sktransfer.deep import EmbeddingCacheWarning
    from sktransfer.exceptions import SktransferWarning

    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    ext = tiny("timm:test_resnet", cache=not_a_folder).fit(images)
    sizes = forward_calls()
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmbeddingCacheWarning)
        with pytest.raises(EmbeddingCacheWarning, match=r"cannot write to its embedding cache .*cache'.*goes on "
                                                        r"without storing new embeddings"):
            ext.transform(images)
    assert sizes == []  # warned before computing anything
    with pytest.warns(EmbeddingCacheWarning) as record:
        out = ext.transform(images)
    assert len(record) == 1 and issubclass(EmbeddingCacheWarning, SktransferWarning)
    np.testing.assert_array_equal(out, tiny("timm:test_resnet").fit(images).transform(images))


def test_write_failure_mid_way_warns_once_and_stops_writing(tiny, images, tmp_path, monkeypatch):
    from sktransfer.deep import EmbeddingCacheWarning
    from sktransfer.deep._extraction import _cache

    calls = []

    def full_disk(fd):
        calls.append(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_cache.os, "fsync", full_disk)
    ext = tiny("timm:test_resnet", cache=tmp_path, batch_size=1).fit(images)
    with pytest.warns(EmbeddingCacheWarning, match=r"No space left on device") as record:
        out = ext.transform(images)
    assert len(record) == 1 and len(calls) == 1
    assert _npy_files(tmp_path) == [] and not list(tmp_path.rglob("*.tmp"))
    np.testing.assert_array_equal(out, tiny("timm:test_resnet").fit(images).transform(images))


def test_palette_images_with_other_palettes_get_other_entries(tiny, tmp_path):
    """A palette image's bytes are indices: two images with the same indices and other palettes show the
    model other pixels, so one must not be served the other's cached features."""
    from PIL import Image

    indices = np.random.default_rng(0).integers(0, 4, (40, 52), dtype=np.uint8)
    images = []
    for palette in ([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255], [255, 255, 255, 10, 10, 10, 200, 100, 0, 50, 50, 50]):
        image = Image.fromarray(indices, mode="P")
        image.putpalette(palette + [0] * (252 * 3))
        images.append(image)
    expected = tiny("timm:test_resnet").fit(images).transform(images)
    assert not np.allclose(expected[0], expected[1])
    ext = tiny("timm:test_resnet", cache=tmp_path).fit(images)
    ext.transform(images[:1])
    np.testing.assert_allclose(ext.transform(images[1:]), expected[1:], rtol=1e-5, atol=1e-6)
    assert len(_npy_files(tmp_path)) == 2


def _same_weights_other_architecture(kind):
    """Two models with one state dict that compute other features (parameter-free parts differ)."""
    import timm
    import torch

    if kind == "timm global_pool":
        avg = timm.create_model("test_resnet", num_classes=0, global_pool="avg")
        other = timm.create_model("test_resnet", num_classes=0, global_pool="max")
        other.load_state_dict(avg.state_dict())
        return avg, other
    conv = torch.nn.Conv2d(3, 4, 3, stride=8)
    return (torch.nn.Sequential(conv, torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()),
            torch.nn.Sequential(conv, torch.nn.Tanh(), torch.nn.AdaptiveMaxPool2d(1), torch.nn.Flatten()))


@pytest.mark.parametrize("kind", ["timm global_pool", "activation and pooling"])
def test_modules_with_equal_weights_and_other_architectures_get_other_entries(tiny, images, tmp_path, kind):
    """The fingerprint covers the architecture, not only the state dict."""
    first, second = _same_weights_other_architecture(kind)
    expected = tiny(second).fit(images).transform(images)
    tiny(first, cache=tmp_path).fit(images).transform(images)
    np.testing.assert_allclose(tiny(second, cache=tmp_path).fit(images).transform(images), expected,
                               rtol=1e-5, atol=1e-6)
    assert len(list((tmp_path / "sktransfer_embeddings").iterdir())) == 2


def test_set_params_without_a_refit_files_embeddings_under_the_settings_transform_used(tmp_path):
    """transform reads with the current max_length; its entries must not land under fit's, where a
    fresh extractor with fit's setting would then read them."""
    texts = ["the quick brown fox jumps over the lazy dog again and again", "a b c d e f g h i j k l m n o p"]
    short = TextFeatureExtractor(max_length=4).fit(texts).transform(texts)
    ext = TextFeatureExtractor(max_length=4, cache=tmp_path).fit(texts)
    long = ext.set_params(max_length=64).transform(texts)
    assert not np.allclose(long, short)
    np.testing.assert_allclose(TextFeatureExtractor(max_length=64).fit(texts).transform(texts), long,
                               rtol=1e-5, atol=1e-6)
    fresh = TextFeatureExtractor(max_length=4, cache=tmp_path).fit(texts).transform(texts)
    np.testing.assert_allclose(fresh, short, rtol=1e-5, atol=1e-6)
