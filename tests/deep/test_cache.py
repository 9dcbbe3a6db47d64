"""The per-item embedding cache: hits skip the forward pass, the key covers the
item's content and everything that changes its features, partial hits equal no
cache, unreadable cache files are misses, and joblib.Memory is accepted.
"""

from __future__ import annotations

import shutil

import joblib
import numpy as np
import pytest

from sktransfer.deep import TextFeatureExtractor
from sktransfer.deep._cache import EmbeddingCache, cache_folder

from .conftest import make_images


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
    cache = EmbeddingCache(tmp_path, "config-a")
    key = bytes(range(20))
    assert cache.get(key) is None
    cache.put(key, np.arange(4, dtype=np.float64))
    stored = cache.get(key)
    assert stored.dtype == np.float32 and stored.tolist() == [0, 1, 2, 3]
    assert EmbeddingCache(tmp_path, "config-b").get(key) is None
    hits, misses = cache.lookup([key, bytes(20)])
    assert list(hits) == [0] and misses == [1]
