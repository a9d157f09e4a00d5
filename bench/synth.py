"""Synthetic passages and vectors for the sizes the real corpus does not reach.

Vectors: each synthetic vector is a random convex mixture (Dirichlet(1, 1) weights) of two
real passage vectors plus noise shaped like the real vectors' spread around their mean
(a random combination of the centred real vectors, plus 30% isotropic noise), scaled by
NOISE and L2-normalised. NOISE = 0.6 matches the real passages' pairwise cosine distribution
(mean ~0.83, sd ~0.04 for multilingual-e5-small on this corpus), so neighbour distances look
like the real ones. The queries are the real evaluation questions, embedded by the real model.

Texts: words drawn from the unigram distribution of the corpus (the passages' own words,
as written), passage lengths drawn from the real passages' word counts. For the lexical index
at 1M the same is done on stemmed term ids directly (Bm25Index.from_counts), which skips
tokenising a million texts but gives the same matrix as building from such texts.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from indexer.analysis import tokenize
from indexer.lexical import Bm25Index
from indexer.passage import DocumentMeta, Passage
from indexer.store import DocRecord, search_text

NOISE = 0.6
MIX = 2  # real vectors mixed per synthetic vector
ISOTROPIC = 0.3  # share of isotropic noise (the centred real vectors span fewer dimensions)
CHUNK = 100_000
PASSAGES_PER_DOC = 100
_WORD = re.compile(r"\S+")


@dataclass
class Material:
    """What the synthetic data is made from: the real passages, their vectors and texts."""

    passages: list[Passage]
    vectors: np.ndarray  # float32 [n_real, dim]
    texts: list[str]  # search texts (title + section + text), as the lexical index sees them


def synth_vectors(real: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n unit vectors like the real ones (see the module docstring); built in chunks."""
    real = np.asarray(real, dtype=np.float32)
    m, dim = real.shape
    centred = real - real.mean(axis=0)
    spread = float(np.linalg.norm(centred, axis=1).mean())
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, CHUNK):
        k = min(CHUNK, n - start)
        idx = rng.integers(0, m, (k, MIX))
        w = rng.dirichlet([1.0] * MIX, k).astype(np.float32)
        v = np.einsum("nk,nkd->nd", w, real[idx])
        noise = (rng.standard_normal((k, m), dtype=np.float32) / np.sqrt(m)) @ centred
        noise += rng.standard_normal((k, dim), dtype=np.float32) * (ISOTROPIC * spread / np.sqrt(dim))
        v += NOISE * noise
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[start : start + k] = v
    return out


def vectors_for(material: Material, n: int, seed: int = 0) -> np.ndarray:
    """The real vectors first, then synthetic ones up to n."""
    real = material.vectors[:n]
    if n <= len(real):
        return np.ascontiguousarray(real)
    return np.concatenate([real, synth_vectors(material.vectors, n - len(real), seed)])


def cosine_profile(vectors: np.ndarray, queries: np.ndarray, sample: int = 2000, seed: int = 0) -> dict:
    """Pairwise cosine (mean, sd) of a sample and the queries' top-1 / top-10 cosine."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(vectors), min(sample, len(vectors)), replace=False)
    s = vectors[idx] @ vectors[idx].T
    iu = np.triu_indices(len(idx), 1)
    qs = np.sort(queries @ vectors.T, axis=1)[:, ::-1] if len(vectors) <= 200_000 else None
    out = {"pairwise_mean": float(s[iu].mean()), "pairwise_sd": float(s[iu].std())}
    if qs is not None:
        out["query_top1"] = float(qs[:, 0].mean())
        out["query_top10"] = float(qs[:, min(9, qs.shape[1] - 1)].mean())
    return out


class WordModel:
    """Unigram word and length distributions of the real passages."""

    def __init__(self, texts: list[str], seed: int = 0):
        counts = Counter(w for t in texts for w in _WORD.findall(t))
        self.words = np.array(list(counts), dtype=object)
        p = np.array(list(counts.values()), dtype=np.float64)
        self.p = p / p.sum()
        self.lengths = np.array([max(5, len(_WORD.findall(t))) for t in texts])
        self.rng = np.random.default_rng(seed)

    def texts(self, n: int) -> list[str]:
        lens = self.rng.choice(self.lengths, n)
        ids = self.rng.choice(len(self.words), int(lens.sum()), p=self.p)
        out, pos = [], 0
        for ln in lens:
            words = self.words[ids[pos : pos + ln]]
            pos += ln
            out.append(" ".join(words) + ".")
        return out


def synthetic_lexical(texts: list[str], n: int, seed: int = 0) -> tuple[Bm25Index, dict]:
    """A BM25 index of n synthetic passages, drawn as stemmed term ids from the real texts'
    term distribution (with the real passages' token counts); built with Bm25Index.from_counts."""
    docs = [tokenize(t) for t in texts]
    counts = Counter(t for d in docs for t in d)
    vocab = {t: i for i, t in enumerate(counts)}
    p = np.array(list(counts.values()), dtype=np.float64)
    p /= p.sum()
    lens = np.array([max(1, len(d)) for d in docs])
    rng = np.random.default_rng(seed)
    rows_l, cols_l, tfs_l, lengths = [], [], [], np.empty(n, dtype=np.float32)
    for start in range(0, n, CHUNK):
        k = min(CHUNK, n - start)
        ln = rng.choice(lens, k)
        lengths[start : start + k] = ln
        terms = rng.choice(len(p), int(ln.sum()), p=p).astype(np.int64)
        rows = np.repeat(np.arange(start, start + k, dtype=np.int64), ln)
        key = rows * len(p) + terms  # (row, term) pairs: count duplicates
        uniq, tf = np.unique(key, return_counts=True)
        rows_l.append(uniq // len(p))
        cols_l.append(uniq % len(p))
        tfs_l.append(tf.astype(np.float32))
    index = Bm25Index.from_counts(np.concatenate(rows_l), np.concatenate(cols_l), np.concatenate(tfs_l), lengths, vocab)
    return index, {"vocabulary": len(vocab), "postings": int(index.weights.nnz), "mean_terms": float(lengths.mean())}


def synthetic_docs(material: Material, n: int, words: WordModel) -> list[DocRecord]:
    """The real documents' passages, then synthetic documents of PASSAGES_PER_DOC passages
    each (synthetic texts; metadata copied from a real document) up to n passages."""
    by_doc: dict[str, list[Passage]] = {}
    for p in material.passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    docs = [
        DocRecord(meta=ps[0].meta, path=f"/real/{d}", sha256=d, passages=ps, page_texts=[""] * max(1, max(max(p.pages or (1,)) for p in ps)))
        for d, ps in by_doc.items()
    ]  # fmt: skip
    left = n - len(material.passages)
    template = material.passages[0].meta or DocumentMeta(doc_id="x", title="x", file="x")
    d = 0
    while left > 0:
        k = min(PASSAGES_PER_DOC, left)
        doc_id = f"synthetic-{d:05d}"
        meta = replace(template, doc_id=doc_id, title=f"Synthetische nota {d}", file=f"{doc_id}.txt", identifier="")
        texts = words.texts(k)
        ps = [Passage(doc_id=doc_id, seq=i, text=t, pages=(1,), section="", kind="paragraph", char_start=0,
                      char_end=len(t), meta=meta) for i, t in enumerate(texts)]  # fmt: skip
        docs.append(DocRecord(meta=meta, path=f"/synthetic/{doc_id}.txt", sha256=doc_id, passages=ps, page_texts=[""]))
        left -= k
        d += 1
    return docs


def write_index(index_dir: Path, docs: list[DocRecord], vectors: np.ndarray, encoder) -> dict:
    """Write and publish a build of `docs` with `vectors`, exactly as indexer.build does."""
    from indexer import store
    from indexer.build import build_manifest

    tmp = store.new_build_folder(index_dir)
    manifest = store.write_build(tmp, docs, vectors, build_manifest(encoder, docs), None, encoder)
    store.publish(index_dir, tmp)
    return manifest


def material_from_index(index_dir: Path) -> Material:
    from indexer.store import IndexReader

    reader = IndexReader(index_dir)
    passages = reader.passages()
    return Material(passages, np.asarray(reader.vectors(), dtype=np.float32).copy(), [search_text(p) for p in passages])
