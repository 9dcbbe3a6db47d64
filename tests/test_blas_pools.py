"""scipy's own OpenBLAS pool is held to one thread while sktransfer fits, numpy's is left alone."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from sktransfer import _blas_pools
from sktransfer.datasets import make_domain_shift
from sktransfer.reweighting import DiscriminativeWeighter

threadpoolctl = pytest.importorskip("threadpoolctl")


@pytest.mark.parametrize(("path", "bundled"), [
    ("/env/lib/python3.11/site-packages/scipy.libs/libscipy_openblas-6cdc3b4a.so", True),
    ("/env/lib/python3.11/site-packages/scipy/.dylibs/libscipy_openblas.dylib", True),
    ("C:/env/Lib/site-packages/scipy/.libs/libopenblas.dll", True),
    ("/env/lib/python3.11/site-packages/numpy.libs/libscipy_openblas64_-32a4b2a6.so", False),
    ("/env/lib/libopenblas.so.0", False),  # conda: one BLAS for numpy and scipy
])
def test_recognises_the_blas_scipys_wheel_ships(path, bundled):
    assert _blas_pools._is_scipy_bundled(path.replace("C:", "")) is bundled


def _threads() -> dict:
    return {lib["filepath"]: lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"}


def test_context_limits_scipys_own_pool_only_and_restores_it():
    own = _blas_pools.scipy_own_blas()
    if own is None:
        pytest.skip("scipy shares numpy's BLAS here: there is no second pool to limit")
    scipy_paths = {lib["filepath"] for lib in own.info()}
    before = _threads()
    with _blas_pools.one_scipy_blas_thread():
        inside = _threads()
    assert all(inside[p] == 1 for p in scipy_paths)
    assert all(inside[p] == before[p] for p in before if p not in scipy_paths)  # numpy's untouched
    assert _threads() == before


def test_disabled_switch_leaves_every_pool_alone(monkeypatch):
    monkeypatch.setattr(_blas_pools, "ENABLED", False)
    before = _threads()
    with _blas_pools.one_scipy_blas_thread():
        assert _threads() == before


class _RecordingClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression that records the BLAS thread counts it was fitted under."""

    def fit(self, X, y, sample_weight=None):
        self.threads_ = _threads()
        self.model_ = LogisticRegression().fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_an_estimators_fit_runs_with_scipys_pool_on_one_thread():
    """Through the library's fit decorator: DiscriminativeWeighter fits its domain classifier inside it."""
    own = _blas_pools.scipy_own_blas()
    if own is None:
        pytest.skip("scipy shares numpy's BLAS here: there is no second pool to limit")
    X, y, sd = make_domain_shift(n_samples=60, random_state=0)
    before = _threads()
    weighter = DiscriminativeWeighter(estimator=_RecordingClassifier()).fit(X, y, sample_domain=sd)
    seen = weighter.estimator_.threads_
    scipy_paths = {lib["filepath"] for lib in own.info()}
    assert all(seen[p] == 1 for p in scipy_paths)
    assert all(seen[p] == before[p] for p in before if p not in scipy_paths)
    assert _threads() == before
    assert np.all(np.isfinite(weighter.weights_)) and weighter.weights_[sd > 0].min() > 0


def test_overlapping_fits_in_threads_restore_the_count_when_the_last_ends():
    """Fits in parallel threads: the first in limits, the last out restores (not the first out), so the
    process is never left with scipy's pool limited."""
    import threading

    if _blas_pools.scipy_own_blas() is None:
        pytest.skip("scipy shares numpy's BLAS here: there is no second pool to limit")
    before = _threads()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with _blas_pools.one_scipy_blas_thread():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with _blas_pools.one_scipy_blas_thread():
            second_in.set()
            first_out.wait(5)
            seen["fits inside after the first left"] = _blas_pools._active["depth"]

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen["fits inside after the first left"] == 1  # the first's exit did not restore
    assert _blas_pools._active == {"depth": 0, "limiter": None}
    assert _threads() == before
