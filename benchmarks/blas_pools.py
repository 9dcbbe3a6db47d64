"""Fit times with and without scipy's own OpenBLAS pool held to one thread (``sktransfer/_blas_pools.py``).

Every shallow method of the suite (``benchmarks/run.py``: the aligners, the
weighters and the joint methods but MEDA, at the suite's settings) is fitted
on the first task of each dataset asked for, alternately with the limit on
and off (``_blas_pools.ENABLED``) in one process, and each configuration's
fastest of ``--repeats`` runs is kept. The process keeps the memory it frees
(``benchmarks/_timing.keep_freed_memory``), as the suite does.

Usage::

    python -m benchmarks.blas_pools --data-home ../shared/data   # about 6 min on 2 cores

Writes ``benchmarks/results/blas_pools.{md,json}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import warnings
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS = ("office_caltech_surf", "coil20", "mnist_usps")


def _fits(task) -> dict:
    """Method -> a function fitting it afresh on ``task`` (the suite's estimators and settings)."""
    from benchmarks._reweighting_office import _weighter
    from benchmarks._suite_joint import JOINT
    from benchmarks._suite_joint import _ours as joint_ours
    from benchmarks.alignment import _ours as align_ours
    from benchmarks.run import ALIGNERS, WEIGHTERS
    from sktransfer import stack_domains

    X, y, sd = stack_domains(source=(task.Xs, task.ys), target=task.Xt)
    fits = {m: (lambda m=m: align_ours(m).fit_transform(X, y, sample_domain=sd)) for m in ALIGNERS}
    fits.update({m: _weighter("ours", m, task.Xs, task.Xt) for m in WEIGHTERS})
    for m, kind in JOINT.items():
        if m == "MEDA":  # 26 s a task on Amazon; its solves are numpy's
            continue
        method = "fit_transform" if kind == "map" else "fit"
        fits[m] = lambda m=m, method=method: getattr(joint_ours(m, 0), method)(X, y, sample_domain=sd)
    return fits


def measure(data_home: str, datasets, repeats: int) -> dict:
    from benchmarks._suite_datasets import DATASETS as SUITE
    from benchmarks._timing import keep_freed_memory
    from sktransfer import _blas_pools

    keep_freed_memory()
    import ot  # noqa: F401  (POT's import outside the clock, as in the suite)

    own = _blas_pools.scipy_own_blas()
    out = {"scipy_own_blas": None if own is None else [lib["filepath"] for lib in own.info()], "rows": []}
    for name in datasets:
        ds = SUITE[name]
        source, target = ds.tasks[0]
        task = ds.load(data_home, source, target)
        for method, fit in _fits(task).items():
            times = {True: [], False: []}
            for _ in range(repeats):
                for enabled in (False, True):
                    _blas_pools.ENABLED = enabled
                    start = time.perf_counter()
                    fit()
                    times[enabled].append(time.perf_counter() - start)
            _blas_pools.ENABLED = True
            row = {"dataset": name, "task": f"{source}->{target}", "method": method,
                   "off_s": min(times[False]), "on_s": min(times[True])}
            out["rows"].append(row)
            print(f"{name} {method}: {row['off_s']:.3f} -> {row['on_s']:.3f} s", flush=True)
    return out


def markdown(result: dict) -> str:
    lines = ["# Fit times with scipy's own OpenBLAS on one thread", "",
             f"Command: `{result['command']}`; {result['machine']}. Each cell is the fastest of "
             f"{result['repeats']} fits, the two settings alternating in one process. scipy's own BLAS: "
             f"{', '.join(Path(p).name for p in result['scipy_own_blas']) if result['scipy_own_blas'] else 'none (shared with numpy: nothing to limit)'}.", "",
             "| dataset | task | method | default pools (s) | scipy's pool on one thread (s) | speed-up |",
             "|---|---|---|---:|---:|---:|"]
    for r in result["rows"]:
        lines.append(f"| {r['dataset']} | {r['task']} | {r['method']} | {r['off_s']:.3f} | {r['on_s']:.3f} | "
                     f"{r['off_s'] / r['on_s']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding the dataset folders")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(RESULTS / "blas_pools"), help="stem of the .md and .json written")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    result = measure(args.data_home, args.datasets, args.repeats)
    result.update(command="python -m benchmarks.blas_pools --data-home ../shared/data"
                  + (f" --datasets {' '.join(args.datasets)}" if list(args.datasets) != list(DATASETS) else "")
                  + (f" --repeats {args.repeats}" if args.repeats != 5 else ""),
                  repeats=args.repeats,
                  machine=f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
                          f"{time.strftime('%Y-%m-%d')}")
    Path(args.out).with_suffix(".json").write_text(json.dumps(result, indent=1))
    Path(args.out).with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
