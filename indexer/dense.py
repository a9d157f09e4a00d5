"""Dense side: a FAISS inner-product index over L2-normalised passage vectors.

The index type follows the corpus size (chosen at build time, recorded in the manifest):
exact search while it is fast, an IVF index with 8-bit scalar quantisation beyond that.
"""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# Exact search stays under ~15 ms per query up to this many 384-dim vectors on one core
# (measured: ~12 ms at 100k, ~104 ms at 1M, faiss-cpu 1.15.1); beyond it, IVF + SQ8.
EXACT_MAX = 200_000
IVF_NPROBE = 16

faiss.omp_set_num_threads(1)  # one thread per query: concurrent officers, not one fast query


def choose_kind(n: int) -> str:
    """The index type for n passages: 'flat' (exact) or 'ivf-sq8' (approximate)."""
    return "flat" if n <= EXACT_MAX else "ivf-sq8"


def build(vectors: np.ndarray, kind: str | None = None) -> tuple[faiss.Index, str]:
    """Build an index over `vectors` (float32, L2-normalised); row i gets id i."""
    n, dim = vectors.shape
    kind = kind or choose_kind(n)
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf-sq8":
        nlist = int(min(4096, max(16, 4 * np.sqrt(n))))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
        train = vectors if n <= 100 * nlist else vectors[np.random.default_rng(0).choice(n, 100 * nlist, replace=False)]
        index.train(np.ascontiguousarray(train))
        index.nprobe = IVF_NPROBE
    else:
        raise ValueError(f"unknown dense index type {kind!r}; choose 'flat' or 'ivf-sq8'")
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def save(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = IVF_NPROBE
    return index


def search(index: faiss.Index, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, scores) of the k nearest passages to one query vector; -1 rows dropped."""
    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = rows[0] >= 0
    return rows[0][keep], scores[0][keep]
