"""Question -> ranked, cited, quoted passages. The one entry point for the CLI, the app and
the evaluation: `Retriever(index_dir).search(question, k, on)`.

Hybrid ranking: the dense score (cosine, min-max scaled over the candidates) plus the BM25
score (scaled by the best BM25 of the query) weighted by the share of the question's terms
that the lexical index knows. An English question over Dutch text matches few terms, so the
dense ranking stands; a Dutch question that shares the corpus' words gains from BM25. An
English question is searched on the lexical side with its Dutch words, a Dutch one with the
pivot synonyms of its words (retrieval/lexicon.py); both also with the corpus words of the
concepts whose everyday expressions they use ("weigeren te vechten" -> dienstweigering;
retrieval/thesaurus.py).
The candidate with the best cosine, and the one with the best BM25 score when the lexical side
knows at least half of the question's terms, are kept among the k shown where there is room
(keep_each_sides_best): a weighted sum can bury a passage that one side is sure of and the
other ranks deep. The fused best and the passages that are a named reference never give way.
References named in the question ("art. 43 Vw") rank the passages that are that reference first.
A question that names only states no document mentions ("... voor Jemen?") is not answerable
when its best passage is about a foreign state (retrieval/places.py); the nearest passages are
still listed.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer import dense
from indexer.encoders import Encoder, get_encoder
from indexer.lexical import LEXICAL_VERSION, Bm25Index, tokenize
from indexer.passage import Passage
from indexer.store import REBUILD_HINT, IndexError_, IndexReader
from retrieval.lexicon import LEXICON, build_lexical_query, default_lexicon
from retrieval.places import PLACES, default_gazetteer, unknown_places
from retrieval.quote import best_quote
from retrieval.references import EXACT, Reference, match_strength, parse_references
from retrieval.thesaurus import THESAURUS, Match, default_thesaurus
from retrieval.hits import Hit, SearchResult
from retrieval.library import Library
from retrieval.validity import status_on, valid_on

log = logging.getLogger(__name__)
MODES = ("hybrid", "dense", "lexical")
# Shorter passages outside articles (a letterhead, a date line) and lone headings are never
# shown as answers; a short lid of an article is.
MIN_ANSWER_CHARS = 80
CALIBRATION = Path(__file__).with_name("calibration.json")


def keep_each_sides_best(order: list[int], best: list[int], k: int, keep: set[int] = frozenset()) -> list[int]:
    """`order` with the items of `best` among its first k where there is room: one that is not
    there takes the place of the lowest-ranked item that is neither the first of `order`, nor in
    `best`, nor in `keep` (reference matches), and is put last of the k. The order is otherwise
    unchanged; with k = 1 it is `order` itself.

    Measured with retrieval.evaluate (hybrid R@5): Dutch 0.909 -> 0.922 on eval/questions.yaml
    (the passage dense-only ranked first was 7th after fusion), unchanged on the held-out set;
    R@1 and abstention are unaffected. Keeping the lexical best also for questions whose terms
    the index mostly does not know would add an English question (0.926 -> 0.963), but there the
    BM25 ranking is weak evidence, so it is not kept.
    """
    if k < 2 or not order:
        return order
    top = order[:k]
    for b in dict.fromkeys(best):
        if b in top:
            continue
        out = next((j for j in range(len(top) - 1, 0, -1) if top[j] not in best and top[j] not in keep), None)
        if out is None:
            continue
        top = top[:out] + top[out + 1 :] + [b]
    chosen = set(top)
    return top + [i for i in order if i not in chosen]


def background_vectors(folder: Path, encoder: Encoder) -> np.ndarray:
    """Embeddings of the general-domain background texts: saved with the build when it was made
    from the same background file, else encoded now (about 30 short texts)."""
    from indexer.background import BACKGROUND, background_sha, encode_background

    saved = folder / "background.npy"
    meta = folder / "background.sha256"
    if saved.is_file() and meta.is_file() and meta.read_text().strip() == background_sha():
        return np.load(saved)
    return encode_background(encoder) if BACKGROUND.is_file() else np.zeros((0, encoder.dim), np.float32)


class RetrievalError(RuntimeError):
    """The index cannot be used for search; the message says how to rebuild."""


def load_query_files() -> None:
    """Read the shipped lexicon, thesaurus and gazetteer; a file an operator broke is a
    RetrievalError that names it and says how to mend it, not a traceback on the first question."""
    for path, load in ((LEXICON, default_lexicon), (THESAURUS, default_thesaurus), (PLACES, default_gazetteer)):
        try:
            load()
        except (OSError, ValueError) as exc:
            raise RetrievalError(
                f"The query file {path} cannot be read ({' '.join(str(exc).split())}). Correct it, "
                f"or restore the shipped version (git checkout -- retrieval/{path.name})."
            ) from None


@dataclass(frozen=True)
class Params:
    """Fusion and abstention parameters, calibrated per model (see calibration.json)."""

    lexical_weight: float = 0.6  # weight of scaled BM25 at full term coverage
    coverage_power: float = 1.0  # coverage ** power scales the lexical weight
    dense_candidates: int = 100
    lexical_candidates: int = 100
    # Abstain unless the best passage is closer to the question than the nearest general-domain
    # background text (retrieval/background.yaml) by at least this cosine margin.
    min_margin: float = 0.0
    min_coverage_for_lexical_answer: float = 0.5  # lexical-only mode: share of terms matched

    @classmethod
    def calibrated(cls, model: str, path: Path = CALIBRATION) -> dict | None:
        """The values calibration.json holds for `model` (Params fields only); None without an entry."""
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        entry = data.get(model)
        return {k: v for k, v in entry.items() if k in cls.__dataclass_fields__} if entry else None

    @classmethod
    def for_model(cls, model: str) -> "Params":
        """The model's calibrated values, else the "default" entry's, else the field defaults."""
        return cls(**(cls.calibrated(model) or cls.calibrated("default") or {}))


class Retriever:
    """Holds the index and the encoder (loaded once per process); thread-safe `search`."""

    def __init__(self, index_dir: Path | str, encoder: Encoder | str | None = None):
        self.index_dir = Path(index_dir)
        hint = REBUILD_HINT.format(index=self.index_dir)
        try:
            self.reader = IndexReader(self.index_dir)
        except IndexError_ as exc:
            raise RetrievalError(str(exc)) from None
        manifest = self.reader.manifest
        if encoder is None:
            encoder = manifest.get("model_spec") or None
        self.encoder = encoder if not isinstance(encoder, str) and encoder is not None else get_encoder(encoder)
        if manifest.get("model") != self.encoder.name or manifest.get("dim") != self.encoder.dim:
            raise RetrievalError(
                f"The index in {self.index_dir} was built with model '{manifest.get('model')}' "
                f"(dim {manifest.get('dim')}), but the model in use is '{self.encoder.name}' (dim {self.encoder.dim}). "
                f"Use the same model (--model / BELEIDSWIJZER_MODEL) or rebuild: {hint.split(': ', 1)[1]} --model ..."
            )
        try:
            self.passages = self.reader.passages()
            self.dense_index = dense.load(self.reader.folder / "dense.faiss")
            self.lexical = Bm25Index.load(self.reader.folder)
            self.vectors = np.asarray(self.reader.vectors(), dtype=np.float32)
        except Exception as exc:  # any damage to the files means: rebuild
            raise RetrievalError(f"The index in {self.index_dir} is damaged ({type(exc).__name__}: {exc}). {hint}") from None
        if not (len(self.passages) == self.dense_index.ntotal == self.lexical.weights.shape[0] == len(self.vectors)):
            raise RetrievalError(f"The index in {self.index_dir} is inconsistent (passage counts differ). {hint}")
        # an index written before the current search terms (compound splitting) still works, with
        # the old terms, until the next build rewrites them; the Management page says so
        self.outdated_terms = manifest.get("lexical_version") != LEXICAL_VERSION
        if self.outdated_terms:
            log.warning(
                "The index in %s was built by an older version: its search terms lack compound splitting. "
                "Rebuild it (python -m indexer build, or 'Update the index' on the Management page); nothing is re-embedded.",
                self.index_dir,
            )
        self.library = Library(self.reader, self.passages)
        self.params = Params.for_model(self.encoder.name)
        load_query_files()  # read once, now, rather than on the first question
        self.background = background_vectors(self.reader.folder, self.encoder)
        self.gazetteer = default_gazetteer()
        self.states_in_corpus = self.gazetteer.in_corpus(self.lexical.vocab) if self.gazetteer else frozenset()
        self.idf = self.lexical.idf()
        self._law_rows_cache: dict[str, set[int]] = {}
        self._doc_terms: dict[str, tuple[frozenset[str], frozenset[str]]] | None = None
        self._rows_by_article: dict[str, set[int]] = {}
        self._rows_by_page: dict[int, set[int]] = {}
        self._rows_by_doc: dict[str, set[int]] = {}
        for i, p in enumerate(self.passages):
            if p.article:
                self._rows_by_article.setdefault(p.article.lower(), set()).add(i)
            for pg in p.pages:
                self._rows_by_page.setdefault(pg, set()).add(i)
            self._rows_by_doc.setdefault(p.doc_id, set()).add(i)
        self._answer_sized = [
            p.kind != "heading" and (bool(p.article) or len(p.text) >= MIN_ANSWER_CHARS) for p in self.passages
        ]
        self._lock = threading.Lock()
        # per-instance caches, so a reloaded index does not keep the old Retriever alive
        self._query_vector = lru_cache(maxsize=1024)(self._encode_query)
        self._allowed = lru_cache(maxsize=64)(self._allowed_rows)
        self._names_foreign_state = lru_cache(maxsize=4096)(self.gazetteer.names_foreign_state) if self.gazetteer else None

    def about_foreign_state(self, row: int) -> bool:
        """Whether the passage's document title or section heading names a state other than the
        Netherlands (the Russia note, Vc C7/21); looked up for a question's best passage only."""
        if self._names_foreign_state is None:
            return False
        p = self.passages[row]
        return self._names_foreign_state(p.meta.title if p.meta else "") or self._names_foreign_state(p.section or "")

    def _encode_query(self, question: str) -> np.ndarray:
        return self.encoder.encode_queries([question])[0]

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding; repeated questions come from a cache."""
        if getattr(self.encoder, "thread_safe", False):  # e.g. ONNX Runtime: concurrent runs are safe
            return self._query_vector(question)
        with self._lock:  # other encoders are not guaranteed thread-safe; FAISS search is
            return self._query_vector(question)

    def search(
        self, question: str, k: int = 5, on: dt.date | None = None, mode: str = "hybrid"
    ) -> SearchResult:
        """The k best passages for `question`, valid on `on` when given."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        question = question.strip()
        timings: dict[str, float] = {}
        t = time.perf_counter()
        refs = parse_references(question)
        allowed = self._allowed(on)
        P = self.params

        dense_scores: dict[int, float] = {}
        qv = None
        if mode in ("hybrid", "dense"):
            qv = self.query_vector(question)
            timings["encode"] = time.perf_counter() - t
            t = time.perf_counter()
            depth = P.dense_candidates if allowed is None else min(self.dense_index.ntotal, P.dense_candidates * 4)
            rows, scores = dense.search(self.dense_index, qv, max(depth, k))
            dense_scores = {int(r): float(s) for r, s in zip(rows, scores)}
            timings["dense"] = time.perf_counter() - t
            t = time.perf_counter()

        lex_scores: dict[int, float] = {}
        coverage = 0.0
        query = build_lexical_query(question, vocabulary=self.lexical.vocab)  # an English question: its Dutch words
        lq = query.text
        if mode in ("hybrid", "lexical"):
            rows, scores, _ = self.lexical.scores(lq)
            coverage = self.lexical.coverage(lq)
            if len(rows) > P.lexical_candidates:
                top = np.argpartition(-scores, P.lexical_candidates)[: P.lexical_candidates]
                rows, scores = rows[top], scores[top]
            lex_scores = {int(r): float(s) for r, s in zip(rows, scores)}
            timings["lexical"] = time.perf_counter() - t
            t = time.perf_counter()

        ref_rows = self._reference_rows(refs)

        candidates = {r for r in set(dense_scores) | set(lex_scores) | set(ref_rows) if self._answer_sized[r]}
        if allowed is not None:
            candidates &= allowed
        cand = np.array(sorted(candidates), dtype=np.int64)
        if qv is not None and len(cand):
            cos = self.vectors[cand] @ qv
            dense_scores = {int(r): float(c) for r, c in zip(cand, cos)}
        fused = self._fuse(cand, dense_scores, lex_scores, coverage, mode)
        rest = question
        for r in refs:
            rest = rest.replace(r.text, " ")
        if refs and not tokenize(rest):
            # a bare reference ("art. 43 Vw"): its passages in document order, lid 1 first
            order = sorted(range(len(cand)), key=lambda i: (-ref_rows.get(int(cand[i]), 0), int(cand[i])))
        else:
            order = sorted(range(len(cand)), key=lambda i: (-ref_rows.get(int(cand[i]), 0), -fused[i]))
            if mode == "hybrid" and len(cand):
                sides_best = [max(range(len(cand)), key=lambda i: dense_scores.get(int(cand[i]), -2.0))]
                lex_best = max(range(len(cand)), key=lambda i: lex_scores.get(int(cand[i]), 0.0))
                if lex_scores.get(int(cand[lex_best]), 0.0) > 0 and coverage >= P.min_coverage_for_lexical_answer:
                    sides_best.append(lex_best)
                order = keep_each_sides_best(order, sides_best, k, {i for i in order if ref_rows.get(int(cand[i]))})
        timings["fusion"] = time.perf_counter() - t
        t = time.perf_counter()

        hits: list[Hit] = []
        for i in order[:k]:
            row = int(cand[i])
            p = self.passages[row]
            q = best_quote(lq, p.text, self.idf, self.lexical.tokens)
            hits.append(
                Hit(
                    passage=p, score=float(fused[i]), dense=dense_scores.get(row), lexical=lex_scores.get(row),
                    quote=q.text, quote_start=q.start, quote_end=q.end, reference_match=ref_rows.get(row, 0),
                    status=status_on(p.meta, on),
                )  # fmt: skip
            )
        timings["quote"] = time.perf_counter() - t
        named_reference = any(h.reference_match >= EXACT for h in hits)  # answerable whatever else is named
        places = () if named_reference or not self.gazetteer else unknown_places(
            self.gazetteer.mentions(question), self.states_in_corpus
        )
        if places and not (order and self.about_foreign_state(int(cand[order[0]]))):
            places = ()  # the best passage is a general rule: the state named is incidental
        answerable = not places and self._answerable(hits, dense_scores, coverage, mode, qv)
        thesaurus = query.thesaurus if mode != "dense" else ()
        return SearchResult(question, answerable, hits, refs, on, mode, timings, thesaurus, places)

    def _fuse(
        self, cand: np.ndarray, dense_scores: dict[int, float], lex_scores: dict[int, float], coverage: float, mode: str
    ) -> np.ndarray:
        d = np.array([dense_scores.get(int(r), 0.0) for r in cand], dtype=np.float32)
        lx = np.array([lex_scores.get(int(r), 0.0) for r in cand], dtype=np.float32)
        if mode == "dense":
            return d
        lxn = lx / lx.max() if len(lx) and lx.max() > 0 else lx
        if mode == "lexical":
            return lxn
        dn = (d - d.min()) / (d.max() - d.min()) if len(d) and d.max() > d.min() else np.zeros_like(d)
        w = self.params.lexical_weight * coverage**self.params.coverage_power
        return dn + w * lxn

    def _answerable(
        self, hits: list[Hit], dense_scores: dict[int, float], coverage: float, mode: str, qv: np.ndarray | None
    ) -> bool:
        if not hits:
            return False
        if any(h.reference_match >= EXACT for h in hits):
            return True
        P = self.params
        if mode == "lexical":
            return coverage >= P.min_coverage_for_lexical_answer
        return qv is not None and self.margin(qv, dense_scores) >= P.min_margin

    def margin(self, qv: np.ndarray, dense_scores: dict[int, float]) -> float:
        """Best passage cosine minus best background cosine (> 0: closer to the corpus)."""
        top = max(dense_scores.values()) if dense_scores else -1.0
        return float(top - (self.background @ qv).max()) if len(self.background) else top

    def _allowed_rows(self, on: dt.date | None) -> frozenset[int] | None:
        if on is None:
            return None
        ok_docs = {d for d, m in self.reader.documents.items() if valid_on(m, on)}
        return frozenset(i for i, p in enumerate(self.passages) if p.doc_id in ok_docs)

    def _reference_rows(self, refs: list[Reference]) -> dict[int, int]:
        """Row -> match strength for the passages that are or cite `refs`.

        Only plausible rows are tested: passages of the named article or page, passages of
        documents whose identifier names the reference, and passages whose text holds the
        reference's rarest term (a posting list of the lexical index), not every passage.
        """
        out: dict[int, int] = {}
        for ref in refs:
            rows: set[int] = set()
            if ref.kind == "article":
                by_article = self._rows_by_article.get(ref.article.lower(), set())
                terms = [ref.article + ref.lid.lower()] if ref.lid == "F" else []
                terms += tokenize(ref.article)
                if ref.law:
                    # the article in a document of that law, or a mention, which must name the
                    # law: rows of the same article number in other laws are not tested
                    named = self._law_rows(ref.law)
                    rows |= by_article & (self._law_doc_rows(ref.law) | named)
                    rows |= self.lexical.rarest_postings(terms) & named
                    terms = []
                else:
                    rows |= by_article
            elif ref.kind == "page":
                rows |= self._rows_by_page.get(int(ref.code), set())
                terms = []
            else:
                code = ref.code.replace("/", " ")
                terms = tokenize(code)
                for doc_id, (ident, title) in self._document_terms().items():
                    # an amending document names the Vc paragraph in its title (WBV 2023/3: C1/2.13)
                    if any(t in ident for t in terms) or (ref.kind == "vc" and terms and all(t in title for t in terms)):
                        rows |= self._rows_by_doc.get(doc_id, set())
            rows |= self.lexical.rarest_postings(terms)
            for i in rows:
                s = match_strength(ref, self.passages[i])
                if s > out.get(i, 0):
                    out[i] = s
        return out

    def _document_terms(self) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        """Per document, the terms of its identifier and of its title; made once, on first use."""
        if self._doc_terms is None:
            self._doc_terms = {
                doc_id: (frozenset(tokenize(meta.identifier)), frozenset(tokenize(meta.title)))
                for doc_id, meta in self.reader.documents.items()
            }
        return self._doc_terms

    def _law_doc_rows(self, law: str) -> set[int]:
        """Rows of the documents that are (texts of) `law`; computed once per law."""
        from retrieval.references import document_is

        key = f"doc:{law}"
        if key not in self._law_rows_cache:
            rows: set[int] = set()
            for doc_id, meta in self.reader.documents.items():
                if document_is(meta.title, doc_id, law):
                    rows |= self._rows_by_doc.get(doc_id, set())
            self._law_rows_cache[key] = rows
        return self._law_rows_cache[key]

    def _law_rows(self, law: str) -> set[int]:
        """Rows whose text, section or document title holds a name of `law` (aliases.yaml)."""
        from retrieval.references import aliases

        if law not in self._law_rows_cache:
            rows: set[int] = set()
            for name in aliases().get(law, {}).get("names", []):
                rows |= self.lexical.rarest_postings(tokenize(name))
            self._law_rows_cache[law] = rows
        return self._law_rows_cache[law]

    def lookup(self, reference: str, limit: int = 20) -> tuple[list[Reference], list[Hit]]:
        """Passages that are (or cite) the references in `reference`, strongest first; no model needed."""
        refs = parse_references(reference)
        scored = sorted(((s, i) for i, s in self._reference_rows(refs).items()), key=lambda x: (-x[0], x[1]))
        hits = []
        for s, i in scored[:limit]:
            p = self.passages[i]
            q = best_quote(reference, p.text, self.idf, self.lexical.tokens)
            hits.append(Hit(p, float(s), None, None, q.text, q.start, q.end, s, status_on(p.meta)))
        return refs, hits
