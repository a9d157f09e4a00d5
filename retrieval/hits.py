"""The values a search returns: a Hit (a passage with its scores, quote and validity status) and
a SearchResult (the question, whether the corpus answers it, the hits and how they were found).
`to_dict()` gives the stable JSON of `python -m retrieval ask --json`."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from indexer.passage import Passage
from retrieval.measures import for_document
from retrieval.references import Reference
from retrieval.thesaurus import Match

if TYPE_CHECKING:
    from retrieval.answer import Answer
    from retrieval.fusion import Signals


@dataclass
class Hit:
    passage: Passage
    score: float
    dense: float | None
    lexical: float | None
    quote: str
    quote_start: int
    quote_end: int
    reference_match: int  # 0 none, 1 mentions, 2 in the named part, 3 is the reference
    status: str  # of the passage's text on `on` (retrieval.validity.status_on)
    on: dt.date | None = None  # the date the status is for (None: today)

    def to_dict(self) -> dict:
        p, m = self.passage, self.passage.meta
        return {
            "text": p.text,
            "quote": self.quote,
            "quote_start": self.quote_start,
            "quote_end": self.quote_end,
            "document_title": m.title if m else p.doc_id,
            "doc_id": p.doc_id,
            "file": m.file if m else "",
            "page": p.page,
            "pages": list(p.pages),
            "section": p.section,
            "locator": p.locator,
            "citation": p.citation,
            "score": round(float(self.score), 4),
            "dense_score": None if self.dense is None else round(float(self.dense), 4),
            "lexical_score": None if self.lexical is None else round(float(self.lexical), 4),
            "reference_match": self.reference_match,
            "status": self.status,  # of the text (retrieval.validity); when the measure applies: "measure"
            "measure": measure.to_dict(self.on) if (measure := for_document(p.doc_id)) else None,
            "valid_from": m.valid_from if m else None,
            "valid_until": m.valid_until if m else None,
            "completeness": m.completeness if m else "",
            "passage_id": p.passage_id,
            "char_start": p.char_start,
            "char_end": p.char_end,
            "ocr": p.ocr,  # read by OCR from a scanned page: check it against the original
        }


@dataclass(frozen=True)
class MissingReference:
    """A reference the question names that no passage of the corpus is, and existing ones near it."""

    reference: Reference
    suggestions: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"reference": self.reference.text, "suggestions": list(self.suggestions)}


@dataclass
class SearchResult:
    question: str
    answerable: bool
    hits: list[Hit]
    references: list[Reference] = field(default_factory=list)
    on: dt.date | None = None
    mode: str = "hybrid"
    timings: dict[str, float] = field(default_factory=dict)
    # thesaurus concepts whose corpus words the lexical side also searched for
    thesaurus: tuple[Match, ...] = ()
    # the states the question names, as written, when no document mentions any of them and the
    # best passage is about a foreign state (then it is not answerable, unless it names a reference)
    unknown_places: tuple[str, ...] = ()
    # what the confidence decision looked at (retrieval.fusion.confidence); not part of the JSON
    signals: Signals | None = field(default=None, repr=False, compare=False)
    confidence: str = "high"  # high | low | none (retrieval.fusion); answerable unless none
    answer: Answer | None = None  # the answer line (retrieval.answer)
    interpreted_as: str = ""  # the standalone question that was searched (a follow-up read in context)
    missing_references: tuple[MissingReference, ...] = ()

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "answerable": self.answerable,
            "on": self.on.isoformat() if self.on else None,
            "references": [r.text for r in self.references],
            "unknown_places": list(self.unknown_places),
            "confidence": self.confidence,
            "answer": self.answer.to_dict() if self.answer is not None else None,
            "interpreted_as": self.interpreted_as or self.question,
            "missing_references": [m.to_dict() for m in self.missing_references],
            "thesaurus": [
                {"concept": m.concept.label, "expression": m.expression, "terms": list(m.terms)}
                for m in self.thesaurus
            ],
            "passages": [h.to_dict() for h in self.hits],
        }
