"""A rule's source (document file, page or article/lid, verbatim phrase) -> the indexed passage
that holds it, so a trace step opens the same in-context view as a chat answer.

The phrase is matched inside the passages of the named document, ignoring white space,
hyphens and case (PDF text joins lines differently than the rule file). A phrase that runs
on into the next passage is found in the pair and quoted in the first. When the phrase is
found in a section heading, the section's first passage stands in (HEADING_MATCH); else the
first passage at the cited page or article/lid (PLACE_MATCH).
None: the document is not in the index, or the source is outside the corpus.
"""
from __future__ import annotations

import datetime as dt
import weakref
from typing import Any, Mapping, Protocol, Sequence

from indexer.passage import Passage
from indexer.text import squeeze
from retrieval.hits import Hit
from retrieval.validity import passage_status_on

PHRASE_MATCH = 1.0  # Hit.score: the phrase was found verbatim in the passage
HEADING_MATCH = 0.8  # Hit.score: the phrase is a section heading; the section's first passage
PLACE_MATCH = 0.5  # Hit.score: not found; the passage at the cited page or article/lid

class HasPassages(Protocol):
    """The indexed corpus (retrieval.library.Library) or anything else that lists its passages."""

    passages: Sequence[Passage]


class _DocText:
    """One document's passages in order, each squeezed once."""

    def __init__(self, passages: list[Passage]):
        self.passages = sorted(passages, key=lambda p: p.seq)
        self.squeezed = [squeeze(p.text) for p in self.passages]


_CACHE: "weakref.WeakKeyDictionary[Any, dict[str, _DocText]]" = weakref.WeakKeyDictionary()


def _documents(corpus: HasPassages) -> dict[str, _DocText]:
    """File name -> its passages (cached per library: a build's passages never change)."""
    try:
        cached = _CACHE.get(corpus)
    except TypeError:  # not weak-referenceable: no cache
        cached = None
    if cached is not None:
        return cached
    by_file: dict[str, list[Passage]] = {}
    for p in corpus.passages:
        name = (p.meta.file if p.meta else "") or p.doc_id
        by_file.setdefault(name.rsplit("/", 1)[-1], []).append(p)
    docs = {name: _DocText(ps) for name, ps in by_file.items()}
    try:
        _CACHE[corpus] = docs
    except TypeError:
        pass
    return docs


def document_indexed(corpus: HasPassages, document: str | None) -> bool:
    """Whether the file `document` (a name as rules cite it) has passages in the index."""
    return bool(document) and document.rsplit("/", 1)[-1] in _documents(corpus)


def find_source_passage(
    corpus: HasPassages, source: Mapping[str, Any], on: dt.date | None = None
) -> Hit | None:
    """The passage a source cites, as a Hit with the phrase as its quote; None when the source
    is outside the corpus or its document is not indexed (or has no passage at that place).

    `source` is a rule source as in RuleResult.to_dict(): document, page or article/lid, phrase.
    `on` sets the status shown (default today).
    """
    if not source or source.get("in_corpus") is False or not source.get("document"):
        return None
    doc = _documents(corpus).get(str(source["document"]).rsplit("/", 1)[-1])
    if doc is None:
        return None
    phrase = source.get("phrase") or ""
    found = _find_phrase(doc, phrase, _place_filter(source)) if phrase else None
    if found is not None:
        passage, start, end = found
        return _hit(passage, PHRASE_MATCH, start, end, on)
    passage = _under_heading(doc, phrase, _place_filter(source)) if phrase else None
    if passage is not None:
        return _hit(passage, HEADING_MATCH, 0, 0, on)
    passage = _at_place(doc, source)
    return _hit(passage, PLACE_MATCH, 0, 0, on) if passage is not None else None


def _place_filter(source: Mapping[str, Any]):
    """A test for passages at the cited place; phrase matches there are preferred."""
    pages = set(source.get("pages") or ([source["page"]] if source.get("page") else []))
    article, lid = str(source.get("article") or ""), str(source.get("lid") or "")

    def at_place(p: Passage) -> bool:
        if pages and not pages & set(p.pages):
            return False
        if article and p.article != article:
            return False
        if lid and p.lid and p.lid != lid:
            return False
        return True

    return at_place


def _find_phrase(doc: _DocText, phrase: str, at_place) -> tuple[Passage, int, int] | None:
    """(passage, start, end) of `phrase` in one passage, else across two neighbours (quoted in
    the first); a match at the cited place wins over one elsewhere in the document."""
    needle, _ = squeeze(phrase)
    if not needle:
        return None
    matches: list[tuple[Passage, int, int]] = []
    for i, (p, (hay, where)) in enumerate(zip(doc.passages, doc.squeezed)):
        k = hay.find(needle)
        if k >= 0:
            matches.append((p, where[k], where[k + len(needle) - 1] + 1))
            continue
        if i + 1 < len(doc.passages):
            # The phrase begins in this passage and ends in the next one.
            nxt = doc.squeezed[i + 1][0]
            joined = hay + nxt
            k = joined.find(needle)
            if 0 <= k < len(hay) and k + len(needle) > len(hay):
                matches.append((p, where[k], len(p.text)))
    if not matches:
        return None
    return next((m for m in matches if at_place(m[0])), matches[0])


def _under_heading(doc: _DocText, phrase: str, at_place) -> Passage | None:
    """The first passage of the section whose heading holds `phrase` (a heading is part of the
    passages' section path, not of their text)."""
    needle, _ = squeeze(phrase)
    found = [p for p in doc.passages if p.kind != "heading"
             and any(needle in squeeze(part)[0] for part in p.section.split(" > "))]  # fmt: skip
    return next((p for p in found if at_place(p)), found[0] if found else None)


def _at_place(doc: _DocText, source: Mapping[str, Any]) -> Passage | None:
    """The first passage on the cited page, or of the cited article (and lid)."""
    page = source.get("page")
    article, lid = str(source.get("article") or ""), str(source.get("lid") or "")
    if article:
        in_article = [p for p in doc.passages if p.article == article]
        with_lid = [p for p in in_article if lid and p.lid == lid]
        chosen = with_lid or in_article
        return chosen[0] if chosen else None
    if page:
        on_page = [p for p in doc.passages if page in p.pages and p.kind != "heading"]
        return on_page[0] if on_page else None
    return None


def _hit(passage: Passage, score: float, start: int, end: int, on: dt.date | None) -> Hit:
    return Hit(
        passage=passage, score=score, dense=None, lexical=None, quote=passage.text[start:end],
        quote_start=start, quote_end=end, reference_match=0, status=passage_status_on(passage, on), on=on,
    )  # fmt: skip


def trace_passages(corpus: HasPassages, result: Mapping[str, Any], on: dt.date | None = None) -> dict[int, Hit]:
    """Step number -> the indexed passage of that trace step's source (steps whose source is
    not in the index are left out). `result` is RuleResult.to_dict()."""
    out: dict[int, Hit] = {}
    for step in result.get("trace") or []:
        hit = find_source_passage(corpus, step.get("source") or {}, on)
        if hit is not None:
            out[int(step["step"])] = hit
    return out
