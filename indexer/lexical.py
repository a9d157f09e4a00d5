"""Lexical side: Dutch-stemmed tokens and a BM25 inverted index (sparse term -> postings).

The BM25 weight of every (term, passage) pair is computed at build time, so a query only
sums the posting lists of its terms: no scan over all passages.

Dutch writes compounds as one word (terugkeerproces, asielaanvraag), so a question's
"terugkeerpraktijk" shares no term with a passage's "terugkeerproces". The index splits a
compound into two words of its own corpus (see Decompounder) and adds them as extra terms,
on the passage side and the question side alike; the whole word stays a term too.
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
# Merge posting lists with a dense accumulator once postings x this factor reach the passage
# count; below that, by sorting. Set from bench/ (python -m bench), section "lexical".
DENSE_MERGE_FACTOR = 3
# Bump when the terms the index holds change (tokenizing, stemming, compound splitting), so
# indexer.build writes the lexical index again although no document changed.
LEXICAL_VERSION = 2
WORDS_FILE = "lexical_words.json"  # corpus word frequencies for the Decompounder

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
    return analyze(text)


class Decompounder:
    """Splits a Dutch compound into two words of the corpus (Koehn & Knight, 2003).

    A word is split at the point where both parts are corpus words of at least MIN_PART
    letters (the first part may drop a linking -s-: dienst(s)|weigering), choosing the split with the
    highest geometric mean of the parts' corpus frequencies, and only when that mean is higher
    than the frequency of the word itself: a word the corpus uses more often than its parts
    (vertrekmoratorium) is a term of its own. Measured with retrieval.evaluate on both
    evaluation sets: lexical-only MRR 0.705 -> 0.735 and 0.595 -> 0.621, hybrid English
    R@5 0.889 -> 0.926, held-out hybrid MRR 0.613 -> 0.634, no question lost.
    """

    MIN_PART = 4

    def __init__(self, freq: dict[str, int]):
        self.freq = freq
        self._memo: dict[str, tuple[str, str] | None] = {}

    @classmethod
    def from_texts(cls, texts: list[str]) -> "Decompounder":
        freq: dict[str, int] = {}
        for text in texts:
            for w in _TOKEN.findall(fold(text)):
                if len(w) >= cls.MIN_PART and w.isalpha():
                    freq[w] = freq.get(w, 0) + 1
        return cls(freq)

    def split(self, word: str) -> tuple[str, str] | None:
        """(modifier, head) of a folded word, or None when it is not a compound of corpus words."""
        if word in self._memo:
            return self._memo[word]
        best, best_score = None, float(self.freq.get(word, 0))
        m = self.MIN_PART
        if len(word) >= 2 * m and word.isalpha():
            for i in range(m, len(word) - m + 1):
                tail = self.freq.get(word[i:], 0)
                if not tail or word[i:] in STOPWORDS:
                    continue
                head = word[:i]
                for h in (head, head[:-1]) if head.endswith("s") and len(head) > m else (head,):
                    if h in STOPWORDS:  # onder|zoek is not a compound of "onder"
                        continue
                    score = (self.freq.get(h, 0) * tail) ** 0.5
                    if score > best_score:
                        best, best_score = (h, word[i:]), score
        if len(self._memo) < 100_000:  # questions are open-ended: keep the memo bounded
            self._memo[word] = best
        return best

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.freq, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "Decompounder":
        return cls(json.loads(path.read_text(encoding="utf-8")))


def analyze(text: str, decompounder: Decompounder | None = None) -> list[str]:
    """tokenize(text), followed by the stemmed parts of its compounds when a decompounder is given."""
    words = [w for w in _TOKEN.findall(fold(text)) if w not in STOPWORDS]
    if decompounder is not None:
        words += [part for w in words for part in (decompounder.split(w) or ())]
    return _stemmer().stemWords(words)


class Bm25Index:
    """BM25 over passages, stored as a CSC matrix [passages x terms] of precomputed weights."""

    def __init__(self, weights: sp.csc_matrix, vocab: dict[str, int], decompounder: Decompounder | None = None):
        self.weights = weights
        self.vocab = vocab
        self.decompounder = decompounder

    def tokens(self, text: str) -> list[str]:
        """The terms of `text` as this index sees them (stemmed words plus compound parts)."""
        return analyze(text, self.decompounder)

    @classmethod
    def build(cls, texts: list[str], word_texts: list[str] | None = None) -> "Bm25Index":
        """The index of `texts`; compound parts are words of `word_texts` (default: `texts`),
        so a heading repeated with every passage below it can be counted once."""
        decompounder = Decompounder.from_texts(texts if word_texts is None else word_texts)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            toks = analyze(text, decompounder)
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
                               np.array(tfs, dtype=np.float32), lengths, vocab, decompounder)  # fmt: skip

    @classmethod
    def from_counts(
        cls, rows: np.ndarray, cols: np.ndarray, tfs: np.ndarray, lengths: np.ndarray, vocab: dict[str, int],
        decompounder: Decompounder | None = None,
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
        return cls(weights, vocab, decompounder)

    def query_terms(self, question: str) -> list[int]:
        """Vocabulary ids of the question's terms that occur in the index (duplicates kept once)."""
        seen: list[int] = []
        for t in self.tokens(question):
            j = self.vocab.get(t)
            if j is not None and j not in seen:
                seen.append(j)
        return seen

    def scores(self, question: str) -> tuple[np.ndarray, np.ndarray, int]:
        """(passage rows with a score > 0, their BM25 scores, number of query terms matched)."""
        terms = self.query_terms(question)
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0
        return (*self._sum_postings(terms), len(terms))

    def _sum_postings(self, terms: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and summed weights of the union of the terms' posting lists (CSC columns).

        Only the postings are read. They are merged by sorting (cost ~ m log m for m postings);
        once they reach a third of the passages, summing the columns into a dense vector
        (cost ~ n, ~10 ms at 1M) is cheaper and is used instead (measured with bench/,
        section "lexical").
        """
        w = self.weights
        spans = [(w.indptr[j], w.indptr[j + 1]) for j in terms]
        if len(spans) == 1:
            a, b = spans[0]
            return w.indices[a:b].astype(np.int64), w.data[a:b].astype(np.float32)
        n = w.shape[0]
        if sum(b - a for a, b in spans) * DENSE_MERGE_FACTOR >= n:
            summed = np.asarray(w[:, terms].sum(axis=1)).ravel()
            hit = np.flatnonzero(summed)
            return hit.astype(np.int64), summed[hit].astype(np.float32)
        rows = np.concatenate([w.indices[a:b] for a, b in spans])
        data = np.concatenate([w.data[a:b] for a, b in spans])
        uniq, inverse = np.unique(rows, return_inverse=True)
        return uniq.astype(np.int64), np.bincount(inverse, weights=data, minlength=len(uniq)).astype(np.float32)

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
            n = self.weights.shape[0]
            df = np.diff(self.weights.indptr)
            self._idf_cache = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        return self._idf_cache

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
        values = self._idf_values()
        return {t: float(values[j]) for t, j in self.vocab.items()}

    def save(self, folder: Path) -> None:
        sp.save_npz(folder / "lexical.npz", self.weights)
        (folder / "lexical_vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        if self.decompounder is not None:
            self.decompounder.save(folder / WORDS_FILE)

    @classmethod
    def load(cls, folder: Path) -> "Bm25Index":
        """The saved index; one written before compound splitting (no WORDS_FILE) searches without it
        until the next build (indexer.build rewrites such an index, see LEXICAL_VERSION)."""
        weights = sp.load_npz(folder / "lexical.npz").tocsc()
        vocab = json.loads((folder / "lexical_vocab.json").read_text(encoding="utf-8"))
        words = folder / WORDS_FILE
        return cls(weights, vocab, Decompounder.load(words) if words.is_file() else None)
