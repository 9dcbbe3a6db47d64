"""Tests for sktransfer.datasets.fetch_coil20, on a small fake file served by a fake opener."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sktransfer import stack_domains
from sktransfer.datasets import _coil20 as coil
from sktransfer.datasets import _fetch, fetch_coil20
from sktransfer.datasets._fetch import ChecksumError

from .test_mnist_usps import SHARED, FakeServer, fake_jda_mat


@pytest.fixture
def server(tmp_path, monkeypatch):
    fake = FakeServer(monkeypatch)
    fake.raw = fake_jda_mat(tmp_path / "fake.mat", 40, 40, 1024, 20, np.random.RandomState(1))
    fake.add(coil._SPEC.remote.url, tmp_path / "fake.mat")
    monkeypatch.setattr(coil, "_SPEC", dataclasses.replace(coil._SPEC, remote=fake.pin(coil._SPEC.remote)))
    fake.home = tmp_path / "home"
    return fake


def test_url_and_layout(server):
    assert coil._SPEC.remote.url == (
        "https://raw.githubusercontent.com/AngryCarrot/JDA/12167daf32b01a07b85fdfa3db57a42b3be7eefe/data/COIL_1.mat")
    b = fetch_coil20("coil2", data_home=server.home)
    np.testing.assert_array_equal(b.data, server.raw[1][0])
    np.testing.assert_array_equal(b.target, server.raw[1][1])  # labels 1..20 -> 0..19
    assert b.target.max() == 19 and len(b.target_names) == 20 and b.target_names[0] == "obj1"
    assert b.domain == "coil2" and b.feature_names[-1] == "pixel_1023" and "Nene" in b.DESCR
    assert (server.home / "coil20" / "COIL_1.mat").is_file()


def test_pair_cache_and_stack_domains(server):
    pair = fetch_coil20(("C2", "coil1"), data_home=server.home)
    assert pair.task == "C2->C1" and pair.source.domain == "coil2" and pair.target.domain == "coil1"
    (Xs, ys), (Xt, _) = fetch_coil20(data_home=server.home, return_X_y=True)  # default coil1 -> coil2
    np.testing.assert_array_equal(Xs, server.raw[0][0])
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    assert X.shape == (80, 1024) and (sd == 1).sum() == 40 and (y[sd < 0] == -1).all()
    assert len(server.calls) == 1  # both calls read the one cached file


def test_as_frame(server):
    pytest.importorskip("pandas")
    b = fetch_coil20("1", data_home=server.home, as_frame=True)
    assert b.data.shape == (40, 1024) and b.frame.shape == (40, 1025) and b.target.name == "target"


def test_errors(server, monkeypatch):
    with pytest.raises(ValueError, match="Unknown COIL20 domain 'coil3'"):
        fetch_coil20("coil3", data_home=server.home)
    bad = dataclasses.replace(coil._SPEC.remote, sha256="f" * 64)
    monkeypatch.setattr(coil, "_SPEC", dataclasses.replace(coil._SPEC, remote=bad))
    with pytest.raises(ChecksumError):
        fetch_coil20("coil1", data_home=server.home)
    server.files.clear()
    with pytest.raises(FileNotFoundError, match="downloading it failed"):
        fetch_coil20("coil1", data_home=server.home)


@pytest.mark.skipif(not (SHARED / "coil20").is_dir(), reason="shared data folder not present")
def test_real_shared_data(monkeypatch):
    monkeypatch.setattr(_fetch, "_urlopen", None)  # any download attempt would fail loudly
    (Xs, ys), (Xt, yt) = fetch_coil20(data_home=SHARED, download_if_missing=False, return_X_y=True)
    assert Xs.shape == (720, 1024) and Xt.shape == (720, 1024)
    np.testing.assert_array_equal(np.bincount(ys), np.full(20, 36))
    np.testing.assert_array_equal(np.bincount(yt), np.full(20, 36))
    assert 0 <= Xs.min() and Xs.max() <= 1
