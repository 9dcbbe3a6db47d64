"""ImageFeatureExtractor inputs: every kind it accepts, the same features for the
same image whatever its kind, clear errors for unreadable or unsupported inputs,
and the streaming loader (DataLoader workers, on-device JPEG decoding run on the CPU).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from sktransfer.deep import SkippedItemsWarning
from sktransfer.deep._backbones._base import ImageConfig
from sktransfer.deep._extraction._image_loader import _assemble_on_device, _decode_on_device, _Decoded
from sktransfer.deep._extraction._images import ImageItems, ImageReadError, decode_jpeg_batch, pil_resize_crop

from ..conftest import make_images


def _save(images, folder, fmt):
    paths = []
    for i, image in enumerate(images):
        path = folder / f"img{i}.{fmt}"
        Image.fromarray(image).save(path, quality=95) if fmt == "jpg" else Image.fromarray(image).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def fitted(tiny, images):
    return tiny().fit(images)


def test_every_kind_of_a_png_image_gives_identical_features(fitted, images, tmp_path):
    """PNG is lossless, so its pixels are ``images``: files, PIL images, arrays and
    tensors all go through the same PIL resize and crop (40x52 is not the input size)."""
    paths = _save(images, tmp_path, "png")
    reference = fitted.transform(images)
    assert reference.shape == (3, fitted.n_features_out_) and reference.dtype == np.float32
    kinds = {
        "str paths": [str(p) for p in paths],
        "Path objects": paths,
        "pandas Series of paths": pd.Series([str(p) for p in paths], index=[10, 11, 12]),
        "one-column DataFrame": pd.DataFrame({"path": [str(p) for p in paths]}),
        "PIL images": [Image.open(p) for p in paths],
        "list of HxWx3 arrays": list(images),
        "float NHWC in [0, 1]": images / 255.0,
        "float32 NHWC in [0, 1]": (images / 255.0).astype(np.float32),
        "uint8 NCHW tensor": torch.from_numpy(images).permute(0, 3, 1, 2),
        "float NCHW tensor in [0, 1]": torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255,
        "list of CHW tensors": [torch.from_numpy(im).permute(2, 0, 1) for im in images],
        "RGBA NHWC (alpha dropped)": np.concatenate([images, np.full((3, 40, 52, 1), 7, np.uint8)], axis=-1),
        "RGBA PIL images": [Image.fromarray(im).convert("RGBA") for im in images],
    }
    for name, X in kinds.items():
        np.testing.assert_array_equal(fitted.transform(X), reference, err_msg=name)


def test_every_kind_of_a_jpeg_image_gives_identical_features(fitted, images, tmp_path):
    """A small JPEG (no reduced-scale draft decoding) read from its path, as a
    PIL image or as its decoded pixels gives the same features."""
    paths = _save(images, tmp_path, "jpg")
    decoded = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    assert not np.array_equal(decoded, images)  # lossy: the comparison below is not vacuous
    reference = fitted.transform(decoded)
    for X in ([str(p) for p in paths], [Image.open(p) for p in paths], list(decoded)):
        np.testing.assert_array_equal(fitted.transform(X), reference)


def test_large_jpeg_path_decoded_at_reduced_scale_stays_close_to_the_full_decode(tiny, tmp_path):
    """A JPEG over twice the resize target is decoded by libjpeg at a reduced
    scale (``draft``): not bit-identical to a PIL image, but nearly the same features."""
    path = _save(make_images(1, 420, 560, seed=3), tmp_path, "jpg")[0]
    ext = tiny().fit([path])
    a, b = ext.transform([path])[0], ext.transform([Image.open(path)])[0]
    assert not np.array_equal(a, b)
    assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > 0.999


def test_grayscale_inputs_equal_the_image_with_its_channel_repeated(fitted):
    gray = make_images(2, 30, 44, seed=1)[..., 0]
    rgb = np.repeat(gray[..., None], 3, axis=-1)
    reference = fitted.transform(rgb)
    for X in (gray, gray[..., None], list(gray), [Image.fromarray(g) for g in gray], gray / 255.0,
              torch.from_numpy(gray)[:, None]):
        np.testing.assert_array_equal(fitted.transform(X), reference)


def test_16_bit_and_float_images_are_scaled_not_clipped(fitted, tmp_path):
    """A 16-bit image (file, PIL ``I;16``, uint16 array) and a float one (PIL ``F``, float array) whose
    levels are an 8-bit image's give that image's features exactly: PIL's convert("RGB") clips them."""
    gray = make_images(2, 30, 44, seed=1)[..., 0]
    reference = fitted.transform(np.repeat(gray[..., None], 3, axis=-1))
    wide = gray.astype(np.uint16) * 257  # 8-bit level v is 16-bit level 257 v
    paths = []
    for i, g in enumerate(wide):
        paths.append(tmp_path / f"gray16_{i}.png")
        Image.fromarray(g).save(paths[-1])
    assert Image.open(paths[0]).mode == "I;16"
    floats = gray.astype(np.float32) / 255
    kinds = {
        "16-bit PNG files": paths,
        "PIL I;16 images": [Image.fromarray(g) for g in wide],
        "PIL I images (32-bit holding 16-bit levels)": [Image.fromarray(g.astype(np.int32)) for g in wide],
        "uint16 NxHxW array": wide,
        "list of uint16 arrays": list(wide),
        "uint16 NCHW tensor": torch.from_numpy(wide.astype(np.int32))[:, None].to(torch.uint16),
        "PIL F images in [0, 1]": [Image.fromarray(f) for f in floats],
    }
    for name, X in kinds.items():
        np.testing.assert_array_equal(fitted.transform(X), reference, err_msg=name)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.full((1, 8, 8, 3), np.nan), r"the image array has NaN pixels"),
        ([np.where(np.eye(8, dtype=bool)[..., None], np.nan, 0.5) * np.ones((8, 8, 3))],
         r"image at row 0 has NaN pixels"),
        ([Image.fromarray(np.full((8, 8), np.nan, np.float32))], r"image at row 0 has NaN pixels"),
        (torch.full((1, 3, 8, 8), float("nan")), r"has NaN pixels"),
        ([Image.fromarray(np.full((8, 8), 2.0, np.float32))], r"outside \[0, 1\] \(min 2, max 2\)"),
        ([Image.fromarray(np.full((8, 8), 70000, np.int32))], r"32-bit integer image with values outside 0-65535"),
        (np.full((1, 8, 8, 3), np.inf, np.float32), r"outside \[0, 1\]"),
    ],
)
def test_nan_and_out_of_range_pixels_are_refused(tiny, X, match):
    with pytest.raises(ImageReadError, match=match):
        tiny().fit(X).transform(X)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists open files through /proc")
@pytest.mark.parametrize("fmt", ["gif", "tiff", "png"])
def test_image_files_are_closed_after_decoding(fitted, images, tmp_path, monkeypatch, fmt):
    """Multi-frame files (an animated GIF, a multi-page TIFF) keep their file open after PIL loads a
    frame, until the image is garbage-collected: every file opened must be closed at once."""
    import PIL.Image

    paths = []
    for i, image in enumerate(images):
        paths.append(tmp_path / f"img{i}.{fmt}")
        first, second = Image.fromarray(image), Image.fromarray(image[::-1])
        first.save(paths[-1], save_all=True, append_images=[second]) if fmt != "png" else first.save(paths[-1])
    opened, real_open = [], PIL.Image.open

    def recording_open(*args, **kwargs):
        opened.append(real_open(*args, **kwargs))  # kept alive: a leak cannot hide behind garbage collection
        return opened[-1]

    monkeypatch.setattr(PIL.Image, "open", recording_open)
    out = fitted.transform(paths)
    assert len(opened) == 3 and np.isfinite(out).all()
    files = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            files.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    assert not files & {str(p) for p in paths}


def test_list_of_differently_sized_arrays_matches_each_image_alone(fitted):
    items = [make_images(1, h, w, seed=h)[0] for h, w in [(30, 40), (64, 48), (161, 170)]]
    batch = fitted.transform(items)
    for i, item in enumerate(items):
        np.testing.assert_allclose(batch[i], fitted.transform([item])[0], rtol=1e-5, atol=1e-6)


def test_arrays_at_the_input_size_are_not_decoded(tiny, monkeypatch):
    """An NxHxWxC array (or NCHW tensor) already at the input size is taken as is; the
    result equals PIL images of that size (which the PIL path does not resize either)."""
    ext = tiny().fit(np.zeros((1, 8, 8, 3), np.uint8))
    x = make_images(2, 160, 160, seed=2)
    from_pil = ext.transform([Image.fromarray(im) for im in x])

    def no_decoding(*args, **kwargs):
        raise AssertionError("an input-size array was decoded item by item")

    monkeypatch.setattr(ImageItems, "load", no_decoding)
    np.testing.assert_array_equal(ext.transform(x), from_pil)
    np.testing.assert_array_equal(ext.transform(torch.from_numpy(x).permute(0, 3, 1, 2)), from_pil)


def test_dataloader_workers_keep_input_order(tiny, images, tmp_path):
    paths = _save(images, tmp_path, "png")
    in_process = tiny(num_workers=0).fit(paths).transform(paths)
    np.testing.assert_allclose(tiny(num_workers=1, batch_size=2).fit(paths).transform(paths), in_process,
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("photo.jpg", TypeError, r"wrap a single image in a list"),
        (Image.new("RGB", (8, 8)), TypeError, r"wrap a single image in a list"),
        ([], ValueError, r"got 0 images"),
        (np.zeros((0, 8, 8, 3), np.uint8), ValueError, r"got 0 images"),
        (["a.jpg", np.zeros((8, 8, 3), np.uint8)], TypeError, r"mixed input types \['array', 'path'\]"),
        ([Image.new("RGB", (8, 8)), "a.jpg"], TypeError, r"mixed input types"),
        ([1, 2], TypeError, r"cannot read items of type int"),
        (5, TypeError, r"got int"),
        (np.zeros((2, 8, 8, 2), np.uint8), ValueError, r"shape \(2, 8, 8, 2\)"),
        (np.zeros((2, 3, 8, 8, 3), np.uint8), ValueError, r"expected N images"),
        (np.full((2, 8, 8, 3), 2.0), ImageReadError, r"outside \[0, 1\].*uint8"),
        (np.zeros((2, 8, 8, 3), np.int64), ImageReadError, r"dtype int64; expected uint8 \(0-255\), uint16"),
    ],
)
def test_unsupported_inputs_raise_clear_errors(tiny, X, error, match):
    with pytest.raises(error, match=match):
        tiny().fit(X)


@pytest.mark.parametrize("shape", [(40, 52, 3), (40, 52, 4), (16, 16, 4)])
def test_one_unwrapped_colour_image_array_is_refused_not_read_as_grayscale_rows(tiny, shape):
    """A 3-D array is N grayscale images; one whose last axis is 3 or 4 and much smaller than the
    others is a single HxWxC image given without its batch axis, and says how to pass it."""
    image = np.zeros(shape, np.uint8)
    advice = r"looks like one HxWxC image.*\[image\].*image\[None\].*grayscale.*X\[\.\.\., None\]"
    with pytest.raises(ValueError, match=advice):
        tiny().fit(image)
    with pytest.raises(ValueError, match=r"looks like one HxWxC image"):
        tiny().fit(np.zeros((3, 40, 52, 3), np.uint8)).transform(image)
    assert tiny().fit(image[None]).n_features_out_ > 0
    assert tiny().fit(image[..., None]).transform(image[..., None]).shape[0] == shape[0]  # grayscale, explicitly


@pytest.mark.parametrize("shape", [(2, 30, 3), (10, 12, 4), (5, 30, 44)])
def test_narrow_or_few_grayscale_images_as_a_3d_array_still_read_as_grayscale(fitted, shape):
    """Only a last axis much smaller than both others is taken for colour channels."""
    gray = np.zeros(shape, np.uint8)
    assert fitted.transform(gray).shape[0] == shape[0]


def test_bad_item_in_a_list_names_its_row(fitted):
    items = [np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 2), np.uint8)]
    with pytest.raises(ImageReadError, match=r"image at row 1 has shape \(8, 8, 2\)"):
        fitted.transform(items)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_corrupt_file_raises_an_error_naming_it(tiny, images, tmp_path, num_workers):
    paths = _save(images[:2], tmp_path, "png")
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    ext = tiny(num_workers=num_workers).fit(paths)
    with pytest.raises(ImageReadError, match=r"broken\.jpg.*on_error='skip'"):
        ext.transform(paths + [bad])


@pytest.mark.parametrize("cache", [False, True], ids=["no cache", "cache"])
def test_on_error_skip_leaves_nan_rows_and_warns(tiny, images, tmp_path, cache):
    paths = [str(p) for p in _save(images, tmp_path, "png")]
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image at all")
    missing = str(tmp_path / "missing.png")
    X = [paths[0], str(bad), paths[1], missing, paths[2]]
    ext = tiny(on_error="skip", cache=tmp_path / "cache" if cache else None).fit(paths)
    with pytest.warns(SkippedItemsWarning, match=r"skipped 2 unreadable item\(s\)") as record:
        out = ext.transform(X)
    message = str(record[0].message)
    assert "broken.png" in message and "missing.png" in message
    assert np.isnan(out[[1, 3]]).all()
    np.testing.assert_allclose(out[[0, 2, 4]], ext.transform(paths), rtol=1e-5, atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedItemsWarning)
        ext.transform(paths)  # nothing skipped: no warning


def test_all_items_unreadable_gives_all_nan(tiny, tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"nope")
    ext = tiny(on_error="skip").fit([bad])
    with pytest.warns(SkippedItemsWarning):
        out = ext.transform([bad, bad])
    assert out.shape == (2, ext.n_features_out_) and np.isnan(out).all()


# -- the CUDA decode path, run on the CPU ------------------------------------------------
# torchvision 0.29 deprecates its decoders in favour of TorchCodec; the warning is not ours.
decoder_deprecation = pytest.mark.filterwarnings("ignore:The image decoding:DeprecationWarning")


@decoder_deprecation
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_decode_jpeg_batch_on_cpu_matches_the_pil_path(tmp_path, interpolation):
    """torchvision's decode and antialiased resize versus PIL's, same sizes and crop
    offsets (96x90 has an odd margin). A JPEG over twice the target is decoded by
    PIL at reduced scale (``draft``), so that one is only close."""
    config = ImageConfig(size=(64, 64), resize=72, mean=(0.5,) * 3, std=(0.5,) * 3, interpolation=interpolation)
    shapes = [(120, 180), (96, 90), (64, 64), (200, 150)]
    paths = _save([make_images(1, h, w, seed=h)[0] for h, w in shapes], tmp_path, "jpg")
    out = decode_jpeg_batch([p.read_bytes() for p in paths], config, "cpu")
    assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8 and tuple(out.shape) == (4, 64, 64, 3)
    items = ImageItems([str(p) for p in paths], "path")
    diffs = [np.abs(out[i].numpy().astype(float) - items.load(i, config).astype(float)) for i in range(4)]
    assert max(d.mean() for d in diffs[:3]) < 0.5, [d.mean() for d in diffs]
    assert diffs[3].mean() < 3.0 and np.percentile(diffs[3], 99) < 25
    np.testing.assert_array_equal(out[2].numpy(), np.asarray(Image.open(paths[2]).convert("RGB")))


@decoder_deprecation
def test_device_decode_batch_falls_back_to_the_cpu_decoder_for_a_corrupt_jpeg(tmp_path):
    """The logic of the nvjpeg path (raw JPEG bytes → one batch decode, per-file
    fallback naming the bad file) with device='cpu'."""
    config = ImageConfig(size=(32, 32), resize=36, mean=(0.5,) * 3, std=(0.5,) * 3)
    sources = make_images(2, 48, 40, seed=4)
    good = [str(p) for p in _save(sources, tmp_path, "jpg")]
    png = str(_save(sources[:1], tmp_path, "png")[0])
    bad = tmp_path / "truncated.jpg"
    bad.write_bytes((tmp_path / "img1.jpg").read_bytes()[:200])
    items = ImageItems([good[0], png, str(bad), good[1]], "path")
    dataset = _Decoded(items, np.arange(4), config, "raise", raw_jpeg=True)
    samples = [dataset[j] for j in range(4)]
    assert [s[1] for s in samples] == ["jpeg", "pixels", "jpeg", "jpeg"]

    with pytest.raises(ImageReadError, match=r"truncated\.jpg"):
        _decode_on_device(samples, items, config, torch.device("cpu"), "raise", [])
    skipped = []
    kept = _decode_on_device(samples, items, config, torch.device("cpu"), "skip", skipped)
    assert [s[0] for s in kept] == [0, 1, 3] and len(skipped) == 1 and "truncated.jpg" in skipped[0]
    batch = _assemble_on_device(kept, config, torch.device("cpu"))
    assert tuple(batch.shape) == (3, 32, 32, 3) and batch.dtype == torch.uint8
    np.testing.assert_array_equal(batch[1].numpy(), pil_resize_crop(Image.open(png).convert("RGB"), config))

    ok = _decode_on_device([samples[0], samples[1], samples[3]], items, config, torch.device("cpu"), "raise", [])
    assert [s[1] for s in ok] == ["device", "pixels", "device"]
    assembled = _assemble_on_device(ok, config, torch.device("cpu")).numpy()
    for j, row in enumerate([0, 1, 3]):
        diff = np.abs(assembled[j].astype(float) - items.load(row, config).astype(float))
        assert diff.mean() < 0.5


def test_array_batches_slice_views_and_gather_scattered_rows():
    """Contiguous rows are served as views (no copy); scattered rows (cache misses) are gathered."""
    from sktransfer.deep._extraction._image_loader import _array_batches

    array = np.arange(6 * 2 * 2 * 3, dtype=np.uint8).reshape(6, 2, 2, 3)
    got = list(_array_batches(array, np.arange(6), 4, cuda=False))
    assert [list(r) for r, _ in got] == [[0, 1, 2, 3], [4, 5]]
    assert np.shares_memory(got[0][1].numpy(), array)
    rows = np.array([0, 2, 5])
    (r, batch), = _array_batches(array, rows, 4, cuda=False)
    np.testing.assert_array_equal(batch.numpy(), array[rows])
