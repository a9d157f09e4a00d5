"""The passage: a piece of a document with its exact provenance.

Every layer (index, retrieval, rules, app) passes a Passage on unchanged; nobody re-derives
its page or locator.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

# Shorter passages outside articles (a letterhead, a date line) and lone headings are never
# shown as answers; a short lid of an article is.
MIN_ANSWER_CHARS = 80


@dataclass(frozen=True)
class DocumentMeta:
    """Metadata of one source document (front matter, PDF info or sidecar YAML)."""

    doc_id: str
    title: str
    file: str  # path as given on the command line's corpus dir + relative name
    doctype: str = ""
    date: str | None = None  # ISO date
    valid_from: str | None = None
    valid_until: str | None = None
    status: str = ""  # as the source says (e.g. "superseded"); "" = not stated
    language: str = ""
    source: str = ""
    completeness: str = ""  # e.g. "selected articles only" -> shown as "partial text"
    identifier: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def validity_window(self) -> tuple[dt.date | None, dt.date | None] | None:
        """(first, last day) on which the text can be shown as valid policy, None for an open
        end; None when it is valid on no date. From valid_from (else its date) through
        valid_until inclusive; a document marked superseded without both dates is valid on none.
        Every store filters on this window (the embedded one in Python, PostgreSQL in SQL)."""
        if self.status and self.status.lower() == "superseded" and not (self.valid_from and self.valid_until):
            return None
        start = _iso(self.valid_from) or _iso(self.date)
        return start, _iso(self.valid_until)

    def valid_on(self, on: dt.date) -> bool:
        """Whether `on` falls within the validity window."""
        window = self.validity_window()
        return window is not None and (window[0] is None or window[0] <= on) and (window[1] is None or on <= window[1])


def _iso(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


@dataclass(frozen=True)
class Passage:
    """A citable piece of text.

    `char_start`/`char_end` index into the extracted text of `pages[0]` (PDF; a scanned page's
    text as OCR read it), into the document body after the front matter (text files) or into
    the plain text of a Word document. `text` is the passage as prose (line breaks inside
    paragraphs joined with a space); every word of it is verbatim.
    """

    doc_id: str
    seq: int  # order within the document
    text: str
    pages: tuple[int, ...] = ()
    section: str = ""  # section path, e.g. "3. Kernpunten > Huidige besluit- en vertrekmoratorium"
    article: str = ""  # e.g. "43" (legislation)
    lid: str = ""  # e.g. "1"
    point: str = ""  # e.g. "a" (sub-point of a lid), or "a-c" for a group
    kind: str = "paragraph"  # paragraph | list | table | footnote | heading | article
    char_start: int = 0
    char_end: int = 0
    footnotes: tuple[str, ...] = ()  # footnote numbers this passage cites
    # the part's own validity, inside the document's: a repealed or later inserted article of a
    # consolidated law (BWB XML); None = the document's
    valid_from: str | None = None
    valid_until: str | None = None
    ocr: bool = False  # read by OCR from a scanned page: the officer checks it against the original
    meta: DocumentMeta | None = field(default=None, compare=False)

    def validity_window(self) -> tuple[dt.date | None, dt.date | None] | None:
        """The document's validity window (DocumentMeta.validity_window) narrowed to the part's
        own dates; None when the passage is valid on no date."""
        window = self.meta.validity_window() if self.meta is not None else (None, None)
        if window is None:
            return None
        start, end = window
        own_start, own_end = _iso(self.valid_from), _iso(self.valid_until)
        if own_start is not None and (start is None or own_start > start):
            start = own_start
        if own_end is not None and (end is None or own_end < end):
            end = own_end
        if start is not None and end is not None and end < start:
            return None
        return start, end

    def valid_on(self, on: dt.date) -> bool:
        """Whether `on` falls within the passage's validity window."""
        window = self.validity_window()
        return window is not None and (window[0] is None or window[0] <= on) and (window[1] is None or on <= window[1])

    @property
    def can_answer(self) -> bool:
        """Whether the passage can stand alone as an answer (see MIN_ANSWER_CHARS)."""
        return self.kind != "heading" and (bool(self.article) or len(self.text) >= MIN_ANSWER_CHARS)

    @property
    def passage_id(self) -> str:
        return f"{self.doc_id}#{self.seq}"

    @property
    def page(self) -> int | None:
        return self.pages[0] if self.pages else None

    @property
    def locator(self) -> str:
        """Article/lid/point locator, e.g. 'art. 43 lid 1 onder a' ('' if none)."""
        if not self.article:
            return ""
        out = f"art. {self.article}"
        if self.lid.isalpha() and self.lid.isupper():  # convention sections: art. 1F
            out += self.lid
        elif self.lid:
            out += f" lid {self.lid}"
        if self.point:
            out += f" onder {self.point}"
        return out

    @property
    def citation(self) -> str:
        """The reference an officer would write, e.g. 'Vreemdelingenwet 2000, art. 43 lid 1'."""
        title = self.meta.title if self.meta else self.doc_id
        title = short_title(title)
        parts = [title]
        if self.pages:
            if len(self.pages) > 1:
                parts.append(f"p. {self.pages[0]}-{self.pages[-1]}")
            else:
                parts.append(f"p. {self.pages[0]}")
        if self.locator:
            parts.append(self.locator)
        elif self.section:
            parts.append(self.section.split(" > ")[0])
        if self.kind == "footnote" and self.footnotes:
            parts.append(f"voetnoot {self.footnotes[0]}")
        return ", ".join(parts)


def short_title(title: str) -> str:
    """Document title without its sub-title after an em dash ('Vreemdelingenwet 2000 — art...')."""
    for sep in (" — ", " – "):
        if sep in title:
            return title.split(sep)[0].strip()
    return title.strip()


# How both stores keep a passage: one row of these columns (pages and footnotes as JSON lists).
PASSAGE_COLUMNS = ("doc_id", "seq", "text", "pages", "section", "article", "lid", "point", "kind", "char_start",
                   "char_end", "footnotes", "valid_from", "valid_until", "ocr")  # fmt: skip
# the columns a store written before a column was added may lack, with the value they stand for
# (a build from before OCR holds no OCR text)
OPTIONAL_COLUMNS = {"valid_from": None, "valid_until": None, "ocr": False}


def passage_row(p: Passage) -> tuple:
    """The values of PASSAGE_COLUMNS for `p`."""
    return (p.doc_id, p.seq, p.text, json.dumps(list(p.pages)), p.section, p.article, p.lid, p.point, p.kind,
            p.char_start, p.char_end, json.dumps(list(p.footnotes)), p.valid_from, p.valid_until, p.ocr)  # fmt: skip


def passage_from_row(row: dict, meta: DocumentMeta | None) -> Passage:
    """The Passage of a stored row (column -> value); absent optional columns take their default."""
    values = {**OPTIONAL_COLUMNS, **row}
    return Passage(
        doc_id=values["doc_id"], seq=values["seq"], text=values["text"], pages=tuple(json.loads(values["pages"])),
        section=values["section"], article=values["article"], lid=values["lid"], point=values["point"],
        kind=values["kind"], char_start=values["char_start"], char_end=values["char_end"],
        footnotes=tuple(json.loads(values["footnotes"])), valid_from=values["valid_from"],
        valid_until=values["valid_until"], ocr=bool(values["ocr"]), meta=meta,
    )  # fmt: skip
