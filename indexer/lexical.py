"""Lexical side: a BM25 inverted index over the analyser's terms (sparse term -> postings).

The BM25 weight of every (term, passage) pair is computed at build time, so a query only
sums the posting lists of its terms: no scan over all passages. The terms come from
indexer.analysis (the same analyser for passages and questions); the files are written and
read by indexer.store.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from indexer.analysis import Analyzer

K1 = 1.5  # BM25 term-frequency saturation (Robertson/Lucene default range 1.2-2.0)
B = 0.75  # BM25 length normalisation
# Merge posting lists with a dense accumulator once postings x this factor reach the passage
# count; below that, by sorting. Set from bench/ (python -m bench), section "lexical".
DENSE_MERGE_FACTOR = 3


class LexicalTerms:
    """The question side of the lexical index: its analyser, vocabulary and document frequencies.

    What a question's terms, their coverage and their idf need, without the postings: every
    store has these in memory, while the postings stay where the store keeps them (a CSC
    matrix here, a table in PostgreSQL: indexer.pgstore)."""

    def __init__(self, vocab: dict[str, int], df: np.ndarray, n: int, analyzer: Analyzer | None = None):
        self.vocab = vocab
        self.df = np.asarray(df)
        self.n = int(n)
        self.analyzer = analyzer if analyzer is not None else Analyzer()

    def tokens(self, text: str) -> list[str]:
        """The terms of `text` as this index sees them (its analyser's terms)."""
        return self.analyzer.terms(text)

    def query_terms(self, question: str) -> list[int]:
        """Vocabulary ids of the question's terms that occur in the index (duplicates kept once)."""
        seen: list[int] = []
        for t in self.tokens(question):
            j = self.vocab.get(t)
            if j is not None and j not in seen:
                seen.append(j)
        return seen

    def coverage(self, question: str) -> float:
        """The idf-weighted share of the question's terms that the index knows, in [0, 1].

        A term the corpus does not have counts with the highest idf: it is the most telling
        term of the question, and the lexical side cannot see it. So an English question whose
        only known term is a common one ("moratorium") gets a low coverage and the dense
        ranking stands, while a Dutch question in the corpus' own words gets a high one.
        """
        terms = set(self.tokens(question))
        if not terms:
            return 0.0
        idf = self._idf_values()
        top = float(idf.max()) if len(idf) else 1.0
        known = sum(float(idf[self.vocab[t]]) for t in terms if t in self.vocab)
        total = known + top * sum(1 for t in terms if t not in self.vocab)
        return known / total if total > 0 else 0.0

    def _idf_values(self) -> np.ndarray:
        if getattr(self, "_idf_cache", None) is None:
            self._idf_cache = np.log(1.0 + (self.n - self.df + 0.5) / (self.df + 0.5))
        return self._idf_cache

    def idf(self) -> dict[str, float]:
        """Inverse document frequency per term (for weighting quote sentences)."""
        values = self._idf_values()
        return {t: float(values[j]) for t, j in self.vocab.items()}


class Bm25Index(LexicalTerms):
    """BM25 over passages, stored as a CSC matrix [passages x terms] of precomputed weights."""

    def __init__(self, weights: sp.csc_matrix, vocab: dict[str, int], analyzer: Analyzer | None = None):
        super().__init__(vocab, np.diff(weights.indptr), weights.shape[0], analyzer)
        self.weights = weights

    @classmethod
    def build(cls, texts: list[str], analyzer: Analyzer | None = None) -> "Bm25Index":
        """The index of `texts`, whose terms `analyzer` makes (default: one whose compound parts
        are words of `texts`)."""
        analyzer = analyzer if analyzer is not None else Analyzer.from_texts(texts)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            toks = analyzer.terms(text)
            lengths[i] = len(toks)
            counts: dict[int, int] = {}
            for t in toks:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                rows.append(i)
                cols.append(j)
                tfs.append(c)
        return cls.from_counts(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
                               np.array(tfs, dtype=np.float32), lengths, vocab, analyzer)  # fmt: skip

    @classmethod
    def from_counts(
        cls, rows: np.ndarray, cols: np.ndarray, tfs: np.ndarray, lengths: np.ndarray, vocab: dict[str, int],
        analyzer: Analyzer | None = None,
    ) -> "Bm25Index":
        """The index from (passage row, term id, term count) triples and token counts per passage;
        `build` tokenizes texts into these, the benchmark makes them for synthetic corpora."""
        n = len(lengths)
        tf = sp.csc_matrix((np.asarray(tfs, dtype=np.float32), (rows, cols)), shape=(n, len(vocab)))
        df = np.diff(tf.indptr).astype(np.float32)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        tf = tf.tocoo()
        norm = K1 * (1 - B + B * lengths[tf.row] / max(avgdl, 1e-9))
        w = idf[tf.col] * tf.data * (K1 + 1) / (tf.data + norm)
        weights = sp.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        return cls(weights, vocab, analyzer)

    def scores(self, question: str) -> tuple[np.ndarray, np.ndarray, int]:
        """(passage rows with a score > 0, their BM25 scores, number of query terms matched)."""
        terms = self.query_terms(question)
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0
        return (*self.sum_postings(terms), len(terms))

    def sum_postings(self, terms: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and summed weights of the union of the terms' posting lists (CSC columns);
        only the postings are read (merge_postings)."""
        w = self.weights
        spans = [(w.indptr[j], w.indptr[j + 1]) for j in terms]
        return merge_postings([w.indices[a:b] for a, b in spans], [w.data[a:b] for a, b in spans], w.shape[0])

    def rarest_postings(self, terms: list[str]) -> set[int]:
        """Rows containing the rarest of `terms` that the index knows (empty set if none)."""
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        if not ids:
            return set()
        indptr = self.weights.indptr
        j = min(ids, key=lambda k: indptr[k + 1] - indptr[k])
        return set(self.weights.indices[indptr[j] : indptr[j + 1]].tolist())


def merge_postings(rows: list[np.ndarray], weights: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, summed weights) of posting lists given as (rows, weights) arrays, one pair per
    term, over n passages: the one merge of both stores (the PostgreSQL store fetches the lists,
    the embedded one slices them from its matrix), so their scores are the same numbers.

    Merged by sorting (cost ~ m log m for m postings); once the postings reach a third of the
    passages, summing into a dense vector (cost ~ n, ~10 ms at 1M) is cheaper and is used
    instead (measured with bench/, section "lexical").
    """
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if len(rows) == 1:
        return np.asarray(rows[0], dtype=np.int64), np.asarray(weights[0], dtype=np.float32)
    all_rows = np.concatenate(rows).astype(np.int64, copy=False)
    data = np.concatenate(weights)
    if len(all_rows) * DENSE_MERGE_FACTOR >= n:
        summed = np.bincount(all_rows, weights=data, minlength=n)
        hit = np.flatnonzero(summed)
        return hit.astype(np.int64), summed[hit].astype(np.float32)
    uniq, inverse = np.unique(all_rows, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inverse, weights=data, minlength=len(uniq)).astype(np.float32)
