"""Timing statistics, the plan of a run (full, quick, smoke) and the machine description."""
from __future__ import annotations

import os
import platform
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    rank = max(1, min(len(s), int(-(-q * len(s) // 100))))
    return s[rank - 1]


def stats_ms(seconds: list[float]) -> dict:
    """median / p95 / min / mean in milliseconds of a list of durations in seconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0, "median_ms": None, "p95_ms": None, "min_ms": None, "mean_ms": None}
    return {
        "n": len(ms), "median_ms": statistics.median(ms), "p95_ms": percentile(ms, 95),
        "min_ms": min(ms), "mean_ms": statistics.fmean(ms),
    }  # fmt: skip


def timed(fn: Callable[[], object], reps: int) -> tuple[list[float], object]:
    """Run fn `reps` times; (durations in seconds, last result)."""
    out, result = [], None
    for _ in range(reps):
        t = time.perf_counter()
        result = fn()
        out.append(time.perf_counter() - t)
    return out, result


@dataclass
class Plan:
    """What one mode of the benchmark runs; see PLANS."""

    mode: str
    model: str  # encoder spec: "e5-small" or "fake"
    build_reps: int  # cold builds, PDF parses
    rebuild_reps: int  # no-change and one-file-changed rebuilds
    query_passes: int  # passes over the question set for warm-query latency
    questions: int  # questions for latency (0 = all); the full run evaluates recall on all
    sizes: list[int]  # scale section, passages
    e2e_sizes: list[int]  # synthetic indexes queried end to end through a Retriever
    hnsw_max: int  # largest size for HNSW (its build is slow: about 1 ms per vector per core)
    old_ivf_max: int  # largest size for the previous IVF defaults (k-means on 100 x nlist vectors)
    rss_size: int  # passages of the index held by the peak-memory process
    threads: list[int] = field(default_factory=lambda: [1, 2, 4, 8])
    extra_questions: int = 30  # questions for the validity-date case and the profile
    concurrency_questions: int = 40
    encode_passages: int = 0  # passages for the encoder comparison (0 = all real passages)
    encode_passes: int = 3  # passes over them (passages/s: the median pass)
    pdf_min_pages: int = 200
    int8: bool = True  # also measure the rejected int8 encoder (quantised once into the cache)


PLANS = {
    "full": Plan("full", "e5-small", build_reps=3, rebuild_reps=5, query_passes=1, questions=60,
                 sizes=[1_000, 10_000, 100_000, 1_000_000], e2e_sizes=[10_000, 100_000],
                 hnsw_max=100_000, old_ivf_max=100_000, rss_size=100_000, extra_questions=20,
                 concurrency_questions=30),
    "quick": Plan("quick", "e5-small", build_reps=1, rebuild_reps=2, query_passes=1, questions=15,
                  sizes=[1_000, 10_000], e2e_sizes=[10_000], hnsw_max=10_000, old_ivf_max=10_000,
                  rss_size=10_000, extra_questions=5, concurrency_questions=8, encode_passages=32, encode_passes=1,
                  int8=False),
    "smoke": Plan("smoke", "fake", build_reps=1, rebuild_reps=1, query_passes=1, questions=20,
                  sizes=[1_000, 5_000], e2e_sizes=[2_000], hnsw_max=5_000, old_ivf_max=5_000,
                  rss_size=2_000, threads=[1, 2], extra_questions=10, concurrency_questions=10,
                  encode_passages=32, encode_passes=1, pdf_min_pages=24, int8=False),
}  # fmt: skip


def _cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str | None:
    """Installed version of a distribution (without importing it: torch alone takes ~8 s)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def machine(load_model_libs: bool = True) -> dict:
    """Cores, memory, CPU model, load and library versions of this machine."""
    import psutil

    libs = ["numpy", "scipy", "faiss-cpu", "pypdf", "torch", "sentence-transformers", "transformers", "onnxruntime"]
    out = {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "memory_available_gib": round(psutil.virtual_memory().available / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {m: _version(m) for m in libs},
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }
    return out


@contextmanager
def torch_threads(n: int | None):
    """Run the block with torch using n intra-op threads (None: leave as is)."""
    if n is None:
        yield
        return
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(saved)
