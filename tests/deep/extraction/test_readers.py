"""The input protocol: an extractor's reader reads what the extractor reads, and fine-tuning uses it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from sktransfer.deep import ImageFeatureExtractor, TextFeatureExtractor
from sktransfer.deep._extraction._image_reader import ImageReader
from sktransfer.deep._extraction._inputs import InputReader, input_reader
from sktransfer.deep._extraction._text_reader import TextReader

from ..conftest import make_images


def test_input_reader_carries_the_extractors_reading_settings():
    reader = input_reader(ImageFeatureExtractor(batch_size=8, num_workers=0, on_error="skip"))
    assert isinstance(reader, ImageReader) and isinstance(reader, InputReader)
    assert (reader.owner, reader.batch_size, reader.num_workers, reader.on_error) == (
        "ImageFeatureExtractor", 8, 0, "skip")
    text = input_reader(TextFeatureExtractor(max_length=12))
    assert isinstance(text, TextReader) and text.max_length == 12 and text.modality == "text"


def test_image_host_batch_is_the_loaders_pixels_in_the_order_asked(backbone_of, tmp_path):
    backbone = backbone_of()
    images = make_images(4, 40, 52, seed=0)
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    reader = ImageReader("test", batch_size=3, num_workers=0)
    items = reader.check(paths)
    batch = reader.host_batch(items, np.array([3, 0, 2]), backbone)
    assert batch.dtype == torch.uint8 and tuple(batch.shape) == (3, *backbone.config.size, 3)
    for j, row in enumerate([3, 0, 2]):
        np.testing.assert_array_equal(batch[j].numpy(), items.load(row, backbone.config))
    # the same pixels whether the images come as files or as one array
    as_array = reader.host_batch(reader.check(images), np.array([3, 0, 2]), backbone)
    assert torch.equal(as_array, batch)


def test_image_host_batch_refuses_unreadable_images(backbone_of, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    reader = ImageReader("test", num_workers=0, on_error="skip")
    with pytest.raises(ValueError, match="Cannot train on unreadable images"):
        reader.host_batch(reader.check([str(bad)]), np.array([0]), backbone_of())


def test_text_host_batch_is_the_tokenised_rows(backbone_of):
    backbone = backbone_of("all-MiniLM-L6-v2", "pretrained", "text")
    reader = TextReader("test", max_length=5)
    texts = reader.check(["one two three four five six seven", "short"])
    batch = reader.host_batch(texts, np.array([1, 0]), backbone)
    expected = backbone.tokenize(["short", "one two three four five six seven"], 5)
    assert batch.keys() == expected.keys() and all(torch.equal(batch[k], expected[k]) for k in batch)
    assert batch["input_ids"].shape[1] == 5
    prepared = TextReader.prepare(batch, backbone, type("R", (), {"device": torch.device("cpu")})())
    assert all(torch.equal(prepared[k], batch[k]) for k in batch)


def test_the_reader_names_its_owner_in_errors():
    with pytest.raises(TypeError, match="FineTuneClassifier expects a sequence of texts"):
        TextReader("FineTuneClassifier").check("one text")
    with pytest.raises(ValueError, match="Owner got 0 images"):
        ImageReader("Owner").check([])


@pytest.fixture
def daemonic(monkeypatch):
    """This process marked daemonic, as a Dask worker's is: torch's DataLoader then cannot start workers."""
    import multiprocessing

    monkeypatch.setattr(multiprocessing.current_process(), "daemon", True)


def test_auto_decodes_in_a_daemonic_process(tiny, images, tmp_path, daemonic):
    """A Dask worker process is a daemon; "auto" must not ask it for DataLoader workers
    (torch would fail with "daemonic processes are not allowed to have children")."""
    paths = []
    for i, image in enumerate(images):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    ext = tiny(num_workers="auto").fit(paths)
    assert ImageReader("test").workers(ext._runtime()) == 0
    np.testing.assert_allclose(ext.transform(paths), tiny(num_workers=0).fit(paths).transform(paths))


def test_explicit_workers_in_a_daemonic_process_raise(tiny, images, tmp_path, daemonic):
    path = str(tmp_path / "a.png")
    Image.fromarray(images[0]).save(path)
    ext = tiny(num_workers=1).fit([path])
    with pytest.raises(ValueError, match="num_workers=1 cannot start DataLoader workers here: this process is a"):
        ext.transform([path])
