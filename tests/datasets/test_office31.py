"""Tests for sktransfer.datasets.fetch_office31, on tiny tarballs with the release's layout."""

from __future__ import annotations

import dataclasses
import io
import tarfile

import numpy as np
import pytest
from scipy.io import savemat

from sktransfer import stack_domains
from sktransfer.datasets import _office31 as o31
from sktransfer.datasets import fetch_office31
from sktransfer.datasets._fetch import ChecksumError

from .test_mnist_usps import FakeServer

# domain -> category -> number of images (categories deliberately not in label order on disk)
LAYOUT = {"amazon": {"trash_can": 2, "back_pack": 3, "bike": 1}, "dslr": {"mug": 2, "bike": 2},
          "webcam": {"back_pack": 1, "mug": 3}}
SURF_NAME = "histogram_{i}.SURF_SURF.amazon_800.SURF_SURF.mat"


def _mat_bytes(arrays):
    buf = io.BytesIO()
    savemat(buf, arrays)
    return buf.getvalue()


def _add(tar, name, data=b"", **info):
    member = tarfile.TarInfo(name)
    member.size = len(data)
    for key, value in info.items():
        setattr(member, key, value)
    tar.addfile(member, io.BytesIO(data))


def _tarball(path, features, rng, extra=()):
    """A tar.gz laid out like the release; returns {domain: (X, y)} in the loader's order."""
    root, key, d = ("domain_adaptation_features/", "histogram", 800) if features == "surf" else ("", "fc8", 1000)
    sub = "interest_points" if features == "surf" else "decaf-fts"
    expected = {}
    with tarfile.open(path, "w:gz") as tar:
        for domain, cats in LAYOUT.items():
            rows, labels = [], []
            for cat in sorted(cats):
                for i in range(cats[cat]):
                    x = rng.randint(0, 9, size=(1, d)).astype(np.uint8 if features == "surf" else float)
                    name = SURF_NAME.format(i=i) if features == "surf" else f"frame_{i:04d}.mat"
                    _add(tar, f"{root}{domain}/{sub}/{cat}/{name}", _mat_bytes({key: x}))
                    rows.append(x.ravel())
                    labels.append(o31.CATEGORIES.index(cat))
                if features == "surf":  # the 600-word histograms of the release are skipped
                    other = "histogram_0.SURF_SURF.amazon_600.SURF_SURF.mat"
                    _add(tar, f"{root}{domain}/{sub}/{cat}/{other}", _mat_bytes({key: np.zeros((1, 600))}))
            expected[domain] = (np.vstack(rows).astype(float), np.array(labels))
        for name, data, info in extra:
            _add(tar, name, data, **info)
    return expected


@pytest.fixture
def server(tmp_path, monkeypatch):
    fake = FakeServer(monkeypatch)
    rng = np.random.RandomState(0)
    fake.raw = {}
    for features, spec in o31.FEATURES.items():
        path = tmp_path / "server" / spec.remote.filename
        path.parent.mkdir(exist_ok=True)
        fake.raw[features] = _tarball(path, features, rng)
        fake.add(spec.remote.url, path)
        monkeypatch.setitem(o31.FEATURES, features, dataclasses.replace(spec, remote=fake.pin(spec.remote)))
    fake.home = tmp_path / "home"
    return fake


def test_surf_domain_labels_extraction_and_cache(server):
    b = fetch_office31("amazon", data_home=server.home)
    X, y = server.raw["surf"]["amazon"]
    np.testing.assert_array_equal(b.data, X)
    np.testing.assert_array_equal(b.target, y)  # categories sorted by name = class ids
    assert list(b.target) == [0, 0, 0, 1, 30, 30] and b.data.dtype == np.float64
    assert len(b.target_names) == 31 and b.target_names[30] == "trash_can" and b.domain == "amazon"
    assert b.filenames[0].startswith("domain_adaptation_features/amazon/interest_points/back_pack/")
    folder = server.home / "office31_surf"
    assert (folder / "domain_adaptation_features_20110616.tar.gz.extracted").is_file()
    assert not (folder / "domain_adaptation_features_20110616.tar.gz").exists()  # deleted once extracted
    w = fetch_office31("W", data_home=folder, download_if_missing=False)
    assert w.data.shape == (4, 800) and len(server.calls) == 1  # no second download


def test_decaf_pair_and_stack_domains(server):
    pair = fetch_office31(("dslr", "webcam"), features="decaf", data_home=server.home)
    assert pair.task == "D->W" and pair.source.feature_names[-1] == "decaf_999"
    np.testing.assert_array_equal(pair.target.data, server.raw["decaf"]["webcam"][0])
    assert (server.home / "office31_decaf" / "dslr" / "decaf-fts" / "mug").is_dir()
    (Xs, ys), (Xt, yt) = fetch_office31(("A", "D"), features="decaf", data_home=server.home,
                                        return_X_y=True)
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    assert X.shape == (10, 1000) and (y[sd < 0] == -1).all() and len(server.calls) == 1


def test_as_frame(server):
    pytest.importorskip("pandas")
    b = fetch_office31("dslr", data_home=server.home, as_frame=True)
    assert b.data.shape == (4, 800) and b.frame.shape == (4, 801) and b.data.columns[0] == "surf_0"


def test_checksum_offline_and_archive_saved_by_hand(server, monkeypatch, tmp_path):
    spec = o31.FEATURES["surf"]
    monkeypatch.setitem(o31.FEATURES, "surf", dataclasses.replace(
        spec, remote=dataclasses.replace(spec.remote, sha256="0" * 64)))
    with pytest.raises(ChecksumError):
        fetch_office31("amazon", data_home=server.home)
    assert list((server.home / "office31_surf").iterdir()) == []  # nothing extracted
    monkeypatch.setitem(o31.FEATURES, "surf", spec)
    archive = server.files.pop(spec.remote.url)  # the network is down
    with pytest.raises(FileNotFoundError, match="downloading it failed") as info:
        fetch_office31("amazon", data_home=server.home)
    assert "figshare.com/ndownloader/files/41786493" in str(info.value)
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_office31("amazon", data_home=server.home, download_if_missing=False)
    (server.home / "office31_surf" / spec.remote.filename).write_bytes(archive.read_bytes())
    b = fetch_office31("amazon", data_home=server.home, download_if_missing=False)
    assert b.data.shape == (6, 800)


@pytest.mark.parametrize(
    "name, info",
    [("../evil.mat", {}), ("/tmp/evil.mat", {}), ("dslr/../../evil.mat", {}),
     ("link", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"})],
)
def test_unsafe_archive_members_are_refused(server, tmp_path, monkeypatch, name, info):
    path = tmp_path / "evil.tar.gz"
    _tarball(path, "decaf", np.random.RandomState(0), extra=[(name, b"x" if not info else b"", info)])
    spec = o31.FEATURES["decaf"]
    server.add(spec.remote.url, path)
    monkeypatch.setitem(o31.FEATURES, "decaf", dataclasses.replace(spec, remote=server.pin(spec.remote)))
    with pytest.raises(ValueError, match="Refusing to extract"):
        fetch_office31("dslr", features="decaf", data_home=server.home / "h")
    folder = server.home / "h" / "office31_decaf"
    assert sorted(p.name for p in folder.iterdir()) == [spec.remote.filename]  # nothing extracted
    assert not (server.home / "evil.mat").exists() and not (server.home / "h" / "evil.mat").exists()


def test_resnet50_and_bad_arguments(server):
    with pytest.raises(ValueError, match=r"ImageFeatureExtractor\('torchvision:resnet50'\)"):
        fetch_office31(("amazon", "webcam"), features="resnet50", data_home=server.home)
    with pytest.raises(ValueError, match="Unknown features 'vgg'"):
        fetch_office31("amazon", features="vgg", data_home=server.home)
    with pytest.raises(ValueError, match="Unknown Office-31 domain 'caltech'"):
        fetch_office31(("caltech", "amazon"), data_home=server.home)
    with pytest.raises(ValueError, match="pair"):
        fetch_office31(("amazon", "dslr", "webcam"), data_home=server.home)
    assert server.calls == []
