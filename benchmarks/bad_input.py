"""Bad-input harness: thousands of bad inputs over every public estimator and function.

Walks the package the way ``tests/test_common.py`` does (``sktransfer.deep``
too when PyTorch is importable), builds deterministic cases (public object x
bad input x way of feeding it x seed), runs each one with its warnings
captured, and sorts the outcome into one of three kinds:

clear error
    The call raised a ``ValueError`` or ``TypeError`` (not numpy's
    ``LinAlgError``, nor an ``IndexError``/``KeyError`` in disguise such as
    numpy's ``AxisError``), or an exception class defined in sktransfer
    (``DataFileMissingError``, ...), *and* the raise is a deliberate check:
    its innermost frame is in sktransfer or scikit-learn, not in numpy, scipy,
    pandas, PIL or torch, *and* the message speaks the user's language: it
    names what was wrong (one of the case's *culprit* words, e.g. ``NaN``,
    ``sample_weight``, ``gamma``, ``-1``) or, for a raise in sktransfer, names
    the estimator or function called.
handled
    The call returned, every check of its output passed (finite where it must
    be, right shape, weights >= 0 and 0 on target rows, predicted classes
    among the labelled classes and never the mask, probabilities summing to 1,
    masked rows left out of scores, the same result with routing on and off,
    the caller's arrays untouched, ...), the contract did not demand an error,
    and no numpy ``RuntimeWarning`` leaked (warnings from
    ``sktransfer.exceptions`` and scikit-learn's ``ConvergenceWarning`` are
    fine).
bad outcome
    Anything else: another exception type (AttributeError, IndexError,
    KeyError, ZeroDivisionError, LinAlgError, RuntimeError, ...), a
    ValueError/TypeError from deep inside numpy/scipy/torch or one whose
    message does not name the problem, a failed output check (silent NaN,
    ``-1`` among ``classes_``, a masked row counted in a score, ...), a call
    that succeeded although the contract demands an error, a leaked
    ``RuntimeWarning``, a change to global state (scikit-learn config,
    ``np.seterr``, a shared deep backbone), or a hang past ``--timeout``.

Each case runs in a worker process (``--jobs`` of them) that is killed and
replaced when a case hangs or crashes it, so cases cannot take each other
down; shared deep backbones are checked against a reference after every deep
case, so a case that corrupts the cache is the one blamed.

Usage::

    python -m benchmarks.bad_input                  # full: ~10,000 cases, ~4 min on 2 cores
    python -m benchmarks.bad_input --quick          # a subset touching every object and area, < 60 s
    python -m benchmarks.bad_input --only "CORAL | X * 1e300" --jobs 0   # rerun cases in-process,
                                                                        # with tracebacks

Writes ``benchmarks/results/bad_input.{md,json}`` (``--out``) and prints the
markdown: a table per area (cases tried / clear error / handled / bad
outcome), then every bad outcome grouped by its symptom.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import inspect
import json
import math
import multiprocessing
import os
import pkgutil
import platform
import re
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, is_regressor

RESULTS = Path(__file__).resolve().parent / "results"

AREAS = ("pipeline & metadata", "label mask", "scorers", "numerics", "deep")
PIPELINE, LABELS, SCORERS, NUMERICS, DEEP = AREAS
CLEAR, HANDLED, BAD = "clear error", "handled", "bad outcome"

#: Culprit words: a clear message names the problem with one of them (lower case).
NAN = ("nan", "missing")
INF = ("inf",)
HUGE = ("too large", "overflow", "scale", "magnitude", "huge")
TINY = ("too small", "underflow", "scale", "variance", "constant", "degenerate")
ROWS = ("row", "sample", "at least", "class", "fold")
CONST = ("constant", "variance", "identical", "singular", "degenerate", "rank", "duplicate")
MASK = ("-1", "nan", "mask", "unlabelled", "label")


# --------------------------------------------------------------------------- cases and checks
@dataclass(frozen=True)
class Case:
    """One bad input fed to one public object in one way.

    ``act(probe)`` makes the calls and records what is wrong with their
    output on ``probe``; exceptions it raises are the library's.
    """

    area: str
    target: str
    bad: str
    variant: str
    act: Callable[[Probe], Any] = field(repr=False, compare=False)
    must_raise: bool = False
    culprits: tuple[str, ...] = ()
    quick: bool = False
    deep: bool = False
    must_work: bool = False  # a valid input: any error is a bad outcome

    @property
    def key(self) -> str:
        return f"{self.target} | {self.bad} | {self.variant}"


class Probe:
    """Checks of a call's output; each failed check is a problem of the case."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def finite(self, what: str, value: Any, rows: int | None = None, nan_rows: Any = None) -> np.ndarray | None:
        """``value`` is a numeric array (``rows`` rows) with no NaN or inf outside ``nan_rows``."""
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            self.fail(f"{what} is not numeric ({type(value).__name__})")
            return None
        if rows is not None and (arr.ndim == 0 or arr.shape[0] != rows):
            self.fail(f"{what} has shape {arr.shape}, expected {rows} rows")
            return arr
        bad = ~np.isfinite(arr)
        if nan_rows is not None and bad.any():
            bad = bad.reshape(len(arr), -1).any(axis=1) & ~np.asarray(nan_rows)
        if bad.any():
            self.fail(f"{what} holds {int(bad.sum())} non-finite value(s) (silent NaN/inf)")
        return arr

    def score(self, what: str, value: Any) -> None:
        if not isinstance(value, (int, float, np.floating, np.integer)):
            self.fail(f"{what} is a {type(value).__name__}, not a number")
        elif not math.isfinite(float(value)):
            self.fail(f"{what} is {value} (silent non-finite score)")

    def weights(self, what: str, value: Any, rows: int, zero: Any = None) -> None:
        """Finite, non-negative weights, not all zero; 0 on the rows of ``zero``."""
        w = self.finite(what, value, rows)
        if w is None or w.shape != (rows,) or not np.isfinite(w).all():
            return
        if (w < 0).any():
            self.fail(f"{what} has {int((w < 0).sum())} negative weight(s)")
        if zero is not None and np.any(w[np.asarray(zero)] != 0):
            self.fail(f"{what} gives target rows a non-zero weight")
        if w.sum() <= 0:
            self.fail(f"{what} are all zero")

    def classes(self, what: str, est: Any, pred: Any, allowed: set) -> None:
        """Predictions and ``classes_`` among the labelled classes (never the mask)."""
        classes = getattr(est, "classes_", None)
        if classes is not None:
            extra = [c for c in np.asarray(classes).tolist() if not _among(c, allowed)]
            if extra:
                self.fail(f"{what}: classes_ holds {extra[:3]}, not a labelled class (mask became a class?)")
        extra = sorted({str(c) for c in np.asarray(pred).tolist() if not _among(c, allowed)})
        if extra:
            self.fail(f"{what} predicts {extra[:3]}, not among the labelled classes {sorted(map(str, allowed))}")

    def proba(self, what: str, value: Any, rows: int) -> None:
        P = self.finite(what, value, rows)
        if P is None or P.ndim != 2 or not np.isfinite(P).all():
            return
        if (P < -1e-12).any() or not np.allclose(P.sum(axis=1), 1.0, atol=1e-6):
            self.fail(f"{what} rows are not probabilities (sums {np.round(P.sum(axis=1)[:3], 4).tolist()})")

    def same(self, what: str, a: Any, b: Any) -> None:
        """``a`` and ``b`` agree (NaNs in the same places)."""
        try:
            a_, b_ = np.asarray(a), np.asarray(b)
            if a_.dtype.kind in "fc" or b_.dtype.kind in "fc":
                ok = a_.shape == b_.shape and np.allclose(a_, b_, rtol=1e-7, atol=1e-9, equal_nan=True)
            else:
                ok = a_.shape == b_.shape and np.array_equal(a_, b_)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            self.fail(f"{what} differ")


def _among(value: Any, allowed: set) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value in allowed or (isinstance(value, (int, float, np.number)) and float(value) in allowed)


# --------------------------------------------------------------------------- classification
_DELIBERATE = ("sktransfer", "sklearn")


def _origin(tb: Any) -> str:
    """Module of the innermost Python frame of a traceback: where the raise happened."""
    name = "?"
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "?")
        tb = tb.tb_next
    return "harness" if name in ("__main__", "__mp_main__", __name__) else name


def _from_sktransfer(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "sktransfer"


def classify_error(exc: BaseException, origin: str, culprits: tuple[str, ...], target: str) -> tuple[bool, str]:
    """Whether ``exc``, raised in module ``origin``, is a clear error; and why not.

    See the module docstring for the definition.
    """
    from numpy.linalg import LinAlgError

    kind = type(exc).__name__
    where = origin.split(".")[0]
    if where == "harness":
        return False, f"{kind} in the harness itself (a bug of benchmarks/bad_input.py)"
    if isinstance(exc, (LinAlgError, IndexError, KeyError)) or not (
        isinstance(exc, (ValueError, TypeError)) or _from_sktransfer(exc)
    ):
        return False, f"{kind} from {origin}"
    if where not in _DELIBERATE:
        return False, f"{kind} from deep inside {origin}"
    message = str(exc).lower()
    if any(c.lower() in message for c in culprits):
        return True, ""
    if where == "sktransfer" and target.split("[")[0].split("(")[0].lower() in message:
        return True, ""
    return False, f"{kind} from {origin} that names neither the problem nor {target}"


def classify(case: Case, exc: BaseException | None, origin: str, problems: list[str],
             leaked: list[str]) -> tuple[str, str]:
    """Outcome of one case (CLEAR, HANDLED or BAD) and what went wrong."""
    if problems:
        return BAD, "; ".join(problems)
    if exc is not None:
        if case.must_work:
            return BAD, f"refused a valid input ({type(exc).__name__} from {origin})"
        clear, why = classify_error(exc, origin, case.culprits, case.target)
        return (CLEAR, "") if clear else (BAD, why)
    if case.must_raise:
        return BAD, "accepted silently (the contract demands an error)"
    if leaked:
        return BAD, "leaked " + leaked[0]
    return HANDLED, ""


def _leaked(caught: list[warnings.WarningMessage]) -> list[str]:
    """Warnings a user should not see: numpy's floating-point RuntimeWarnings, uncategorised ones."""
    out = []
    for w in caught:
        if w.filename == __file__:
            continue
        if issubclass(w.category, RuntimeWarning):
            out.append(f"RuntimeWarning: {str(w.message)[:90]} ({Path(w.filename).name}:{w.lineno})")
        elif "sktransfer" in w.filename and w.category is UserWarning:
            out.append(f"UserWarning without a category from sktransfer.exceptions: {str(w.message)[:90]}")
    return out


def _global_state() -> tuple:
    import sklearn

    return tuple(sorted(sklearn.get_config().items())), tuple(sorted(np.geterr().items()))


def run_case(case: Case, *, show_traceback: bool = False) -> dict:
    """Run one case with its warnings captured; return its record."""
    probe, exc, origin, message = Probe(), None, "", ""
    if case.deep:
        prime_deep_sentinel()
    state = _global_state()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        try:
            case.act(probe)
        except Exception as e:  # the library's exceptions are what we measure
            exc, origin = e, _origin(e.__traceback__)
            message = f"{type(e).__name__}: {str(e)[:300]}"
            if show_traceback:
                traceback.print_exc()
    seconds = time.perf_counter() - start
    if _global_state() != state:
        probe.fail("changed global state (scikit-learn config or np.seterr)")
    if case.deep:
        _deep_sentinel_check(probe)
    outcome, detail = classify(case, exc, origin, probe.problems, _leaked(caught))
    warned = sorted({f"{w.category.__name__}: {str(w.message)[:80]}" for w in caught})
    return {"area": case.area, "target": case.target, "bad": case.bad, "variant": case.variant,
            "key": case.key, "outcome": outcome, "detail": detail, "error": message, "origin": origin,
            "warnings": warned[:3], "seconds": round(seconds, 4)}


# --------------------------------------------------------------------------- workers
def _worker(conn: Any, spec: dict, start_method: str) -> None:
    """Worker process: build the same case list, then run the cases it is sent."""
    # A spawned child defaults to spawn; the library (DataLoader workers) should see what a user's
    # process has, or each fine-tuning epoch re-imports torch in its loader workers.
    multiprocessing.set_start_method(start_method, force=True)
    cases = build_cases(**spec)
    conn.send("ready")
    while True:
        index = conn.recv()
        if index is None:
            return
        if cases[index].deep and not _SENTINEL:  # import torch and load the shared backbones: not the case's time
            conn.send("priming")
            with contextlib.suppress(Exception):  # a failure shows again in the case itself
                prime_deep_sentinel()
            conn.send("primed")
        conn.send((index, run_case(cases[index])))


class _Worker:
    def __init__(self, ctx: Any, spec: dict) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, spec, multiprocessing.get_start_method()),
                                daemon=False)  # a daemon cannot start the library's DataLoader workers
        self.proc.start()
        child.close()
        self.ready, self.index, self.since = False, None, 0.0

    def send(self, index: int) -> None:
        self.index, self.since = index, time.perf_counter()
        self.conn.send(index)

    def stop(self, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()


def _lost(case: Case, outcome_detail: str) -> dict:
    return {"area": case.area, "target": case.target, "bad": case.bad, "variant": case.variant,
            "key": case.key, "outcome": BAD, "detail": outcome_detail, "error": "", "origin": "",
            "warnings": [], "seconds": None}


def run_cases(cases: list[Case], spec: dict, *, jobs: int = 2, timeout: float = 30.0,
              progress: bool = False) -> list[dict]:
    """Run every case, ``jobs`` worker processes at a time (0: in this process, no timeout)."""
    if jobs <= 0:
        return [run_case(c, show_traceback=progress) for c in cases]
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("spawn")
    # The first worker takes the deep cases first, so only it imports torch (unless others run dry).
    deep = deque(i for i, c in enumerate(cases) if c.deep)
    todo, results = deque(i for i, c in enumerate(cases) if not c.deep), [None] * len(cases)
    workers = [_Worker(ctx, spec) for _ in range(min(jobs, len(cases)))]
    done, start = 0, time.perf_counter()
    try:
        while done < len(cases):
            for k, w in enumerate(workers):
                if w.ready and w.index is None and (todo or deep):
                    w.send((deep if (k == 0 or not todo) and deep else todo).popleft())
            for conn in wait([w.conn for w in workers], timeout=0.5):
                w = next(w for w in workers if w.conn is conn)
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    msg = None
                if msg == "ready":
                    w.ready = True
                    continue
                if msg in ("priming", "primed"):
                    w.since = time.perf_counter() + (5 * timeout if msg == "priming" else 0.0)
                    continue
                if msg is None:  # the worker died: the case crashed it
                    if w.index is None:
                        raise RuntimeError("a bad-input worker died before running a case")
                    code = w.proc.exitcode
                    results[w.index] = _lost(cases[w.index], f"crashed the process (exit code {code})")
                else:
                    results[msg[0]] = msg[1]
                if msg is None or w.index is not None:
                    done += 1
                w.index = None
                if msg is None:
                    workers[workers.index(w)] = _Worker(ctx, spec)
                    w.stop(kill=True)
                if progress and done % 250 == 0:
                    print(f"{done}/{len(cases)} cases, {time.perf_counter() - start:.0f} s",
                          file=sys.stderr, flush=True)
            now = time.perf_counter()
            for i, w in enumerate(workers):
                if w.index is not None and now - w.since > timeout:
                    results[w.index] = _lost(cases[w.index], f"hang: no answer in {timeout:g} s")
                    done += 1
                    w.stop(kill=True)
                    workers[i] = _Worker(ctx, spec)
    finally:
        for w in workers:
            w.stop()
    return results


# --------------------------------------------------------------------------- data
@dataclass
class Data:
    """Stacked rows plus the truth the checks compare against.

    ``known``: the row has a real label (not a mask); ``source``: the row is
    a source row. Both are what the case *means*, whatever the library infers.
    """

    X: Any
    y: Any
    sd: Any
    known: np.ndarray
    source: np.ndarray
    task: str

    @property
    def n(self) -> int:
        return len(self.known)

    def allowed(self, with_target: bool) -> set:
        """Labels a classifier may learn: labelled source rows (and labelled target rows)."""
        rows = self.known & (self.source | with_target)
        y = np.asarray(self.y, dtype=object)
        return set(y.reshape(len(y), -1)[:, 0][rows].tolist()) if self.y is not None else set()

    def take(self, rows: Any) -> Data:
        rows = np.asarray(rows)
        return Data(_rows(self.X, rows), None if self.y is None else np.asarray(self.y)[rows],
                    None if self.sd is None else np.asarray(self.sd)[rows], self.known[rows],
                    self.source[rows], self.task)


def _rows(X: Any, rows: np.ndarray) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[rows]
    if isinstance(X, list):
        return [X[i] for i in rows]
    return X[rows]


def make_data(seed: int, *, task: str = "classification", n: int = 12, d: int = 3,
              labelled_target: int = 0) -> Data:
    """``n`` source rows (labelled, two balanced classes or a linear target) and ``n`` shifted
    target rows, masked but for the first ``labelled_target``."""
    rng = np.random.RandomState(seed)
    cls = np.arange(2 * n) % 2
    X = rng.normal(size=(2 * n, d)) + 1.5 * cls[:, None]
    X[n:] = X[n:] * 1.3 + 0.5
    source = np.arange(2 * n) < n
    if task == "classification":
        y = cls.copy()
        y[n + labelled_target:] = -1
    else:
        y = X @ np.linspace(1.0, -0.5, d) + 0.1 * rng.normal(size=2 * n)
        y[n + labelled_target:] = np.nan
    known = source | (np.arange(2 * n) < n + labelled_target)
    return Data(X, y, np.where(source, 1, -1), known, source, task)


# --------------------------------------------------------------------------- subjects
@dataclass(frozen=True)
class Subject:
    """A public estimator and how to exercise it."""

    name: str
    make: Callable[[], Any] = field(repr=False)
    role: str  # "adapter", "weighter", "classifier", "regressor"
    needs_target_labels: bool = False
    needs_sd: bool = False

    @property
    def task(self) -> str:
        return "regression" if self.role == "regressor" else "classification"

    def data(self, seed: int, **kw: Any) -> Data:
        kw.setdefault("labelled_target", 4 if self.needs_target_labels else 0)
        return make_data(seed, task=self.task, **kw)


def _public_names(include_deep: bool) -> dict[str, Any]:
    """Every public name of sktransfer, as ``tests/test_common.py`` walks the package."""
    import sktransfer

    found = {}
    for info in pkgutil.walk_packages(sktransfer.__path__, "sktransfer."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or (parts[1] == "deep" and not include_deep):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            found.setdefault(name, getattr(module, name))
    return found


#: Public names that are not something to call with input: result containers, warnings, mixins.
NOT_CALLED = {
    "__version__", "Domains", "DomainShiftReport", "MMDTestResult", "SktransferWarning",
    "DegenerateWeightsWarning", "SkippedItemsWarning", "DomainAwareMixin", "BaseAdapter",
}

#: Settings that only cost time on tiny data.
_FAST = {"n_estimators": 3, "n_steps": 3, "cv": 2, "n_centers": 10, "n_finetune_iter": 3}


def fast(est: Any) -> Any:
    """Seed every random_state and shrink the settings that only cost time."""
    params = est.get_params()
    new = {k: 0 for k, v in params.items() if k.endswith("random_state") and v is None}
    new.update({k: v for k, v in _FAST.items() if isinstance(params.get(k), int)})
    return est.set_params(**new)


def _make(cls: type, **kw: Any) -> Any:
    return fast(cls(**kw))


def subjects() -> list[Subject]:
    """One Subject per public DA estimator class (two for ImportanceWeightedEstimator)."""
    from sklearn.linear_model import Ridge

    from sktransfer.base import DomainAwareMixin
    from sktransfer.reweighting import KMM, ImportanceWeightedEstimator

    out = []
    for name, obj in sorted(_public_names(False).items()):
        if not (inspect.isclass(obj) and issubclass(obj, BaseEstimator) and issubclass(obj, DomainAwareMixin)):
            continue
        if name in NOT_CALLED or name == "DAPipeline":
            continue
        out.append(_subject(name, partial(_make, obj)))
    out.append(_subject("ImportanceWeightedEstimator[Ridge]",
                        lambda: fast(ImportanceWeightedEstimator(Ridge(), KMM()))))
    # not domain-aware in the mixin's sense (it fits whole pipelines per candidate), but it takes
    # X, y, sample_domain like the estimators above and must refuse bad input as clearly
    from sktransfer.model_selection import TransferAdvisor

    # it scores candidates with the target rows' labels where y keeps some (SupervisedScorer), by design
    out.append(Subject("TransferAdvisor", lambda: fast(TransferAdvisor()), "classifier", True, True))
    return out


def _subject(name: str, make: Callable[[], Any]) -> Subject:
    est = make()
    if hasattr(est, "compute_weights"):
        role = "weighter"
    elif hasattr(est, "predict"):
        role = "regressor" if is_regressor(est) else "classifier"
    else:
        role = "adapter"
    needs = getattr(est, "_domain_needs", ())
    return Subject(name, make, role, "target_labels" in needs, "sample_domain" in needs)


# --------------------------------------------------------------------------- exercising an estimator
def _final(task: str) -> Any:
    from sklearn.linear_model import LogisticRegression, Ridge

    return Ridge() if task == "regression" else LogisticRegression()


def _wrap(sub: Subject, est: Any, task: str | None = None) -> Any:
    """``est`` in a DAPipeline with what it needs around it (an identity step before a predictor, so
    the rows go through a plain step without a scaler's own overflow hiding the estimator's)."""
    from sklearn.preprocessing import FunctionTransformer

    from sktransfer import make_da_pipeline

    if sub.role in ("classifier", "regressor"):
        return make_da_pipeline(FunctionTransformer(), est)
    return make_da_pipeline(est, _final(task or sub.task))


def _snapshot(*arrays: Any) -> list:
    return [None if a is None else (a.copy(deep=True) if hasattr(a, "copy") and hasattr(a, "iloc")
                                    else np.array(a, dtype=object, copy=True)) for a in arrays]


def _unchanged(probe: Probe, before: list, arrays: tuple) -> None:
    for old, new, name in zip(before, arrays, ("X", "y", "sample_domain")):
        if old is None or isinstance(new, list):
            continue
        now = new if hasattr(new, "iloc") else np.array(new, dtype=object)
        same = old.equals(now) if hasattr(old, "equals") else (
            old.shape == now.shape and all(a == b or (a != a and b != b) for a, b in zip(old.ravel(), now.ravel())))
        if not same:
            probe.fail(f"fit wrote into the caller's {name}")


def exercise(probe: Probe, sub: Subject, data: Data, *, how: str = "direct", inferred: bool = False,
             make: Callable[[], Any] | None = None) -> dict:
    """Fit ``sub`` on ``data`` the way ``how`` says and check every output; return the outputs."""
    from sklearn import config_context

    est = (make or sub.make)()
    if how != "direct":
        est = _wrap(sub, est, data.task)
    sd = None if inferred else data.sd
    before = _snapshot(data.X, data.y, sd)
    with config_context(enable_metadata_routing=how.endswith("routing on")):
        out = _fit_and_apply(probe, sub, est, data, sd, pipeline=how != "direct")
    _unchanged(probe, before, (data.X, data.y, sd))
    return out


def _fit_and_apply(probe: Probe, sub: Subject, est: Any, data: Data, sd: Any, *, pipeline: bool) -> dict:
    X, y, n = data.X, data.y, data.n
    out = {}
    if not pipeline and sub.role == "adapter":
        out["fit_transform"] = est.fit_transform(X, y, sample_domain=sd)
        probe.finite("fit_transform", out["fit_transform"], n)
        out["transform"] = est.transform(X)
        probe.finite("transform", out["transform"], n)
        return out
    if not pipeline and sub.role == "weighter":
        est.fit(X, y, sample_domain=sd)
        out["weights_"] = est.weights_
        probe.weights("weights_", est.weights_, n, zero=~data.source)
        out["compute_weights"] = est.compute_weights(X)
        probe.weights("compute_weights", out["compute_weights"], n)
        return out
    est.fit(X, y, sample_domain=sd)
    out["predict"] = est.predict(X)
    task = data.task if pipeline and sub.role in ("adapter", "weighter") else sub.task
    if task == "regression":
        probe.finite("predict", out["predict"], n)
    else:
        probe.finite("predict (as numbers)", np.zeros(len(out["predict"])), n)
        probe.classes("predict", est, out["predict"], data.allowed(sub.needs_target_labels))
        if hasattr(est, "predict_proba"):
            out["predict_proba"] = est.predict_proba(X)
            probe.proba("predict_proba", out["predict_proba"], n)
    return out


def _ways(sub: Subject, *, inferred: bool = True) -> list[tuple[str, bool]]:
    """(how, inferred) ways of feeding ``sub``: the first is the quick one."""
    ways = [("direct", False), ("DAPipeline", False), ("DAPipeline, routing on", False)]
    if inferred and not sub.needs_sd and sub.task == "classification":
        ways.append(("direct", True))
    return ways


def _variant(how: str, inferred: bool, seed: int) -> str:
    return f"{how}{', domains inferred' if inferred else ''}, seed {seed}"


# --------------------------------------------------------------------------- bad inputs to estimators
@dataclass(frozen=True)
class Bad:
    """A bad input: how it changes the data, and whether the contract demands an error."""

    name: str
    apply: Callable[[Data, Subject], Data]
    must_raise: bool | Callable[[Subject], bool] = False
    culprits: tuple[str, ...] = ()
    applies: Callable[[Subject], bool] = lambda sub: True
    inferred: bool = True  # also fed with domains inferred from y
    only_inferred: bool = False  # fed with domains inferred from y only
    valid: bool = False  # the contract accepts it: it must be handled

    def raises(self, sub: Subject) -> bool:
        return self.must_raise(sub) if callable(self.must_raise) else self.must_raise


def _on_X(f: Callable[[np.ndarray, Data], Any]) -> Callable[[Data, Subject], Data]:
    def apply(d: Data, sub: Subject) -> Data:
        X = np.array(d.X, dtype=float, copy=True)
        return replace(d, X=f(X, d))
    return apply


def _set(X: np.ndarray, rows: Any, cols: Any, value: float) -> np.ndarray:
    X[rows, cols] = value
    return X


def _first_target(d: Data) -> int:
    return int(np.flatnonzero(~d.source)[0])


def _constant_domain(part: str) -> Callable[[np.ndarray, Data], np.ndarray]:
    def f(X: np.ndarray, d: Data) -> np.ndarray:
        rows = d.source if part == "source" else ~d.source
        X[rows] = X[np.flatnonzero(rows)[0]]
        return X
    return f


def _rows_of(pick: Callable[[Data], np.ndarray]) -> Callable[[Data, Subject], Data]:
    return lambda d, sub: d.take(pick(d))


def _one_per_domain(d: Data) -> np.ndarray:
    return np.array([0, _first_target(d)])


def _one_target(d: Data) -> np.ndarray:
    return np.r_[np.flatnonzero(d.source), _first_target(d)]


def _two_sources(d: Data) -> np.ndarray:
    return np.r_[0, 1, np.flatnonzero(~d.source)]


def _duplicated(d: Data) -> np.ndarray:
    return np.repeat(np.arange(d.n), 2)


def _more_features(d: Data, sub: Subject) -> Data:
    rng = np.random.RandomState(7)
    small = d.take(np.r_[np.flatnonzero(d.source)[:5], np.flatnonzero(~d.source)[:5]])
    return replace(small, X=np.hstack([small.X, rng.normal(size=(small.n, 37))]))


def _as_dtype(dtype: Any) -> Callable[[Data, Subject], Data]:
    def apply(d: Data, sub: Subject) -> Data:
        X = np.asarray(d.X)
        return replace(d, X=np.round(X * 3).astype(dtype) if np.dtype(dtype).kind in "iu" else X.astype(dtype))
    return apply


def _sparse(d: Data, sub: Subject) -> Data:
    from scipy import sparse

    return replace(d, X=sparse.csr_matrix(np.asarray(d.X)))


def _frame(d: Data, sub: Subject) -> Data:
    import pandas as pd

    index = np.random.RandomState(3).permutation(d.n) + 100
    X = pd.DataFrame(np.asarray(d.X), columns=[f"f{i}" for i in range(np.asarray(d.X).shape[1])], index=index)
    return replace(d, X=X, y=pd.Series(d.y, index=index[::-1]), sd=pd.Series(d.sd, index=index))


def _empty(d: Data, sub: Subject) -> Data:
    return d.take(np.array([], dtype=int))


def _no_features(d: Data, sub: Subject) -> Data:
    return replace(d, X=np.empty((d.n, 0)))


def _reshaped(shape: Callable[[np.ndarray], Any]) -> Callable[[Data, Subject], Data]:
    return lambda d, sub: replace(d, X=shape(np.asarray(d.X)))


def _object_with_none(d: Data, sub: Subject) -> Data:
    X = np.asarray(d.X).astype(object)
    X[2, 0] = None
    return replace(d, X=X)


def _string_column(d: Data, sub: Subject) -> Data:
    X = np.asarray(d.X).astype(object)
    X[:, 0] = np.where(np.arange(d.n) % 2, "a", "b")
    return replace(d, X=X)


X_BADS = [
    Bad("NaN in X", _on_X(lambda X, d: _set(X, 1, 1, np.nan)), True, NAN),
    Bad("NaN in a target row only", _on_X(lambda X, d: _set(X, _first_target(d), 0, np.nan)), True, NAN),
    Bad("inf in X", _on_X(lambda X, d: _set(X, 2, 0, np.inf)), True, INF),
    Bad("-inf in a target row", _on_X(lambda X, d: _set(X, _first_target(d), 1, -np.inf)), True, INF),
    Bad("X * 1e300", _on_X(lambda X, d: X * 1e300), False, HUGE),
    Bad("X * 1e150", _on_X(lambda X, d: X * 1e150), False, HUGE),
    Bad("X * 1e-300", _on_X(lambda X, d: X * 1e-300), False, TINY),
    Bad("X + 1e12 (large offset)", _on_X(lambda X, d: X + 1e12), False, HUGE + TINY),
    Bad("one constant column", _on_X(lambda X, d: _set(X, slice(None), 1, 3.0)), False, CONST),
    Bad("every column constant", _on_X(lambda X, d: np.ones_like(X)), False, CONST),
    Bad("zero-variance target domain", _on_X(_constant_domain("target")), False, CONST),
    Bad("zero-variance source domain", _on_X(_constant_domain("source")), False, CONST),
    Bad("target rows equal to source rows", _on_X(lambda X, d: np.vstack([X[d.source]] * 2)), False, CONST),
    Bad("every row duplicated", _rows_of(_duplicated), False, CONST),
    Bad("one row per domain", _rows_of(_one_per_domain), False, ROWS),
    Bad("one target row", _rows_of(_one_target), False, ROWS),
    Bad("two source rows", _rows_of(_two_sources), False, ROWS),
    Bad("one feature", _on_X(lambda X, d: X[:, :1]), False, ()),
    Bad("more features than rows", _more_features, False, ()),
    Bad("float32 X", _as_dtype(np.float32), False, (), valid=True),
    Bad("integer X", _as_dtype(np.int64), False, (), valid=True),
    Bad("sparse X", _sparse, False, ("sparse",)),
    Bad("DataFrame X, Series y with another index", _frame, False, ("index",), valid=True),
    Bad("0 rows", _empty, True, ("0 sample", "empty", "at least", "row", "needs source", "needs target")),
    Bad("0 features", _no_features, True, ("0 feature", "feature")),
    Bad("1-D X", _reshaped(lambda X: X[:, 0]), True, ("2d", "2-d", "reshape", "1d")),
    Bad("3-D X", _reshaped(lambda X: X[:, :, None]), True, ("dim", "2d", "2-d")),
    Bad("object X holding None", _object_with_none, True, NAN + ("none", "convert")),
    Bad("X with a string column", _string_column, True, ("string", "float", "convert")),
    Bad("complex X", _on_X(lambda X, d: X + 1j), True, ("complex",)),
]


# -- label mask
def _on_y(f: Callable[[Data], tuple]) -> Callable[[Data, Subject], Data]:
    def apply(d: Data, sub: Subject) -> Data:
        y, known = f(d)
        return replace(d, y=y, known=np.asarray(known, dtype=bool))
    return apply


def _targets(d: Data) -> np.ndarray:
    return np.flatnonzero(~d.source)


def _masked(d: Data) -> np.ndarray:
    return np.flatnonzero(~d.known)


def _nan_and_minus_one(d: Data) -> tuple:
    y = np.asarray(d.y, dtype=float).copy()
    m = _masked(d)
    y[m[::2]], y[m[1::2]] = np.nan, -1
    known = d.known.copy()
    if d.task == "regression":
        known[m[1::2]] = True  # -1 is a value of a regression target
    return y, known


def _source_label(value: float) -> Callable[[Data], tuple]:
    def f(d: Data) -> tuple:
        y = np.asarray(d.y, dtype=float if value != value else np.asarray(d.y).dtype).copy()
        y[2] = value
        known = d.known.copy()
        known[2] = False
        return y, known
    return f


def _plus_minus_one(d: Data) -> tuple:
    y = np.asarray(d.y).copy()
    y[d.known & d.source] = 1
    return y, d.known


def _pm_one_with_sd(d: Data) -> tuple:
    y = np.asarray(d.y).copy()
    y[d.known] = np.where(y[d.known] == 0, -1, 1)
    return y, d.known & (y != -1)


def _float_nan_mask(d: Data) -> tuple:
    y = np.asarray(d.y, dtype=float).copy()
    y[~d.known] = np.nan
    return y, d.known


def _all_masked(d: Data) -> tuple:
    y = np.full(d.n, np.nan if d.task == "regression" else -1)
    return y, np.zeros(d.n, bool)


def _none_masked(d: Data) -> tuple:
    y = np.asarray(d.y).copy()
    y[~d.known] = (np.arange(d.n) % 2)[~d.known] if d.task == "classification" else 0.5
    return y, np.ones(d.n, bool)


def _integer_regression(d: Data) -> tuple:
    y = np.round(np.asarray(d.y, dtype=float) * 3)
    return y, d.known


def _int_regression_minus_one(d: Data) -> tuple:
    y = np.round(np.nan_to_num(np.asarray(d.y, dtype=float), nan=-1) * 3).astype(int)
    y[~d.known] = -1
    return y, d.known


def _minus_one_value(d: Data) -> tuple:
    y = np.asarray(d.y, dtype=float).copy()
    y[[1, 3]] = -1.0
    return y, d.known


def _strings(d: Data) -> tuple:
    names = np.array(["neg", "pos"], dtype=object)
    return names[np.arange(d.n) % 2], np.ones(d.n, bool)


def _strings_masked(d: Data) -> tuple:
    y = np.array(["neg", "pos"], dtype=object)[np.arange(d.n) % 2]
    y[~d.known] = -1
    return y, d.known


def _unsigned(d: Data) -> tuple:
    return (np.arange(d.n) % 2).astype(np.uint8), np.ones(d.n, bool)


def _booleans(d: Data) -> tuple:
    return (np.arange(d.n) % 2).astype(bool), np.ones(d.n, bool)


def _one_class(d: Data) -> tuple:
    y = np.asarray(d.y).copy()
    y[d.known & d.source] = 0
    return y, d.known


def _unseen_target_class(d: Data) -> tuple:
    y = np.asarray(d.y).copy()
    y[np.flatnonzero(d.known & ~d.source)[:1]] = 2
    return y, d.known


def _column(d: Data, sub: Subject) -> Data:
    return replace(d, y=np.asarray(d.y).reshape(-1, 1))


def _short_y(d: Data, sub: Subject) -> Data:
    return replace(d, y=np.asarray(d.y)[:-1])


def _no_y(d: Data, sub: Subject) -> Data:
    return replace(d, y=None, known=np.zeros(d.n, bool))


def _multi_domain(d: Data, sub: Subject) -> Data:
    sd = np.asarray(d.sd).copy()
    sd[np.flatnonzero(d.source)[::2]] = 2
    sd[np.flatnonzero(~d.source)[1::2]] = -2
    return replace(d, sd=sd)


def _classifying(sub: Subject) -> bool:
    return sub.task == "classification"


def _predictor(sub: Subject) -> bool:
    return sub.role in ("classifier", "regressor")


def _not_regression(sub: Subject) -> bool:
    return sub.role != "regressor"


def _uses_labels(sub: Subject) -> bool:
    return _predictor(sub)


Y_BADS = [
    Bad("-1 and NaN both mask y", _on_y(_nan_and_minus_one), _not_regression, ("nan", "-1", "ambiguous")),
    Bad("-1 among source labels", _on_y(_source_label(-1)), True, MASK + ("source",), _classifying, False),
    Bad("NaN among source labels", _on_y(_source_label(np.nan)), True, MASK + ("source",), inferred=False),
    Bad("-1 among source labels, domains inferred", _on_y(_source_label(-1)), False, MASK,
        lambda s: _classifying(s) and not s.needs_sd, only_inferred=True),
    Bad("{-1, 1} labels, domains inferred", _on_y(_plus_minus_one), True, ("-1", "recode"),
        lambda s: _classifying(s) and not s.needs_sd, only_inferred=True),
    Bad("{-1, 1} labels with sample_domain", _on_y(_pm_one_with_sd), True, MASK + ("source", "recode"),
        _classifying, False),
    Bad("float labels masked with NaN", _on_y(_float_nan_mask), False, MASK, _classifying, valid=True),
    Bad("every label masked", _on_y(_all_masked), _predictor,
        MASK + ("source", "target", "y"), inferred=False),
    Bad("no label masked, domains inferred", _on_y(_none_masked), True, ("target",),
        lambda s: not s.needs_sd and _classifying(s), only_inferred=True),
    Bad("integer-valued regression target", _on_y(_integer_regression), False, (),
        lambda s: s.role == "regressor", valid=True),
    Bad("int regression target, targets masked -1", _on_y(_int_regression_minus_one),
        lambda s: not s.needs_target_labels,
        ("-1", "nan", "mask"), lambda s: s.role == "regressor", False),
    Bad("-1 as a real regression value", _on_y(_minus_one_value), False, (),
        lambda s: s.role == "regressor", valid=True),
    Bad("string labels", _on_y(_strings), False, ("string",), _classifying, False),
    Bad("string labels masked with -1", _on_y(_strings_masked), True, ("string",), _classifying),
    Bad("uint8 labels", _on_y(_unsigned), False, ("uint8", "unsigned"), _classifying, False, valid=True),
    Bad("bool labels", _on_y(_booleans), False, ("bool",), _classifying, False, valid=True),
    Bad("one labelled class", _on_y(_one_class), False, ("class",), _classifying),
    Bad("target label unseen in source", _on_y(_unseen_target_class), False, ("class",),
        lambda s: s.needs_target_labels and _classifying(s), False),
    Bad("labels as a column (n, 1)", _column, False, ("1d", "column", "shape")),
    Bad("y one row short", _short_y, True, ("y", "rows", "length", "inconsistent")),
    Bad("y is None", _no_y, _uses_labels, ("y", "label", "source", "target")),
    Bad("two sources and two targets", _multi_domain, False, (), inferred=False, valid=True),
]


# -- sample_domain (metadata)
def _on_sd(f: Callable[[np.ndarray], Any]) -> Callable[[Data, Subject], Data]:
    return lambda d, sub: replace(d, sd=f(np.asarray(d.sd).copy()))


def _sd_bad(name: str, f: Callable[[np.ndarray], Any], must: bool, culprits: tuple[str, ...]) -> Bad:
    """A bad sample_domain: fed as given (never inferred); the well-formed ones must work."""
    return Bad(name, _on_sd(f), must, culprits, inferred=False, valid=not must)


SD_BADS = [
    _sd_bad("sample_domain holds 0", lambda s: _set(s[:, None], 3, 0, 0)[:, 0], True, ("0", "sample_domain")),
    _sd_bad("float sample_domain ids", lambda s: s.astype(float), False, ("sample_domain",)),
    _sd_bad("sample_domain 1.5", lambda s: np.where(s > 0, 1.5, -1.0), True, ("integer", "sample_domain")),
    _sd_bad("string sample_domain", lambda s: np.where(s > 0, "src", "tgt"), True, ("sample_domain",)),
    _sd_bad("sample_domain one row short", lambda s: s[:-1], True, ("sample_domain",)),
    _sd_bad("sample_domain = 1 for every row", lambda s: 1, True, ("target", "sample_domain")),
    _sd_bad("bool sample_domain", lambda s: s > 0, True, ("sample_domain", "0")),
    _sd_bad("NaN in sample_domain", lambda s: _set(s.astype(float)[:, None], 0, 0, np.nan)[:, 0], True,
            ("sample_domain", "integer", "nan")),
    _sd_bad("sample_domain as a list", lambda s: s.tolist(), False, ("sample_domain",)),
    _sd_bad("2-D sample_domain", lambda s: s[:, None], True, ("sample_domain", "shape")),
]


def _estimator_cases(sub: Subject, bad: Bad, area: str, seeds: list[int], quick: bool = True) -> Iterator[Case]:
    if not bad.applies(sub):
        return
    ways = _ways(sub, inferred=bad.inferred or bad.only_inferred)
    if bad.only_inferred:
        ways = [(how, True) for how, _ in ways[:3]]
    for s, seed in enumerate(seeds):
        for w, (how, inferred) in enumerate(ways):
            yield Case(area, sub.name, bad.name, _variant(how, inferred, seed),
                       partial(_bad_act, sub, bad, seed, how, inferred), bad.raises(sub), bad.culprits,
                       quick=quick and s == 0 and w == 0, must_work=bad.valid)


def _bad_act(sub: Subject, bad: Bad, seed: int, how: str, inferred: bool, probe: Probe) -> None:
    data = bad.apply(sub.data(seed), sub)
    out = exercise(probe, sub, data, how=how, inferred=inferred)
    if bad.name in ("string labels", "uint8 labels", "bool labels") and not sub.needs_target_labels and (
            how == "direct") and not sub.name.startswith(LEARNS_GIVEN_TARGET_LABELS):
        # Target labels are present but the estimator must not learn from them. (A DAPipeline's final
        # step does learn from labelled target rows, by design: FeatureAugmentation needs it.)
        flipped = replace(data, y=np.asarray(data.y)[_flip_targets(data)])
        again = exercise(Probe(), sub, flipped, how=how, inferred=inferred)
        for key in out:
            probe.same(f"{key} when only the target rows' labels change (target labels leak)",
                       out[key], again[key])
    if bad.name.startswith("DataFrame X"):
        plain = replace(data, X=np.asarray(data.X), y=np.asarray(data.y), sd=np.asarray(data.sd))
        again = exercise(Probe(), sub, plain, how=how, inferred=inferred)
        for key in out:
            probe.same(f"{key} from a DataFrame and from its array", out[key], again[key])


#: estimators that do not need target labels but train on those given (at weight 1), as a DAPipeline's final step
LEARNS_GIVEN_TARGET_LABELS = ("ImportanceWeightedEstimator",)


def _flip_targets(d: Data) -> np.ndarray:
    """Row order that reverses the labels among target rows only."""
    order = np.arange(d.n)
    t = np.flatnonzero(~d.source)
    order[t] = t[::-1]
    return order


# -- hyperparameters
_COUNTS = {"n_components", "n_centers", "n_neighbors", "n_estimators", "n_steps", "n_landmarks", "max_iter",
           "cv", "degree", "n_finetune_iter", "n_pretrain_iter"}
_REALS = {"gamma", "bandwidth", "reg", "alpha", "mu", "B", "eps", "smoothing", "clip", "learning_rate",
          "tol", "coef0", "max_weight"}
_MAY_BE_NEGATIVE = {"coef0"}
_MAY_BE_INF = {"B", "max_weight", "tol", "reg", "alpha"}


def _param_values(param: str) -> list[tuple[str, Any, bool]]:
    """(label, value, must_raise) of the bad values tried for a hyperparameter."""
    if param in _COUNTS:
        return [("zero", 0, param not in ("degree",)), ("negative", -1, True), ("2.5", 2.5, True),
                ("NaN", np.nan, True), ("a string", "bogus", True)]
    return [("1e10", 1e10, False), ("1e-10", 1e-10, False), ("zero", 0.0, False),
            ("negative", -1.0, param not in _MAY_BE_NEGATIVE), ("NaN", np.nan, True),
            ("inf", np.inf, param not in _MAY_BE_INF), ("a string", "bogus", True)]


def _param_cases(sub: Subject, seeds: list[int], turn: int = 0) -> Iterator[Case]:
    params = sub.make().get_params(deep=False)
    for p, param in enumerate(sorted(k for k in params if k in _COUNTS | _REALS)):
        for v, (label, value, must) in enumerate(_param_values(param)):
            for s, seed in enumerate(seeds):
                for w, how in enumerate(("direct", "DAPipeline")):
                    make = partial(_with_params, sub.make, {param: value})
                    yield Case(NUMERICS, sub.name, f"{param}={label}", _variant(how, False, seed),
                               partial(_param_act, sub, make, seed, how), must, (param,),
                               quick=s == 0 and w == 0 and (turn + p + v) % 4 == 0)
    if "kernel" in params:
        make = partial(_with_params, sub.make, {"kernel": "bogus"})
        yield Case(NUMERICS, sub.name, "kernel='bogus'", _variant("direct", False, seeds[0]),
                   partial(_param_act, sub, make, seeds[0], "direct"), True, ("kernel",), quick=True)


def _with_params(make: Callable[[], Any], params: dict) -> Any:
    return make().set_params(**params)


def _param_act(sub: Subject, make: Callable[[], Any], seed: int, how: str, probe: Probe) -> None:
    exercise(probe, sub, sub.data(seed), how=how, make=make)


# --------------------------------------------------------------------------- pipeline & metadata
class WeightRecorder(ClassifierMixin, BaseEstimator):
    """A logistic regression that records the rows, labels and ``sample_weight`` its ``fit`` got."""

    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> WeightRecorder:
        from sklearn.linear_model import LogisticRegression

        self.seen_y_ = np.asarray(y).copy()
        self.seen_weight_ = None if sample_weight is None else np.asarray(sample_weight, dtype=float).copy()
        self.model_ = LogisticRegression(C=self.C).fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        return self.model_.predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.model_.predict_proba(X)


def _case(area: str, target: str, bad: str, act: Callable[[Probe], Any], must: bool = False,
          culprits: tuple[str, ...] = (), *, variant: str = "seed 0", quick: bool = True,
          must_work: bool = False) -> Case:
    return Case(area, target, bad, variant, act, must, culprits, quick=quick, must_work=must_work)


def _user_weights(n: int) -> np.ndarray:
    return np.linspace(0.5, 2.0, n)


def _check_recorded(probe: Probe, pipe: Any, data: Data, user: np.ndarray | None, weighter: Any = None) -> None:
    """The final step got the labelled rows, and weights proportional to user x weighter weights."""
    rec = pipe.steps[-1][1]
    kept = data.known
    if rec.seen_y_.shape[0] != kept.sum():
        probe.fail(f"the final step got {rec.seen_y_.shape[0]} rows, expected the {kept.sum()} labelled ones")
        return
    expected = np.ones(data.n) if user is None else np.asarray(user, dtype=float)
    if weighter is not None:
        expected = expected * np.asarray(weighter.weights_, dtype=float)
    expected = expected[kept]
    got = rec.seen_weight_
    if got is None:
        if user is not None or weighter is not None:
            probe.fail("sample_weight never reached the final step (silently dropped)")
        return
    if got.shape != expected.shape:
        probe.fail(f"the final step got {got.shape[0]} weights for {expected.shape[0]} rows")
        return
    scale = got.sum() / expected.sum() if expected.sum() > 0 else np.nan
    if not (np.isfinite(scale) and np.allclose(got, scale * expected, rtol=1e-6, atol=1e-12)):
        probe.fail("the final step's sample_weight is not the user's weights (x the weighter's) on the kept rows")


def _weight_step_act(seed: int, weighter_make: Callable[[], Any] | None, routing: bool, probe: Probe) -> None:
    from sklearn import config_context

    from sktransfer import make_da_pipeline

    data = make_data(seed)
    user = _user_weights(data.n)
    weighter = None if weighter_make is None else weighter_make()
    steps = ([] if weighter is None else [weighter]) + [WeightRecorder()]
    pipe = make_da_pipeline(*steps)
    with config_context(enable_metadata_routing=routing):
        if routing:
            pipe.steps[-1][1].set_fit_request(sample_weight=True)
            pipe.fit(data.X, data.y, sample_domain=data.sd, sample_weight=user)
        else:
            pipe.fit(data.X, data.y, sample_domain=data.sd, weightrecorder__sample_weight=user)
        pred = pipe.predict(data.X)
    probe.classes("predict", pipe, pred, data.allowed(False))
    _check_recorded(probe, pipe, data, user, weighter)


def _sample_weight_bad_act(seed: int, weights: Callable[[int], Any], weighter: bool, probe: Probe) -> None:
    from sktransfer import make_da_pipeline
    from sktransfer.reweighting import KMM

    data = make_data(seed)
    pipe = make_da_pipeline(*([fast(KMM())] if weighter else []), WeightRecorder())
    pipe.fit(data.X, data.y, sample_domain=data.sd, weightrecorder__sample_weight=weights(data.n))
    probe.finite("predict", pipe.predict(data.X).astype(float), data.n)


def _no_sample_weight_act(seed: int, weighter: bool, user: bool, probe: Probe) -> None:
    from sklearn.neighbors import KNeighborsClassifier

    from sktransfer import make_da_pipeline
    from sktransfer.reweighting import KMM

    data = make_data(seed)
    pipe = make_da_pipeline(*([fast(KMM())] if weighter else []), KNeighborsClassifier(3))
    params = {"kneighborsclassifier__sample_weight": _user_weights(data.n)} if user else {}
    pipe.fit(data.X, data.y, sample_domain=data.sd, **params)
    probe.classes("predict", pipe, pipe.predict(data.X), data.allowed(False))


def _routing_unrequested_act(seed: int, probe: Probe) -> None:
    from sklearn import config_context

    from sktransfer import make_da_pipeline

    data = make_data(seed)
    with config_context(enable_metadata_routing=True):
        make_da_pipeline(WeightRecorder()).fit(data.X, data.y, sample_domain=data.sd,
                                               sample_weight=_user_weights(data.n))


def _unknown_step_param_act(seed: int, probe: Probe) -> None:
    from sktransfer import make_da_pipeline
    from sktransfer.alignment import CORAL

    data = make_data(seed)
    make_da_pipeline(CORAL(), WeightRecorder()).fit(data.X, data.y, sample_domain=data.sd, coral__bogus=1)


def _step_sample_domain_act(seed: int, probe: Probe) -> None:
    from sktransfer import make_da_pipeline
    from sktransfer.alignment import CORAL

    data = make_data(seed)
    pipe = make_da_pipeline(CORAL(), WeightRecorder()).fit(data.X, data.y, coral__sample_domain=data.sd)
    probe.classes("predict", pipe, pipe.predict(data.X), data.allowed(False))


def _da_pipeline(sub_make: Callable[[], Any] | None = None, final: Any = None) -> Any:
    from sklearn.preprocessing import StandardScaler

    from sktransfer import make_da_pipeline
    from sktransfer.alignment import CORAL

    return make_da_pipeline(StandardScaler(), CORAL() if sub_make is None else sub_make(),
                            final if final is not None else WeightRecorder())


def _cross_validate_act(seed: int, routing: bool, with_weights: bool, probe: Probe) -> None:
    from sklearn import config_context
    from sklearn.model_selection import cross_validate

    from sktransfer.model_selection import DomainShuffleSplit

    data = make_data(seed)
    pipe = _da_pipeline()
    params = {"sample_domain": data.sd}
    with config_context(enable_metadata_routing=routing):
        if with_weights:
            if routing:  # scikit-learn's rule: every consumer of sample_weight says whether it wants it
                for _, step in pipe.steps[:-1]:
                    if "sample_weight" in inspect.signature(step.fit).parameters:
                        step.set_fit_request(sample_weight=False)
                pipe.steps[-1][1].set_fit_request(sample_weight=True).set_score_request(sample_weight=False)
                params["sample_weight"] = _user_weights(data.n)
            else:
                params["weightrecorder__sample_weight"] = _user_weights(data.n)
        cv = DomainShuffleSplit(3, test_size=0.3, random_state=seed)
        res = cross_validate(pipe, data.X, data.y, cv=cv, params=params, error_score="raise",
                             return_estimator=True, **({} if routing else {"groups": data.sd}))
    probe.finite("cross_validate test_score", res["test_score"])
    for est in res["estimator"]:
        w = est.steps[-1][1].seen_weight_
        if with_weights and w is None:
            probe.fail("sample_weight in params never reached the final step of a fold")
            break


def _grid_act(seed: int, routing: bool, probe: Probe) -> None:
    from sklearn import config_context
    from sklearn.model_selection import GridSearchCV

    from sktransfer.model_selection import DomainShuffleSplit

    data = make_data(seed)
    with config_context(enable_metadata_routing=routing):
        search = GridSearchCV(_da_pipeline(), {"coral__reg": [0.1, 10.0]},
                              cv=DomainShuffleSplit(2, test_size=0.3, random_state=seed), error_score="raise")
        search.fit(data.X, data.y, sample_domain=data.sd)
        pred = search.predict(data.X)
    probe.score("GridSearchCV best_score_", search.best_score_)
    probe.classes("GridSearchCV predict", search.best_estimator_, pred, data.allowed(False))


def _kfold_act(seed: int, probe: Probe) -> None:
    from sklearn.model_selection import KFold, cross_validate

    data = make_data(seed)
    res = cross_validate(_da_pipeline(), data.X, data.y, cv=KFold(3), params={"sample_domain": data.sd},
                         error_score="raise")
    probe.finite("cross_validate test_score", res["test_score"])


def _score_masked_act(seed: int, probe: Probe) -> None:
    data = make_data(seed, labelled_target=0)
    pipe = _da_pipeline().fit(data.X, data.y, sample_domain=data.sd)
    y, rows = np.asarray(data.y), data.known  # a -1 row counted as a label would lower the score
    probe.same("DAPipeline.score with masked rows and on the labelled rows only",
               pipe.score(data.X, y), pipe.score(data.X[rows], y[rows]))


def _score_all_masked_act(seed: int, probe: Probe) -> None:
    data = make_data(seed)
    pipe = _da_pipeline().fit(data.X, data.y, sample_domain=data.sd)
    probe.score("DAPipeline.score", pipe.score(data.X, np.full(data.n, -1)))


def _predict_bad_sd_act(seed: int, probe: Probe) -> None:
    data = make_data(seed)
    pipe = _da_pipeline().fit(data.X, data.y, sample_domain=data.sd)
    probe.finite("predict", pipe.predict(data.X, sample_domain=np.asarray(data.sd)[:-1]).astype(float), data.n)


def _build_act(steps: Callable[[], list], probe: Probe) -> None:
    from sktransfer import make_da_pipeline

    data = make_data(0)
    pipe = make_da_pipeline(*steps()).fit(data.X, data.y, sample_domain=data.sd)
    out = pipe.predict(data.X) if hasattr(pipe, "predict") else pipe.transform(data.X)
    probe.finite("predict" if hasattr(pipe, "predict") else "transform", np.asarray(out, dtype=float), data.n)


def _memory_act(seed: int, change: str, probe: Probe) -> None:
    """A cached step must not be reused when the domains (or labels) of the fit change."""
    from sktransfer import make_da_pipeline
    from sktransfer.alignment import CORAL

    data = make_data(seed)
    other = np.asarray(data.sd).copy()
    other[np.flatnonzero(data.source)[:4]] = -1  # four source rows become target rows
    y2 = np.where(other > 0, data.y, -1)
    with tempfile.TemporaryDirectory() as tmp:
        cached = make_da_pipeline(CORAL(), WeightRecorder(), memory=tmp)
        cached.fit(data.X, data.y, sample_domain=data.sd)
        if change == "sample_domain":
            cached.fit(data.X, y2, sample_domain=other)
        else:
            cached.fit(data.X, y2)
        fresh = make_da_pipeline(CORAL(), WeightRecorder())
        fresh.fit(data.X, y2, **({"sample_domain": other} if change == "sample_domain" else {}))
        probe.same("predict_proba of a memory-cached refit with new domains and of a fresh fit",
                   cached.predict_proba(data.X), fresh.predict_proba(data.X))


def _routing_same_act(sub: Subject, seed: int, probe: Probe) -> None:
    data = sub.data(seed)
    off = exercise(probe, sub, data, how="DAPipeline")
    on = exercise(probe, sub, data, how="DAPipeline, routing on")
    for key in off:
        probe.same(f"{key} with routing off and on", off[key], on[key])


def _regression_step_act(sub: Subject, seed: int, how: str, probe: Probe) -> None:
    """An adaptation step before a regressor, on an integer-valued target where -1 is a value."""
    data = make_data(seed, task="regression", labelled_target=4 if sub.needs_target_labels else 0)
    y = np.round(np.asarray(data.y) * 2)
    y[[1, 3]] = -1.0
    exercise(probe, sub, replace(data, y=y), how=how)


def _clean_act(sub: Subject, seed: int, how: str, inferred: bool, probe: Probe) -> None:
    exercise(probe, sub, sub.data(seed), how=how, inferred=inferred)


def _estimator_param_act(sub: Subject, value: Callable[[], Any], seed: int, probe: Probe) -> None:
    exercise(probe, sub, sub.data(seed), make=lambda: sub.make().set_params(estimator=value()))


_WEIGHTED = ("TrAdaBoost", "TwoStage", "ImportanceWeighted")


def _no_weights_estimator(sub: Subject) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return KNeighborsRegressor(2) if sub.role == "regressor" else KNeighborsClassifier(2)


def pipeline_cases(subs: list[Subject], seeds: list[int]) -> Iterator[Case]:
    """Pipeline & metadata: clean fits every way, routing on = off, sample_domain, step params."""
    from sktransfer.alignment import CORAL
    from sktransfer.reweighting import KMM

    for i, sub in enumerate(subs):
        for s, seed in enumerate(seeds):
            for w, (how, inferred) in enumerate(_ways(sub)):
                yield Case(PIPELINE, sub.name, "clean input", _variant(how, inferred, seed),
                           partial(_clean_act, sub, seed, how, inferred), quick=s == 0 and w <= 1, must_work=True)
            yield Case(PIPELINE, sub.name, "routing on vs off", f"DAPipeline, seed {seed}",
                       partial(_routing_same_act, sub, seed), quick=s == 0, must_work=True)
        for j, bad in enumerate(SD_BADS):
            yield from _estimator_cases(sub, bad, PIPELINE, seeds, quick=(i + j) % 3 == 0)
        if sub.role in ("adapter", "weighter"):
            for s, seed in enumerate(seeds):
                for how in ("DAPipeline", "DAPipeline, routing on"):
                    yield Case(PIPELINE, sub.name, "before a Ridge, integer target with -1 values and NaN masks",
                               f"{how}, seed {seed}", partial(_regression_step_act, sub, seed, how),
                               quick=s == 0 and how == "DAPipeline", must_work=True)
        if "estimator" in sub.make().get_params(deep=False):
            needs_weights = sub.name.startswith(_WEIGHTED)
            yield _case(PIPELINE, sub.name, "estimator without sample_weight",
                        partial(_estimator_param_act, sub, partial(_no_weights_estimator, sub), seeds[0]),
                        needs_weights or sub.name == "PretrainFineTune", ("sample_weight", "estimator"))
            yield _case(PIPELINE, sub.name, "estimator='not an estimator'",
                        partial(_estimator_param_act, sub, lambda: "not an estimator", seeds[0]),
                        True, ("estimator",))

    target = "DAPipeline"
    weighters = [(s.name, s.make) for s in subs if s.role == "weighter"]
    for s, seed in enumerate(seeds):
        q = s == 0
        v = f"seed {seed}"
        yield _case(PIPELINE, target, "sample_weight as a step fit param",
                    partial(_weight_step_act, seed, None, False), variant=v, quick=q, must_work=True)
        yield _case(PIPELINE, target, "sample_weight routed (routing on)",
                    partial(_weight_step_act, seed, None, True), variant=v, quick=q, must_work=True)
        for i, (name, make) in enumerate(weighters):
            for routing in (False, True):
                yield _case(PIPELINE, target, f"sample_weight step param with a {name} step",
                            partial(_weight_step_act, seed, make, routing),
                            variant=f"routing {'on' if routing else 'off'}, {v}", quick=q and i == 0, must_work=True)
        for label, weights in [("one short", lambda n: np.ones(n - 1)), ("negative", lambda n: -np.ones(n)),
                               ("NaN", lambda n: np.r_[np.nan, np.ones(n - 1)]), ("all zero", np.zeros)]:
            for weighter in (False, True):
                yield _case(PIPELINE, target, f"sample_weight {label}",
                            partial(_sample_weight_bad_act, seed, weights, weighter), True,
                            ("sample_weight", "weight"),
                            variant=f"{'KMM step, ' if weighter else ''}{v}", quick=q and not weighter)
        yield _case(PIPELINE, target, "sample_weight to a final step without it",
                    partial(_no_sample_weight_act, seed, False, True), True, ("sample_weight",), variant=v, quick=q)
        yield _case(PIPELINE, target, "weighter before a final step without sample_weight",
                    partial(_no_sample_weight_act, seed, True, False), True, ("sample_weight",), variant=v, quick=q)
        yield _case(PIPELINE, target, "sample_weight passed but not requested (routing on)",
                    partial(_routing_unrequested_act, seed), True, ("sample_weight", "request"), variant=v, quick=q)
        yield _case(PIPELINE, target, "unknown step fit param",
                    partial(_unknown_step_param_act, seed), True, ("bogus",), variant=v, quick=q)
        yield _case(PIPELINE, target, "sample_domain as a step param",
                    partial(_step_sample_domain_act, seed), False, ("sample_domain",), variant=v, quick=q)
        for routing in (False, True):
            for with_weights in (False, True):
                yield _case(PIPELINE, "cross_validate(DAPipeline)",
                            f"params= sample_domain{' + sample_weight' if with_weights else ''}",
                            partial(_cross_validate_act, seed, routing, with_weights), False,
                            ("sample_weight", "sample_domain"),
                            variant=f"routing {'on' if routing else 'off'}, {v}", quick=q, must_work=True)
            yield _case(PIPELINE, "GridSearchCV(DAPipeline)", "fit(..., sample_domain=)",
                        partial(_grid_act, seed, routing), variant=f"routing {'on' if routing else 'off'}, {v}",
                        quick=q, must_work=True)
        yield _case(PIPELINE, "cross_validate(DAPipeline)", "KFold: folds of one domain",
                    partial(_kfold_act, seed), False, ROWS + MASK + ("target", "source"), variant=v, quick=q)
        yield _case(PIPELINE, target, "score with masked rows", partial(_score_masked_act, seed),
                    variant=v, quick=q, must_work=True)
        yield _case(PIPELINE, target, "score with every row masked", partial(_score_all_masked_act, seed),
                    True, MASK, variant=v, quick=q)
        yield _case(PIPELINE, target, "predict with sample_domain one row short",
                    partial(_predict_bad_sd_act, seed), True, ("sample_domain",), variant=v, quick=q)
        for change in ("sample_domain", "label mask"):
            yield _case(PIPELINE, target, f"memory= cache, refit with another {change}",
                        partial(_memory_act, seed, change), variant=v, quick=q, must_work=True)

    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    builds = {
        "no steps": (lambda: [], True, ("step",)),
        "a string as a step": (lambda: ["foo", LogisticRegression()], True, ("foo", "step")),
        "a predictor before the last step": (lambda: [LogisticRegression(), CORAL(), LogisticRegression()],
                                             True, ("logisticregression", "step", "transform")),
        "'passthrough' in the middle": (lambda: [StandardScaler(), "passthrough", LogisticRegression()],
                                        False, ()),
        "None as the last step": (lambda: [CORAL(), None], False, ("none", "step")),
        "a weighter as the last step": (lambda: [fast(KMM())], False, ("predict",)),
    }
    for name, (steps, must, culprits) in builds.items():
        yield _case(PIPELINE, "make_da_pipeline", name, partial(_build_act, steps), must, culprits)
    yield from _base_function_cases()


def _base_function_cases() -> Iterator[Case]:
    from sklearn.neighbors import KNeighborsClassifier

    from sktransfer import base

    def call(f: Callable[[], Any], kind: type, probe: Probe) -> None:
        if not isinstance(f(), kind):
            probe.fail(f"returned a {type(f()).__name__}, not a {kind.__name__}")

    yield _case(PIPELINE, "accepts_sample_domain", "None as the estimator",
                partial(call, lambda: base.accepts_sample_domain(None), bool))
    yield _case(PIPELINE, "accepts_sample_domain", "a method that does not exist",
                partial(call, lambda: base.accepts_sample_domain(KNeighborsClassifier(), "bogus"), bool))
    yield _case(PIPELINE, "accepts_sample_weight", "a string as the estimator",
                partial(call, lambda: base.accepts_sample_weight("not an estimator"), bool))
    yield _case(PIPELINE, "check_takes_sample_weight", "an estimator without sample_weight",
                partial(call, lambda: base.check_takes_sample_weight(KNeighborsClassifier(), "Owner"), type(None)),
                True, ("sample_weight",))
    yield _case(PIPELINE, "check_takes_sample_weight", "None as the estimator",
                partial(call, lambda: base.check_takes_sample_weight(None, "Owner"), type(None)),
                True, ("sample_weight", "estimator"))


# --------------------------------------------------------------------------- scorers and splitters
_FEATURE_METRICS = ("logme", "hscore")


def scorer_factories() -> dict[str, Callable[[], Any]]:
    """Every public scorer of sktransfer.model_selection (one per transferability metric)."""
    from sktransfer import model_selection

    out = {}
    for name in model_selection.__all__:
        obj = getattr(model_selection, name)
        if not name.endswith("Scorer"):
            continue
        if name == "TransferabilityScorer":
            for metric in ("logme", "hscore", "leep", "nce"):
                out[f"TransferabilityScorer('{metric}')"] = partial(obj, metric)
        elif name == "EnsembleAgreementScorer":  # its committee: the scored pipeline at two CORAL ridges
            out[name] = partial(obj, [_scored_estimator(name, reg=r) for r in (0.1, 10.0)])
        else:
            out[name] = obj
    return out


def _scored_estimator(name: str, final: Any = None, reg: Any = "auto") -> Any:
    """A fresh estimator the scorer can score: features for LogME/H-score, else a classifier."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from sktransfer import make_da_pipeline
    from sktransfer.alignment import CORAL

    if any(f"'{m}'" in name for m in _FEATURE_METRICS):
        return make_da_pipeline(StandardScaler(), CORAL(reg=reg))
    return make_da_pipeline(StandardScaler(), CORAL(reg=reg), final if final is not None else LogisticRegression())


def _scorer_needs(scorer: Any) -> tuple[str, ...]:
    return getattr(scorer, "_needs", ())


def _cv_scorer_act(name: str, make: Callable[[], Any], seed: int, routing: bool, kind: str,
                   probe: Probe) -> None:
    from sklearn import config_context
    from sklearn.model_selection import GridSearchCV, KFold, cross_validate

    from sktransfer import stack_domains
    from sktransfer.model_selection import LeaveOneDomainOut

    data = make_data(seed)
    y = np.asarray(data.y).copy()
    final = None
    if kind == "one-class source in a fold":
        y[np.flatnonzero(data.source)[2:]] = 0
    elif kind == "every source row one class":
        y[data.source] = 0
    elif kind == "no predict_proba (LinearSVC)":
        from sklearn.svm import LinearSVC

        final = LinearSVC()
    elif kind == "regression pipeline":
        from sklearn.linear_model import Ridge

        data, final = make_data(seed, task="regression"), Ridge()
        y = data.y
    X, sd = data.X, data.sd
    cv = _scoring_split(make(), seed)
    if kind == "LeaveOneDomainOut":
        rng = np.random.RandomState(seed)
        doms = [(rng.normal(size=(8, 3)) + k, np.arange(8) % 2) for k in range(3)]
        X, y, sd = stack_domains(source=doms, target=[Xd for Xd, _ in doms])
        cv = LeaveOneDomainOut()
    elif kind == "KFold: folds without target rows":
        cv = KFold(2)
    est = _scored_estimator(name, final)
    with config_context(enable_metadata_routing=routing):
        if kind == "GridSearchCV":
            grid = {"coral__reg": [0.1, 10.0]}
            search = GridSearchCV(est, grid, cv=cv, scoring=make(), error_score="raise")
            search.fit(X, y, sample_domain=sd, **({} if routing else {"groups": sd}))
            probe.score("best_score_", search.best_score_)
            return
        res = cross_validate(est, X, y, cv=cv, scoring=make(), params={"sample_domain": sd},
                             error_score="raise", **({} if routing else {"groups": sd}))
    probe.finite("test_score", res["test_score"])


def _scoring_split(scorer: Any, seed: int) -> Any:
    """DomainShuffleSplit with target rows in the validation folds when the scorer reads them."""
    from sktransfer.model_selection import DomainShuffleSplit

    kw = {"test_rows": "all"} if "target" in _scorer_needs(scorer) and "test_rows" in inspect.signature(
        DomainShuffleSplit).parameters else {}
    return DomainShuffleSplit(2, test_size=0.4, random_state=seed, **kw)


def _fitted(name: str, data: Data, final: Any = None) -> Any:
    return _scored_estimator(name, final).fit(data.X, data.y, sample_domain=data.sd)


def _direct_scorer_act(name: str, make: Callable[[], Any], seed: int, kind: str, probe: Probe) -> None:
    data = make_data(seed)
    final = None
    if kind == "constant predictions":
        from sklearn.dummy import DummyClassifier

        final = DummyClassifier()
    if kind == "string labels":
        data = replace(data, y=np.array(["neg", "pos"], dtype=object)[np.arange(data.n) % 2])
    est = _fitted(name, data, final)
    X, y, sd = np.asarray(data.X, dtype=float), np.asarray(data.y), np.asarray(data.sd)
    kwargs: dict = {"sample_domain": sd}
    if kind == "y all masked":
        y = np.full(data.n, -1)
        kwargs = {}
    elif kind == "y None, no sample_domain":
        y, kwargs = None, {}
    elif kind == "-1 and NaN in y":
        y = y.astype(float)
        y[np.flatnonzero(~data.source)[::2]] = np.nan
        kwargs = {}
    elif kind in ("one target row", "one source and one target row"):
        rows = _one_target(data) if kind == "one target row" else _one_per_domain(data)
        X, y, sd = X[rows], y[rows], sd[rows]
        kwargs = {"sample_domain": sd}
    elif kind == "X * 1e300":
        X = X * 1e300
    elif kind == "NaN in X":
        X = X.copy()
        X[1, 1] = X[_first_target(data), 1] = np.nan
    elif kind == "every row duplicated":
        rows = _duplicated(data)
        X, y, sd = X[rows], y[rows], sd[rows]
        kwargs = {"sample_domain": sd}
    elif kind == "sample_domain one row short":
        kwargs = {"sample_domain": sd[:-1]}
    probe.score(name, make()(est, X, y, **kwargs))


def _supervised_masked_act(seed: int, probe: Probe) -> None:
    from sktransfer.model_selection import SupervisedScorer

    data = make_data(seed)
    est = _fitted("SupervisedScorer", data)
    truth = (np.arange(data.n) % 2).astype(int)
    labels = truth.copy()
    target = np.flatnonzero(~data.source)
    labels[target[::3]] = -1  # unknown target labels: must not count
    score = SupervisedScorer()(est, data.X, data.y, sample_domain=data.sd, target_labels=labels)
    rows = target[labels[target] != -1]
    expected = float(np.mean(est.predict(data.X[rows]) == truth[rows]))
    probe.same("SupervisedScorer with some target_labels masked and accuracy on the known ones", score, expected)


def _transferability_masked_act(make: Callable[[], Any], name: str, seed: int, probe: Probe) -> None:
    data = make_data(seed, labelled_target=4)
    est = _fitted(name, data)
    rows = data.known
    probe.same(f"{name} with masked rows and on the labelled rows only",
               make()(est, data.X, data.y), make()(est, data.X[rows], np.asarray(data.y)[rows]))


def _scorer_param_act(name: str, make: Callable[[], Any], seed: int, probe: Probe) -> None:
    data = make_data(seed)
    probe.score(name, make()(_fitted(name.split("(")[0], data), data.X, data.y, sample_domain=data.sd))


_CV_KINDS = ("cross_validate, DomainShuffleSplit", "GridSearchCV", "LeaveOneDomainOut",
             "one-class source in a fold", "every source row one class", "KFold: folds without target rows",
             "no predict_proba (LinearSVC)", "regression pipeline")
_DIRECT_KINDS = {  # kind: (must_raise(scorer, name), culprits)
    "y all masked": (lambda s, n: "source_labels" in _scorer_needs(s) or n.startswith("Transfer"), MASK + ("source",)),
    "y None, no sample_domain": (lambda s, n: True, ("y", "sample_domain", "label")),
    "-1 and NaN in y": (lambda s, n: True, ("nan", "-1", "ambiguous")),
    "one target row": (lambda s, n: False, ROWS + ("target",)),
    "one source and one target row": (lambda s, n: False, ROWS + ("target",)),
    "X * 1e300": (lambda s, n: False, HUGE),
    "NaN in X": (lambda s, n: True, NAN),
    "every row duplicated": (lambda s, n: False, CONST),
    "sample_domain one row short": (lambda s, n: not n.startswith("Transfer"), ("sample_domain",)),
    "string labels": (lambda s, n: False, ("string",)),
    "constant predictions": (lambda s, n: False, ("class", "constant")),
}


def scorer_cases(seeds: list[int]) -> Iterator[Case]:
    """Scorers: in cross_validate / GridSearchCV with domain splitters, and called on bad folds."""
    from sktransfer.model_selection import (
        DeepEmbeddedValidationScorer,
        ImportanceWeightedScorer,
        SoftNeighborhoodDensityScorer,
        TransferabilityScorer,
    )
    from sktransfer.reweighting import KMM

    for i, (name, make) in enumerate(scorer_factories().items()):
        scorer = make()
        feature = any(f"'{m}'" in name for m in _FEATURE_METRICS)
        for s, seed in enumerate(seeds):
            for k, kind in enumerate(_CV_KINDS):
                if feature and kind in ("no predict_proba (LinearSVC)", "regression pipeline"):
                    continue
                must = kind == "KFold: folds without target rows" and "target" in _scorer_needs(scorer)
                for routing in (False, True):
                    yield Case(SCORERS, name, kind, f"routing {'on' if routing else 'off'}, seed {seed}",
                               partial(_cv_scorer_act, name, make, seed, routing, kind), must,
                               ROWS + MASK + ("target", "predict_proba", "regress", "class"),
                               quick=s == 0 and (i + k + routing) % 3 == 0,
                               must_work=k <= 1 and name != "SupervisedScorer")  # it needs target labels
            for k, (kind, (must, culprits)) in enumerate(_DIRECT_KINDS.items()):
                if feature and kind == "constant predictions":
                    continue
                yield Case(SCORERS, name, f"called on a fold: {kind}", f"seed {seed}",
                           partial(_direct_scorer_act, name, make, seed, kind), must(scorer, name), culprits,
                           quick=s == 0 and (i + k) % 2 == 0)
            if name.startswith("TransferabilityScorer"):
                yield _case(SCORERS, name, "masked rows in y", partial(_transferability_masked_act, make, name, seed),
                            variant=f"seed {seed}", quick=s == 0, must_work=True)
        yield _case(SCORERS, "SupervisedScorer", "target_labels partly masked",
                    partial(_supervised_masked_act, seeds[0]), must_work=True)
    params = {
        "SoftNeighborhoodDensityScorer(temperature=0)": (partial(SoftNeighborhoodDensityScorer, 0.0), True),
        "SoftNeighborhoodDensityScorer(temperature=-1)": (partial(SoftNeighborhoodDensityScorer, -1.0), True),
        "SoftNeighborhoodDensityScorer(temperature=NaN)": (partial(SoftNeighborhoodDensityScorer, np.nan), True),
        "SoftNeighborhoodDensityScorer(temperature=1e-12)": (partial(SoftNeighborhoodDensityScorer, 1e-12), False),
        "SoftNeighborhoodDensityScorer(temperature=1e12)": (partial(SoftNeighborhoodDensityScorer, 1e12), False),
        "ImportanceWeightedScorer(weighter=KMM(gamma=1e10))":
            (lambda: ImportanceWeightedScorer(KMM(gamma=1e10)), False),
        "DeepEmbeddedValidationScorer(weighter=KMM(gamma=1e-10))":
            (lambda: DeepEmbeddedValidationScorer(KMM(gamma=1e-10)), False),
        "TransferabilityScorer('bogus')": (lambda: TransferabilityScorer("bogus"), True),
        "TransferabilityScorer('hscore', shrinkage=2)": (lambda: TransferabilityScorer("hscore", shrinkage=2), True),
        "TransferabilityScorer('hscore', shrinkage='bogus')":
            (lambda: TransferabilityScorer("hscore", shrinkage="bogus"), True),
        "TransferabilityScorer('leep', regression=True)":
            (lambda: TransferabilityScorer("leep", regression=True), True),
    }
    for label, (make, must) in params.items():
        target = label.split("(")[0]
        culprits = ("temperature", "gamma", "metric", "shrinkage", "regression", "bogus")
        yield _case(SCORERS, target, label[len(target):], partial(_scorer_param_act, label, make, seeds[0]),
                    must, culprits)
    yield from splitter_cases(seeds)


def _split_act(make: Callable[[], Any], kind: str, seed: int, routing: bool, probe: Probe) -> None:
    data = make_data(seed)
    X, y, sd = data.X, np.asarray(data.y), np.asarray(data.sd)
    if kind == "one row per domain":
        rows = _one_per_domain(data)
        X, y, sd = X[rows], y[rows], sd[rows]
    elif kind == "no target rows":
        sd, y = np.ones(data.n, int), np.arange(data.n) % 2
    elif kind == "sample_domain holds 0":
        sd = sd.copy()
        sd[0] = 0
    elif kind == "sample_domain one row short":
        sd = sd[:-1]
    elif kind == "domains only in y":
        sd = None
    cv = make()
    kwargs = {"sample_domain": sd} if routing else {"groups": sd}
    folds = list(cv.split(X, y, **kwargs))
    if len(folds) != cv.get_n_splits(X, y, **kwargs):
        probe.fail(f"split gave {len(folds)} folds, get_n_splits says {cv.get_n_splits(X, y, **kwargs)}")
    for train, test in folds:
        if len(train) == 0 or len(test) == 0 or len(np.intersect1d(train, test)):
            probe.fail("a fold is empty or its train and test rows overlap")
            break
        if max(train.max(), test.max()) >= len(y):
            probe.fail("a fold indexes past the rows")
            break


def splitter_cases(seeds: list[int]) -> Iterator[Case]:
    from sktransfer.model_selection import DomainShuffleSplit, LeaveOneDomainOut

    makers = {
        "DomainShuffleSplit": (lambda: DomainShuffleSplit(2, test_size=0.3, random_state=0), ()),
        "DomainShuffleSplit(n_splits=0)": (lambda: DomainShuffleSplit(0), ("n_splits",)),
        "DomainShuffleSplit(test_size=0)": (lambda: DomainShuffleSplit(2, test_size=0), ("test_size",)),
        "DomainShuffleSplit(test_size=1.5)": (lambda: DomainShuffleSplit(2, test_size=1.5), ("test_size",)),
        "DomainShuffleSplit(test_size=0.01)": (lambda: DomainShuffleSplit(2, test_size=0.01, random_state=0), ()),
        "LeaveOneDomainOut": (lambda: LeaveOneDomainOut(), ()),
        "LeaveOneDomainOut(max_n_splits=0)": (lambda: LeaveOneDomainOut(0), ("max_n_splits",)),
    }
    kinds = {"clean": False, "one row per domain": False, "no target rows": False, "sample_domain holds 0": True,
             "sample_domain one row short": True, "domains only in y": False}
    for label, (make, param_culprits) in makers.items():
        target = label.split("(")[0]
        for kind, must in kinds.items():
            for routing in (False, True):
                if kind == "domains only in y" and routing:
                    continue
                bad = f"{label[len(target):] + ', ' if label != target else ''}{kind}"
                must_here = must or bool(param_culprits) and label not in ("DomainShuffleSplit(test_size=0.01)",)
                yield Case(SCORERS, target, bad, f"{'sample_domain=' if routing else 'groups='}, seed {seeds[0]}",
                           partial(_split_act, make, kind, seeds[0], routing), must_here,
                           param_culprits + ROWS + ("sample_domain", "target", "0", "groups"),
                           quick=not routing, must_work=label == "DomainShuffleSplit" and kind == "clean")


# --------------------------------------------------------------------------- public functions
def _two_samples(bad: Bad, seed: int) -> tuple[Any, Any, Data]:
    """Source and target rows of ``make_data`` after an X-level bad input, and the stacked data."""
    data = bad.apply(make_data(seed, n=10), Subject("function", lambda: None, "adapter"))
    X = data.X
    if data.n == 0 or X.shape[0] != data.n:  # a reshaped X: cut it in halves
        return X[: len(X) // 2], X[len(X) // 2:], data
    return _rows(X, np.flatnonzero(data.source)), _rows(X, np.flatnonzero(~data.source)), data


def _shift_metric(name: str, Xs: Any, Xt: Any, probe: Probe, **kw: Any) -> None:
    from sktransfer import metrics

    if name == "mmd_test":
        res = metrics.mmd_test(Xs, Xt, n_permutations=kw.pop("n_permutations", 50), random_state=0, **kw)
        probe.score("statistic", res.statistic)
        probe.score("pvalue", res.pvalue)
        if math.isfinite(res.pvalue) and not 0 <= res.pvalue <= 1:
            probe.fail(f"pvalue {res.pvalue} outside [0, 1]")
    elif name == "domain_shift_report":
        X, sd = kw.pop("stacked")
        rep = metrics.domain_shift_report(X, sd, n_permutations=kw.pop("n_permutations", 20), random_state=0, **kw)
        for field_name in ("mmd", "mmd_pvalue", "mmd_linear", "proxy_a_distance"):
            probe.score(f"report.{field_name}", getattr(rep, field_name))
        probe.finite("report.feature_shift", rep.feature_shift)
    elif name == "proxy_a_distance":
        value = metrics.proxy_a_distance(Xs, Xt, random_state=0, **kw)
        probe.score(name, value)
        if math.isfinite(value) and not 0 <= value <= 2:
            probe.fail(f"proxy A-distance {value} outside [0, 2]")
    else:
        probe.score(name, metrics.mmd(Xs, Xt, **kw))


def _shift_metric_act(name: str, bad: Bad, seed: int, probe: Probe) -> None:
    Xs, Xt, data = _two_samples(bad, seed)
    _shift_metric(name, Xs, Xt, probe, **({"stacked": (data.X, data.sd)} if name == "domain_shift_report" else {}))


def _shift_metric_param_act(name: str, params: dict, seed: int, probe: Probe) -> None:
    data = make_data(seed, n=10)
    stacked = {"stacked": (data.X, data.sd)} if name == "domain_shift_report" else {}
    _shift_metric(name, data.X[data.source], data.X[~data.source], probe, **stacked, **params)


_SHIFT_METRICS = ("mmd", "mmd_test", "proxy_a_distance", "domain_shift_report")
_SHIFT_PARAMS = {
    "mmd": {"gamma": True, "kernel": True},
    "mmd_test": {"gamma": True, "kernel": True, "n_permutations": True, "max_samples": True},
    "proxy_a_distance": {"cv": True},
    "domain_shift_report": {"n_permutations": True},
}


def _labels_of(kind: str, n: int) -> tuple[np.ndarray, bool, tuple]:
    """y for a transferability metric; whether the contract demands an error; culprits."""
    y = np.arange(n) % 2
    if kind == "clean":
        return y, False, ()
    if kind == "-1 in y":
        y = y.copy()
        y[::5] = -1
        return y, False, MASK
    if kind == "NaN in y":
        return np.where(np.arange(n) % 5 == 0, np.nan, y.astype(float)), True, MASK
    if kind == "-1 and NaN in y":
        y = y.astype(float)
        y[::5], y[1::5] = np.nan, -1
        return y, True, MASK + ("ambiguous",)
    if kind == "one class":
        return np.zeros(n, int), False, ("class",)
    if kind == "string labels":
        return np.array(["a", "b"], dtype=object)[y], False, ("string",)
    if kind == "y one row short":
        return y[:-1], True, ("y", "rows", "length", "inconsistent")
    if kind == "labels 5 and 9 (not 0..k-1)":
        return np.where(y == 0, 5, 9), False, ()
    if kind == "uint8 labels":
        return y.astype(np.uint8), False, ()
    raise KeyError(kind)


_LABEL_KINDS = ("clean", "-1 in y", "NaN in y", "-1 and NaN in y", "one class", "string labels",
                "y one row short", "labels 5 and 9 (not 0..k-1)", "uint8 labels")


def _transferability_act(name: str, kind: str, bad: Bad | None, seed: int, probe: Probe) -> None:
    from sktransfer import metrics

    rng = np.random.RandomState(seed)
    n = 20
    y, _, _ = _labels_of(kind, n)
    X = rng.normal(size=(n, 4)) + 1.0 * (np.arange(n) % 2)[:, None]
    if bad is not None:
        data = bad.apply(Data(X, y, None, np.ones(n, bool), np.ones(n, bool), "classification"),
                         Subject("function", lambda: None, "adapter"))
        X, y = np.asarray(data.X), data.y
    if name in ("logme_score", "hscore"):
        value = getattr(metrics, name)(X, y)
    elif name == "leep_score":
        E = np.exp(X[:, :3] - np.max(X[:, :3], axis=1, keepdims=True)) if X.size else X[:, :3]
        value = metrics.leep_score(E / E.sum(axis=1, keepdims=True) if X.size else E, y)
    else:
        value = metrics.nce_score(np.argmax(X[:, :3], axis=1) if X.size else np.zeros(0, int), y)
    probe.score(name, value)


def _transferability_special_act(call: Callable[[], float], probe: Probe) -> None:
    probe.score("score", call())


def _ess_act(weights: Callable[[], Any], probe: Probe) -> None:
    from sktransfer.reweighting import effective_sample_size

    w = weights()
    value = effective_sample_size(w)
    probe.score("effective_sample_size", value)
    n = np.size(w)
    if math.isfinite(value) and not 0 <= value <= n + 1e-9:
        probe.fail(f"effective sample size {value} outside [0, {n}]")


def function_cases(seeds: list[int]) -> Iterator[Case]:
    """Metrics, domain helpers and dataset functions."""
    for i, name in enumerate(_SHIFT_METRICS):
        for j, bad in enumerate(X_BADS):
            for s, seed in enumerate(seeds):
                yield Case(NUMERICS, name, bad.name, f"seed {seed}", partial(_shift_metric_act, name, bad, seed),
                           bad.must_raise, bad.culprits, quick=s == 0 and (i + j) % 2 == 0)
        for param, _ in _SHIFT_PARAMS[name].items():
            values = [("1e10", 1e10, False), ("1e-10", 1e-10, False), ("zero", 0, param != "gamma"),
                      ("negative", -1, True), ("NaN", np.nan, True), ("a string", "bogus", True)]
            if param == "kernel":
                values = [("'bogus'", "bogus", True), ("None", None, True)]
            if param in ("n_permutations", "max_samples", "cv"):
                values = [("zero", 0, True), ("one", 1, param == "cv"), ("negative", -1, True),
                          ("2.5", 2.5, True), ("a string", "bogus", True)]
            for v, (label, value, must) in enumerate(values):
                yield _case(NUMERICS, name, f"{param}={label}",
                            partial(_shift_metric_param_act, name, {param: value}, seeds[0]), must, (param,),
                            quick=(i + v) % 2 == 0)
        if name != "domain_shift_report":  # one stacked X cannot have two feature counts
            yield _case(NUMERICS, name, "different feature counts",
                        partial(_shift_metric, name, np.zeros((5, 3)), np.ones((5, 2))), True, ("feature",))

    x_for_labels = [b for b in X_BADS if b.name in ("NaN in X", "inf in X", "X * 1e300", "X * 1e-300",
                                                   "every column constant", "one feature", "0 rows",
                                                   "every row duplicated")]
    for name in ("logme_score", "hscore", "leep_score", "nce_score"):
        for s, seed in enumerate(seeds):
            for kind in _LABEL_KINDS:
                _, must, culprits = _labels_of(kind, 20)
                if name == "nce_score" and kind == "-1 in y":
                    must = False
                yield Case(LABELS, name, kind, f"seed {seed}", partial(_transferability_act, name, kind, None, seed),
                           must, culprits, quick=s == 0)
            for bad in x_for_labels:
                if name == "leep_score" and bad.name not in ("0 rows", "NaN in X") or (
                        name == "nce_score" and bad.name != "0 rows"):
                    continue
                yield Case(NUMERICS, name, bad.name, f"seed {seed}",
                           partial(_transferability_act, name, "clean", bad, seed), bad.must_raise,
                           bad.culprits + ("proba", "probabilit"), quick=s == 0)
    yield from _transferability_special_cases()
    yield from _ess_cases()
    yield from _domain_function_cases()
    yield from _dataset_cases()


def _transferability_special_cases() -> Iterator[Case]:
    from sktransfer import metrics

    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(20, 4)), np.arange(20) % 2
    P = np.full((20, 3), 1 / 3)
    cases = {
        ("leep_score", "probabilities not summing to 1"): (lambda: metrics.leep_score(P * 2, y), True,
                                                           ("sum", "probab")),
        ("leep_score", "negative probabilities"): (lambda: metrics.leep_score(P - 0.5, y), True,
                                                   ("negative", "probab")),
        ("leep_score", "1-D probabilities"): (lambda: metrics.leep_score(P[:, 0], y), True,
                                              ("2d", "2-d", "shape", "probab")),
        ("leep_score", "a zero probability column"): (lambda: metrics.leep_score(np.c_[P[:, :2] * 1.5, 0 * P[:, 2]], y),
                                                      False, ()),
        ("logme_score", "regression=True with a NaN target"):
            (lambda: metrics.logme_score(X, np.r_[np.nan, X[1:, 0]], regression=True), True, NAN),
        ("logme_score", "regression=True, integer target"):
            (lambda: metrics.logme_score(X, np.arange(20) % 4, regression=True), False, ()),
        ("logme_score", "regression=True, constant target"):
            (lambda: metrics.logme_score(X, np.ones(20), regression=True), False, CONST),
        ("logme_score", "max_iter=0"): (lambda: metrics.logme_score(X, y, max_iter=0), True, ("max_iter",)),
        ("logme_score", "tol=NaN"): (lambda: metrics.logme_score(X, y, tol=np.nan), True, ("tol",)),
        ("hscore", "shrinkage=2"): (lambda: metrics.hscore(X, y, shrinkage=2), True, ("shrinkage",)),
        ("hscore", "shrinkage=NaN"): (lambda: metrics.hscore(X, y, shrinkage=np.nan), True, ("shrinkage",)),
        ("hscore", "more features than rows"): (lambda: metrics.hscore(rng.normal(size=(6, 40)), np.arange(6) % 2),
                                                False, ()),
        ("nce_score", "string source labels"): (lambda: metrics.nce_score(np.array(["a", "b"] * 10), y), False, ()),
        # A 2-D array is documented input: its row-wise argmax is the source label.
        ("nce_score", "2-D source labels"): (lambda: metrics.nce_score(P, y), False, ()),
    }
    for (target, bad), (call, must, culprits) in cases.items():
        yield _case(LABELS if "label" in bad or "target" in bad else NUMERICS, target, bad,
                    partial(_transferability_special_act, call), must, culprits)


def _ess_cases() -> Iterator[Case]:
    cases = {
        "clean": (lambda: np.linspace(0.1, 2, 10), False, ()),
        "negative weights": (lambda: np.r_[-1.0, np.ones(9)], True, ("negative",)),
        "NaN weight": (lambda: np.r_[np.nan, np.ones(9)], True, NAN),
        "inf weight": (lambda: np.r_[np.inf, np.ones(9)], True, INF),
        "all zero": (lambda: np.zeros(10), True, ("zero",)),
        "empty": (lambda: np.zeros(0), True, ("empty", "0", "at least")),
        "2-D weights": (lambda: np.ones((3, 3)), False, ("1d", "1-d", "shape")),
        "weights * 1e300": (lambda: np.linspace(0.1, 2, 10) * 1e300, False, HUGE),
        "weights * 1e-300": (lambda: np.linspace(0.1, 2, 10) * 1e-300, False, TINY),
        "a list": (lambda: [1.0, 2.0, 3.0], False, ()),
        "strings": (lambda: np.array(["a", "b"]), True, ("numeric", "float", "string", "weights")),
    }
    for bad, (weights, must, culprits) in cases.items():
        yield _case(NUMERICS, "effective_sample_size", bad, partial(_ess_act, weights), must, culprits)


def _domain_act(call: Callable[[Probe], Any], probe: Probe) -> None:
    call(probe)


def _stack(source: Any, target: Any, probe: Probe, task: str = "auto") -> None:
    from sktransfer import stack_domains

    X, y, sd = stack_domains(source=source, target=target, task=task)
    if _rows_count(X) != len(y) or len(y) != len(sd):
        probe.fail(f"stack_domains returned {_rows_count(X)} rows, {len(y)} labels, {len(sd)} domain ids")
    if np.any(np.asarray(sd) == 0):
        probe.fail("stack_domains gave a row domain id 0")


def _rows_count(X: Any) -> int:
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _check_domains_case(y: Any, sd: Any, probe: Probe, task: str | None = None) -> None:
    from sktransfer import check_domains

    X = np.zeros((len(y) if y is not None else 6, 2))
    d = check_domains(X, y, sd, needs=(), task=task)
    if y is not None:
        yv = np.asarray(y, dtype=object)
        masked_class = [v for v, lab in zip(yv.tolist(), d.labelled) if lab and (v == -1 or v != v)]
        if masked_class and task != "regression":
            probe.fail(f"check_domains counts masked labels {masked_class[:2]} as labelled")


def _mask_case(y: Any, sd: Any, probe: Probe, task: str = "auto") -> None:
    from sktransfer import mask_target_labels

    out = mask_target_labels(y, sd, task=task)
    target = np.asarray(sd) < 0
    vals = np.asarray(out, dtype=float)
    if not (np.all(np.isnan(vals[target])) or np.all(vals[target] == -1)):
        probe.fail(f"target rows are not masked: {np.asarray(out)[target][:3].tolist()}")
    if not np.array_equal(np.asarray(out)[~target].astype(float), np.asarray(y)[~target].astype(float)):
        probe.fail("source labels changed")


def _split_case(X: Any, y: Any, sd: Any, probe: Probe) -> None:
    from sktransfer import split_domains

    split_domains(X, y, sd)


def _domain_function_cases() -> Iterator[Case]:
    rng = np.random.RandomState(0)
    Xs, Xt = rng.normal(size=(6, 3)), rng.normal(size=(5, 3))
    ys = np.arange(6) % 2
    cases = [
        ("stack_domains", "-1 among source labels", partial(_stack, (Xs, np.r_[-1, ys[1:]]), Xt), True, MASK),
        ("stack_domains", "NaN among source labels", partial(_stack, (Xs, np.r_[np.nan, ys[1:]]), Xt), True, MASK),
        ("stack_domains", "string source labels", partial(_stack, (Xs, np.array(list("abcabc"), dtype=object)), Xt),
         False, ("string",)),
        ("stack_domains", "uint8 source labels", partial(_stack, (Xs, ys.astype(np.uint8)), Xt), False, ()),
        ("stack_domains", "different feature counts", partial(_stack, (Xs, ys), Xt[:, :2]), True, ("feature",)),
        ("stack_domains", "labels one row short", partial(_stack, (Xs, ys[:-1]), Xt), True, ("row", "label", "y")),
        ("stack_domains", "empty list of targets", partial(_stack, (Xs, ys), []), True, ("target", "empty")),
        ("stack_domains", "target with NaN labels, task='regression'",
         partial(_stack, (Xs, ys.astype(float)), (Xt, np.full(5, np.nan)), task="regression"), False, ()),
        ("stack_domains", "task='bogus'", partial(_stack, (Xs, ys), Xt, task="bogus"), True, ("task",)),
        ("stack_domains", "integer regression target, task='regression'",
         partial(_stack, (Xs, ys * 3 - 1), Xt, task="regression"), False, ()),
        ("check_domains", "-1 and NaN in y", partial(_check_domains_case, np.array([0, 1, -1, np.nan, 1, 0]), None),
         True, ("nan", "-1", "ambiguous")),
        ("check_domains", "NaN mask in float class labels",
         partial(_check_domains_case, np.array([0.0, 1.0, np.nan, np.nan, 1.0, 0.0]), None), False, ()),
        ("check_domains", "string labels with None",
         partial(_check_domains_case, np.array(["a", "b", None, None, "a", "b"], dtype=object), None), True,
         ("string",)),
        ("check_domains", "object labels with NaN",
         partial(_check_domains_case, np.array([0, 1, np.nan, np.nan, 1, 0], dtype=object), None), False, ()),
        ("check_domains", "y of -1 only", partial(_check_domains_case, np.full(6, -1), [1, 1, 1, -1, -1, -1]),
         False, MASK + ("source",)),
        ("check_domains", "needs='bogus'", lambda probe: __import__("sktransfer").check_domains(
            np.zeros((4, 2)), [0, 1, -1, -1], needs="bogus"), True, ("needs", "bogus")),
        ("mask_target_labels", "uint8 labels", partial(_mask_case, np.arange(6, dtype=np.uint8) % 2,
                                                       [1, 1, 1, -1, -1, -1]), False, ()),
        ("mask_target_labels", "bool labels", partial(_mask_case, np.arange(6) % 2 == 1, [1, 1, 1, -1, -1, -1]),
         False, ()),
        ("mask_target_labels", "integer regression target", partial(_mask_case, np.arange(6), [1, 1, 1, -1, -1, -1],
                                                                   task="regression"), False, ()),
        ("mask_target_labels", "string labels", partial(_mask_case, np.array(list("abcabc")), [1, 1, 1, -1, -1, -1]),
         True, ("string",)),
        ("mask_target_labels", "sample_domain one row short", partial(_mask_case, np.arange(6) % 2, [1, 1, -1, -1, -1]),
         True, ("sample_domain",)),
        ("split_domains", "sample_domain one row short",
         partial(_split_case, np.zeros((6, 2)), np.arange(6) % 2, [1, 1, -1, -1, -1]), True, ("sample_domain",)),
        ("split_domains", "y one row short",
         partial(_split_case, np.zeros((6, 2)), np.arange(5) % 2, [1, 1, 1, -1, -1, -1]), True, ("y", "row")),
        ("split_domains", "no sample_domain and no mask",
         partial(_split_case, np.zeros((6, 2)), np.arange(6) % 2, None), False, ("target", "sample_domain")),
    ]
    for target, bad, call, must, culprits in cases:
        yield _case(LABELS, target, bad, partial(_domain_act, call), must, culprits)


def _dataset_act(call: Callable[[], Any], probe: Probe) -> None:
    out = call()
    arrays = out if isinstance(out, tuple) else (getattr(out, "data", None), getattr(out, "target", None))
    for i, a in enumerate(arrays):
        if a is None or np.asarray(a).dtype.kind not in "fiub":
            continue
        a = np.asarray(a, dtype=float)
        if i == 0 and not np.isfinite(a).all():
            probe.fail("the returned X holds non-finite values")


def _fetch_missing(fetch: Callable[..., Any], domains: Any) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        args = () if domains is None else (domains,)
        return fetch(*args, data_home=tmp, download_if_missing=False)


def _dataset_cases() -> Iterator[Case]:
    from sktransfer import datasets

    make = datasets.make_domain_shift
    params = {
        "n_samples=0": ({"n_samples": 0}, True), "n_samples=-1": ({"n_samples": -1}, True),
        "n_samples=1": ({"n_samples": 1}, False), "n_samples=2.5": ({"n_samples": 2.5}, True),
        "n_features=1": ({"n_features": 1}, True), "n_features=0": ({"n_features": 0}, True),
        "n_classes=1": ({"n_classes": 1}, False), "n_classes=0": ({"n_classes": 0}, True),
        "n_classes=50": ({"n_classes": 50, "n_samples": 10}, False),
        "shift='bogus'": ({"shift": "bogus"}, True), "task='bogus'": ({"task": "bogus"}, True),
        "noise=-1": ({"noise": -1.0}, True), "noise=NaN": ({"noise": np.nan}, True),
        "noise=1e300": ({"noise": 1e300}, False), "shift_strength=NaN": ({"shift_strength": np.nan}, True),
        "shift_strength=inf": ({"shift_strength": np.inf}, True), "shift_strength=1e300": ({"shift_strength": 1e300}, False),
    }
    for bad, (kw, must) in params.items():
        culprits = tuple(k for k in kw) + ("at least",)
        for shift in ("covariate", "target", "concept", "subspace"):
            for task in ("classification",) if "n_classes" in kw else ("classification", "regression"):
                call = partial(make, **{"shift": shift, "task": task, "random_state": 0, **kw})
                yield _case(NUMERICS, "make_domain_shift", bad, partial(_dataset_act, call), must, culprits,
                            variant=f"shift={shift}, task={task}", quick=shift == "covariate" and task == "classification")
    yield _case(NUMERICS, "load_digits_shift", "mask_target='yes'",
                partial(_dataset_act, partial(datasets.load_digits_shift, mask_target="yes")), True, ("mask_target",))
    yield _case(NUMERICS, "load_digits_shift", "return_X_y=True, as_frame=True",
                partial(_dataset_act, partial(datasets.load_digits_shift, return_X_y=True, as_frame=True)), False, ())
    fetchers = {
        "fetch_amazon_reviews": ("books", "dvd"), "fetch_coil20": None, "fetch_mnist_usps": None,
        "fetch_office31": ("amazon", "webcam"), "fetch_office_caltech": ("amazon", "webcam"),
    }
    for name, domains in fetchers.items():
        fetch = getattr(datasets, name)
        yield _case(NUMERICS, name, "files absent, download_if_missing=False",
                    partial(_dataset_act, partial(_fetch_missing, fetch, domains)), True,
                    ("download", "not in folder", "data_home", "file"))
        yield _case(NUMERICS, name, "unknown domain name",
                    partial(_dataset_act, partial(_fetch_missing, fetch, ("bogus", "other"))), True,
                    ("bogus", "domain"))


# --------------------------------------------------------------------------- deep
TINY_IMAGE = "timm:test_efficientnet"
TEXT = "all-MiniLM-L6-v2"


def torch_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "torchvision", "timm", "transformers"))


def _torch() -> Any:
    import torch

    if torch.get_num_threads() != 1:  # tiny models gain nothing from more threads
        torch.set_num_threads(1)
    return torch


def _image_extractor(**kw: Any) -> Any:
    from sktransfer.deep import ImageFeatureExtractor

    _torch()
    kw = {"weights": "random", "num_workers": 0, "batch_size": 4, "device": "cpu", **kw}
    return ImageFeatureExtractor(TINY_IMAGE, **kw)


def _text_extractor(**kw: Any) -> Any:
    from sktransfer.deep import TextFeatureExtractor

    _torch()
    return TextFeatureExtractor(TEXT, **{"weights": "random", "batch_size": 4, "device": "cpu", **kw})


_TINY_AUDIO: list = []


def _audio_extractor(**kw: Any) -> Any:
    """AudioFeatureExtractor over one tiny untrained Wav2Vec2 (2 layers, width 32), built once per process."""
    from sktransfer.deep import AudioFeatureExtractor

    torch = _torch()
    if not _TINY_AUDIO:
        import transformers

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            _TINY_AUDIO.append(transformers.Wav2Vec2Model(transformers.Wav2Vec2Config(
                hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                conv_dim=(32,) * 7, num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)))
    return AudioFeatureExtractor(_TINY_AUDIO[0], **{"batch_size": 4, "device": "cpu", **kw})


def _finetuner(kind: str, modality: str, **kw: Any) -> Any:
    from sktransfer.deep import FineTuneClassifier, FineTuneRegressor

    _torch()
    cls = FineTuneClassifier if kind == "classifier" else FineTuneRegressor
    backbone = {"image": TINY_IMAGE, "text": TEXT, "features": None}[modality]
    kw = {"weights": "random", "max_epochs": 1, "head_epochs": 1, "batch_size": 4, "device": "cpu",
          "random_state": 0, **kw}
    return cls(backbone, **kw)


def images(n: int = 4, h: int = 16, w: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, size=(n, h, w, 3)).astype(np.uint8)


TEXTS = ["the battery died after a week", "great sound, fast shipping", "ok", "would not buy again!"]


def _with(a: np.ndarray, index: Any, value: Any) -> np.ndarray:
    a = a.copy()
    a[index] = value
    return a


def _tmp_file(name: str, content: bytes) -> str:
    folder = Path(tempfile.mkdtemp(prefix="sktransfer_bad_input_"))
    path = folder / name
    path.write_bytes(content)
    return str(path)


def _pil_list(seed: int) -> list:
    from PIL import Image

    return [Image.fromarray(a) for a in images(2, seed=seed)] + list(images(2, seed=seed + 1))


def _tensor_nchw(seed: int) -> Any:
    return _torch().from_numpy(images(seed=seed).astype(np.float32) / 255).permute(0, 3, 1, 2).contiguous()


PATH_WORDS = ("path", "file", "not found", "no such", "exist", "read", "open", "image", "identify")

#: (bad input, X(seed), must_raise, culprits)
IMAGE_INPUTS = [
    ("clean uint8 NHWC", lambda s: images(seed=s), False, ()),
    ("NaN pixels", lambda s: _with(images(seed=s).astype(np.float32) / 255, (0, 3, 3, 0), np.nan), True, NAN),
    ("inf pixels", lambda s: _with(images(seed=s).astype(np.float32) / 255, (1, 0, 0, 1), np.inf), True, INF),
    ("float images in [0, 1]", lambda s: images(seed=s).astype(np.float32) / 255, False, ("float", "range")),
    ("float images in [0, 255]", lambda s: images(seed=s).astype(np.float64), False, ("float", "range", "255")),
    ("negative float pixels", lambda s: images(seed=s).astype(np.float32) / 255 - 1, False,
     ("range", "negative", "outside")),
    ("uint16 images", lambda s: images(seed=s).astype(np.uint16) * 257, False, ("uint16", "dtype")),
    ("int64 images", lambda s: images(seed=s).astype(np.int64), False, ("int64", "dtype")),
    ("bool images", lambda s: images(seed=s) > 127, False, ("bool", "dtype")),
    ("grayscale (N, H, W)", lambda s: images(seed=s)[..., 0], False, ("channel", "shape")),
    ("RGBA (N, H, W, 4)", lambda s: np.concatenate([images(seed=s), images(seed=s)[..., :1]], axis=3), False,
     ("channel", "shape", "rgba")),
    ("channels first (N, 3, H, W)", lambda s: images(seed=s).transpose(0, 3, 1, 2).copy(), False,
     ("channel", "shape")),
    ("one image without a batch axis", lambda s: images(1, seed=s)[0], False, ("shape", "batch", "dim")),
    ("2-D feature array", lambda s: np.random.RandomState(s).normal(size=(4, 8)), True,
     ("shape", "dim", "image", "2-d", "2d")),
    ("5-D array", lambda s: images(seed=s)[:, None], True, ("shape", "dim")),
    ("empty list", lambda s: [], True, ("0", "empty", "at least")),
    ("0 images (0, H, W, 3)", lambda s: images(seed=s)[:0], True, ("0", "empty", "at least")),
    ("images of different sizes", lambda s: [images(1, 12, 20, s)[0], images(1, 30, 8, s + 1)[0]], False, ()),
    ("1x1 images", lambda s: images(4, 1, 1, s), False, ("size", "small")),
    ("0x0 images", lambda s: np.zeros((2, 0, 0, 3), np.uint8), True, ("size", "empty", "0", "small")),
    ("missing file path", lambda s: ["/nonexistent/missing.png"], True, PATH_WORDS),
    ("not an image file", lambda s: [_tmp_file("x.png", b"not an image")], True, PATH_WORDS),
    ("None among images", lambda s: [images(1, seed=s)[0], None], True, ("none", "item", "image")),
    ("texts given to the image extractor", lambda s: ["a cat", "a dog"], True, PATH_WORDS + ("text", "str")),
    ("PIL images mixed with arrays", _pil_list, False, ()),
    ("float tensor NCHW", _tensor_nchw, False, ("tensor", "channel", "shape")),
]

TEXT_INPUTS = [
    ("clean texts", lambda s: list(TEXTS), False, ()),
    ("ints among texts", lambda s: ["a text", 3, "another"], True, ("str", "int", "text")),
    ("None among texts", lambda s: ["a text", None], True, ("str", "none", "text")),
    ("NaN among texts (a pandas missing value)", lambda s: ["a text", float("nan")], True, ("str", "nan", "float")),
    ("bytes texts", lambda s: [b"a text", b"another"], True, ("str", "bytes")),
    ("empty list", lambda s: [], True, ("0", "empty", "at least")),
    ("one string, not a list", lambda s: "a single text", True, ("list", "str", "single")),
    ("empty string", lambda s: ["", "a text"], False, ("empty",)),
    ("whitespace-only text", lambda s: ["   \n\t", "a text"], False, ()),
    ("10,000-word text", lambda s: [" ".join(["word"] * 10000), "a text"], False, ()),
    ("2-D array of texts (n, 2)", lambda s: np.array([TEXTS[:2], TEXTS[2:]]), True, ("shape", "dim", "2-d", "column")),
    ("(n, 1) array of texts", lambda s: np.array(TEXTS)[:, None], False, ()),
    ("Series with a shifted index", lambda s: __import__("pandas").Series(TEXTS, index=np.arange(4) + 10), False, ()),
    ("lone surrogate character", lambda s: ["bad \ud800 char", "a text"], False, ("unicode", "encode", "surrogate")),
    ("nested lists", lambda s: [["a", "b"], ["c"]], True, ("str", "list")),
    ("numpy str array", lambda s: np.array(TEXTS), False, ()),
]


def waves(n: int = 3, seed: int = 0) -> list[np.ndarray]:
    """``n`` noisy tones of 0.1-0.4 s at 16 kHz, of different lengths."""
    rng = np.random.RandomState(seed)
    out = []
    for i in range(n):
        t = np.arange(int(1600 * (1 + i + rng.randint(3)))) / 16000
        out.append(np.sin(2 * np.pi * rng.uniform(100, 4000) * t) + 0.1 * rng.standard_normal(t.size))
    return out


WAVE_SHAPE = ("shape", "mono", "channel", "1-d", "2-d", "array")

#: (bad input, X(seed), must_raise, culprits)
AUDIO_INPUTS = [
    ("clean waveforms of different lengths", lambda s: waves(seed=s), False, ()),
    ("2-D array of equal-length clips", lambda s: np.stack([w[:1600] for w in waves(seed=s)]), False, ()),
    ("one 1-D waveform, not in a list", lambda s: waves(seed=s)[0], True, ("list", "single", "waveform")),
    ("one (n_samples, 2) stereo recording as X", lambda s: np.stack([waves(seed=s)[0]] * 2, axis=1), True,
     WAVE_SHAPE),
    ("a stereo item (n_samples, 2)", lambda s: [np.stack([waves(seed=s)[0]] * 2, axis=1)], True, WAVE_SHAPE),
    ("3-D array", lambda s: np.zeros((2, 2, 1600)), True, WAVE_SHAPE),
    ("empty list", lambda s: [], True, ("0", "empty", "at least")),
    ("an empty waveform", lambda s: [waves(seed=s)[0], np.zeros(0)], True, ("empty",)),
    ("a waveform shorter than one frame (300 samples)", lambda s: [waves(seed=s)[0], np.ones(300)], True,
     ("short", "samples")),
    ("NaN samples", lambda s: [_with(waves(seed=s)[0], 5, np.nan)], True, NAN),
    ("inf samples", lambda s: [_with(waves(seed=s)[0], 5, np.inf)], True, INF),
    ("int16 PCM samples", lambda s: [(waves(seed=s)[0] * 10000).astype(np.int16)], True, ("int", "float")),
    ("None among waveforms", lambda s: [waves(seed=s)[0], None], True, ("float", "waveform")),
    ("a missing WAV path", lambda s: ["/nonexistent/missing.wav"], True, PATH_WORDS),
    ("a text file named .wav", lambda s: [_tmp_file("notes.wav", b"not audio")], True, PATH_WORDS + ("wav",)),
    ("a silent (all-zero) clip", lambda s: [np.zeros(1600), waves(seed=s)[0]], False, ()),
    ("a clip of amplitude 1e30", lambda s: [waves(seed=s)[0] * 1e30], False, ()),
    ("float16 samples", lambda s: [w.astype(np.float16) for w in waves(seed=s)], False, ()),
    ("Series of waveforms", lambda s: __import__("pandas").Series(waves(seed=s)), False, ()),
]


def _n_items(X: Any) -> int:
    if hasattr(X, "shape"):
        return X.shape[0] if len(X.shape) > 1 else (len(X) if not isinstance(X, str) else 1)
    return len(X)


def _extract_act(make: Callable[[], Any], make_X: Callable[[int], Any], seed: int, probe: Probe,
                 skip_rows: Any = None) -> None:
    X = make_X(seed)
    ext = make()
    Z = ext.fit(X).transform(X)
    probe.finite("transform", Z, _n_items(X), nan_rows=skip_rows)
    if hasattr(Z, "dtype") and Z.dtype != np.float32:
        probe.fail(f"transform returned {Z.dtype}, not float32")


def _skip_act(seed: int, probe: Probe) -> None:
    X = [images(1, seed=seed)[0], "/nonexistent/missing.png", images(1, seed=seed + 1)[0]]
    _extract_act(lambda: _image_extractor(on_error="skip"), lambda s: X, seed, probe,
                 skip_rows=np.array([False, True, False]))


def _cache_act(modality: str, change: dict, corrupt: bool, seed: int, probe: Probe) -> None:
    """Two configs, or a corrupted entry, sharing one cache folder must give what no cache gives."""
    make = {"image": _image_extractor, "text": _text_extractor, "audio": _audio_extractor}[modality]
    X = {"image": images(seed=seed), "text": list(TEXTS), "audio": waves(seed=seed)}[modality]
    with tempfile.TemporaryDirectory() as tmp:
        make(cache=tmp).fit(X).transform(X)
        if corrupt:
            for i, path in enumerate(sorted(Path(tmp).rglob("*.npy"))):
                if i % 2:  # a half-written file
                    path.write_bytes(path.read_bytes()[:40])
                else:  # a vector of NaN
                    np.save(path, np.full(np.load(path).shape, np.nan, dtype=np.float32))
        cached = make(cache=tmp, **change).fit(X).transform(X)
    probe.same(f"features from a shared cache ({change or 'entries overwritten'}) and without a cache",
               cached, make(**change).fit(X).transform(X))


def _finetune_act(kind: str, modality: str, make_X: Callable[[int], Any], make_y: Callable[[int], Any],
                  seed: int, probe: Probe, params: dict | None = None) -> None:
    X, y = make_X(seed), make_y(seed)
    est = _finetuner(kind, modality, **(params or {}))
    est.fit(X, y)
    n = _n_items(X)
    pred = est.predict(X)
    if kind == "regressor":
        probe.finite("predict", pred, n)
        return
    yv = np.asarray(y, dtype=object)
    allowed = {v for v in yv.tolist() if not (isinstance(v, float) and math.isnan(v)) and v != -1}
    probe.classes("predict", est, pred, allowed)
    probe.proba("predict_proba", est.predict_proba(X), n)


def _partial_fit_act(kind: str, classes: Any, y: Any, probe: Probe) -> None:
    est = _finetuner("classifier", "features")
    X = np.random.RandomState(0).normal(size=(len(y), 5))
    est.partial_fit(X, y, classes=classes)
    probe.classes("predict", est, est.predict(X), set(np.asarray(classes if classes is not None else y).tolist()))


def _features(n: int = 8, d: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).normal(size=(n, d)) + (np.arange(n) % 2)[:, None]


def _labels(n: int = 8) -> np.ndarray:
    return np.arange(n) % 2


FINETUNE_LABELS = [  # (bad, y(n), must_raise, culprits, kinds)
    ("clean labels", lambda n: _labels(n), False, (), ("classifier", "regressor")),
    ("-1 among labels", lambda n: _with(_labels(n), 0, -1), False, MASK, ("classifier",)),
    ("NaN among labels", lambda n: _with(_labels(n).astype(float), 0, np.nan), False, MASK,
     ("classifier", "regressor")),
    ("-1 and NaN among labels", lambda n: _with(_with(_labels(n).astype(float), 0, np.nan), 1, -1), True,
     MASK + ("ambiguous",), ("classifier",)),
    ("string labels", lambda n: np.array(["neg", "pos"], dtype=object)[_labels(n)], False, ("string",),
     ("classifier",)),
    ("uint8 labels", lambda n: _labels(n).astype(np.uint8), False, (), ("classifier",)),
    ("one class", lambda n: np.zeros(n, int), True, ("class",), ("classifier",)),
    ("y one row short", lambda n: _labels(n - 1), True, ("y", "rows", "length", "inconsistent"),
     ("classifier", "regressor")),
    ("constant regression target", lambda n: np.ones(n), False, CONST, ("regressor",)),
    ("regression target * 1e300", lambda n: np.linspace(-1, 1, n) * 1e300, False, HUGE, ("regressor",)),
    ("2-D regression target", lambda n: np.c_[_labels(n), 1 - _labels(n)].astype(float), False, (),
     ("regressor",)),
]

FINETUNE_FEATURES = [  # backbone=None: X-level bad inputs
    ("NaN in X", lambda s: _with(_features(seed=s), (1, 1), np.nan), True, NAN),
    ("inf in X", lambda s: _with(_features(seed=s), (1, 1), np.inf), True, INF),
    ("X * 1e300", lambda s: _features(seed=s) * 1e300, False, HUGE),
    ("every column constant", lambda s: np.ones((8, 5)), False, CONST),
    ("0 rows", lambda s: _features(seed=s)[:0], True, ("0 sample", "empty", "at least")),
    ("one row", lambda s: _features(seed=s)[:1], False, ROWS),
]


def _augment_act(make_batch: Callable[[], Any], params: dict, probe: Probe) -> None:
    from sktransfer.deep import BatchAugmentation

    torch = _torch()
    batch = make_batch()
    out = BatchAugmentation(**params)(batch, generator=torch.Generator().manual_seed(0))
    if tuple(out.shape) != tuple(batch.shape) or out.dtype != batch.dtype:
        probe.fail(f"augmented batch is {tuple(out.shape)} {out.dtype}, given {tuple(batch.shape)} {batch.dtype}")


def _tensor(a: np.ndarray) -> Any:
    return _torch().from_numpy(np.ascontiguousarray(a))


AUGMENT_BATCHES = [
    ("clean uint8 batch", lambda: _tensor(images()), False, ()),
    ("float batch in [0, 1]", lambda: _tensor(images().astype(np.float32) / 255), False, ("uint8", "dtype")),
    ("NumPy array, not a tensor", lambda: images(), False, ("tensor",)),
    ("NaN float batch", lambda: _tensor(_with(images().astype(np.float32) / 255, 0, np.nan)), False,
     ("uint8", "dtype", "nan")),
    ("one image (H, W, 3)", lambda: _tensor(images()[0]), True, ("shape", "dim", "batch")),
    ("empty batch", lambda: _tensor(images()[:0]), False, ("empty",)),
    ("1x1 images", lambda: _tensor(images(4, 1, 1)), False, ("size",)),
    ("channels first (N, 3, H, W)", lambda: _tensor(images().transpose(0, 3, 1, 2)), False, ("channel", "shape")),
]
AUGMENT_PARAMS = {
    "scale=(2, 1)": {"scale": (2.0, 1.0)}, "scale=(0, 0)": {"scale": (0.0, 0.0)},
    "ratio=(0, 1)": {"ratio": (0.0, 1.0)}, "flip=2": {"flip": 2.0}, "brightness=-1": {"brightness": -1.0},
    "saturation=NaN": {"saturation": float("nan")}, "contrast=1e10": {"contrast": 1e10},
}


def _domain_data(n: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source rows (domain 1, labelled) then target rows (domain -2, labels masked), features only."""
    X = _features(n, seed=seed)
    sd = np.where(np.arange(n) < n // 2, 1, -2)
    y = np.where(sd > 0, _labels(n), -1)
    return X, y, sd


def _domain_adapt_act(kind: str, loss: str, change: Callable[[tuple], tuple], seed: int, probe: Probe) -> None:
    from sktransfer.deep import DomainAdaptationClassifier, DomainAdaptationRegressor

    _torch()
    X, y, sd = change(_domain_data(seed=seed))
    if kind == "regressor":  # a regression's mask is NaN
        y = np.where(np.asarray(y) == -1, np.nan, y)
    cls = DomainAdaptationClassifier if kind == "classifier" else DomainAdaptationRegressor
    est = cls(None, loss=loss, head=(4,), discriminator=(4,), max_epochs=1, head_epochs=1, batch_size=4,
              device="cpu", random_state=0)
    est.fit(X, y, sample_domain=sd)
    if kind == "regressor":
        probe.finite("predict", est.predict(X), len(X))
        return
    allowed = {v for v in np.asarray(y, dtype=float).tolist() if not math.isnan(v) and v != -1}
    probe.classes("predict", est, est.predict(X), allowed)
    probe.proba("predict_proba", est.predict_proba(X), len(X))


#: (bad, change((X, y, sd)) -> (X, y, sd), must_raise, culprits, kinds)
DOMAIN_INPUTS = [
    ("clean source and target rows", lambda d: d, False, (), ("classifier", "regressor")),
    ("no target rows", lambda d: (d[0], np.where(d[2] > 0, d[1], 0), np.ones_like(d[2])), True,
     ("target",), ("classifier", "regressor")),
    ("no labelled rows", lambda d: (d[0], np.full(len(d[1]), -1), d[2]), True,
     ("label",), ("classifier", "regressor")),
    ("NaN marks the target labels", lambda d: (d[0], np.where(d[2] > 0, d[1], np.nan), d[2]), False, MASK,
     ("classifier", "regressor")),
    ("sample_domain=None (the unlabelled rows are the target)", lambda d: (d[0], d[1], None), False, (),
     ("classifier",)),
    ("sample_domain one row short", lambda d: (d[0], d[1], d[2][:-1]), True,
     ("sample_domain", "rows", "length", "inconsistent"), ("classifier", "regressor")),
    ("NaN in X", lambda d: (_with(d[0], (1, 1), np.nan), d[1], d[2]), True, NAN, ("classifier",)),
    ("one source class", lambda d: (d[0], np.where(d[2] > 0, 0, -1), d[2]), True, ("class",), ("classifier",)),
]


def _regression_cdan_act(probe: Probe) -> None:
    from sktransfer.deep import DomainAdaptationRegressor

    X, y, sd = _domain_data()
    DomainAdaptationRegressor(None, loss="cdan", head=(4,), max_epochs=1, device="cpu").fit(
        X, np.where(sd > 0, y, np.nan), sample_domain=sd)


def _multitask_act(Y: Callable[[], Any], partial_task: int | None, probe: Probe) -> None:
    from sktransfer.deep import MultiTaskClassifier

    _torch()
    X = _features(12)
    est = MultiTaskClassifier(None, shared=(4,), max_epochs=1, head_epochs=1, batch_size=4, device="cpu",
                              random_state=0)
    labels = np.asarray(Y())
    if partial_task is None:
        est.fit(X, labels)
    else:
        est.fit(X, labels[:, :1])
        est.partial_fit(X, labels[:, 1], classes=np.unique(labels[:, 1][labels[:, 1] != -1]), task=partial_task)
    pred = est.predict(X)
    if np.shape(pred) != (len(X), est.n_tasks_):
        probe.fail(f"predict gave shape {np.shape(pred)}, not ({len(X)}, {est.n_tasks_})")
    probe.finite("predict", np.asarray(pred, dtype=float), len(X))


def _two_tasks(n: int = 12) -> np.ndarray:
    return np.c_[_labels(n), (np.arange(n) // 2) % 3]


MULTITASK_INPUTS = [  # (bad, Y(), partial_task, must_raise, culprits)
    ("clean two-task labels", _two_tasks, None, False, ()),
    ("-1 where a row has no label for a task", lambda: _with(_two_tasks(), (slice(0, 6), 1), -1), None, False, MASK),
    ("a task with no labelled row", lambda: _with(_two_tasks(), (slice(None), 1), -1), None, True,
     ("task", "label")),
    ("a task with one class", lambda: _with(_two_tasks(), (slice(None), 1), 2), None, True, ("class",)),
    ("-1 and NaN in one task", lambda: _with(_with(_two_tasks().astype(float), (0, 0), np.nan), (1, 0), -1), None,
     True, MASK + ("ambiguous",)),
    ("1-D y", lambda: _labels(12), None, True, ("2-d", "2d", "shape", "n_tasks", "column", "dim")),
    ("y one row short", lambda: _two_tasks(11), None, True, ("rows", "length", "inconsistent", "y")),
    ("clean labels, a new task by partial_fit", _two_tasks, 1, False, ()),
    ("partial_fit task=5 past the next index", _two_tasks, 5, True, ("task",)),
]


def _distill_act(teacher: Callable[[], Any], y: Callable[[], Any], teacher_X: Callable[[], Any] | None,
                 probe: Probe, student: Callable[[], Any] | None = None) -> None:
    from sktransfer.deep import DistillationClassifier

    _torch()
    X = _features(12)
    est = DistillationClassifier(teacher(), student=None if student is None else student(), backbone=None, head=(4,),
                                 max_epochs=1, head_epochs=1, batch_size=4, device="cpu", random_state=0)
    est.fit(X, y(), teacher_X=None if teacher_X is None else teacher_X())
    probe.classes("predict", est, est.predict(X), {0, 1})
    probe.proba("predict_proba", est.predict_proba(X), len(X))


def _logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def _knn() -> Any:
    from sklearn.neighbors import KNeighborsClassifier

    return KNeighborsClassifier(3)


def _scaler() -> Any:
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


def _fitted_teacher() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(_features(12), _labels(12))


DISTILL_INPUTS = [  # (bad, teacher(), y(), teacher_X() or None, must_raise, culprits)
    ("clean labels and a fitted teacher", _fitted_teacher, lambda: _labels(12), None, False, ()),
    ("y=None (every row unlabelled)", _fitted_teacher, lambda: None, None, False, ()),
    ("-1 among labels", _fitted_teacher, lambda: _with(_labels(12), slice(0, 6), -1), None, False, MASK),
    ("an unfitted teacher", lambda: __import__("sklearn.linear_model").linear_model.LogisticRegression(),
     lambda: _labels(12), None, True, ("fitted", "teacher")),
    ("a teacher without predict_proba", lambda: __import__("sklearn.svm").svm.LinearSVC().fit(
        _features(12), _labels(12)), lambda: _labels(12), None, True, ("predict_proba", "teacher")),
    ("a label the teacher does not know", _fitted_teacher, lambda: _with(_labels(12), 0, 7), None, True,
     ("class", "teacher")),
    ("teacher_X one row short", _fitted_teacher, lambda: _labels(12), lambda: _features(11), True,
     ("rows", "length", "inconsistent", "samples")),
]


def deep_cases(seeds: list[int]) -> Iterator[Case]:
    """Extractors and fine-tuners with tiny random-weight models."""
    from sktransfer import deep

    def case(target: str, bad: str, act: Callable[[Probe], Any], must: bool, culprits: tuple, variant: str,
             quick: bool) -> Case:
        return Case(DEEP, target, bad, variant, act, must, culprits, quick=quick, deep=True,
                    must_work=bad.startswith("clean"))

    for s, seed in enumerate(seeds):
        v = f"seed {seed}"
        for bad, make_X, must, culprits in IMAGE_INPUTS:
            yield case("ImageFeatureExtractor", bad, partial(_extract_act, _image_extractor, make_X, seed), must,
                       culprits, v, s == 0)
        for bad, make_X, must, culprits in TEXT_INPUTS:
            yield case("TextFeatureExtractor", bad, partial(_extract_act, _text_extractor, make_X, seed), must,
                       culprits, v, s == 0)
        for bad, make_X, must, culprits in AUDIO_INPUTS:
            yield case("AudioFeatureExtractor", bad, partial(_extract_act, _audio_extractor, make_X, seed), must,
                       culprits, v, s == 0)
        yield case("ImageFeatureExtractor", "missing file path, on_error='skip'", partial(_skip_act, seed), False,
                   PATH_WORDS, v, s == 0)
        for modality, change in [("image", {"layer": -2}), ("image", {"pooling": "max"}),
                                 ("text", {"max_length": 4}), ("text", {"pooling": "cls"}),
                                 ("audio", {"layer": 1}), ("audio", {"sampling_rate": 8000})]:
            target = f"{modality.capitalize()}FeatureExtractor"
            yield case(target, f"cache= shared with {change}", partial(_cache_act, modality, change, False, seed),
                       False, ("cache",), v, s == 0)
        for modality in ("image", "text", "audio"):
            target = f"{modality.capitalize()}FeatureExtractor"
            yield case(target, "cache= with corrupted entries", partial(_cache_act, modality, {}, True, seed),
                       False, ("cache",), v, s == 0)
        for j, (bad, make_y, must, culprits, kinds) in enumerate(FINETUNE_LABELS):
            for kind in kinds:
                target = "FineTuneClassifier" if kind == "classifier" else "FineTuneRegressor"
                for m, (modality, make_X) in enumerate([("image", lambda s_, n=8: images(n, seed=s_)),
                                         ("text", lambda s_: TEXTS * 2),
                                         ("features", lambda s_: _features(seed=s_))]):
                    yield case(target, bad, partial(_finetune_act, kind, modality, make_X, lambda s_, f=make_y: f(8),
                                                    seed), must, culprits, f"{modality}, {v}",
                               s == 0 and (j + m) % 3 == 0)
        for bad, make_X, must, culprits in FINETUNE_FEATURES:
            for kind in ("classifier", "regressor"):
                target = "FineTuneClassifier" if kind == "classifier" else "FineTuneRegressor"
                yield case(target, bad, partial(_finetune_act, kind, "features", make_X,
                                                lambda s_, f=make_X: _labels(len(f(s_))), seed),
                           must, culprits, f"features, {v}", s == 0)
        for bad, make_X, must, culprits in [IMAGE_INPUTS[1], IMAGE_INPUTS[15], IMAGE_INPUTS[17]]:
            yield case("FineTuneClassifier", bad, partial(_finetune_act, "classifier", "image", make_X,
                                                          lambda s_, f=make_X: _labels(_n_items(f(s_))), seed),
                       must, culprits, f"image, {v}", s == 0)
        for bad, make_X, must, culprits in [TEXT_INPUTS[1], TEXT_INPUTS[5]]:
            yield case("FineTuneClassifier", bad, partial(_finetune_act, "classifier", "text", make_X,
                                                          lambda s_, f=make_X: _labels(_n_items(f(s_))), seed),
                       must, culprits, f"text, {v}", s == 0)
    for j, (bad, change, must, culprits, kinds) in enumerate(DOMAIN_INPUTS):
        for kind in kinds:
            target = "DomainAdaptationClassifier" if kind == "classifier" else "DomainAdaptationRegressor"
            for k, loss in enumerate(("coral", "mmd", "dann", "cdan", "mcc")):
                if kind == "regressor" and loss in ("cdan", "mcc"):
                    continue
                yield case(target, bad, partial(_domain_adapt_act, kind, loss, change, 0), must, culprits,
                           f"loss={loss!r}", (j + k) % 5 == 0)
    yield case("DomainAdaptationRegressor", "a loss that reads class predictions (cdan)", _regression_cdan_act,
               True, ("cdan", "regress", "class"), "loss='cdan'", True)
    for bad, make_Y, task, must, culprits in MULTITASK_INPUTS:
        yield case("MultiTaskClassifier", bad, partial(_multitask_act, make_Y, task), must, culprits, "features",
                   True)
    for bad, teacher, make_y, teacher_X, must, culprits in DISTILL_INPUTS:
        yield case("DistillationClassifier", bad, partial(_distill_act, teacher, make_y, teacher_X), must,
                   culprits, "features", True)
        yield case("DistillationClassifier", bad, partial(_distill_act, teacher, make_y, teacher_X,
                                                          student=_logistic), must, culprits,
                   "student=LogisticRegression()", True)
    for bad, student, culprits in [("a student without sample_weight (KNeighborsClassifier)", _knn, ("sample_weight",)),
                                   ("a transformer as student (StandardScaler)", _scaler, ("student", "predict_proba"))]:
        yield case("DistillationClassifier", bad, partial(_distill_act, _fitted_teacher, lambda: _labels(12), None,
                                                          student=student), True, culprits, "features", True)
    yield case("FineTuneClassifier", "partial_fit without classes", partial(_partial_fit_act, "c", None, _labels()),
               True, ("classes",), "features", True)
    yield case("FineTuneClassifier", "partial_fit, -1 among labels", partial(_partial_fit_act, "c", [0, 1],
                                                                            _with(_labels(), 0, -1)),
               False, MASK + ("classes",), "features", True)
    for bad, make_batch, must, culprits in AUGMENT_BATCHES:
        yield case("BatchAugmentation", bad, partial(_augment_act, make_batch, {}), must, culprits, "default", True)
    for bad, params in AUGMENT_PARAMS.items():
        param = bad.split("=")[0]
        yield case("BatchAugmentation", bad, partial(_augment_act, lambda: _tensor(images()), params),
                   bad != "contrast=1e10", (param,), "default", True)
    for target in ("ImageFeatureExtractor", "TextFeatureExtractor", "FineTuneClassifier"):
        for param in ("backbone", "weights"):
            yield case(target, f"{param}= a file whose pickle runs code", partial(_unsafe_file_act, target, param),
                       True, ("pickle", "weights only", "weights_only", "runs code", "run code"), "default", True)
    yield case("DeepFeatureExtractor", "the base class used directly",
               lambda probe: deep.DeepFeatureExtractor().fit(images()), True,
               ("deepfeatureextractor", "subclass", "imagefeatureextractor"), "default", True)
    yield case("clear_backbone_cache", "called twice", lambda probe: (deep.clear_backbone_cache(),
                                                                      deep.clear_backbone_cache()),
               False, (), "default", True)


class _RunsCode:
    """Unpickling it creates a file: what a malicious checkpoint does (it could run anything)."""

    def __init__(self, flag: str):
        self.flag = flag

    def __reduce__(self) -> tuple:
        return open, (self.flag, "w")


def _unsafe_file_act(target: str, param: str, probe: Probe) -> None:
    """A checkpoint holding a code-running pickle, passed as backbone or weights, must never be unpickled."""
    torch = _torch()
    folder = Path(tempfile.mkdtemp(prefix="sktransfer_bad_input_"))
    flag, path = folder / "code_ran", folder / "model.pt"
    torch.save({"state_dict": _RunsCode(str(flag))}, path)
    spec = {"ImageFeatureExtractor": TINY_IMAGE, "TextFeatureExtractor": TEXT, "FineTuneClassifier": TINY_IMAGE}[target]
    args = {"backbone": str(path), "weights": "random"} if param == "backbone" else {"backbone": spec,
                                                                                      "weights": str(path)}
    try:
        if target == "TextFeatureExtractor":
            from sktransfer.deep import TextFeatureExtractor

            TextFeatureExtractor(**args, device="cpu").fit(TEXTS)
        elif target == "ImageFeatureExtractor":
            from sktransfer.deep import ImageFeatureExtractor

            ImageFeatureExtractor(**args, device="cpu", num_workers=0).fit(images())
        else:
            from sktransfer.deep import FineTuneClassifier

            FineTuneClassifier(**args, device="cpu", max_epochs=1).fit(images(), _labels(4))
    finally:
        if flag.exists():
            probe.fail(f"loading {param}= ran code stored in the file (unpickled without weights_only)")


_SENTINEL: dict = {}


def _sentinel_outputs() -> dict:
    torch = _torch()
    return {"image": _image_extractor().fit(images(2)).transform(images(2)),
            "text": _text_extractor().fit(TEXTS[:2]).transform(TEXTS[:2]),
            "audio": _audio_extractor().fit(waves(2)).transform(waves(2)),
            "torch": (torch.get_default_dtype(), torch.is_grad_enabled())}


def _deep_sentinel_check(probe: Probe) -> None:
    """Blame a deep case that changed a shared (cached) backbone or torch's global state."""
    if not _SENTINEL:
        return
    try:
        now = _sentinel_outputs()
    except Exception as e:  # noqa: BLE001 - any failure here is the case's doing
        probe.fail(f"left the shared backbones unusable ({type(e).__name__}: {str(e)[:80]})")
        now = {}
    for key, ref in _SENTINEL.items():
        if key == "torch":
            if now.get(key) != ref:
                probe.fail("changed torch's global state (default dtype or grad mode)")
        elif key not in now or not np.array_equal(now[key], ref):
            probe.fail(f"changed the shared cached {key} backbone (later extractors get other features)")
    if now != {} and any(p.startswith("changed the shared") for p in probe.problems):
        from sktransfer.deep import clear_backbone_cache

        clear_backbone_cache()


def prime_deep_sentinel() -> None:
    """Reference outputs of fresh extractors, taken before any deep case runs in this process."""
    if not _SENTINEL:
        _SENTINEL.update(_sentinel_outputs())


# --------------------------------------------------------------------------- building, summarising
def build_cases(*, quick: bool = False, seeds: tuple[int, ...] = (0, 1), deep: bool | None = None,
                only: tuple[str, ...] = ()) -> list[Case]:
    """Every case, in a fixed order; ``quick`` keeps the subset marked quick; ``only`` filters keys."""
    seeds = list(seeds)
    deep = torch_available() if deep is None else deep
    subs = subjects()
    cases: list[Case] = []
    for i, sub in enumerate(subs):  # quick: each subject meets every third bad input, in turn
        for j, bad in enumerate(X_BADS):
            cases.extend(_estimator_cases(sub, bad, NUMERICS, seeds, quick=(i + j) % 3 == 0))
        cases.extend(_param_cases(sub, seeds, turn=i))
        for j, bad in enumerate(Y_BADS):
            cases.extend(_estimator_cases(sub, bad, LABELS, seeds, quick=(i + j) % 2 == 0))
    cases.extend(pipeline_cases(subs, seeds))
    cases.extend(scorer_cases(seeds))
    cases.extend(function_cases(seeds))
    if deep:
        cases.extend(deep_cases(seeds))
    if quick:
        cases = [c for c in cases if c.quick]
    if only:
        cases = [c for c in cases if any(o in c.key for o in only)]
    return cases


def coverage(cases: list[Case], include_deep: bool) -> dict:
    """Public names with no case (should be none) and names exercised, by walking the package."""
    names = _public_names(include_deep)
    targets = {re.split(r"[\[(]", c.target)[0] for c in cases} | {
        name for c in cases for name in re.findall(r"[A-Za-z_]+", c.target)}
    missing = sorted(n for n in names if n not in NOT_CALLED and n not in targets and not (
                         inspect.isclass(names[n]) and issubclass(names[n], Warning))
                     and n not in ("DAPipeline",) and not n.startswith("_"))
    if "DAPipeline" not in targets:
        missing.append("DAPipeline")
    return {"public": sorted(n for n in names if n not in NOT_CALLED), "missing": missing}


def _symptom(detail: str) -> str:
    """A bad outcome's detail with the numbers taken out, to group outcomes by symptom."""
    text = re.sub(r"0x[0-9a-f]+|[-+]?\d[\d.e+-]*", "#", detail)
    return re.sub(r"\s+", " ", text)[:160]


def summarise(records: list[dict]) -> tuple[str, dict]:
    """Markdown: the table per area, then the bad outcomes grouped by symptom."""
    table = {a: Counter() for a in AREAS}
    for r in records:
        table[r["area"]][r["outcome"]] += 1
    lines = ["| area | cases tried | clear error | handled | bad outcome |", "|---|---:|---:|---:|---:|"]
    total = Counter()
    for area in AREAS:
        c = table[area]
        n = sum(c.values())
        total.update(c)
        lines.append(f"| {area} | {n} | {c[CLEAR]} | {c[HANDLED]} | {c[BAD]} |")
    lines.append(f"| **all** | **{sum(total.values())}** | **{total[CLEAR]}** | **{total[HANDLED]}** | "
                 f"**{total[BAD]}** |")
    groups: dict = defaultdict(list)
    for r in records:
        if r["outcome"] == BAD:
            groups[(r["area"], r["target"], _symptom(r["detail"] + " " + r["error"][:120]))].append(r)
    lines += ["", f"### Bad outcomes ({total[BAD]}), grouped by estimator and symptom", ""]
    if not groups:
        lines.append("None.")
    for (area, target, _), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], -len(kv[1]))):
        bads = sorted({r["bad"] for r in rs})
        shown = ", ".join(bads[:6]) + (f", … ({len(bads)} inputs)" if len(bads) > 6 else "")
        first = rs[0]
        err = f" — `{first['error'][:160]}`" if first["error"] else ""
        lines.append(f"- **{target}** ({area}, {len(rs)} case{'s' if len(rs) > 1 else ''}): {first['detail'][:200]}"
                     f"{err}. Inputs: {shown}. Rerun: `--only \"{first['key']}\" --jobs 0`")
    summary = {area: dict(table[area]) for area in AREAS}
    return "\n".join(lines), summary


def _results_json(records: list[dict], command: str, wall: float, summary: dict, cover: dict) -> dict:
    """What the JSON keeps: counts per object, area and outcome, and every bad outcome in full."""
    counts: dict = defaultdict(lambda: defaultdict(Counter))
    for r in records:
        counts[r["target"]][r["area"]][r["outcome"]] += 1
    keep = ("area", "target", "bad", "variant", "detail", "error", "origin", "warnings")
    return {"command": command, "seconds": round(wall, 1), "summary": summary, "coverage": cover,
            "counts": {t: {a: dict(c) for a, c in areas.items()} for t, areas in sorted(counts.items())},
            "bad_outcomes": [{k: r[k] for k in keep} for r in records if r["outcome"] == BAD]}


def run(*, quick: bool = False, seeds: tuple[int, ...] = (0, 1), jobs: int = 2, timeout: float = 30.0,
        only: tuple[str, ...] = (), deep: bool | None = None, progress: bool = False) -> list[dict]:
    """Build and run the cases; the records of :func:`run_case`, in case order."""
    spec = {"quick": quick, "seeds": tuple(seeds), "deep": torch_available() if deep is None else deep,
            "only": tuple(only)}
    cases = build_cases(**spec)
    return run_cases(cases, spec, jobs=jobs, timeout=timeout, progress=progress)


def main(argv: list[str] | None = None) -> None:
    """Run the harness, print the markdown and write it with the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the subset the test suite runs (< 60 s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--jobs", type=int, default=2, help="worker processes; 0 runs in-process with tracebacks")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a case counts as a hang")
    parser.add_argument("--only", nargs="+", default=[], help="run the cases whose key contains one of these")
    parser.add_argument("--no-deep", action="store_true", help="leave out sktransfer.deep")
    parser.add_argument("--out", default=None, help="write OUT.md and OUT.json (default: results/bad_input, "
                                                      "not written with --only)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    deep = False if args.no_deep else torch_available()
    spec = {"quick": args.quick, "seeds": tuple(args.seeds), "deep": deep, "only": tuple(args.only)}
    cases = build_cases(**spec)
    print(f"{len(cases)} cases", file=sys.stderr, flush=True)
    records = run_cases(cases, spec, jobs=args.jobs, timeout=args.timeout, progress=True)
    wall = time.perf_counter() - start
    table, summary = summarise(records)
    cover = coverage(build_cases(seeds=tuple(args.seeds), deep=deep), deep)
    command = "python -m benchmarks.bad_input " + " ".join(argv if argv is not None else sys.argv[1:])
    header = [
        "## Bad inputs: clear errors, handled cases and bad outcomes", "",
        f"`{command}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{len(records)} cases, {args.jobs} worker(s), {wall:.0f} s; deep cases "
        f"{'included' if deep else 'left out (no torch)'}. "
        f"{len(cover['public']) - len(cover['missing'])} of {len(cover['public'])} public callables exercised"
        + (f" (missing: {', '.join(cover['missing'])})" if cover["missing"] else "") + ".", "",
        "Definitions are in the docstring of `benchmarks/bad_input.py`: a clear error is a ValueError/TypeError "
        "(or an sktransfer exception) raised by a check in sktransfer or scikit-learn whose message names the "
        "problem or the estimator; handled is a return whose output passed every check; anything else is bad.", "",
    ]
    text = "\n".join(header) + table + "\n"
    print(text)
    if args.out or not args.only:
        out = Path(args.out or RESULTS / "bad_input")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".md").write_text(text)
        out.with_suffix(".json").write_text(json.dumps(_results_json(records, command, wall, summary, cover),
                                                       indent=1, default=str))


if __name__ == "__main__":
    main()
