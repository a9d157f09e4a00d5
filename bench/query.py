"""Warm-query latency through a Retriever, split into its stages; the query-vector cache;
a profile of the hybrid query; concurrency through one shared Retriever."""
from __future__ import annotations

import cProfile
import datetime as dt
import io
import pstats
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import stats_ms
from retrieval.fusion import MODES
from retrieval.retriever import Retriever

STAGES = ("encode", "dense", "lexical", "fusion", "quote")
REFERENCE_QUESTION = "Wat regelt artikel 31 van de Procedurerichtlijn over de beslistermijn?"
VALID_ON = dt.date(2023, 1, 1)
WARM_UP = "Wat is een besluit- en vertrekmoratorium?"


def clear_cache(retriever: Retriever) -> None:
    """Forget cached query vectors, so each timed question is encoded."""
    retriever.clear_query_cache()


def stage_latency(retriever: Retriever, questions: list[str], mode: str, passes: int, cached: bool = False,
                  on: dt.date | None = None) -> dict:  # fmt: skip
    """Total and per-stage latency of `mode` over the questions (each new to the cache unless
    `cached`); "other" is the rest: reference parsing, validity filter, abstention check."""
    totals: list[float] = []
    per: dict[str, list[float]] = {s: [] for s in (*STAGES, "other")}
    if cached:
        for q in questions:
            retriever.search(q, k=5, mode=mode, on=on)
    for _ in range(passes):
        for q in questions:
            if not cached:
                clear_cache(retriever)
            t = time.perf_counter()
            res = retriever.search(q, k=5, mode=mode, on=on)
            total = time.perf_counter() - t
            totals.append(total)
            for s in STAGES:
                if s in res.timings:
                    per[s].append(res.timings[s])
            per["other"].append(total - sum(res.timings.values()))
    return {"total": stats_ms(totals), "stages": {s: stats_ms(v) for s, v in per.items() if v}}


def warm_queries(retriever: Retriever, questions: list[str], passes: int, modes=MODES, extra: int = 30) -> dict:
    """Per mode, uncached; hybrid also with the cache warm (3 passes), with a validity date
    (`extra` questions) and with a reference in the question."""
    for m in modes:
        retriever.search(WARM_UP, k=5, mode=m)  # warm-up
    out = {m: stage_latency(retriever, questions, m, passes) for m in modes}
    out["hybrid, cached vector"] = stage_latency(retriever, questions, "hybrid", 3, cached=True)
    if extra:
        out["hybrid, valid on a date"] = stage_latency(retriever, questions[:extra], "hybrid", 1, on=VALID_ON)
        out["hybrid, names a reference"] = stage_latency(retriever, [REFERENCE_QUESTION] * 5, "hybrid", 1)
    return out


def profile(retriever: Retriever, questions: list[str], top: int = 18) -> dict:
    """cProfile of uncached hybrid queries: the functions with the most cumulative time."""
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for q in questions:
        clear_cache(retriever)
        retriever.search(q, k=5, mode="hybrid")
    prof.disable()
    wall = time.perf_counter() - t
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    rows = []
    for (file, line, func), (cc, nc, tt, ct, callers) in st.stats.items():
        rows.append({"function": f"{_short(file)}:{line}({func})", "calls": nc, "tottime_s": tt, "cumtime_s": ct})
    rows.sort(key=lambda r: -r["cumtime_s"])
    by_self = sorted(rows, key=lambda r: -r["tottime_s"])[:top]
    return {"queries": len(questions), "wall_s": wall, "cumulative": rows[:top], "self": by_self}


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def _signature(result) -> tuple:
    return (result.answerable, tuple((h.passage.passage_id, round(h.score, 5)) for h in result.hits))


def concurrency(retriever: Retriever, questions: list[str], threads: list[int]) -> dict:
    """Queries per second through one shared Retriever at each thread count, uncached (every
    question new: encoding included) and cached; errors and result mismatches against the
    single-thread run are counted."""
    clear_cache(retriever)
    reference = {q: _signature(retriever.search(q, k=5)) for q in questions}
    rows = []
    for cached in (False, True):
        for n in threads:
            if not cached:
                clear_cache(retriever)
            errors, mismatches = 0, 0
            lock = threading.Lock()
            lat: list[float] = []

            def one(q: str) -> None:
                nonlocal errors, mismatches
                t = time.perf_counter()
                try:
                    sig = _signature(retriever.search(q, k=5))
                except Exception:  # counted and reported: the benchmark must not stop on one
                    with lock:
                        errors += 1
                    return
                with lock:
                    lat.append(time.perf_counter() - t)
                    if sig != reference[q]:
                        mismatches += 1

            work = questions * (3 if cached else 1)
            with ThreadPoolExecutor(max_workers=n) as pool:
                list(pool.map(lambda q: retriever.search(q, k=5), [WARM_UP] * n))  # start the threads
                if not cached:
                    clear_cache(retriever)
                t0 = time.perf_counter()
                list(pool.map(one, work))
                wall = time.perf_counter() - t0
            rows.append({"threads": n, "cached": cached, "queries": len(work), "wall_s": wall, "qps": len(work) / wall,
                         "errors": errors, "mismatches": mismatches, "latency": stats_ms(lat)})  # fmt: skip
    return {"rows": rows, "questions": len(questions)}
