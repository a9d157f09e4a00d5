"""Scale: for each size and FAISS index type, build time, memory, single-thread search latency
and recall@10 against exact search; lexical search at the same sizes."""
from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.common import stats_ms
from indexer import dense, lexical

K_CANDIDATES = 100  # the Retriever asks the dense index for 100 candidates and re-scores them
OLD_NPROBE = 16


def _ivf(kind: str, dim: int, nlist: int) -> faiss.Index:
    q = faiss.IndexFlatIP(dim)
    ip = faiss.METRIC_INNER_PRODUCT
    if kind == "ivf-flat":
        return faiss.IndexIVFFlat(q, dim, nlist, ip)
    if kind in ("ivf-sq8", "ivf-sq8-old"):
        return faiss.IndexIVFScalarQuantizer(q, dim, nlist, faiss.ScalarQuantizer.QT_8bit, ip)
    if kind == "ivf-pq":
        return faiss.IndexIVFPQ(q, dim, nlist, dim // 8, 8, ip)  # 48 bytes per vector
    raise ValueError(kind)


def build_index(kind: str, X: np.ndarray) -> tuple[faiss.Index, dict]:
    """Build one index type over X with one thread (as the indexer runs); its parameters."""
    n, dim = X.shape
    if kind in ("flat", "ivf-sq8"):
        index, _ = dense.build(X, kind)  # the production code path
        params = {"nlist": index.nlist, "nprobe": index.nprobe} if kind != "flat" else {}
        return index, params
    if kind == "hnsw32":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 40
        index.add(X)
        index.hnsw.efSearch = 128
        return index, {"M": 32, "efConstruction": 40, "efSearch": 128}
    if kind == "ivf-sq8-old":  # the previous defaults: 4 sqrt(n) lists, 100 x nlist training vectors, nprobe 16
        nlist = int(min(4096, max(16, 4 * np.sqrt(n))))
        n_train = 100 * nlist
    else:
        nlist = dense.ivf_lists(n)
        n_train = dense.IVF_TRAIN_PER_LIST * nlist
    index = _ivf(kind, dim, nlist)
    train = X if n <= n_train else X[np.sort(np.random.default_rng(0).choice(n, n_train, replace=False))]
    index.train(np.ascontiguousarray(train))
    index.add(X)
    index.nprobe = OLD_NPROBE if kind == "ivf-sq8-old" else dense.ivf_probes(nlist)
    return index, {"nlist": nlist, "nprobe": index.nprobe, "train_vectors": len(train)}


def index_bytes(index: faiss.Index) -> int:
    """Serialized size of the index (what it holds in memory, give or take a few KB)."""
    fd, path = tempfile.mkstemp(suffix=".faiss")
    os.close(fd)
    try:
        faiss.write_index(index, path)
        return os.path.getsize(path)
    finally:
        os.unlink(path)


def exact_topk(X: np.ndarray, Q: np.ndarray, k: int) -> np.ndarray:
    """Exact top-k rows by inner product (ground truth), with all cores."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        _, rows = faiss.knn(np.ascontiguousarray(Q), X, k, metric=faiss.METRIC_INNER_PRODUCT)
    finally:
        faiss.omp_set_num_threads(1)
    return rows


def measure_search(index: faiss.Index, X: np.ndarray, Q: np.ndarray, truth: np.ndarray, passes: int) -> dict:
    """Single-query, single-thread latency for 100 candidates; recall@10 of the index's own
    ranking and after re-scoring its 100 candidates exactly (as the Retriever does)."""
    secs, found = [], []
    for p in range(passes):
        for q in Q:
            t = time.perf_counter()
            _, rows = index.search(q[None, :], K_CANDIDATES)
            secs.append(time.perf_counter() - t)
            if p == 0:
                found.append(rows[0])
    raw, rescored = [], []
    for qi, rows in enumerate(found):
        rows = rows[rows >= 0]
        want = set(truth[qi, :10].tolist())
        raw.append(len(want & set(rows[:10].tolist())) / 10)
        top = rows[np.argsort(-(X[rows] @ Q[qi]))[:10]]
        rescored.append(len(want & set(top.tolist())) / 10)
    return {**stats_ms(secs), "recall10": float(np.mean(raw)), "recall10_rescored": float(np.mean(rescored))}


def dense_scale(X_all: np.ndarray, Q: np.ndarray, sizes: list[int], kinds_for, passes: int, log) -> dict:
    """Every size x index type; plus an nprobe (IVF) / efSearch (HNSW) sweep at each size."""
    out = {"sizes": {}, "queries": len(Q), "k_candidates": K_CANDIDATES}
    for n in sizes:
        X = X_all[:n]
        t = time.perf_counter()
        truth = exact_topk(X, Q, 10)
        rows = {}
        sweeps = {}
        for kind in kinds_for(n):
            log(f"scale {n:,}: {kind}")
            t0 = time.perf_counter()
            index, params = build_index(kind, X)
            build_s = time.perf_counter() - t0
            m = measure_search(index, X, Q, truth, passes)
            rows[kind] = {"build_s": build_s, "bytes": index_bytes(index), **params, **m}
            if kind == "ivf-sq8" and n >= 10_000:
                sweep = []
                for npb in sorted({16, index.nlist // 32, index.nlist // 16, index.nlist // 8, index.nlist // 4} - {0}):
                    if npb > index.nlist:
                        continue
                    index.nprobe = npb
                    sweep.append({"nprobe": npb, **measure_search(index, X, Q, truth, 1)})
                sweeps["ivf-sq8 nprobe"] = sweep
            if kind == "hnsw32":
                sweep = []
                for ef in (32, 64, 128, 256):
                    index.hnsw.efSearch = ef
                    sweep.append({"efSearch": ef, **measure_search(index, X, Q, truth, 1)})
                sweeps["hnsw32 efSearch"] = sweep
            del index
            gc.collect()
        out["sizes"][str(n)] = {"n": n, "truth_s": time.perf_counter() - t, "kinds": rows, "sweeps": sweeps,
                                "default_kind": dense.choose_kind(n)}  # fmt: skip
    return out


def _old_scores(index: lexical.Bm25Index, terms: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The previous implementation: slice the CSC columns, sum into a dense n-vector, scan it."""
    summed = np.asarray(index.weights[:, terms].sum(axis=1)).ravel()
    rows = np.flatnonzero(summed)
    return rows, summed[rows]


def _with_factor(index: lexical.Bm25Index, terms: list[int], factor: float):
    saved = lexical.DENSE_MERGE_FACTOR
    lexical.DENSE_MERGE_FACTOR = factor
    try:
        return index.sum_postings(terms)
    finally:
        lexical.DENSE_MERGE_FACTOR = saved


def _time_strategies(index: lexical.Bm25Index, term_lists: list[list[int]], passes: int) -> dict:
    strategies = {
        "merge as shipped (auto)": lambda tl: index.sum_postings(tl),
        "sort merge only": lambda tl: _with_factor(index, tl, 0.0),
        "column sum only (the previous code)": lambda tl: _old_scores(index, tl),
    }
    res = {}
    for name, fn in strategies.items():
        secs = []
        for _ in range(passes):
            for tl in term_lists:
                t0 = time.perf_counter()
                fn(tl)
                secs.append(time.perf_counter() - t0)
        res[name] = stats_ms(secs)
    return res


def _selective_queries(index: lexical.Bm25Index, n_queries: int = 60, terms: int = 3, seed: int = 0) -> list[list[int]]:
    """Queries of `terms` terms each found in 0.05%-2% of the passages: what a question about a
    specific matter looks like in a library of many topics."""
    df = np.diff(index.weights.indptr)
    n = index.weights.shape[0]
    pool = np.flatnonzero((df >= max(1, 0.0005 * n)) & (df <= 0.02 * n))
    if len(pool) < terms:
        return []
    rng = np.random.default_rng(seed)
    return [rng.choice(pool, terms, replace=False).tolist() for _ in range(n_queries)]


def lexical_scale(texts: list[str], questions: list[str], sizes: list[int], passes: int, log) -> dict:
    """BM25 over synthetic corpora of each size: postings read per query and latency of
    scores() and of each merge strategy, for the evaluation questions and for selective queries."""
    from bench.synth import synthetic_lexical

    out = {}
    for n in sizes:
        log(f"lexical {n:,}")
        t = time.perf_counter()
        index, info = synthetic_lexical(texts, n)
        build_s = time.perf_counter() - t
        qs = [q for q in questions if index.query_terms(q)]
        term_lists = [index.query_terms(q) for q in qs]
        ptr = index.weights.indptr
        postings = [int(sum(ptr[j + 1] - ptr[j] for j in tl)) for tl in term_lists]
        secs = []
        for _ in range(passes):
            for q in qs:
                t0 = time.perf_counter()
                index.scores(q)
                secs.append(time.perf_counter() - t0)
        res = {"scores() with tokenising": stats_ms(secs), **_time_strategies(index, term_lists, passes)}
        sel = _selective_queries(index)
        sel_postings = [int(sum(ptr[j + 1] - ptr[j] for j in tl)) for tl in sel]
        a, b = index.scores(qs[0])[:2], _old_scores(index, term_lists[0])
        same = bool(np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1], rtol=1e-4))
        if sel:
            a, b = _with_factor(index, sel[0], 0.0), _old_scores(index, sel[0])
            same = same and bool(np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1], rtol=1e-4))
        out[str(n)] = {"n": n, "build_s": build_s, **info, "bytes": int(index.weights.data.nbytes + index.weights.indices.nbytes
                       + index.weights.indptr.nbytes), "postings_per_query_median": float(np.median(postings)),
                       "postings_share_median": float(np.median(postings)) / n, "strategies": res,
                       "selective": {"queries": len(sel), "postings_share_median": float(np.median(sel_postings)) / n if sel else None,
                                     "strategies": _time_strategies(index, sel, passes) if sel else {}},
                       "same_result": same}  # fmt: skip
        del index
        gc.collect()
    return out


def bm25_text_build(texts: list[str]) -> dict:
    """Bm25Index.build on texts (what the indexer does), for the tokenising cost per passage."""
    t = time.perf_counter()
    lexical.Bm25Index.build(texts)
    s = time.perf_counter() - t
    return {"passages": len(texts), "seconds": s, "passages_per_s": len(texts) / s}
