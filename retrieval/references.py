"""Recognise legal references in a question ("art. 43 Vw", "artikel 45 lid 4", "C2/3.2 Vc",
"WBV 2022/22", "1F", "Kamerstuk 19 637, nr. 3018", "p. 3 nota") and find the passages that
are, or cite, them (ReferenceIndex).

Aliases of documents live in `aliases.yaml` beside this file (data, not code).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

import yaml

from indexer.analysis import tokenize
from indexer.passage import DocumentMeta, Passage
from indexer.text import fold

ORDINALS = {
    "eerste": "1", "tweede": "2", "derde": "3", "vierde": "4", "vijfde": "5", "zesde": "6",
    "zevende": "7", "achtste": "8", "negende": "9", "tiende": "10", "elfde": "11", "twaalfde": "12",
}  # fmt: skip

# Match strengths: the passage IS the reference > it is in the named part > it mentions it.
EXACT, PART, MENTION = 3, 2, 1


@dataclass(frozen=True)
class Reference:
    kind: str  # article | vc | wbv | kamerstuk | page
    article: str = ""
    lid: str = ""
    point: str = ""
    law: str = ""  # alias key from aliases.yaml, '' when the question names none
    code: str = ""  # C2/3.2, 2022/22, "19637/3018", page number
    text: str = ""  # the words of the question that made this reference

    def label(self) -> str:
        return self.text


@lru_cache(maxsize=1)
def aliases() -> dict[str, dict]:
    """law key -> {names: [...], title_contains: [...]} from aliases.yaml."""
    data = yaml.safe_load((Path(__file__).with_name("aliases.yaml")).read_text(encoding="utf-8"))
    return data["laws"]


def _law_pattern() -> str:
    names = sorted({n for law in aliases().values() for n in law["names"]}, key=len, reverse=True)
    return "|".join(re.escape(n) for n in names)


def _law_key(name: str) -> str:
    f = fold(name).rstrip(".")
    for key, law in aliases().items():
        if any(fold(n).rstrip(".") == f for n in law["names"]):
            return key
    return ""


_ORD = "|".join(ORDINALS)


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern]:
    law = _law_pattern()
    return {
        "article": re.compile(
            rf"\b(?:art(?:ikel|icle)?\.?)\s*(?P<art>\d+(?:\.\d+)?[a-z]?)(?![\w/])"
            rf"(?P<sec>[A-F](?![\w]))?"
            rf"(?:\s*\((?P<par>\d+)\))?"
            rf"(?:,?\s*(?:(?P<lidn>\d+)(?:e|ste|de)?\s+lid|lid\s+(?P<lid>\d+)|(?P<ord>{_ORD})\s+lid|paragraph\s+(?P<pg>\d+)))?"
            rf"(?:,?\s*(?:aanhef\s+en\s+)?(?:onder|sub|point)\s+\(?(?P<pt>[a-z])\)?)?"
            rf"(?:,?\s*(?:van\s+(?:de|het)\s+)?(?P<law>{law})\b)?",
            re.IGNORECASE,
        ),
        "onef": re.compile(r"(?<![\w/.])1\s?\(?F\)?(?![\w])"),
        "vc": re.compile(r"\b(?P<code>[A-C]\d{1,2}/\d+(?:\.\d+)*)(?![\w/])"),
        "wbv": re.compile(r"\bWBV\s*(?P<code>\d{4}/\d+)", re.IGNORECASE),
        "kamerstuk": re.compile(
            r"\b(?:kamerstuk(?:ken)?\s*(?:II\s*)?(?:\d{4}/\d{2},?\s*)?)?(?P<dossier>\d{2}\s?\d{3}),?\s*nr\.?\s*(?P<nr>\d+)",
            re.IGNORECASE,
        ),
        "page": re.compile(r"\b(?:p\.|pag\.|pagina|page)\s*(?P<page>\d{1,4})\b", re.IGNORECASE),
        "law_alone": re.compile(rf"(?<![\w])(?P<law>{law})(?![\w])", re.IGNORECASE),
    }


def parse_references(question: str) -> list[Reference]:
    """All references named in the question, in order of appearance."""
    p = _patterns()
    refs: list[tuple[int, Reference]] = []
    covered: list[tuple[int, int]] = []
    for m in p["article"].finditer(question):
        lid = m.group("lid") or m.group("lidn") or m.group("pg") or m.group("par") or ORDINALS.get(
            (m.group("ord") or "").lower(), ""
        )
        art, section = m.group("art"), m.group("sec") or ""
        if art[-1].isupper():  # "1F": article 1, section F (article letters are lower case: 43a)
            art, section = art[:-1], art[-1]
        law = _law_key(m.group("law")) if m.group("law") else ""
        if not law:  # "art. 43 ... Vw" elsewhere in the question still names the law
            rest = p["law_alone"].search(question, m.end()) or p["law_alone"].search(question)
            law = _law_key(rest.group("law")) if rest else ""
        if section == "F" and not law and art == "1":
            law = "vluchtelingenverdrag"
        refs.append((m.start(), Reference("article", art, section or lid, m.group("pt") or "", law, text=m.group(0).strip())))
        covered.append(m.span())
    for m in p["onef"].finditer(question):
        if not any(a <= m.start() < b for a, b in covered):
            refs.append((m.start(), Reference("article", "1", "F", "", "vluchtelingenverdrag", text=m.group(0))))
    for m in p["vc"].finditer(question):
        refs.append((m.start(), Reference("vc", law="vc", code=m.group("code"), text=m.group(0))))
    for m in p["wbv"].finditer(question):
        refs.append((m.start(), Reference("wbv", code=m.group("code"), text=m.group(0))))
    for m in p["kamerstuk"].finditer(question):
        dossier = m.group("dossier").replace(" ", "")
        refs.append((m.start(), Reference("kamerstuk", code=f"{dossier}/{m.group('nr')}", text=m.group(0))))
    for m in p["page"].finditer(question):
        rest = p["law_alone"].search(question, m.end())
        law = _law_key(rest.group("law")) if rest else ""
        refs.append((m.start(), Reference("page", law=law, code=m.group("page"), text=m.group(0))))
    return [r for _, r in sorted(refs, key=lambda x: x[0])]


def _doc_is(p: Passage, law: str) -> bool:
    if not law or p.meta is None:
        return not law
    return document_is(p.meta.title, p.meta.doc_id, law)


@lru_cache(maxsize=4096)
def document_is(title: str, doc_id: str, law: str) -> bool:
    """Whether the document with this title / id is (a text of) `law` (aliases.yaml)."""
    hay = fold(f"{title} {doc_id}")
    return any(fold(t) in hay for t in aliases().get(law, {}).get("title_contains", []))


_ARTICLE_WORD = re.compile(r"\b(?:artikel|article|art\.)\s*$")
_AFTER_NUMBER = re.compile(r"[\w.]")


def _cites_article(lower_text: str, article: str) -> bool:
    """'artikel 31', 'art. 31', 'article 31' in the text (not 'artikel 310' or 'art. 31.2').
    Finds the number with str.find and checks the word before it: a regex over the whole
    passage tried an alternation at every word boundary and cost ten times more."""
    i = lower_text.find(article)
    while i >= 0:
        end = i + len(article)
        if not (end < len(lower_text) and _AFTER_NUMBER.match(lower_text, end)) and _ARTICLE_WORD.search(
            lower_text, max(0, i - 12), i
        ):
            return True
        i = lower_text.find(article, i + 1)
    return False


def _mentions_article(text: str, ref: Reference) -> bool:
    """The text cites the article (with the lid when given), e.g. 'artikel 45, vierde lid, Vw'.

    Searched in the lower-cased text: folding diacritics costs ten times more and matters only
    for a law name with accents (then the folded text is searched as well)."""
    f = text.lower()
    art = re.escape(ref.article.lower())
    if not _cites_article(f, ref.article.lower()) and not (
        ref.lid == "F" and re.search(rf"\b{art}\s?\(?f\)?(?!\w)", f)
    ):
        return False
    if ref.lid and not (ref.lid == "F"):
        ordinal = next((w for w, n in ORDINALS.items() if n == ref.lid), "")
        lid_pat = rf"(?:lid\s+{ref.lid}\b|{ordinal}\s+lid|\({ref.lid}\))" if ordinal else rf"lid\s+{ref.lid}\b"
        if not re.search(lid_pat, f):
            return False
    if ref.law:
        names = [fold(n) for n in aliases()[ref.law]["names"]]
        if not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", f) for n in names):
            if f.isascii():
                return False
            f = fold(text)
            if not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", f) for n in names):
                return False
    return True


def match_strength(ref: Reference, p: Passage) -> int:
    """How well passage `p` answers reference `ref`: EXACT, PART, MENTION or 0."""
    if ref.kind == "article":
        if p.article and p.article.lower() == ref.article.lower() and _doc_is(p, ref.law):
            if ref.lid and p.lid and p.lid != ref.lid:
                return MENTION if _mentions_article(p.text, ref) else 0
            if ref.point and p.point and ref.point not in _point_range(p.point):
                return PART
            return EXACT if (ref.lid == p.lid or not ref.lid) else PART
        return MENTION if _mentions_article(p.text, ref) else 0
    if ref.kind == "vc":
        code = ref.code.lower()
        if _doc_is(p, "vc") and _in_vc_paragraph(code, fold(p.section)):
            return EXACT
        if p.meta and _restates_vc_paragraph(code, fold(p.meta.title), fold(p.section)):
            return EXACT
        return MENTION if _names_vc_code(code, fold(p.text)) else 0
    if ref.kind == "wbv":
        pat = rf"wbv\s*{re.escape(ref.code)}(?!\d)"
        ident = fold(p.meta.identifier) if p.meta else ""
        if re.search(pat, ident):
            return EXACT
        return MENTION if re.search(pat, fold(p.text)) else 0
    if ref.kind == "kamerstuk":
        dossier, nr = ref.code.split("/")
        d_pat = rf"{dossier[:2]}\s?{dossier[2:]}"
        ident = fold(p.meta.identifier) if p.meta else ""
        if re.search(d_pat, ident) and re.search(rf"nr\.?\s*{nr}\b", ident):
            return EXACT
        return MENTION if re.search(rf"{d_pat},?\s*nr\.?\s*{nr}\b", fold(p.text)) else 0
    if ref.kind == "page":
        if p.pages and int(ref.code) in p.pages and (not ref.law or _doc_is(p, ref.law)):
            return EXACT
        return 0
    return 0


def _in_vc_paragraph(code: str, section: str) -> bool:
    """Whether a section path lies in Vc paragraph `code` ("c3/2", "c7/21.1", "c2/3.2").

    Either the path names the code itself ("C2/3.2 Artikel 29 ..."), or a heading names the
    chapter ("C3 Moratoria", "C7/21 ...") and a deeper heading starts with the paragraph
    number ("2 Besluitmoratorium", "21.1 Besluitmoratorium").
    """
    if re.search(rf"(?<![\w/]){re.escape(code)}(?![\w]|[./]\d)", section):
        return True
    chapter, _, number = code.partition("/")
    parts = [s.strip() for s in section.split(" > ")]
    has_chapter = any(re.match(rf"{re.escape(chapter)}(?:[\s/]|$)", s) for s in parts)
    return has_chapter and _a_heading_starts_with(number, parts)


def _a_heading_starts_with(number: str, headings: list[str]) -> bool:
    """A heading of the path starts with the paragraph number ("2.13. Het geven ...", "21.1 ...")."""
    return any(re.match(rf"{re.escape(number)}\.?(?:\s|$)", h) for h in headings)


def _names_vc_code(code: str, folded_text: str) -> bool:
    """'c1/2.13' as a whole code in the text (not c1/2.130, c1/2.13.1 or xc1/2.13)."""
    return re.search(rf"(?<![\w/]){re.escape(code)}(?![\w/]|\.\d)", folded_text) is not None


def _restates_vc_paragraph(code: str, title: str, section: str) -> bool:
    """A document that amends the Vc and names the paragraph in its title ("WBV 2023/3 -
    wijziging Vreemdelingencirculaire 2000, C1/2.13") restates it under a heading that starts
    with the paragraph number ("2.13. Het geven van de beschikking")."""
    if not _names_vc_code(code, title):
        return False
    return _a_heading_starts_with(code.partition("/")[2], [s.strip() for s in section.split(" > ")])


def _point_range(point: str) -> str:
    """'a-c' -> 'abc'; 'b' -> 'b'."""
    if "-" in point and len(point) == 3:
        a, b = point.split("-")
        return "".join(chr(c) for c in range(ord(a), ord(b) + 1))
    return point


class Postings(Protocol):
    def rarest_postings(self, terms: list[str]) -> set[int]: ...


class ReferenceIndex:
    """Which passages are (or cite) a reference, and how well (match_strength).

    Only plausible rows are tested: passages of the named article or page, passages of
    documents whose identifier names the reference, and passages whose text holds the
    reference's rarest term (a posting list of the lexical index), not every passage.
    """

    def __init__(self, passages: Sequence[Passage], documents: Mapping[str, DocumentMeta], postings: Postings):
        self.passages = passages
        self.documents = documents
        self.postings = postings
        self._by_article: dict[str, set[int]] = {}
        self._by_page: dict[int, set[int]] = {}
        self._by_doc: dict[str, set[int]] = {}
        for i, p in enumerate(passages):
            if p.article:
                self._by_article.setdefault(p.article.lower(), set()).add(i)
            for pg in p.pages:
                self._by_page.setdefault(pg, set()).add(i)
            self._by_doc.setdefault(p.doc_id, set()).add(i)
        self._law_documents: dict[str, set[int]] = {}  # law -> rows of its documents
        self._law_mentions: dict[str, set[int]] = {}  # law -> rows that name it

    def rows(self, refs: Iterable[Reference]) -> dict[int, int]:
        """Row -> match strength for the passages that are or cite `refs`."""
        return self.found(refs)[0]

    def found(self, refs: Iterable[Reference]) -> tuple[dict[int, int], list[Reference]]:
        """(row -> match strength for the passages that are or cite `refs`, the references that no
        passage of the corpus is exactly: "art. 3.37 Vb" when the corpus holds the VV's)."""
        out: dict[int, int] = {}
        missing: list[Reference] = []
        for ref in refs:
            rows: set[int] = set()
            if ref.kind == "article":
                by_article = self._by_article.get(ref.article.lower(), set())
                terms = [ref.article + ref.lid.lower()] if ref.lid == "F" else []
                terms += tokenize(ref.article)
                if ref.law:
                    # the article in a document of that law, or a mention, which must name the
                    # law: rows of the same article number in other laws are not tested
                    named = self._law_mention_rows(ref.law)
                    rows |= by_article & (self._law_document_rows(ref.law) | named)
                    rows |= self.postings.rarest_postings(terms) & named
                    terms = []
                else:
                    rows |= by_article
            elif ref.kind == "page":
                rows |= self._by_page.get(int(ref.code), set())
                terms = []
            else:
                code = ref.code.replace("/", " ")
                terms = tokenize(code)
                for doc_id, (ident, title) in self._document_terms.items():
                    # an amending document names the Vc paragraph in its title (WBV 2023/3: C1/2.13)
                    if any(t in ident for t in terms) or (ref.kind == "vc" and terms and all(t in title for t in terms)):
                        rows |= self._by_doc.get(doc_id, set())
            rows |= self.postings.rarest_postings(terms)
            exact = False
            for i in rows:
                s = match_strength(ref, self.passages[i])
                exact = exact or s >= EXACT
                if s > out.get(i, 0):
                    out[i] = s
            if not exact:
                missing.append(ref)
        return out, missing

    @cached_property
    def _document_terms(self) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
        """Per document, the terms of its identifier and of its title; made once, on first use."""
        return {
            doc_id: (frozenset(tokenize(meta.identifier)), frozenset(tokenize(meta.title)))
            for doc_id, meta in self.documents.items()
        }

    def _law_document_rows(self, law: str) -> set[int]:
        """Rows of the documents that are (texts of) `law`; computed once per law."""
        if law not in self._law_documents:
            rows: set[int] = set()
            for doc_id, meta in self.documents.items():
                if document_is(meta.title, doc_id, law):
                    rows |= self._by_doc.get(doc_id, set())
            self._law_documents[law] = rows
        return self._law_documents[law]

    def _law_mention_rows(self, law: str) -> set[int]:
        """Rows whose text, section or document title holds a name of `law` (aliases.yaml)."""
        if law not in self._law_mentions:
            rows: set[int] = set()
            for name in aliases().get(law, {}).get("names", []):
                rows |= self.postings.rarest_postings(tokenize(name))
            self._law_mentions[law] = rows
        return self._law_mentions[law]

    # ------------------------------------------------------------------ references not in the corpus

    def suggest(self, ref: Reference, limit: int = 3) -> list[str]:
        """Existing references near a missing one, as an officer writes them ("art. 3.37 VV"):
        the same article in another law, the article without its lid or point, the nearest
        article numbers of the law, or the nearest Vc paragraphs."""
        if ref.kind == "article":
            return self._suggest_article(ref, limit)
        if ref.kind == "vc":
            codes = self._vc_codes
            chapter = ref.code.split("/")[0].upper()
            same = [c for c in codes if c.split("/")[0].upper() == chapter] or codes
            return [f"{c} Vc" for c in sorted(same, key=lambda c: (-_shared_prefix(c.lower(), ref.code.lower()), c))[:limit]]
        if ref.kind in ("wbv", "kamerstuk"):
            pattern = _IDENTIFIERS[ref.kind]
            return [m.group(0) for meta in self.documents.values() for m in [pattern.search(meta.identifier)] if m][:limit]
        return []

    @cached_property
    def _articles(self) -> dict[str, set[str]]:
        """Law key ('' when no alias names it) -> the article numbers its passages hold."""
        by_law: dict[str, set[str]] = {}
        laws = {doc_id: next((k for k in aliases() if document_is(m.title, doc_id, k)), "")
                for doc_id, m in self.documents.items()}  # fmt: skip
        for p in self.passages:
            if p.article:
                by_law.setdefault(laws.get(p.doc_id, ""), set()).add(p.article)
        return by_law

    def _suggest_article(self, ref: Reference, limit: int) -> list[str]:
        articles = self._articles
        out: list[str] = []
        if ref.law in articles and ref.article in articles[ref.law]:  # the article is here, its lid or point not
            out.append(_article_label(ref.article, ref.law))
        out += [_article_label(ref.article, law) for law in sorted(articles) if law != ref.law and ref.article in articles[law]]
        laws = [ref.law] if ref.law in articles else sorted(articles)
        near = sorted(((abs(_number(a) - _number(ref.article)), a, law) for law in laws for a in articles[law]
                       if a != ref.article), key=lambda x: (x[0], x[1]))  # fmt: skip
        out += [_article_label(a, law) for _, a, law in near]
        return list(dict.fromkeys(out))[:limit]

    @cached_property
    def _vc_codes(self) -> list[str]:
        """The Vc paragraph codes the section headings of the corpus name (C2/3.2, C7/21.1, ...)."""
        found: dict[str, None] = {}
        for p in self.passages:
            for m in _VC_CODE.finditer(p.section):
                found.setdefault(m.group(0), None)
        return list(found)


_VC_CODE = re.compile(r"\b[A-C]\d{1,2}/\d+(?:\.\d+)*")
_IDENTIFIERS = {  # how a document's identifier names it, as an officer cites it
    "wbv": re.compile(r"\bWBV\s*\d{4}/\d+"),
    "kamerstuk": re.compile(r"\b\d{2}\s?\d{3},\s*nr\.\s*\d+"),
}


def _article_label(article: str, law: str) -> str:
    """'art. 3.37 VV': the article with the law's first name in aliases.yaml."""
    name = aliases().get(law, {}).get("names", [""])[0] if law else ""
    return f"art. {article} {name}".strip()


def _number(article: str) -> float:
    """An article number as a number for nearness ('43a' -> 43, '3.37' -> 3.37)."""
    m = re.match(r"\d+(?:\.\d+)?", article)
    return float(m.group(0)) if m else 0.0


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n
