"""Dense side: a FAISS inner-product index over L2-normalised passage vectors.

The index type follows the corpus size (chosen at build time, recorded in the manifest):
exact search while it is fast, an IVF index with 8-bit scalar quantisation beyond that.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# Exact search (IndexFlatIP, one core) costs ~0.1 us per vector: ~1 ms at 10k, ~12 ms at 100k,
# ~100 ms at 1M (faiss-cpu 1.15.1, memory-bandwidth bound). Up to EXACT_MAX passages it stays
# exact; beyond, IVF with 8-bit scalar quantisation, whose candidates the Retriever re-scores
# with the stored float vectors. Values chosen by measurement: python -m bench (BENCHMARKS.md).
EXACT_MAX = 200_000
IVF_MIN_LISTS, IVF_MAX_LISTS = 16, 4096
IVF_TRAIN_PER_LIST = 50  # k-means sample per list (faiss warns below 39); bounds the build time
IVF_PROBE_SHARE = 4  # probe 1/4 of the lists: recall@10 >= 0.98 after re-scoring at 100k and 1M
IVF_MIN_PROBES = 16


def _one_thread() -> None:
    """One OpenMP thread for FAISS in the calling thread: concurrent officers, not one fast
    query. The setting is per thread (a server's worker threads start with one per core), so
    build and search set it each time; it costs nanoseconds."""
    faiss.omp_set_num_threads(1)


_one_thread()


def choose_kind(n: int) -> str:
    """The index type for n passages: 'flat' (exact) or 'ivf-sq8' (approximate)."""
    return "flat" if n <= EXACT_MAX else "ivf-sq8"


def ivf_lists(n: int) -> int:
    """Number of IVF lists for n vectors: about sqrt(n) (1000 at 1M), within [16, 4096]."""
    return int(min(IVF_MAX_LISTS, max(IVF_MIN_LISTS, round(np.sqrt(max(n, 1))))))


def ivf_probes(nlist: int) -> int:
    """Lists searched per query for an IVF index of `nlist` lists."""
    return int(min(nlist, max(IVF_MIN_PROBES, nlist // IVF_PROBE_SHARE)))


def build(vectors: np.ndarray, kind: str | None = None) -> tuple[faiss.Index, str]:
    """Build an index over `vectors` (float32, L2-normalised); row i gets id i."""
    _one_thread()
    n, dim = vectors.shape
    kind = kind or choose_kind(n)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf-sq8":
        nlist = ivf_lists(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        n_train = IVF_TRAIN_PER_LIST * nlist
        train = vectors if n <= n_train else vectors[np.sort(np.random.default_rng(0).choice(n, n_train, replace=False))]
        index.train(np.ascontiguousarray(train, dtype=np.float32))
        index.nprobe = ivf_probes(nlist)
    else:
        raise ValueError(f"unknown dense index type {kind!r}; choose 'flat' or 'ivf-sq8'")
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def approximate(index: faiss.Index) -> bool:
    """Whether the index's scores are approximate (quantised): the IVF index."""
    return isinstance(index, faiss.IndexIVF)


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = ivf_probes(index.nlist)
    return index


def search(index: faiss.Index, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, scores) of the k nearest passages to one query vector, among the rows `allowed`
    when given (filtered during the search, not after it); -1 rows dropped."""
    _one_thread()
    k = min(k, index.ntotal if allowed is None else len(allowed))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if allowed is None:
        scores, rows = index.search(q, k)
    else:
        # a bitmap over all rows: one bit test per vector (IDSelectorBatch's hash set costs 4x more
        # at 100k passages: bench.stores, "store call: dense, valid on a date")
        mask = np.zeros(index.ntotal, dtype=bool)
        mask[allowed] = True
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(index.ntotal, faiss.swig_ptr(bits))
        if isinstance(index, faiss.IndexIVF):
            params = faiss.SearchParametersIVF(sel=selector, nprobe=index.nprobe)
        else:
            params = faiss.SearchParameters(sel=selector)
        scores, rows = index.search(q, k, params=params)
    keep = rows[0] >= 0
    return rows[0][keep], scores[0][keep]
