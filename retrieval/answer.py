"""The answer line: one short answer above the passages, built only from corpus text.

It is the quote of the passage that leads the answer (the sentence or two that share the most
weighted terms with the question: retrieval.quote), verbatim, with its citation, in a fixed
template; no generated wording. A question the corpus does not answer (confidence `none`) has
none. When a rule computes what the question asks (the period in which the BVM applies), the
line gives the rule's result and names the rule, whose trace cites the same passage.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from retrieval.hits import Hit


@dataclass(frozen=True)
class Answer:
    """The answer line: `quote` is a verbatim substring of the text of hit `passage`."""

    text: str  # the line as shown
    quote: str
    passage: int  # index into the result's passages
    citation: str
    rule: dict | None = None  # {"id", "title", ...} when a rule computed the answer

    def to_dict(self) -> dict:
        out = {"text": self.text, "quote": self.quote, "passage": self.passage, "citation": self.citation}
        if self.rule is not None:
            out["rule"] = self.rule
        return out


def quote_answer(hits: Sequence[Hit], confidence: str) -> Answer | None:
    """The leading passage's quote as the answer line; None without passages or confidence."""
    if confidence == "none" or not hits:
        return None
    hit = hits[0]
    quote = hit.passage.text[hit.quote_start : hit.quote_end] if hit.quote_end > hit.quote_start else hit.quote
    if not quote.strip():
        return None
    citation = hit.passage.citation
    return Answer(f"“{quote}” ({citation})", quote, 0, citation)
