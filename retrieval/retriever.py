"""Question -> ranked, cited, quoted passages. The one entry point for the CLI, the app and
the evaluation: `Retriever(location).search(question, k, on)`, where `location` is an index
folder or a PostgreSQL DSN (the store contract: indexer.contract).

`search` orchestrates the parts, each in its own module: a follow-up question read against
the conversation (retrieval.conversation), the store's dense and lexical search (the passages
nearest to the question's vector; the BM25 postings of its terms, indexer.lexical) with the question's lexical query (an English question's Dutch words, a Dutch
one's pivot synonyms: retrieval.lexicon; the corpus words of everyday expressions:
retrieval.thesaurus), the passages that are references the question names
(retrieval.references; a question that is only a reference shows that reference's passages, or
none and the nearest existing references), ranking and confidence (retrieval.fusion), the quote
of each passage (retrieval.quote), the states named that no document mentions
(retrieval.places) and the answer line (retrieval.answer).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.analysis import tokenize
from indexer.background import background_vectors
from indexer.encoders import Encoder, get_encoder
from indexer.text import fold
from indexer.contract import is_dsn
from indexer.store import IndexError_
from indexer.stores import open_store
from retrieval import fusion
from retrieval.answer import Answer, period_answer, quote_answer, rule_period
from retrieval.conversation import Reading, read, topic_words
from retrieval.fusion import MODES, Params, Signals
from retrieval.hits import Hit, MissingReference, SearchResult
from retrieval.lexicon import LEXICON, Lexicon, build_lexical_query, default_lexicon
from retrieval.library import Library
from retrieval.places import PLACES, Gazetteer, default_gazetteer, unknown_places
from retrieval.quote import best_quote
from retrieval.references import EXACT, Reference, ReferenceIndex, parse_references
from retrieval.sources import find_source_passage
from retrieval.thesaurus import THESAURUS, Thesaurus, default_thesaurus
from retrieval.validity import passage_status_on
from rules.suggest import asks_period, period_subject_words

log = logging.getLogger(__name__)
MAX_PERIOD_TOPIC = 1  # words besides the measure and its period in a question that asks only for the period


class RetrievalError(RuntimeError):
    """The index cannot be used for search; the message says how to rebuild."""


@dataclass(frozen=True)
class QueryFiles:
    """The data a question is read with: the English-Dutch lexicon, the thesaurus of everyday
    expressions and the gazetteer of states (each None when its file is absent)."""

    lexicon: Lexicon | None
    thesaurus: Thesaurus | None
    gazetteer: Gazetteer | None


def default_query_files() -> QueryFiles:
    """The shipped lexicon, thesaurus and gazetteer; a file an operator broke is a
    RetrievalError that names it and says how to mend it, not a traceback on the first question."""
    loaded = []
    for path, load in ((LEXICON, default_lexicon), (THESAURUS, default_thesaurus), (PLACES, default_gazetteer)):
        try:
            loaded.append(load())
        except (OSError, ValueError) as exc:
            raise RetrievalError(
                f"The query file {path} cannot be read ({' '.join(str(exc).split())}). Correct it, "
                f"or restore the shipped version (git checkout -- retrieval/{path.name})."
            ) from None
    return QueryFiles(*loaded)


class Retriever:
    """Holds the index and the encoder (loaded once per process); thread-safe `search`."""

    def __init__(self, location: Path | str, encoder: Encoder | str | None = None, files: QueryFiles | None = None):
        """`location`: an index folder (the embedded store) or a postgresql:// DSN."""
        self.location = str(location)
        self.index_dir = Path(location) if not is_dsn(location) else None
        try:
            self.store = open_store(location)
        except IndexError_ as exc:
            raise RetrievalError(str(exc)) from None
        reader = self.store
        if encoder is None:
            encoder = reader.manifest.get("model_spec") or None
        self.encoder = encoder if not isinstance(encoder, str) and encoder is not None else get_encoder(encoder)
        try:
            reader.check_model(self.encoder.name, self.encoder.dim)
            self.passages = reader.passages()
            self.lexical = reader.lexical_terms()
            saved_background = reader.background()
        except IndexError_ as exc:
            raise RetrievalError(str(exc)) from None
        # an index written before the current search terms (compound splitting) still works, with
        # the old terms, until the next build rewrites them; the Management page says so
        self.outdated_terms = reader.outdated_terms
        if self.outdated_terms:
            log.warning(
                "The index in %s was built by an older version: its search terms lack compound splitting. "
                "Rebuild it (python -m indexer build, or 'Update the index' on the Management page); nothing is re-embedded.",
                self.store.location,
            )
        self.library = Library(reader, self.passages)
        self.params = Params.for_model(self.encoder.name)
        files = files or default_query_files()  # read once, now, rather than on the first question
        self.lexicon, self.thesaurus, self.gazetteer = files.lexicon, files.thesaurus, files.gazetteer
        self.background = background_vectors(self.encoder, saved_background)
        self.states_in_corpus = self.gazetteer.in_corpus(self.lexical.vocab) if self.gazetteer else frozenset()
        self.idf = self.lexical.idf()
        self.references = ReferenceIndex(self.passages, self.library.metas(), self.store)
        self._can_answer = [p.can_answer for p in self.passages]
        self._lock = threading.Lock()
        # per-instance caches, so a reloaded index does not keep the old Retriever alive
        self._query_vector = lru_cache(maxsize=1024)(self._encode_query)
        self._allowed = lru_cache(maxsize=64)(self._allowed_rows)
        self._names_foreign_state = lru_cache(maxsize=4096)(self.gazetteer.names_foreign_state) if self.gazetteer else None

    # ------------------------------------------------------------------ the parts of a search

    def _encode_query(self, question: str) -> np.ndarray:
        return self.encoder.encode_queries([question])[0]

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding; repeated questions come from a cache."""
        if getattr(self.encoder, "thread_safe", False):  # e.g. ONNX Runtime: concurrent runs are safe
            return self._query_vector(question)
        with self._lock:  # other encoders are not guaranteed thread-safe; FAISS search is
            return self._query_vector(question)

    def clear_query_cache(self) -> None:
        """Forget cached query vectors, so a timed search includes encoding, as for a new question."""
        self._query_vector.cache_clear()

    def _dense_candidates(self, qv: np.ndarray, k: int, on: dt.date | None) -> dict[int, float]:
        """Row -> cosine of the passages nearest to the question (valid on `on`)."""
        rows, scores = self.store.dense_search(qv, max(self.params.dense_candidates, k), on)
        return {int(r): float(s) for r, s in zip(rows, scores)}

    def _lexical_candidates(self, lexical_query: str, on: dt.date | None) -> tuple[dict[int, float], float]:
        """(row -> BM25 score of the best-scoring passages valid on `on`, the question's term coverage)."""
        terms = self.lexical.query_terms(lexical_query)
        rows, scores = self.store.lexical_search(terms, self.params.lexical_candidates, on)
        return {int(r): float(s) for r, s in zip(rows, scores)}, self.lexical.coverage(lexical_query)

    def about_foreign_state(self, row: int) -> bool:
        """Whether the passage's document title or section heading names a state other than the
        Netherlands (the Russia note, Vc C7/21); looked up for a question's best passage only."""
        if self._names_foreign_state is None:
            return False
        p = self.passages[row]
        return self._names_foreign_state(p.meta.title if p.meta else "") or self._names_foreign_state(p.section or "")

    def _unknown_places(self, question: str, best_row: int | None) -> tuple[str, ...]:
        """The states the question names when no document mentions any of them and its best
        passage is about a foreign state; () otherwise (the state named is then incidental)."""
        if not self.gazetteer:
            return ()
        places = unknown_places(self.gazetteer.mentions(question), self.states_in_corpus)
        return places if places and best_row is not None and self.about_foreign_state(best_row) else ()

    def _hit(self, row: int, score: float, dense_score, lexical_score, reference_match: int,
             quote_with: str, on: dt.date | None) -> Hit:  # fmt: skip
        p = self.passages[row]
        q = best_quote(quote_with, p.text, self.idf, self.lexical.tokens)
        return Hit(passage=p, score=score, dense=dense_score, lexical=lexical_score, quote=q.text,
                   quote_start=q.start, quote_end=q.end, reference_match=reference_match,
                   status=passage_status_on(p, on), on=on)  # fmt: skip

    # ------------------------------------------------------------------ search

    def search(
        self, question: str, k: int = 5, on: dt.date | None = None, mode: str = "hybrid", history: Sequence[str] = ()
    ) -> SearchResult:
        """The k best passages for `question` (read against the earlier questions of the
        conversation, oldest first), valid on `on` when given."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        reading = read(question, history)
        question = reading.text
        timings: dict[str, float] = {}
        t = time.perf_counter()
        refs = parse_references(question)
        bare_reference = bool(refs) and not tokenize(_without(question, refs))
        allowed = self._allowed(on)

        dense_scores: dict[int, float] = {}
        qv = None
        if mode in ("hybrid", "dense"):
            qv = self.query_vector(question)
            timings["encode"] = time.perf_counter() - t
            t = time.perf_counter()
            dense_scores = self._dense_candidates(qv, k, on)
            timings["dense"] = time.perf_counter() - t
            t = time.perf_counter()

        # an English question: its Dutch words; a Dutch one: its pivot synonyms; both: thesaurus words
        query = build_lexical_query(question, self.lexicon, self.thesaurus, self.lexical.vocab)
        lex_scores: dict[int, float] = {}
        coverage = 0.0
        if mode in ("hybrid", "lexical"):
            lex_scores, coverage = self._lexical_candidates(query.text, on)
            timings["lexical"] = time.perf_counter() - t
            t = time.perf_counter()

        ref_rows, missing_refs = self.references.found(refs)
        # a question that is only a reference shows that reference's passages, nothing unrelated
        found = set(ref_rows) if bare_reference else set(dense_scores) | set(lex_scores) | set(ref_rows)
        candidates = {r for r in found if self._can_answer[r]}
        if allowed is not None:
            candidates &= allowed
        cand = np.array(sorted(candidates), dtype=np.int64)
        if qv is not None and len(cand):
            dense_scores = {int(r): float(c) for r, c in zip(cand, self.store.cosines(qv, cand))}
        order, fused = fusion.rank(
            fusion.scores_by_row(cand, dense_scores, 0.0), fusion.scores_by_row(cand, lex_scores, 0.0),
            np.array([ref_rows.get(int(r), 0) for r in cand], dtype=np.int64), coverage, mode, k, self.params,
            bare_reference=bare_reference,
        )  # fmt: skip
        timings["fusion"] = time.perf_counter() - t
        t = time.perf_counter()

        hits = [
            self._hit(int(cand[i]), float(fused[i]), dense_scores.get(int(cand[i])), lex_scores.get(int(cand[i])),
                      ref_rows.get(int(cand[i]), 0), query.text, on)
            for i in order[:k]
        ]  # fmt: skip
        timings["quote"] = time.perf_counter() - t
        exact = any(h.reference_match >= EXACT for h in hits)  # answerable whatever else is named
        top = max(dense_scores.values()) if dense_scores else -1.0
        in_cand = {int(r) for r in cand}
        signals = Signals(
            shown=len(hits), exact_reference=exact, coverage=coverage,
            margin=None if qv is None else fusion.margin(top, (self.background @ qv).max() if len(self.background) else None),
            unknown_places=() if exact else self._unknown_places(question, int(cand[order[0]]) if order else None),
            top_cosine=None if qv is None else top,
            agreement=fusion.agreement({r: v for r, v in dense_scores.items() if r in in_cand},
                                       {r: v for r, v in lex_scores.items() if r in in_cand}),
        )  # fmt: skip
        missing = [MissingReference(r, tuple(self.references.suggest(r))) for r in missing_refs]
        confidence = fusion.confidence(signals, mode, self.params)
        if missing and confidence == "high" and not exact:
            confidence = "low"  # the passages may fit the question's words, but they are not the reference named
        answer = quote_answer(hits, confidence)
        by_rule = None if missing or signals.unknown_places else self._period_answer(reading, hits, k, on)
        if by_rule is not None:  # a rule states when it applies, citing the passage shown with it
            hits, answer, confidence = *by_rule, "high"
        thesaurus = query.thesaurus if mode != "dense" else ()
        return SearchResult(
            reading.question, confidence != "none", hits, refs, on, mode, timings, thesaurus, signals.unknown_places,
            signals, confidence=confidence, answer=answer, interpreted_as=question, missing_references=tuple(missing),
        )  # fmt: skip

    def _period_answer(self, reading: Reading, hits: list[Hit], k: int, on: dt.date | None) -> tuple[list[Hit], Answer] | None:
        """For a question about when a rule applies ("Tot wanneer geldt het BVM?", or "En tot
        wanneer?" read against the turn before it): the hits with the passage that states the
        rule's end and the answer line with the rule's period; None for other questions or when
        that passage is not indexed. The passage is put first when it was not among the hits only
        for a question whose own words ask for the period alone: one that also asks more ("Met
        hoeveel tijd ... verlengen, en tot wanneer?") keeps the passages found for it."""
        rule_id = asks_period(reading.text)
        if rule_id is None:
            return None
        period = rule_period(rule_id)
        source = find_source_passage(self.library, period["source"], on)
        if source is None or (on is not None and not source.passage.valid_on(on)):
            return None
        index = next((i for i, h in enumerate(hits) if h.passage.passage_id == source.passage.passage_id), None)
        if index is None:
            if len(_other_topic(reading.question, rule_id)) > MAX_PERIOD_TOPIC:
                return None
            hits, index = [source, *hits[: k - 1]], 0
        return hits, period_answer(period, source, index)

    def _allowed_rows(self, on: dt.date | None) -> frozenset[int] | None:
        if on is None:
            return None
        return frozenset(i for i, p in enumerate(self.passages) if p.valid_on(on))

    def lookup(self, reference: str, limit: int = 20) -> tuple[list[Reference], list[Hit]]:
        """Passages that are (or cite) the references in `reference`, strongest first; no model needed."""
        refs = parse_references(reference)
        scored = sorted(((s, i) for i, s in self.references.rows(refs).items()), key=lambda x: (-x[0], x[1]))
        return refs, [self._hit(i, float(s), None, None, s, reference, None) for s, i in scored[:limit]]


def _other_topic(own: str, rule_id: str) -> list[str]:
    """The topic words of the officer's own question (not those a follow-up carries from the turn
    before it) that do not name the rule's subject or ask for its period: what else it asks."""
    named = [fold(w) for phrase in period_subject_words(rule_id) for w in phrase.split() if len(w) > 2]
    return [w for w in topic_words(own) if not any(fold(w).startswith(n) or n.startswith(fold(w)) for n in named)]


def _without(question: str, refs: list[Reference]) -> str:
    """The question with the words of its references taken out."""
    for r in refs:
        question = question.replace(r.text, " ")
    return question
