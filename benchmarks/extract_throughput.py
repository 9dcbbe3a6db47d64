"""Feature-extraction throughput: ``ImageFeatureExtractor`` / ``TextFeatureExtractor`` against a naive loop.

Measures items per second of ``transform`` (the model already loaded by
``fit``; warm-up, and ``torch.compile``'s compilation, excluded) and, in the
same process, of a naive reference loop written the tutorial way
(``benchmarks/_throughput_ref.py``): fp32, batch 32, per-image PIL
preprocessing with ``torchvision.transforms`` (Resize + CenterCrop +
ToTensor + Normalize) or the Hugging Face tokenizer + ``AutoModel`` + mean
pooling, under ``torch.no_grad()``, each batch moved to the device and its
features copied back. Both sides run the same model (the naive loop gets a
copy of the very weights the extractor uses), on the same N inputs, with the
same preprocessing semantics (the backbone's resize of the shorter side,
centre crop and normalisation; arrays already at the input size are not
resized by either), and both return host arrays (so GPU work is finished
when the clock stops). The first rows of both outputs are compared (cosine
similarity) to show that they compute the same features.

Cases (``--cases``; by default those of the device):

* CUDA (the targets are for one H100, random weights; ours runs in its
  default precision, bf16 autocast, batch_size="auto"):
  ``resnet50_array`` (timm resnet50 on pre-decoded uint8 224x224 arrays,
  eager, >= 11,000 img/s), ``resnet50_array_compiled`` (same, compile=True,
  >= 15,000 img/s), ``vit_b16_array_compiled`` (timm vit_base_patch16_224,
  compile=True, >= 8,500 img/s), ``minilm_128`` (all-MiniLM-L6-v2, texts cut
  to exactly 128 tokens, >= 45,000 texts/s), ``resnet50_jpeg`` (a folder of
  ~60 KB 500x375 JPEG files end to end: read, decode, resize, crop, model,
  >= 4,000 img/s).
* CPU (the default efficientnet_lite0 with its real weights, fp32; target
  >= 1.5x the naive loop): ``lite0_array`` (uint8 224x224 arrays),
  ``lite0_jpeg`` (the JPEG folder), ``minilm_text`` (texts of 8 to 120
  words, max_length=128), ``minilm_128`` (every text 128 tokens),
  ``minilm_128_bf16`` (the same with ``precision="bf16"``, on CPUs that run
  bf16 natively: AVX512-BF16 or AMX; left out elsewhere), and
  ``lite0_cache`` (the JPEG folder with ``cache=<tmpdir>``: a second
  ``transform`` reading the cache against the first that fills it, >= 50x).

Every case runs on any device (``--cases all``); a target set for another
device shows as n/a.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/extract_throughput.py --device cpu
    PYTHONPATH=. python benchmarks/extract_throughput.py --device cuda
    PYTHONPATH=. python benchmarks/extract_throughput.py --device cpu --quick --out /tmp/bench
    PYTHONPATH=. python benchmarks/extract_throughput.py --device cuda --cases resnet50_jpeg --merge
    PYTHONPATH=. python benchmarks/extract_throughput.py --render-only

``--merge`` folds a run of some cases into the saved results of the same
device (to re-run one case, or to split the CUDA run across commands).

Results go to ``benchmarks/results/extract_throughput_<cpu|cuda>.md`` and
``.json`` (``--quick`` writes ``extract_throughput_<device>_quick.*``
instead, so a smoke test never overwrites a real run).
"""

from __future__ import annotations

import argparse
import copy
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import _throughput_ref as ref  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
AGREE = 0.99  # minimum cosine similarity between ours and the naive loop on the first rows
N_COMPARE = 64  # rows compared


@dataclass(frozen=True)
class Case:
    """One measurement: a model, an input kind, sizes per device and the targets."""

    name: str
    kind: str  # "image", "text" or "cache"
    model: str
    weights: str
    input: str  # "array", "jpeg", "text128", "textmix"
    n: dict  # {"cuda": N, "cpu": N, "quick": N}
    targets: dict = field(default_factory=dict)  # device kind -> ("items/s" | "speedup", value)
    compile: bool = False
    label: str = ""
    precision: str = "auto"  # the extractor's; the naive loop is always fp32

    def describe_input(self) -> str:
        return {"array": "uint8 224x224 arrays", "jpeg": "JPEG folder (500x375, ~60 KB)",
                "text128": "texts, 128 tokens", "textmix": "texts, 10-122 tokens"}[self.input]


_CPU_SPEEDUP = ("speedup", 1.5)
CASES = {c.name: c for c in [
    Case("resnet50_array", "image", "timm:resnet50", "random", "array",
         {"cuda": 16384, "cpu": 128, "quick": 8}, {"cuda": ("items/s", 11000)}, label="resnet50 eager"),
    Case("resnet50_array_compiled", "image", "timm:resnet50", "random", "array",
         {"cuda": 16384, "cpu": 128, "quick": 8}, {"cuda": ("items/s", 15000)}, compile=True,
         label="resnet50 compiled"),
    Case("vit_b16_array_compiled", "image", "timm:vit_base_patch16_224", "random", "array",
         {"cuda": 8192, "cpu": 64, "quick": 4}, {"cuda": ("items/s", 8500)}, compile=True,
         label="vit_base_patch16_224 compiled"),
    Case("minilm_128", "text", "all-MiniLM-L6-v2", "pretrained", "text128",
         {"cuda": 65536, "cpu": 128, "quick": 16}, {"cuda": ("items/s", 45000), "cpu": _CPU_SPEEDUP},
         label="all-MiniLM-L6-v2"),
    Case("minilm_128_bf16", "text", "all-MiniLM-L6-v2", "pretrained", "text128",
         {"cuda": 65536, "cpu": 128, "quick": 16}, {"cpu": _CPU_SPEEDUP}, label="all-MiniLM-L6-v2, bf16",
         precision="bf16"),
    Case("resnet50_jpeg", "image", "timm:resnet50", "random", "jpeg",
         {"cuda": 8192, "cpu": 128, "quick": 8}, {"cuda": ("items/s", 4000)}, label="resnet50 eager"),
    Case("lite0_array", "image", "efficientnet_lite0", "pretrained", "array",
         {"cuda": 16384, "cpu": 192, "quick": 16}, {"cpu": _CPU_SPEEDUP, "cuda": _CPU_SPEEDUP},
         label="efficientnet_lite0"),
    Case("lite0_jpeg", "image", "efficientnet_lite0", "pretrained", "jpeg",
         {"cuda": 8192, "cpu": 128, "quick": 16}, {"cpu": _CPU_SPEEDUP, "cuda": _CPU_SPEEDUP},
         label="efficientnet_lite0"),
    Case("minilm_text", "text", "all-MiniLM-L6-v2", "pretrained", "textmix",
         {"cuda": 65536, "cpu": 256, "quick": 32}, {"cpu": _CPU_SPEEDUP, "cuda": _CPU_SPEEDUP},
         label="all-MiniLM-L6-v2"),
    Case("lite0_cache", "cache", "efficientnet_lite0", "pretrained", "jpeg",
         {"cuda": 4096, "cpu": 128, "quick": 16}, {"cpu": ("speedup", 50), "cuda": ("speedup", 50)},
         label="efficientnet_lite0"),
]}
DEFAULT_CASES = {
    "cuda": ["resnet50_array", "resnet50_array_compiled", "vit_b16_array_compiled", "minilm_128", "resnet50_jpeg"],
    "cpu": ["lite0_array", "lite0_jpeg", "minilm_text", "minilm_128", "minilm_128_bf16", "lite0_cache"],
}


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 natively on this CPU (AVX512-BF16 or AMX); elsewhere bf16 is emulated."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


# --------------------------------------------------------------------------- helpers
def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, device) -> tuple[float, Any]:
    _sync(device)
    t0 = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - t0, out


def _graphs() -> int:
    """Graphs compiled by torch.compile so far in this process (to catch recompiles while timing)."""
    try:
        from torch._dynamo.utils import counters

        return int(counters["stats"]["unique_graphs"])
    except Exception:  # pragma: no cover - private API
        return -1


def _warm_n(n: int, batch: int, batches: int) -> int:
    """Warm-up rows: ``batches`` full batches plus the remainder, so every batch shape is seen before timing.

    ``batches=0`` (``--quick``) is a token warm-up of a few rows.
    """
    if batches == 0:
        return min(n, 4)
    return max(1, min(n, batches * batch + n % batch))


def _agreement(ours: np.ndarray, naive: np.ndarray) -> dict:
    k = min(N_COMPARE, len(ours), len(naive))
    cos = ref.row_cosines(ours[:k], naive[:k])
    return {"rows": k, "min_cos": float(cos.min()), "mean_cos": float(cos.mean()), "ok": bool(cos.min() > AGREE)}


def _naive_model(backbone: Any, device: Any) -> Any:
    """A fp32, contiguous-format copy of the backbone's module (the tutorial's model, same weights)."""
    import torch

    model = copy.deepcopy(backbone.module).to(device=device, dtype=torch.float32)
    return model.to(memory_format=torch.contiguous_format).eval()


def _free(device: Any) -> None:
    import gc

    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _interleave(ours_fn, naive_fn, repeats: int, naive_repeats: int, device) -> tuple[list, list, Any, Any]:
    """Time ours and the naive loop alternately (fair under drifting load); returns times and last outputs."""
    t_ours, t_naive, out_ours, out_naive = [], [], None, None
    for i in range(max(repeats, naive_repeats)):
        if i < repeats:
            dt, out_ours = _timed(ours_fn, device)
            t_ours.append(dt)
            _log(f"    ours  {dt:8.3f} s")
        if naive_fn is not None and i < naive_repeats:
            dt, out_naive = _timed(naive_fn, device)
            t_naive.append(dt)
            _log(f"    naive {dt:8.3f} s")
    return t_ours, t_naive, out_ours, out_naive


# --------------------------------------------------------------------------- cases
class Runner:
    """Runs cases on one device, sharing inputs (JPEG folders, arrays) and naive timings between them."""

    def __init__(self, device: Any, args: argparse.Namespace, workdir: str):
        self.device, self.args, self.workdir = device, args, workdir
        self.kind = "cuda" if device.type == "cuda" else "cpu"
        # Warm-up batches: CUDA (cudnn autotuning, compilation, nvjpeg) gets two, the CPU one (oneDNN
        # primitives); --quick warms up on a few rows (compiled cases still see every timed batch shape).
        self.warm_batches = 0 if args.quick else 2 if self.kind == "cuda" else 1
        self._jpegs: dict[int, tuple[list[str], dict]] = {}
        self._naive_memo: dict[tuple, dict] = {}

    def n_for(self, case: Case) -> int:
        if self.args.n:
            return self.args.n
        return case.n["quick" if self.args.quick else self.kind]

    def jpegs(self, n: int) -> tuple[list[str], dict]:
        """The first ``n`` files of one shared JPEG folder (written once, grown on demand)."""
        have = max(self._jpegs, default=0)
        if n > have:
            t0 = time.perf_counter()
            paths, info = ref.make_jpegs(Path(self.workdir) / "jpeg", n, unique=self.args.jpeg_unique)
            info["write_s"] = round(time.perf_counter() - t0, 2)
            _log(f"  wrote {n} JPEG files ({info['n_unique']} distinct, quality {info['jpeg_quality']}, "
                 f"mean {info['mean_bytes'] / 1000:.1f} kB) in {info['write_s']} s")
            self._jpegs = {n: (paths, info)}
            have = n
        paths, info = self._jpegs[have]
        sizes = [os.path.getsize(p) for p in paths[:n]]
        return paths[:n], {**info, "n_files": n, "mean_bytes": float(np.mean(sizes))}

    def run(self, case: Case) -> dict:
        n = self.n_for(case)
        _log(f"[{case.name}] {case.label} on {case.describe_input()}, N={n}, device={self.device}")
        t0 = time.perf_counter()
        result = {"image": self._image, "text": self._text, "cache": self._cache}[case.kind](case, n)
        result.update(self._verdict(case, result))
        result["case_wall_s"] = round(time.perf_counter() - t0, 1)
        result["device_name"] = _device_name(self.device)
        _log(f"  -> ours {result['ours_items_per_s']:,.1f}/s, naive/baseline "
             f"{result['naive_items_per_s']:,.1f}/s, speedup {result['speedup']:.2f}x, "
             f"target {result['target']}, met {result['met']}, min cos {result['agreement']['min_cos']:.5f}")
        return result

    # -- image -----------------------------------------------------------------
    def _image(self, case: Case, n: int) -> dict:
        from sktransfer.deep import ImageFeatureExtractor
        from sktransfer.deep._backbones._registry import resolve_backbone

        backbone = resolve_backbone(case.model, case.weights, "image", owner="extract_throughput")
        cfg = backbone.config
        info: dict = {}
        if case.input == "array":
            X = ref.make_arrays(n, tuple(cfg.size))
        else:
            X, info = self.jpegs(n)
        ext = ImageFeatureExtractor(case.model, weights=case.weights, device=str(self.device), compile=case.compile,
                                    batch_size=self.args.batch_size, precision=case.precision)
        runtime, batch, warm, dt_fit, dt_warm = self._fit_and_warm(ext, X, n, case)

        naive_n = min(n, self.args.naive_n) if self.args.naive_n else n
        memo_key = (case.model, case.weights, case.input, n, naive_n)
        memo = self._naive_memo.get(memo_key)
        naive_fn, model = None, None
        if memo is None:
            model = _naive_model(backbone, self.device)
            naive_fn = lambda: ref.naive_image_features(model, X[:naive_n], cfg, self.device)  # noqa: E731
            nw = _warm_n(naive_n, ref.NAIVE_BATCH, self.warm_batches)
            ref.naive_image_features(model, X[:nw], cfg, self.device)  # warm-up
        g0 = _graphs()
        t_ours, t_naive, f_ours, f_naive = _interleave(
            lambda: ext.transform(X), naive_fn, self.args.repeats, self.args.naive_repeats, self.device)
        recompiles = _graphs() - g0 if g0 >= 0 else None
        if memo is None:
            memo = {"naive_n": naive_n, "naive_s": t_naive, "naive_features": f_naive[:N_COMPARE], "from": case.name}
            self._naive_memo[memo_key] = memo
        model = None  # frees the copy (the closures read this cell)
        _free(self.device)
        return self._result(case, n, memo, t_ours, f_ours, ext, runtime, batch, warm, dt_fit, dt_warm, recompiles,
                            {**info, "preprocess": ext.preprocess_config_,
                             "num_workers": ext._workers(runtime) if case.input == "jpeg" else 0})

    def _fit_and_warm(self, ext: Any, X: Any, n: int, case: Case) -> tuple:
        """Fit on one item and warm up: returns the runtime, batch size, warm-up size and both times."""
        from sktransfer.deep._runtime import resolve_batch_size

        dt_fit, _ = _timed(lambda: ext.fit(X[:1]), self.device)
        runtime = ext._runtime()
        batch = resolve_batch_size(ext.batch_size, runtime, ext.modality)
        # A compiled forward must see the timed batch shapes before the clock starts, even in --quick.
        warm = _warm_n(n, batch, max(self.warm_batches, int(case.compile)))
        dt_warm, _ = _timed(lambda: ext.transform(X[:warm]), self.device)
        _log(f"  fit {dt_fit:.2f} s, warm-up on {warm} items {dt_warm:.2f} s (batch {batch})")
        return runtime, batch, warm, dt_fit, dt_warm

    # -- text ------------------------------------------------------------------
    def _text(self, case: Case, n: int) -> dict:
        from sktransfer.deep import TextFeatureExtractor
        from sktransfer.deep._backbones._registry import resolve_backbone

        max_length = 128
        backbone = resolve_backbone(case.model, case.weights, "text", owner="extract_throughput")
        words = (140, 160) if case.input == "text128" else (8, 120)
        texts = ref.make_texts(n, min_words=words[0], max_words=words[1])
        lengths = ref.token_lengths(backbone.tokenizer, texts[:256])
        if case.input == "text128" and lengths.min() < max_length:
            raise RuntimeError(f"texts of {case.name} must have >= {max_length} tokens, got {lengths.min()}")
        ext = TextFeatureExtractor(case.model, weights=case.weights, max_length=max_length, device=str(self.device),
                                   compile=case.compile, batch_size=self.args.batch_size, precision=case.precision)
        runtime, batch, warm, dt_fit, dt_warm = self._fit_and_warm(ext, texts, n, case)

        naive_n = min(n, self.args.naive_n) if self.args.naive_n else n
        model = _naive_model(backbone, self.device)
        tok = backbone.tokenizer

        def naive(items):
            return ref.naive_text_features(model, tok, items, self.device, max_length=max_length,
                                           normalize=backbone.normalize)

        naive(texts[:_warm_n(naive_n, ref.NAIVE_BATCH, self.warm_batches)])  # warm-up
        g0 = _graphs()
        t_ours, t_naive, f_ours, f_naive = _interleave(
            lambda: ext.transform(texts), lambda: naive(texts[:naive_n]), self.args.repeats,
            self.args.naive_repeats, self.device)
        recompiles = _graphs() - g0 if g0 >= 0 else None
        memo = {"naive_n": naive_n, "naive_s": t_naive, "naive_features": f_naive[:N_COMPARE], "from": case.name}
        model = None  # frees the copy (the closures read this cell)
        _free(self.device)
        clipped = np.minimum(lengths, max_length)
        return self._result(case, n, memo, t_ours, f_ours, ext, runtime, batch, warm, dt_fit, dt_warm, recompiles,
                            {"max_length": max_length, "tokens_min": int(clipped.min()),
                             "tokens_mean": float(clipped.mean()), "tokens_max": int(clipped.max()),
                             "tokens_untruncated_min": int(lengths.min())})

    # -- cache -----------------------------------------------------------------
    def _cache(self, case: Case, n: int) -> dict:
        """First pass (fills an empty cache) against second pass (reads it), same extractor, same files."""
        from sktransfer.deep import ImageFeatureExtractor
        from sktransfer.deep._runtime import resolve_batch_size

        paths, info = self.jpegs(n)
        ext = ImageFeatureExtractor(case.model, weights=case.weights, device=str(self.device),
                                    batch_size=self.args.batch_size)
        dt_fit, _ = _timed(lambda: ext.fit(paths[:1]), self.device)
        runtime = ext._runtime()
        batch = resolve_batch_size(ext.batch_size, runtime, "image")
        warm = _warm_n(n, batch, self.warm_batches)
        # Warm-up in a cache folder of its own: it also hashes the weights (the cache key) once.
        ext.set_params(cache=tempfile.mkdtemp(dir=self.workdir, prefix="cache_warm_"))
        dt_warm, _ = _timed(lambda: ext.transform(paths[:warm]), self.device)
        first, second, f1, f2 = [], [], None, None
        for _ in range(self.args.repeats):
            ext.set_params(cache=tempfile.mkdtemp(dir=self.workdir, prefix="cache_"))
            dt, f1 = _timed(lambda: ext.transform(paths), self.device)
            first.append(dt)
            _log(f"    1st pass {dt:8.3f} s")
            dt, f2 = _timed(lambda: ext.transform(paths), self.device)
            second.append(dt)
            _log(f"    2nd pass {dt:8.3f} s")
        memo = {"naive_n": n, "naive_s": first, "naive_features": f1[:N_COMPARE], "from": case.name}
        res = self._result(case, n, memo, second, f2, ext, runtime, batch, warm, dt_fit, dt_warm, None,
                           {**info, "num_workers": ext._workers(runtime)})
        res["identical"] = bool(np.array_equal(f1, f2))
        return res

    # -- bookkeeping -------------------------------------------------------------
    def _result(self, case, n, memo, t_ours, f_ours, ext, runtime, batch, warm, dt_fit, dt_warm, recompiles,
                extra) -> dict:
        ours_s = statistics.median(t_ours)
        naive_s = statistics.median(memo["naive_s"])
        ours_rate, naive_rate = n / ours_s, memo["naive_n"] / naive_s
        return {
            "case": case.name, "kind": case.kind, "model": case.model, "weights": case.weights,
            "input": case.describe_input(), "label": case.label, "n": n, "naive_n": memo["naive_n"],
            "ours_batch_size": batch, "naive_batch_size": ref.NAIVE_BATCH,
            "ours_precision": str(runtime.dtype).replace("torch.", ""), "naive_precision": "float32",
            "channels_last": bool(runtime.channels_last) and case.kind != "text", "compile": case.compile,
            "fit_s": round(dt_fit, 4), "warmup_items": warm, "warmup_s": round(dt_warm, 4),
            "ours_s": [round(t, 5) for t in t_ours], "naive_s": [round(t, 5) for t in memo["naive_s"]],
            "naive_from_case": memo["from"],
            "ours_items_per_s": ours_rate, "naive_items_per_s": naive_rate,
            "ours_items_per_s_best": n / min(t_ours), "naive_items_per_s_best": memo["naive_n"] / min(memo["naive_s"]),
            "speedup": ours_rate / naive_rate,
            "recompiles_while_timing": recompiles,
            "agreement": _agreement(f_ours, memo["naive_features"]),
            **extra,
        }

    def _verdict(self, case: Case, r: dict) -> dict:
        target = case.targets.get(self.kind)
        if target is None:
            other = ", ".join(f"{k}: {_fmt_target(v)}" for k, v in case.targets.items())
            return {"target": f"n/a here ({other})" if other else "n/a", "met": "n/a"}
        what, value = target
        got = r["ours_items_per_s"] if what == "items/s" else r["speedup"]
        text = _fmt_target(target) + (" (H100)" if what == "items/s" else "")
        return {"target": text, "met": "yes" if got >= value else "no"}


def _fmt_target(target: tuple) -> str:
    what, value = target
    return f">= {value:,}/s" if what == "items/s" else f">= {value:g}x"


# --------------------------------------------------------------------------- report
def machine_info(device: Any) -> dict:
    import torch

    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(), "machine": platform.machine(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "cpu_model": _cpu_model(), "device": str(device),
    }
    for mod in ("torchvision", "timm", "transformers", "PIL"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:
            info[mod] = None
    info["device_name"] = _device_name(device)
    if device.type == "cuda":
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    try:
        root = Path(__file__).resolve().parents[1]
        info["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                            text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sktransfer"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["git_dirty_sktransfer"] = bool(dirty)
    except Exception:
        pass
    return info


def _device_name(device: Any) -> str:
    import torch

    return torch.cuda.get_device_name(device) if device.type == "cuda" else _cpu_model()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _rate(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}"


def table(results: list[dict]) -> str:
    rows = [
        "| case | model | input | ours (items/s) | naive (items/s) | speedup | target | met | min cos |",
        "|---|---|---|---:|---:|---:|---|---|---:|",
    ]
    for r in results:
        if "error" in r:
            rows.append(f"| {r['case']} | {r.get('label', '')} | - | - | - | - | - | error | - |")
            continue
        inp = r["input"] + (": 2nd pass (cache) vs 1st" if r["kind"] == "cache" else "")
        rows.append(
            f"| {r['case']} | {r['label']} | {inp} | {_rate(r['ours_items_per_s'])} | {_rate(r['naive_items_per_s'])} "
            f"| {r['speedup']:.2f}x | {r['target']} | {r['met']} | {r['agreement']['min_cos']:.4f} |")
    return "\n".join(rows)


def details(results: list[dict]) -> str:
    rows = [
        "| case | N (ours / naive) | batch (ours / naive) | precision (ours / naive) | compile | fit s | "
        "warm-up | ours s (runs) | naive s (runs) | recompiles timed |",
        "|---|---|---|---|---|---:|---|---|---|---:|",
    ]
    for r in results:
        if "error" in r:
            continue
        naive_note = "" if r["naive_from_case"] == r["case"] else f" (from {r['naive_from_case']})"
        rows.append(
            f"| {r['case']} | {r['n']:,} / {r['naive_n']:,} | {r['ours_batch_size']} / {r['naive_batch_size']} "
            f"| {r['ours_precision']} / {r['naive_precision']} | {r['compile']} | {r['fit_s']:.2f} "
            f"| {r['warmup_items']} items, {r['warmup_s']:.2f} s | {', '.join(f'{t:.3f}' for t in r['ours_s'])} "
            f"| {', '.join(f'{t:.3f}' for t in r['naive_s'])}{naive_note} "
            f"| {'-' if r['recompiles_while_timing'] is None else r['recompiles_while_timing']} |")
    return "\n".join(rows)


NOTES = """\
- ours: `ImageFeatureExtractor` / `TextFeatureExtractor` `.transform(X)` on all N
  items, defaults except `device`, `weights`, `compile` (and `max_length=128`
  for text): precision "auto" (bf16 autocast on GPUs, fp32 on the CPU; the
  `_bf16` case sets precision="bf16"),
  batch_size "auto", channels_last, num_workers "auto". Timed after `fit` and
  a warm-up `transform` (two batches on CUDA, one on the CPU, plus the last
  partial batch if any; with compile=True this is when the graph for the real
  batch shapes is compiled); "recompiles timed" counts graphs compiled while
  the clock ran (should be 0). The naive loop gets the same warm-up.
- naive: the tutorial loop of `benchmarks/_throughput_ref.py`: fp32, batch 32,
  `torchvision.transforms` Resize(shorter side to the backbone's resize, e.g.
  256 for efficientnet_lite0) + CenterCrop(224) + ToTensor + Normalize on each
  PIL image (`Image.open(path).convert("RGB")` or `Image.fromarray`),
  `torch.stack`, `.to(device)`, `model.forward_head(model.forward_features(x),
  pre_logits=True)` under `torch.no_grad()`, `.cpu()` per batch; texts: HF
  tokenizer on 32 texts (padding=True, truncation, max_length=128), AutoModel,
  masked mean pooling, L2 normalisation. Same weights (a copy of the
  extractor's module, in fp32 and the default memory format). Arrays already
  at 224x224 skip Resize/CenterCrop on both sides.
- items/s = N / median wall time of the runs (ours and naive alternate, to
  share any drift in machine load); the JSON has every run and the best.
- min cos: smallest cosine similarity between ours and the naive features
  over the first 64 items (bf16 vs fp32 on GPUs); for the cache row, between
  the second and the first pass (1.0: the same floats).
- cache row: "ours" is the second `transform` over the same files (all rows
  read from `cache=<tmpdir>`), "naive" the first one that computed and wrote
  them (after a warm-up in another folder, so the one-off weight hashing of
  the cache key is not in the first pass).
- JPEG inputs: synthetic photo-like 500x375 images, JPEG quality chosen so
  files average ~60 kB; a few hundred distinct images, the rest byte copies
  under other names (no cache is on, so every file is read and decoded). The
  files were just written, so they are in the OS page cache: this measures
  decoding, not disk reads.
"""


def render(payload: dict) -> str:
    m = payload["machine"]
    dev = m.get("device_name") or m["device"]
    lines = [
        f"# Feature-extraction throughput ({payload['device_kind']})",
        "",
        f"Command: `{payload['command']}`  ",
        f"Date: {m['date']}; git {m.get('git_commit', '?')}"
        f"{' (sktransfer/ modified)' if m.get('git_dirty_sktransfer') else ''}.  ",
        f"Device: {dev}; CPU: {m['cpu_model']}, {m['cpu_count']} cores ({m['cpus_usable']} usable, "
        f"torch threads {m['torch_threads']}).  ",
        f"torch {m['torch']}, torchvision {m.get('torchvision')}, timm {m.get('timm')}, "
        f"transformers {m.get('transformers')}, Pillow {m.get('PIL')}, Python {m['python']}.",
        "",
    ]
    if payload.get("quick"):
        lines += ["**Quick mode** (tiny N, 1 run each): a smoke test, not a measurement.", ""]
    lines += [table(payload["results"]), "", "## Sizes and raw timings", "", details(payload["results"]), ""]
    for prev in payload.get("merged_from", []):
        lines += [f"Merged: {', '.join(prev['cases'])} from `{prev['command']}` ({prev['date']}, "
                  f"{prev['device_name']}).", ""]
    bad = [r for r in payload["results"] if "error" not in r and not r["agreement"]["ok"]]
    errors = [r for r in payload["results"] if "error" in r]
    if bad:
        lines += ["**Agreement check failed** (min cos <= 0.99): " + ", ".join(r["case"] for r in bad), ""]
    for r in errors:
        lines += [f"**{r['case']} failed**: `{r['error']}`", ""]
    lines += ["## How it is measured", "", NOTES]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- main
def _resolve_device(name: str, parser: argparse.ArgumentParser) -> Any:
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available here (use --device auto or cpu)")
    return torch.device(name)


def _expand_cases(names: list[str] | None, kind: str, parser: argparse.ArgumentParser) -> list[str]:
    if not names:
        cases = list(DEFAULT_CASES[kind])
        if kind == "cpu" and not cpu_has_native_bf16():
            _log("minilm_128_bf16 left out: this CPU has no native bf16 (AVX512-BF16 or AMX)")
            cases.remove("minilm_128_bf16")
        return cases
    out: list[str] = []
    for name in names:
        group = list(CASES) if name == "all" else DEFAULT_CASES.get(name, [name])
        for c in group:
            if c not in CASES:
                parser.error(f"unknown case {c!r}; choose from {', '.join(CASES)}, cpu, cuda or all")
            if c not in out:
                out.append(c)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="cuda runs the H100 cases, cpu the CPU cases (auto: cuda when present)")
    parser.add_argument("--quick", action="store_true", help="tiny N and one run each: a smoke test")
    parser.add_argument("--cases", nargs="+", metavar="CASE",
                        help=f"cases to run (default: those of the device): {', '.join(CASES)}, "
                             "or the groups cpu, cuda, all")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .md and .json")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs of ours (default 3, quick 1)")
    parser.add_argument("--naive-repeats", type=int, default=None,
                        help="timed runs of the naive loop (default: 3 on CPU, 1 on CUDA, quick 1)")
    parser.add_argument("--n", type=int, default=None, help="items per case (overrides the case sizes)")
    parser.add_argument("--naive-n", type=int, default=None, help="cap the naive loop's items (default: same N)")
    parser.add_argument("--batch-size", default="auto", help="batch_size of ours (default auto)")
    parser.add_argument("--jpeg-unique", type=int, default=512, help="distinct JPEG images in the folder")
    parser.add_argument("--merge", action="store_true",
                        help="merge into the saved JSON of this device (cases re-run replace theirs), e.g. to "
                             "run the CUDA cases in several commands")
    parser.add_argument("--render-only", action="store_true", help="rebuild the markdown from the saved JSON")
    args = parser.parse_args(argv)

    if args.render_only:
        kinds = ["cpu", "cuda"] if args.device == "auto" else [args.device]
        done = 0
        for kind in kinds:
            for suffix in ("", "_quick"):
                path = args.out / f"extract_throughput_{kind}{suffix}.json"
                if path.exists():
                    path.with_suffix(".md").write_text(render(json.loads(path.read_text())))
                    _log(f"rendered {path.with_suffix('.md')}")
                    done += 1
        if not done:
            parser.error(f"no extract_throughput_*.json in {args.out}")
        return

    if args.batch_size != "auto":
        args.batch_size = int(args.batch_size)
    device = _resolve_device(args.device, parser)
    kind = "cuda" if device.type == "cuda" else "cpu"
    names = _expand_cases(args.cases, kind, parser)
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.naive_repeats is None:
        args.naive_repeats = 1 if args.quick or kind == "cuda" else 3

    command = "python benchmarks/extract_throughput.py " + " ".join(argv if argv is not None else sys.argv[1:])
    payload: dict = {"command": command.strip(), "device_kind": kind, "quick": args.quick,
                     "machine": machine_info(device), "cases": names, "repeats": args.repeats,
                     "naive_repeats": args.naive_repeats, "results": []}
    _log(f"device {device} ({payload['machine']['device_name']}), cases: {', '.join(names)}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sktransfer_throughput_") as workdir:
        runner = Runner(device, args, workdir)
        for name in names:
            try:
                payload["results"].append(runner.run(CASES[name]))
            except Exception as exc:  # one broken case must not lose the others
                import traceback

                traceback.print_exc()
                payload["results"].append({"case": name, "label": CASES[name].label,
                                           "error": f"{type(exc).__name__}: {exc}"})
    payload["total_wall_s"] = round(time.perf_counter() - t0, 1)

    report = render(payload)
    print(table(payload["results"]))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"extract_throughput_{kind}{'_quick' if args.quick else ''}"
    old = args.out / f"{stem}.json"
    if args.merge and old.exists():
        prev = json.loads(old.read_text())
        mine = {r["case"] for r in payload["results"]}
        kept = [r for r in prev["results"] if r["case"] not in mine]
        payload["results"] = kept + payload["results"]
        payload["merged_from"] = prev.get("merged_from", []) + [
            {"command": prev["command"], "date": prev["machine"]["date"],
             "device_name": prev["machine"].get("device_name"), "cases": [r["case"] for r in kept]}]
        report = render(payload)
    (args.out / f"{stem}.json").write_text(json.dumps(payload, indent=2, default=str))
    (args.out / f"{stem}.md").write_text(report)
    _log(f"total {payload['total_wall_s']} s; wrote {args.out / stem}.md and .json")
    if any("error" in r for r in payload["results"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
