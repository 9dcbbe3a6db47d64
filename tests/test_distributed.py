"""Scale-out on existing engines, as docs/distributed.rst shows it.

scikit-learn's joblib backends for Dask and Ray run ``GridSearchCV`` and
``cross_validate`` over a DA pipeline (``sample_domain`` sliced per fold) on a
real local cluster of two worker processes and give the sequential results.
A Dask bag and a Ray Data pipeline run a fitted extractor over image files:
each worker process loads the backbone once, all of them write one shared
per-item embedding cache, and the rows come back in input order, equal to
one ``transform`` in this process. Each engine starts its cluster once per
test class; the extraction tests need PyTorch and skip without it.
"""

from __future__ import annotations

import os

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.preprocessing import StandardScaler

from sktransfer import make_da_pipeline
from sktransfer.alignment import CORAL
from sktransfer.datasets import make_domain_shift

TINY = "timm:test_efficientnet"  # random weights, seeded: the same model in every process


@pytest.fixture(scope="module")
def data():
    return make_domain_shift(n_samples=60, n_features=3, shift="subspace", random_state=0)


def _search(X, y, sd):
    pipe = make_da_pipeline(StandardScaler(), CORAL(), LogisticRegression())
    search = GridSearchCV(pipe, {"coral__reg": [0.01, 1.0, "auto"]}, cv=KFold(3, shuffle=True, random_state=0))
    return search.fit(X, y, sample_domain=sd)


def _cross_validate(X, y, sd):
    pipe = make_da_pipeline(StandardScaler(), CORAL(reg=0.1), LogisticRegression())
    # The "pid" score records which process scored each fold (a lambda is pickled by value).
    scoring = {"accuracy": "accuracy", "pid": lambda estimator, X, y: float(os.getpid())}
    return cross_validate(pipe, X, y, params={"sample_domain": sd}, scoring=scoring,
                          cv=KFold(3, shuffle=True, random_state=0))


def _check_same_as_sequential(data):
    """Run the search and the cross-validation under the active joblib backend and sequentially."""
    X, y, sd = data
    search, cv = _search(X, y, sd), _cross_validate(X, y, sd)
    with joblib.parallel_backend("sequential"):
        want_search, want_cv = _search(X, y, sd), _cross_validate(X, y, sd)
    assert search.best_params_ == want_search.best_params_
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], want_search.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(search.predict(X), want_search.predict(X))
    np.testing.assert_allclose(cv["test_accuracy"], want_cv["test_accuracy"])
    assert set(want_cv["test_pid"]) == {os.getpid()}
    assert os.getpid() not in set(cv["test_pid"])  # the folds ran on the cluster's workers


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory):
    """Twelve small PNG files (resized by the extractor) and their features from one local transform."""
    pytest.importorskip("torch")
    pytest.importorskip("timm")
    from PIL import Image

    from sktransfer.deep import ImageFeatureExtractor

    from .deep.conftest import make_images

    folder = tmp_path_factory.mktemp("images")
    paths = []
    for i, image in enumerate(make_images(12, 40, 52, seed=0)):
        paths.append(str(folder / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    local = ImageFeatureExtractor(TINY, weights="random", num_workers=0).fit(paths).transform(paths)
    return paths, local


def _fitted_extractor(cache, paths):
    """Fitted here, shipped to the workers by pickle (parameters only: each worker loads the backbone)."""
    from sktransfer.deep import ImageFeatureExtractor

    return ImageFeatureExtractor(TINY, weights="random", cache=str(cache)).fit(paths)


def _cache_entries(cache):
    return {p: p.stat().st_mtime_ns for p in cache.rglob("*.npy")}


def _check_served_by_the_shared_cache(extractor, paths, monkeypatch):
    """This process computes nothing: every row is in the cache the workers wrote."""
    backbone, passes = extractor._backbone(), []
    real = backbone.features
    monkeypatch.setattr(backbone, "features", lambda x, *a, **k: passes.append(len(x)) or real(x, *a, **k))
    out = extractor.transform(paths)
    assert passes == []
    return out


@pytest.fixture(scope="class")
def dask_client():
    """A Dask cluster of two single-threaded worker processes on this machine, for one test class."""
    distributed = pytest.importorskip("distributed", reason="needs the [dask] extra: pip install 'sktransfer[dask]'")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="class")
def ray_session():
    """A local Ray instance with two CPUs, for one test class."""
    ray = pytest.importorskip("ray", reason="needs the [ray] extra: pip install 'sktransfer[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


class TestDask:
    def test_grid_search_and_cross_validate_equal_the_sequential_run(self, dask_client, data):
        with joblib.parallel_backend("dask"):
            _check_same_as_sequential(data)

    def test_partitioned_extraction_shares_backbone_and_cache(self, dask_client, image_paths, tmp_path, monkeypatch):
        import dask.bag as db

        paths, local = image_paths
        cache = tmp_path / "cache"
        extractor = _fitted_extractor(cache, paths[:1])
        # The pattern of docs/distributed.rst: each partition's rows, concatenated in partition order.
        bag = db.from_sequence(paths, npartitions=4)
        out = np.vstack(bag.map_partitions(extractor.transform).compute())
        np.testing.assert_allclose(out, local, rtol=1e-5, atol=1e-6)
        entries = _cache_entries(cache)
        assert len(entries) == len(paths)  # one entry per item, whichever worker computed it

        def embed_where(partition, extractor):
            features = extractor.transform(list(partition))
            return [(os.getpid(), id(extractor._backbone()), features)]

        parts = bag.map_partitions(embed_where, extractor).compute()
        np.testing.assert_allclose(np.vstack([f for _, _, f in parts]), local, rtol=1e-5, atol=1e-6)
        assert _cache_entries(cache) == entries  # served from the cache: nothing written again
        pids = [pid for pid, _, _ in parts]
        assert os.getpid() not in pids and max(pids.count(p) for p in pids) >= 2
        assert len({(pid, backbone) for pid, backbone, _ in parts}) == len(set(pids))  # one backbone per worker
        np.testing.assert_array_equal(_check_served_by_the_shared_cache(extractor, paths, monkeypatch), out)


class TestRay:
    def test_grid_search_and_cross_validate_equal_the_sequential_run(self, ray_session, data):
        from ray.util.joblib import register_ray

        register_ray()
        with joblib.parallel_backend("ray"):
            _check_same_as_sequential(data)

    def test_ray_data_extraction_shares_the_cache_in_input_order(self, ray_session, image_paths, tmp_path, monkeypatch):
        pytest.importorskip("pyarrow", reason="Ray Data needs pyarrow: pip install 'ray[data]'")
        ray = ray_session
        paths, local = image_paths
        cache = tmp_path / "cache"
        extractor = _fitted_extractor(cache, paths[:1])

        class Embed:
            """One per actor: the extractor's backbone loads on its first batch and stays."""

            def __init__(self, extractor):
                self.extractor = extractor

            def __call__(self, batch):
                return {"row": batch["row"], "pid": np.full(len(batch["row"]), os.getpid()),
                        "embedding": self.extractor.transform(list(batch["path"]))}

        context = ray.data.DataContext.get_current()
        monkeypatch.setattr(context.execution_options, "preserve_order", True)
        dataset = ray.data.from_items([{"row": i, "path": p} for i, p in enumerate(paths)])
        embedded = dataset.map_batches(Embed, fn_constructor_args=(extractor,), batch_size=3,
                                       compute=ray.data.ActorPoolStrategy(size=2))
        batches = list(embedded.iter_batches(batch_format="numpy", batch_size=None))
        rows = np.concatenate([b["row"] for b in batches])
        out = np.concatenate([b["embedding"] for b in batches])
        np.testing.assert_array_equal(rows, np.arange(len(paths)))
        np.testing.assert_allclose(out, local, rtol=1e-5, atol=1e-6)
        assert os.getpid() not in set(np.concatenate([b["pid"] for b in batches]))
        assert len(_cache_entries(cache)) == len(paths)
        np.testing.assert_allclose(_check_served_by_the_shared_cache(extractor, paths, monkeypatch), out)
