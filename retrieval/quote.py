"""The quote: the sentence(s) of a passage that best match the question, as a verbatim
substring of the passage text with its character offsets (for highlighting)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from indexer.analysis import tokenize

# A sentence ends at . ; ! ? followed by white space and an upper-case letter, digit,
# bullet or bracket, or at a line break (list items, lid/point lines).
_BOUNDARY = re.compile(r"(?<=[.;!?:])\s+(?=[A-Z(„\"'*•\u00C0-\u00DD])|\n+")
# "1. Bij besluit", "a. de aanvraag", "F. The provisions": an enumerator, not a sentence end
_ENUMERATOR = re.compile(r"(?:^|\n)\s*(?:\d{1,2}|[a-zA-Z]|\d+°|\(\w{1,3}\))[.)]$")
MAX_QUOTE = 400  # characters: two short sentences, or one long one


@dataclass(frozen=True)
class Quote:
    text: str
    start: int
    end: int


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of `text`, trimmed of surrounding white space."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.group(0)[0] != "\n" and _ENUMERATOR.search(text, 0, m.start()):
            continue
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out = []
    for a, b in spans:
        seg = text[a:b]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if b - trail > a + lead:
            out.append((a + lead, b - trail))
    return out


def best_quote(
    question: str, text: str, idf: dict[str, float] | None = None, terms: Callable[[str], list[str]] = tokenize
) -> Quote:
    """The window of one or two consecutive sentences sharing the most (idf-weighted) stemmed
    terms with the question; the first sentence when nothing is shared (e.g. an English
    question over a Dutch passage). `terms` makes a text's terms: the index's own analyzer
    (Bm25Index.tokens, with compound parts) so the quote shows what the lexical side matched."""
    spans = sentences(text)
    if not spans:
        return Quote(text, 0, len(text))
    q_terms = set(terms(question))
    weight = (lambda t: idf.get(t, 1.0)) if idf else (lambda t: 1.0)
    sent_terms = [set(terms(text[a:b])) for a, b in spans]
    best, best_score = (0, 0), 0.0
    for i in range(len(spans)):
        for j in (i, i + 1):
            if j >= len(spans):
                continue
            a, b = spans[i][0], spans[j][1]
            if j > i and b - a > MAX_QUOTE:
                continue
            shared = (sent_terms[i] | sent_terms[j]) & q_terms
            score = sum(weight(t) for t in shared)
            score -= 0.01 * (j - i) + 1e-4 * math.log1p(b - a)  # prefer the shorter window on ties
            if score > best_score:
                best, best_score = (i, j), score
    a, b = spans[best[0]][0], spans[best[1]][1]
    return Quote(text[a:b], a, b)
