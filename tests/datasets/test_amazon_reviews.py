"""Tests for sktransfer.datasets.fetch_amazon_reviews, on small svmlight files served by a fake opener."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import dump_svmlight_file

from sktransfer import stack_domains
from sktransfer.datasets import _amazon_reviews as ar
from sktransfer.datasets import _fetch, fetch_amazon_reviews
from sktransfer.datasets._fetch import ChecksumError, sha256sum

from .test_mnist_usps import SHARED, FakeServer

SIZES = {"train": 12, "test": 7}


@pytest.fixture
def server(tmp_path, monkeypatch):
    fake = FakeServer(monkeypatch)
    rng = np.random.RandomState(0)
    fake.raw = {}
    for domain in ar.DOMAINS:
        for split, n in SIZES.items():
            X = sparse.random(n, 5000, density=0.01, format="lil", random_state=rng)
            X[0, 4999] = 0.5  # the last feature (0-based index 4999) is used
            X = X.tocsr()
            X.data = np.ceil(X.data * 5)  # counts
            y = np.where(np.arange(n) % 2, 1, -1)
            name = f"{domain}_{split}.svmlight"
            dump_svmlight_file(X, y, str(tmp_path / name), zero_based=True)
            fake.add(ar.BASE_URL + name, tmp_path / name)
            monkeypatch.setitem(ar.SHA256, name, sha256sum(tmp_path / name))
            fake.raw[domain, split] = (X, y)
    fake.home = tmp_path / "home"
    return fake


def test_single_domain_sparse_labels_and_cache(server):
    b = fetch_amazon_reviews("books", data_home=server.home)
    X, y = server.raw["books", "train"]
    assert sparse.isspmatrix_csr(b.data) and b.data.shape == (12, 5000)
    np.testing.assert_array_equal(b.data.toarray(), X.toarray())
    np.testing.assert_array_equal(b.target, (y > 0).astype(int))  # -1/+1 -> 0/1
    assert b.target.dtype == np.int64 and list(b.target_names) == ["negative", "positive"]
    assert b.domain == "books" and b.split == "train" and b.feature_names[-1] == "ngram_4999"
    assert "Blitzer" in b.DESCR and "Ganin" in b.DESCR
    assert (server.home / "amazon_reviews_dann_5000" / "books_train.svmlight").is_file()
    fetch_amazon_reviews("B", data_home=server.home)
    assert len(server.calls) == 1  # the cached file is reused


def test_splits(server):
    test = fetch_amazon_reviews("kitchen", split="test", data_home=server.home)
    assert test.data.shape == (7, 5000) and test.split == "test"
    X, y = fetch_amazon_reviews("k", split="all", data_home=server.home, return_X_y=True)
    assert X.shape == (19, 5000) and sparse.isspmatrix_csr(X)
    np.testing.assert_array_equal(X[12:].toarray(), server.raw["kitchen", "test"][0].toarray())
    assert len(server.calls) == 2  # "all" reuses the cached test file


def test_dann_protocol_pair(server):
    (Xs, ys), (Xt, yt) = fetch_amazon_reviews(("dvd", "electronics"), data_home=server.home,
                                              return_X_y=True)
    X_test, y_test = fetch_amazon_reviews("electronics", split="test", data_home=server.home,
                                          return_X_y=True)
    assert Xs.shape == Xt.shape == (12, 5000) and X_test.shape == (7, 5000)
    X, y, sd = stack_domains(source=(Xs.toarray(), ys), target=Xt.toarray())
    assert X.shape == (24, 5000) and set(y[sd > 0]) == {0, 1} and (y[sd < 0] == -1).all()
    b = fetch_amazon_reviews(["dvd", "electronics"], data_home=server.home)
    assert b.task == "D->E" and b.source.domain == "dvd" and b.target.domain == "electronics"


def test_as_frame_is_sparse_and_stacks(server):
    pd = pytest.importorskip("pandas")
    b = fetch_amazon_reviews(("books", "dvd"), data_home=server.home, as_frame=True)
    assert isinstance(b.source.data.dtypes.iloc[0], pd.SparseDtype)
    assert b.source.data.shape == (12, 5000) and b.source.frame.shape == (12, 5001)
    np.testing.assert_array_equal(b.source.data.sparse.to_dense().to_numpy(),
                                  server.raw["books", "train"][0].toarray())
    X, y, sd = stack_domains(source=(b.source.data, b.source.target), target=b.target.data)
    assert X.shape == (24, 5000) and (sd == -1).sum() == 12


def test_errors(server, monkeypatch):
    with pytest.raises(ValueError, match="Unknown Amazon reviews domain 'music'"):
        fetch_amazon_reviews("music", data_home=server.home)
    with pytest.raises(ValueError, match="Unknown split 'valid'"):
        fetch_amazon_reviews("dvd", split="valid", data_home=server.home)
    assert server.calls == []
    monkeypatch.setitem(ar.SHA256, "dvd_test.svmlight", "0" * 64)
    with pytest.raises(ChecksumError, match="dvd_test.svmlight"):
        fetch_amazon_reviews("dvd", split="test", data_home=server.home)
    server.files.clear()
    with pytest.raises(FileNotFoundError, match="downloading it failed") as info:
        fetch_amazon_reviews("dvd", data_home=server.home)
    assert "GRAAL-Research/domain_adversarial_neural_network/74eec5e0" in str(info.value)


@pytest.mark.skipif(not (SHARED / "amazon_reviews_dann_5000").is_dir(), reason="shared data folder not present")
def test_real_shared_data(monkeypatch):
    monkeypatch.setattr(_fetch, "_urlopen", None)  # any download attempt would fail loudly
    (Xs, ys), (Xt, _) = fetch_amazon_reviews(("books", "kitchen"), data_home=SHARED,
                                             download_if_missing=False, return_X_y=True)
    assert sparse.isspmatrix_csr(Xs) and Xs.shape == (2000, 5000) and Xt.shape == (2000, 5000)
    np.testing.assert_array_equal(np.bincount(ys), [1000, 1000])
    X_test, y_test = fetch_amazon_reviews("books", split="test", data_home=SHARED,
                                          download_if_missing=False, return_X_y=True)
    assert X_test.shape == (4465, 5000) and X_test.nnz == 394856
    np.testing.assert_array_equal(np.bincount(y_test), [2201, 2264])
