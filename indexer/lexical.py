"""Lexical side: Dutch-stemmed tokens and a BM25 inverted index (sparse term -> postings).

The BM25 weight of every (term, passage) pair is computed at build time, so a query only
sums the posting lists of its terms: no scan over all passages.
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import Stemmer

_TOKEN = re.compile(r"\w+", re.UNICODE)
K1 = 1.5  # BM25 term-frequency saturation (Robertson/Lucene default range 1.2-2.0)
B = 0.75  # BM25 length normalisation

# Function words that carry no meaning for retrieval (Dutch and English); kept short on purpose.
STOPWORDS = frozenset(
    """de het een en van in op te dat die is voor met zijn er aan als om door bij ook of dan
    niet wordt worden werd zij hij ze wat wie welke hoe waar deze dit naar over tot uit nog
    kan kunnen moet heeft hebben was waren mijn uw je jij ik we wij onder
    the a an and of in on to that is for with are be by as at or not it this what which who
    how where when does do did can was were from has have if""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("dutch")


def fold(text: str) -> str:
    """Lower-case and strip diacritics (Oekraïne -> oekraine) so spelling variants meet."""
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def tokenize(text: str) -> list[str]:
    """Folded, stemmed tokens without stopwords."""
    words = [w for w in _TOKEN.findall(fold(text)) if w not in STOPWORDS]
    return _stemmer().stemWords(words)


class Bm25Index:
    """BM25 over passages, stored as a CSC matrix [passages x terms] of precomputed weights."""

    def __init__(self, weights: sp.csc_matrix, vocab: dict[str, int]):
        self.weights = weights
        self.vocab = vocab

    @classmethod
    def build(cls, texts: list[str]) -> "Bm25Index":
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            toks = tokenize(text)
            lengths[i] = len(toks)
            counts: dict[int, int] = {}
            for t in toks:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            for j, c in counts.items():
                rows.append(i)
                cols.append(j)
                tfs.append(c)
        n = len(texts)
        tf = sp.csc_matrix((np.array(tfs, dtype=np.float32), (rows, cols)), shape=(n, len(vocab)))
        df = np.diff(tf.indptr).astype(np.float32)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n else 1.0
        tf = tf.tocoo()
        norm = K1 * (1 - B + B * lengths[tf.row] / max(avgdl, 1e-9))
        w = idf[tf.col] * tf.data * (K1 + 1) / (tf.data + norm)
        weights = sp.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)
        return cls(weights, vocab)

    def query_terms(self, question: str) -> list[int]:
        """Vocabulary ids of the question's terms that occur in the index (duplicates kept once)."""
        seen: list[int] = []
        for t in tokenize(question):
            j = self.vocab.get(t)
            if j is not None and j not in seen:
                seen.append(j)
        return seen

    def scores(self, question: str) -> tuple[np.ndarray, np.ndarray, int]:
        """(passage rows with a score > 0, their BM25 scores, number of query terms matched)."""
        terms = self.query_terms(question)
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0
        sub = self.weights[:, terms]
        summed = np.asarray(sub.sum(axis=1)).ravel()
        rows = np.flatnonzero(summed)
        return rows, summed[rows].astype(np.float32), len(terms)

    def matched_terms(self, question: str, row: int) -> int:
        """How many distinct query terms occur in passage `row`."""
        terms = self.query_terms(question)
        if not terms:
            return 0
        return int((self.weights[row, terms] > 0).sum())

    def n_query_terms(self, question: str) -> int:
        """Distinct content terms of the question (matched in the index or not)."""
        return len(set(tokenize(question)))

    def rarest_postings(self, terms: list[str]) -> set[int]:
        """Rows containing the rarest of `terms` that the index knows (empty set if none)."""
        ids = [self.vocab[t] for t in terms if t in self.vocab]
        if not ids:
            return set()
        indptr = self.weights.indptr
        j = min(ids, key=lambda k: indptr[k + 1] - indptr[k])
        return set(self.weights.indices[indptr[j] : indptr[j + 1]].tolist())

    def idf(self) -> dict[str, float]:
        """Inverse document frequency per term (for weighting quote sentences)."""
        n = self.weights.shape[0]
        df = np.diff(self.weights.indptr)
        values = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return {t: float(values[j]) for t, j in self.vocab.items()}

    def save(self, folder: Path) -> None:
        sp.save_npz(folder / "lexical.npz", self.weights)
        (folder / "lexical_vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Bm25Index":
        weights = sp.load_npz(folder / "lexical.npz").tocsc()
        vocab = json.loads((folder / "lexical_vocab.json").read_text(encoding="utf-8"))
        return cls(weights, vocab)
