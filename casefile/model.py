"""What a case file holds: the question, the passages as shown to the officer and the rule checks
run for it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable

from retrieval.hits import Hit, SearchResult
from retrieval.measures import for_document


@dataclass
class CitedPassage:
    """A passage as shown to the officer: citation, text, the quote highlighted in it, the status of
    its text and, when the corpus states it, the period of the measure it describes."""

    citation: str
    text: str
    quote: str = ""
    status: str = ""
    title: str = ""
    measure: str = ""  # e.g. 'BVM Russische dienstplichtigen: van 29-06-2022 tot 29-06-2023'

    @classmethod
    def from_hit(cls, hit: Hit) -> "CitedPassage":
        p = hit.passage
        m = for_document(p.doc_id)
        return cls(p.citation, p.text, hit.quote, hit.status, p.meta.title if p.meta else p.doc_id,
                   m.period_text() if m else "")  # fmt: skip


@dataclass
class RuleCheck:
    """A rule check as shown: the result, the indexed passage of each step's source (step
    number -> citation; absent = not in the index), and the facts pre-filled from the question."""

    result: dict
    step_passages: dict[int, str] = field(default_factory=dict)
    prefilled: dict[str, str] = field(default_factory=dict)  # fact -> the words it came from


@dataclass
class CaseFile:
    question: str | None = None
    on: dt.date | None = None  # the 'policy in force on' date of the search, if any
    passages: list[CitedPassage] = field(default_factory=list)
    checks: list[RuleCheck] = field(default_factory=list)
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now().replace(microsecond=0))
    case_number: str = ""  # the V-nummer the officer types for the export; never stored by the app

    @classmethod
    def from_search(cls, result: SearchResult | None, question: str | None = None,
                    checks: Iterable[RuleCheck] = ()) -> "CaseFile":  # fmt: skip
        """The case of one chat answer: its question, its passages in the order shown, its checks."""
        if result is None:
            return cls(question=question, checks=list(checks))
        return cls(question=question or result.question, on=result.on,
                   passages=[CitedPassage.from_hit(h) for h in result.hits], checks=list(checks))  # fmt: skip
