"""Tests for sktransfer.datasets.fetch_mnist_usps, on a small fake file served by a fake opener.

``FakeServer`` and ``fake_jda_mat`` are shared with the other loaders' tests (relative imports).
"""

from __future__ import annotations

import dataclasses
import io
import urllib.error
import urllib.response
from email.message import Message
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from sktransfer import split_domains, stack_domains
from sktransfer.datasets import _fetch, fetch_mnist_usps
from sktransfer.datasets import _mnist_usps as mu
from sktransfer.datasets._fetch import ChecksumError, sha256sum

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


class FakeServer:
    """Serves ``files`` (url -> path) through ``_fetch._urlopen``; other URLs look offline.

    ``pin(remote)`` returns ``remote`` with the sha256 and size of the file served at its URL.
    """

    def __init__(self, monkeypatch):
        self.files, self.calls = {}, []
        monkeypatch.setattr(_fetch, "_urlopen", self)

    def add(self, url, path):
        self.files[url] = Path(path)

    def pin(self, remote):
        path = self.files[remote.url]
        return dataclasses.replace(remote, sha256=sha256sum(path), size=path.stat().st_size)

    def __call__(self, request, timeout=None):
        self.calls.append(request.full_url)
        if request.full_url not in self.files:
            raise urllib.error.URLError("offline (test)")
        body = self.files[request.full_url].read_bytes()
        return urllib.response.addinfourl(io.BytesIO(body), Message(), request.full_url, code=200)


def fake_jda_mat(path, n_src, n_tar, d, n_classes, rng):
    """A JDA-release-like file: columns are samples, labels 1..n_classes; returns the row-wise arrays."""
    Xs, Xt = rng.rand(n_src, d), rng.rand(n_tar, d)
    ys, yt = np.arange(n_src) % n_classes, (np.arange(n_tar) + 1) % n_classes
    savemat(path, {"X_src": Xs.T, "Y_src": (ys + 1).reshape(-1, 1).astype(np.uint8),
                   "X_tar": Xt.T, "Y_tar": (yt + 1).reshape(-1, 1).astype(np.uint8)})
    return (Xs, ys), (Xt, yt)


@pytest.fixture
def server(tmp_path, monkeypatch):
    fake = FakeServer(monkeypatch)
    rng = np.random.RandomState(0)
    fake.raw = fake_jda_mat(tmp_path / "fake.mat", 30, 20, 256, 10, rng)
    fake.add(mu._SPEC.remote.url, tmp_path / "fake.mat")
    monkeypatch.setattr(mu, "_SPEC", dataclasses.replace(mu._SPEC, remote=fake.pin(mu._SPEC.remote)))
    fake.home = tmp_path / "home"
    return fake


def test_single_domain_transposed_labels_and_cache(server):
    b = fetch_mnist_usps("mnist", data_home=server.home)
    (Xs, ys), (Xt, yt) = server.raw
    np.testing.assert_array_equal(b.data, Xs)  # columns of the file are the samples
    np.testing.assert_array_equal(b.target, ys)  # labels 1..10 -> 0..9
    assert b.data.shape == (30, 256) and b.data.flags.c_contiguous and b.target.dtype == np.int64
    assert b.domain == "mnist" and b.feature_names[-1] == "pixel_255" and list(b.target_names[:2]) == ["0", "1"]
    assert b.frame is None and "Long" in b.DESCR and "L2" in b.DESCR
    assert (server.home / "mnist_usps" / "MNIST_vs_USPS.mat").is_file()
    u = fetch_mnist_usps("U", data_home=server.home)  # same file, no second download
    np.testing.assert_array_equal(u.data, Xt)
    np.testing.assert_array_equal(u.target, yt)
    assert u.domain == "usps" and len(server.calls) == 1


@pytest.mark.parametrize("order", [("mnist", "usps"), ("usps", "mnist")])
def test_pair_in_either_order_feeds_stack_domains(server, order):
    raw = dict(zip(("mnist", "usps"), server.raw))
    (Xs, ys), (Xt, yt) = fetch_mnist_usps(order, data_home=server.home, return_X_y=True)
    np.testing.assert_array_equal(Xs, raw[order[0]][0])
    np.testing.assert_array_equal(yt, raw[order[1]][1])
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    assert X.shape == (50, 256) and (y[sd < 0] == -1).all()
    (Xs2, ys2), (Xt2, _) = split_domains(X, y, sample_domain=sd)
    np.testing.assert_array_equal(Xs2, Xs)
    np.testing.assert_array_equal(Xt2, Xt)
    b = fetch_mnist_usps(list(order), data_home=server.home)
    assert b.task == ("M->U" if order[0] == "mnist" else "U->M") and b.target.domain == order[1]


def test_default_is_mnist_to_usps_and_as_frame(server):
    pytest.importorskip("pandas")
    b = fetch_mnist_usps(data_home=server.home, as_frame=True)
    assert b.task == "M->U" and b.source.data.shape == (30, 256) and b.target.frame.shape == (20, 257)
    assert list(b.source.data.columns[:2]) == ["pixel_0", "pixel_1"] and b.source.target.name == "target"
    X, y = fetch_mnist_usps("usps", data_home=server.home / "mnist_usps", as_frame=True, return_X_y=True)
    assert X.shape == (20, 256) and y.dtype == np.int64 and len(server.calls) == 1


def test_checksum_mismatch_and_offline(server, monkeypatch):
    bad = dataclasses.replace(mu._SPEC.remote, sha256="0" * 64)
    monkeypatch.setattr(mu, "_SPEC", dataclasses.replace(mu._SPEC, remote=bad))
    with pytest.raises(ChecksumError, match="expected 0{64}"):
        fetch_mnist_usps("mnist", data_home=server.home)
    assert not (server.home / "mnist_usps" / "MNIST_vs_USPS.mat").exists()
    server.files.clear()  # the network is down
    with pytest.raises(FileNotFoundError, match="downloading it failed") as info:
        fetch_mnist_usps("mnist", data_home=server.home)
    assert "raw.githubusercontent.com/AngryCarrot/JDA/12167daf" in str(info.value)
    with pytest.raises(FileNotFoundError, match="download_if_missing=False"):
        fetch_mnist_usps("mnist", data_home=server.home, download_if_missing=False)


@pytest.mark.parametrize(
    "domains, error, match",
    [("svhn", ValueError, "Unknown MNIST/USPS domain 'svhn'"), (("mnist",), ValueError, "pair"),
     (("mnist", 1), TypeError, "string")],
)
def test_bad_domains(server, domains, error, match):
    with pytest.raises(error, match=match):
        fetch_mnist_usps(domains, data_home=server.home)
    assert server.calls == []


@pytest.mark.skipif(not (SHARED / "mnist_usps").is_dir(), reason="shared data folder not present")
def test_real_shared_data(monkeypatch):
    monkeypatch.setattr(_fetch, "_urlopen", None)  # any download attempt would fail loudly
    pair = fetch_mnist_usps(data_home=SHARED, download_if_missing=False)
    assert pair.source.data.shape == (2000, 256) and pair.target.data.shape == (1800, 256)
    assert sorted(set(pair.source.target)) == list(range(10))
    assert 0 <= pair.source.data.min() and pair.target.data.max() <= 1
    np.testing.assert_array_equal(np.bincount(pair.target.target)[:3], [352, 241, 165])
