"""A glossary of the corpus for new officers, built deterministically from the passages:

1. abbreviations defined in parentheses after their expansion, "besluit- en vertrekmoratorium
   (BVM)" (the Schwartz–Hearst rule: the letters of the abbreviation occur in order in the
   words before it, the first one at a word start);
2. all-caps tokens ("DT&V", "WBV"), except runs of capitals (a shouted heading) and roman
   numerals;
3. a curated list in data (retrieval/glossary.yaml) for terms whose meaning the corpus does not
   spell out (Vw, Vc, 1F, spoor 2, ambtsbericht, ...).

Each term comes with the passage that defines it or, failing that, the first passage that
uses it, in the order the passages are given. A term needs a meaning to help a new officer: an
abbreviation that the corpus only uses and the curated list does not explain (a political party,
a broadcaster) is left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import yaml

from indexer.passage import Passage

CURATED = Path(__file__).with_name("glossary.yaml")

# An abbreviation in parentheses: capitals (with & / . - and digits after the first letter).
_PAREN_ABBR = re.compile(r"\(([A-Z][A-Za-z0-9&./-]{1,9})\)")
# An all-caps token: two or more capitals, '&' allowed between them (DT&V).
_CAPS = re.compile(r"(?<![\w&])[A-Z](?:&?[A-Z])+(?![\w&])")
_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")  # a well-formed numeral
_CLAUSE_END = re.compile(r"[().;:!?\[\]]")
MAX_CAPS_LETTERS = 8  # longer all-caps words are shouted words, not abbreviations
EXTRA_WORDS = 5  # an expansion has at most len(abbreviation) + this many words


@dataclass(frozen=True)
class Definition:
    """An abbreviation and its expansion as written in a text; start/end span both."""

    term: str
    expansion: str
    start: int
    end: int


@dataclass
class Entry:
    """One glossary term: its expansion from the corpus and/or the curated list, and the
    passage that defines it (`defines`) or first uses it, with the span to highlight."""

    term: str
    expansion: str = ""  # as written in the corpus ("" when the corpus does not spell it out)
    curated: str = ""  # the curated meaning from glossary.yaml ("" when not curated)
    passage: Passage | None = None
    span: tuple[int, int] | None = None
    defines: bool = False
    uses: int = 0  # passages that use the term
    documents: set[str] = field(default_factory=set)

    @property
    def origin(self) -> str:
        """'corpus' (defined in a passage), 'curated', or 'usage' (only used, never spelled out)."""
        if self.expansion:
            return "corpus"
        return "curated" if self.curated else "usage"


def long_form(abbr: str, before: str) -> str | None:
    """The expansion of `abbr` at the end of `before` (the text up to the parenthesis), or None.

    Schwartz & Hearst (2003): walk the abbreviation's letters right to left, finding each in
    the preceding words right to left; the first letter must begin a word.
    """
    letters = [c.lower() for c in abbr if c.isalnum()]
    if len(letters) < 2:
        return None
    clause = _CLAUSE_END.split(before)[-1]
    words = clause.split()
    window = " ".join(words[-(len(letters) + EXTRA_WORDS):])
    if not window:
        return None
    li = len(window) - 1
    for si in range(len(letters) - 1, -1, -1):
        c = letters[si]
        while li >= 0 and (window[li].lower() != c or (si == 0 and li > 0 and window[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
    start = window.rfind(" ", 0, li + 1) + 1
    expansion = window[start:].strip()
    if len(expansion) <= len(abbr) or abbr.lower() in expansion.lower().split():
        return None
    return expansion


def definitions(text: str) -> list[Definition]:
    """Every 'expansion (ABBR)' in `text`."""
    out = []
    for m in _PAREN_ABBR.finditer(text):
        abbr = m.group(1)
        expansion = long_form(abbr, text[: m.start()])
        if expansion:
            start = text.rfind(expansion, 0, m.start())
            out.append(Definition(abbr, expansion, start, m.end()))
    return out


def caps_tokens(text: str) -> list[tuple[str, int, int]]:
    """All-caps abbreviations in `text` with their span, leaving out runs of capitalised words
    (a heading in capitals) and roman numerals."""
    found = list(_CAPS.finditer(text))
    out = []
    for i, m in enumerate(found):
        token = m.group(0)
        letters = token.replace("&", "")
        if len(letters) > MAX_CAPS_LETTERS or _ROMAN.match(token):
            continue
        prev_word = re.search(r"(\S+)\s*$", text[: m.start()])
        next_word = re.match(r"\s*(\S+)", text[m.end():])
        if any(w and _is_shouted(w.group(1)) for w in (prev_word, next_word)):
            continue
        out.append((token, m.start(), m.end()))
    return out


_SHOUTED = re.compile(r"^[A-Z][A-Z'’-]+[,.:;!?]?$")  # a whole word in capitals (not "(TOELT)" or "C2")


def _is_shouted(word: str) -> bool:
    return bool(_SHOUTED.match(word))


@dataclass(frozen=True)
class CuratedTerm:
    term: str
    expansion: str
    forms: tuple[re.Pattern, ...]
    defined_by: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def load_curated(path: Path = CURATED) -> tuple[CuratedTerm, ...]:
    """The curated terms; a ValueError names the file and the entry that is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for i, raw in enumerate(data.get("terms") or []):
        if not isinstance(raw, dict) or not raw.get("term") or not raw.get("forms"):
            raise ValueError(f"{path}: terms[{i}] needs 'term' and 'forms' (a list of regular expressions)")
        flags = re.IGNORECASE if raw.get("ignore_case") else 0
        try:
            forms = tuple(re.compile(f, flags) for f in raw["forms"])
        except re.error as exc:
            raise ValueError(f"{path}: terms[{i}] ({raw['term']}): bad regular expression: {exc}") from None
        out.append(CuratedTerm(str(raw["term"]), str(raw.get("expansion") or ""), forms,
                               tuple(raw.get("defined_by") or ())))  # fmt: skip
    return tuple(out)


def build_glossary(passages: Iterable[Passage], curated: Iterable[CuratedTerm] | None = None) -> list[Entry]:
    """The glossary of `passages` (scanned in the order given), sorted by term.

    A curated term that no passage uses is left out: the glossary describes this corpus.
    """
    curated = tuple(load_curated() if curated is None else curated)
    entries: dict[str, Entry] = {}
    by_key: dict[str, str] = {}  # case-folded term -> the spelling first seen

    def entry(term: str) -> Entry:
        key = by_key.setdefault(term.casefold(), term)
        return entries.setdefault(key, Entry(term=key))

    for c in curated:
        entry(c.term).curated = c.expansion
    for p in passages:
        if p.kind == "heading":
            continue
        text = p.text
        seen_here: set[str] = set()
        for d in definitions(text):
            e = entry(d.term)
            if not e.defines:
                e.expansion, e.passage, e.span, e.defines = d.expansion, p, (d.start, d.end), True
            seen_here.add(e.term)
        for token, a, b in caps_tokens(text):
            e = entry(token)
            if e.passage is None:
                e.passage, e.span = p, (a, b)
            seen_here.add(e.term)
        for c in curated:
            e = entry(c.term)
            span = next(((m.start(), m.end()) for f in c.forms for m in [f.search(text)] if m), None)
            if span is None:
                continue
            seen_here.add(e.term)
            if not e.defines:
                for phrase in c.defined_by:
                    k = text.find(phrase)
                    if k >= 0:
                        e.passage, e.span, e.defines = p, (k, k + len(phrase)), True
                        break
            if e.passage is None:
                e.passage, e.span = p, span
        for term in seen_here:
            entries[term].uses += 1
            entries[term].documents.add(p.doc_id)
    return sorted((e for e in entries.values() if e.passage is not None and e.origin != "usage"),
                  key=lambda e: e.term.casefold())  # fmt: skip
