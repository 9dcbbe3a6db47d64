"""Tests for sktransfer.datasets.fetch_office_caltech, on small fake files served over file://."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from sktransfer import split_domains, stack_domains
from sktransfer.datasets import _fetch, fetch_office_caltech
from sktransfer.datasets import _office_caltech as oc
from sktransfer.datasets._fetch import ChecksumError, sha256sum

SIZES = {"A": 40, "C": 50, "D": 20, "W": 30}
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def _fake_mat(path, n, key, d, rng):
    X = rng.randint(0, 6, size=(n, d)).astype(np.uint8 if key == "fts" else np.float64)
    X[:, 0] = 0  # a constant column
    labels = (np.arange(n) % 10 + 1).reshape(-1, 1).astype(np.uint8)
    savemat(path, {key: X, "labels": labels})
    return X


@pytest.fixture
def server(tmp_path, monkeypatch):
    """Fake files in ``tmp_path/server``, the module's tables pointing at them; counts requests."""
    rng = np.random.RandomState(0)
    raw = {}
    for features, spec in oc._FEATURES.items():
        folder = tmp_path / "server" / features
        folder.mkdir(parents=True)
        monkeypatch.setitem(oc.BASE_URLS, features, folder.as_uri() + "/")
        for code, name in spec.filenames.items():
            raw[features, code] = _fake_mat(folder / name, SIZES[code], spec.key, spec.n_features, rng)
            monkeypatch.setitem(spec.sha256, name, sha256sum(folder / name))
            monkeypatch.setitem(oc.FILE_SIZES, name, (folder / name).stat().st_size)
    calls = []

    def counting_urlopen(request, timeout=None):
        calls.append(request.full_url)
        assert request.full_url.startswith("file://")
        return urllib.request.urlopen(request, timeout=timeout)

    monkeypatch.setattr(_fetch, "_urlopen", counting_urlopen)
    monkeypatch.setenv("SKTRANSFER_DATA_HOME", str(tmp_path / "env_home"))
    return {"raw": raw, "calls": calls, "home": tmp_path / "home"}


def test_single_domain_bunch_and_cache(server):
    b = fetch_office_caltech("amazon", data_home=server["home"])
    assert b.data.shape == (40, 800) and b.data.dtype == np.float64
    assert b.target.dtype == np.int64 and set(b.target) == set(range(10))  # labels 1..10 -> 0..9
    np.testing.assert_array_equal(b.target, np.arange(40) % 10)
    assert b.feature_names[0] == "surf_0" and b.feature_names[-1] == "surf_799"
    assert list(b.target_names[:2]) == ["back_pack", "bike"] and len(b.target_names) == 10
    assert b.domain == "amazon" and b.frame is None and "Gong" in b.DESCR and "Saenko" in b.DESCR
    assert (server["home"] / "office_caltech10_surf" / "amazon_SURF_L10.mat").is_file()
    fetch_office_caltech("A", data_home=server["home"])
    assert len(server["calls"]) == 1  # the cached file is reused


@pytest.mark.parametrize("preprocess", oc.SURF_PREPROCESSINGS)
def test_surf_preprocessing_is_per_domain(server, preprocess):
    X, _ = fetch_office_caltech("C", preprocess=preprocess, data_home=server["home"], return_X_y=True)
    raw = server["raw"]["surf", "C"].astype(float)
    l1 = np.nan_to_num(raw / raw.sum(1, keepdims=True))
    if preprocess == "none":
        np.testing.assert_array_equal(X, raw)
    elif preprocess == "l1":
        np.testing.assert_allclose(X, l1)
    elif preprocess == "zscore":
        np.testing.assert_allclose(X.mean(0), 0, atol=1e-12)  # mean 0 within the domain
        np.testing.assert_allclose(X[:, 1:].std(0), 1)
        np.testing.assert_array_equal(X[:, 0], 0)  # constant column -> 0, not NaN
        np.testing.assert_allclose(X[:, 1:], (l1[:, 1:] - l1[:, 1:].mean(0)) / l1[:, 1:].std(0))
    else:  # "l2", "zscore_l2": unit rows
        np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0)
    assert np.isfinite(X).all()


def test_pair_and_stack_domains_round_trip(server):
    (Xs, ys), (Xt, yt) = fetch_office_caltech(("caltech", "amazon"), data_home=server["home"],
                                              return_X_y=True)
    assert Xs.shape == (50, 800) and Xt.shape == (40, 800)
    # each domain standardized on its own: mean 0 within each domain
    np.testing.assert_allclose(Xs.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Xt.mean(0), 0, atol=1e-12)
    X, y, sd = stack_domains(source=(Xs, ys), target=Xt)
    assert X.shape == (90, 800) and (sd == 1).sum() == 50 and (y[sd < 0] == -1).all()
    (Xs2, ys2), (Xt2, _) = split_domains(X, y, sample_domain=sd)
    np.testing.assert_array_equal(Xs2, Xs)
    np.testing.assert_array_equal(ys2, ys)
    np.testing.assert_array_equal(Xt2, Xt)
    b = fetch_office_caltech(["C", "A"], data_home=server["home"])
    assert b.task == "C->A" and b.source.domain == "caltech" and b.target.domain == "amazon"
    np.testing.assert_array_equal(b.source.data, Xs)
    assert len(server["calls"]) == 2


def test_as_frame(server):
    pytest.importorskip("pandas")
    b = fetch_office_caltech("W", data_home=server["home"], as_frame=True)
    assert list(b.data.columns[:2]) == ["surf_0", "surf_1"] and b.data.shape == (30, 800)
    assert b.target.name == "target" and b.frame.shape == (30, 801)
    Xs, ys = fetch_office_caltech("W", data_home=server["home"], as_frame=True, return_X_y=True)
    assert Xs.shape == (30, 800) and ys.dtype == np.int64
    pair = fetch_office_caltech(("D", "W"), features="decaf", data_home=server["home"], as_frame=True)
    assert pair.target.data.columns[-1] == "decaf_4095"


def test_decaf(server):
    (Xs, ys), (Xt, yt) = fetch_office_caltech(("dslr", "webcam"), features="decaf", preprocess="none",
                                              data_home=server["home"], return_X_y=True)
    np.testing.assert_array_equal(Xs, server["raw"]["decaf", "D"])
    assert Xt.shape == (30, 4096) and yt.max() == 9
    assert (server["home"] / "office_caltech10_decaf_partial" / "dslr.mat").is_file()
    Xz, _ = fetch_office_caltech("D", features="decaf", data_home=server["home"], return_X_y=True)
    np.testing.assert_allclose(Xz.mean(0), 0, atol=1e-12)  # zscore without an L1 step
    np.testing.assert_allclose(Xz[:, 1:].std(0), 1)
    with pytest.raises(ValueError, match="not publicly available"):
        fetch_office_caltech(("A", "W"), features="decaf", data_home=server["home"])
    with pytest.raises(ValueError, match="Unknown preprocess 'l1'"):
        fetch_office_caltech("D", features="decaf", preprocess="l1", data_home=server["home"])


def test_env_var_is_the_default_data_home(server, tmp_path):
    fetch_office_caltech("D", data_home=None)
    assert (tmp_path / "env_home" / "office_caltech10_surf" / "dslr_SURF_L10.mat").is_file()


def test_data_home_may_be_the_dataset_folder(server):
    fetch_office_caltech("D", data_home=server["home"])
    b = fetch_office_caltech("D", data_home=server["home"] / "office_caltech10_surf",
                             download_if_missing=False)
    assert b.data.shape == (20, 800) and len(server["calls"]) == 1


def test_checksum_mismatch_removes_the_download(server, monkeypatch):
    monkeypatch.setitem(oc.SURF_SHA256, "webcam_SURF_L10.mat", "0" * 64)
    with pytest.raises(ChecksumError, match="expected 0{64}, got [0-9a-f]{64}"):
        fetch_office_caltech("W", data_home=server["home"])
    assert list((server["home"] / "office_caltech10_surf").iterdir()) == []


def test_missing_file_errors_name_file_folder_and_url(server, monkeypatch):
    folder = server["home"] / "office_caltech10_surf"
    with pytest.raises(FileNotFoundError, match="download_if_missing=False") as info:
        fetch_office_caltech("A", data_home=server["home"], download_if_missing=False)
    assert str(folder / "amazon_SURF_L10.mat") in str(info.value)
    monkeypatch.setitem(oc.BASE_URLS, "surf", "file:///nonexistent/folder/")
    with pytest.raises(FileNotFoundError, match="downloading it failed") as info:
        fetch_office_caltech("A", data_home=server["home"])
    msg = str(info.value)
    assert "'amazon_SURF_L10.mat'" in msg and str(folder) in msg
    assert "file:///nonexistent/folder/amazon_SURF_L10.mat" in msg


def test_real_urls_are_pinned():
    assert oc._remote("surf", "C").url == (
        "https://raw.githubusercontent.com/AngryCarrot/JDA/12167daf32b01a07b85fdfa3db57a42b3be7eefe"
        "/data/Caltech10_SURF_L10.mat")
    assert oc._remote("decaf", "W").url.endswith(
        "/transferlearning/de0cd293cd4cc0e2f027a1cc58493ba4df07d6a8/code/traditional/TCA/data/webcam.mat")


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"domains": "office"}, ValueError, "Unknown Office-Caltech10 domain"),
        ({"domains": 3}, ValueError, "pair"),
        ({"domains": ("A", "C", "D")}, ValueError, "pair"),
        ({"domains": ("A", 1)}, TypeError, "string"),
        ({"domains": "A", "features": "vgg"}, ValueError, "Unknown features 'vgg'"),
        ({"domains": "A", "preprocess": "minmax"}, ValueError, "Unknown preprocess"),
    ],
)
def test_bad_arguments(server, kwargs, error, match):
    with pytest.raises(error, match=match):
        fetch_office_caltech(data_home=server["home"], **kwargs)
    assert server["calls"] == []


@pytest.mark.skipif(not (SHARED / "office_caltech10_surf").is_dir(), reason="shared data folder not present")
def test_real_shared_data(monkeypatch):
    monkeypatch.setattr(_fetch, "_urlopen", None)  # any download attempt would fail loudly
    shapes = {"A": 958, "C": 1123, "D": 157, "W": 295}
    for domain, n in shapes.items():
        b = fetch_office_caltech(domain, data_home=SHARED, download_if_missing=False)
        assert b.data.shape == (n, 800) and sorted(set(b.target)) == list(range(10))
    pair = fetch_office_caltech(("D", "W"), features="decaf", data_home=SHARED, download_if_missing=False)
    assert pair.source.data.shape == (157, 4096) and pair.target.data.shape == (295, 4096)
    surf_w = fetch_office_caltech("W", data_home=SHARED, return_X_y=True)[1]
    np.testing.assert_array_equal(np.bincount(pair.target.target), np.bincount(surf_w))
