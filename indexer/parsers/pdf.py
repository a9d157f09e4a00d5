"""PDF parser: pypdf text per page -> running headers dropped -> sections, paragraphs, lists and
footnotes -> passages.

Offsets: a passage's `char_start` indexes the raw text of its first page and `char_end` the raw
text of its last page, where "raw text" is `page_texts(path)[page - 1]`, i.e. pypdf's
`page.extract_text()` unchanged (running headers and footnotes still in it). For a passage on one
page, `page_texts(path)[page - 1][char_start:char_end]` is the passage with its original line
breaks; for a passage that crosses a page it starts at `char_start` on `pages[0]` and ends just
before `char_end` on `pages[-1]`.

Sections: numbered headings ("3. Kernpunten", "4.2 ...") and below them unnumbered or labelled
ones ("Advies 1: ...") make the path "3. Kernpunten > Advies 1: ..."; text before the first
heading is filed under the document title.

Layout comes from pypdf's text visitor (y position and font size per line): a vertical gap
separates paragraphs. Without positions the parser falls back to text-only rules.

Scanned pages: a page without a text layer is read by OCR (indexer.parsers.ocr); Tesseract's text
is then that page's raw text, which its passages' offsets index, and the passages on it are
marked `ocr`. A blank line in Tesseract's output separates paragraphs as a vertical gap does.
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, LimitReachedError

from indexer.parsers import DocumentParser, UnreadableDocument
from indexer.parsers.chunking import Block, Chunk, Piece, chunk_blocks
from indexer.parsers.frontmatter import make_meta, read_sidecar
from indexer.parsers.ocr import Ocr, OcrFailed, OcrUnavailable
from indexer.passage import DocumentMeta, Passage

log = logging.getLogger(__name__)

HEADING_MAX_CHARS = 80  # a heading line is shorter than this (a body line fills the width)
LABELLED_HEADING_MAX_CHARS = 300  # "Advies 2: ..." may wrap over a few lines
LABELLED_HEADING_MAX_LINES = 4
EDGE_LINES = 3  # running headers/footers sit in the first/last lines of a page
RUNNING_SHARE = 0.6  # a line on at least this share of the pages is a running element
GAP_FACTOR = 1.35  # line distance over this times the usual one = paragraph break
SHORT_LINE = 0.8  # a line under this share of a full line ends its paragraph (or is a heading)

_PAGE_NUMBER = re.compile(
    r"^(?:(?:pagina|page|blz\.?|bladzijde|p\.)\s*\d+(?:\s*(?:van|of|/)\s*\d+)?"
    r"|[-–—]?\s*\d{1,4}\s*[-–—]?|\d{1,4}\s*(?:/|van|of)\s*\d{1,4})$",
    re.IGNORECASE,
)
_RULE_LINE = re.compile(r"^[\s_\-–—=.·•*]{3,}$")  # footnote separators and drawn rules as text
_TOP = re.compile(r"^(\d{1,2})(\.?)([ \t]+)(\S.*)$")  # "3.     Kernpunten"
_SUB = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){1,3})\.?[ \t]+(\S.*)$")  # "4.2 Juridische overwegingen"
# "Advies 1: ...", "Optie B: ...": a word, a number or letter, a colon
_LABELLED = re.compile(r"^[A-Z][a-z]{2,14}[ \t]+(?:\d{1,2}|[IVX]{1,4}|[A-Z])[ \t]*:[ \t]*\S")
_LIST_ITEM = re.compile(r"^(?:\d{1,2}[.)]|[a-z][.)]|\([a-z0-9]{1,3}\)|[-•–▪●·*])\s+\S")
_FOOTNOTE = re.compile(r"^(\d{1,3})\s+\S")  # "1 Het hoofddoel ..." (a list item would be "1.")
_FINAL_PUNCT = tuple(".,;:!?")
_SENTENCE_END = tuple(".!?")
_CONJUNCTIONS = {"en", "of", "tot", "noch", "als", "dan", "and", "or", "to"}  # "besluit- en ..."


# ---------------------------------------------------------------------------------------------
# Public API


class PdfParser(DocumentParser):
    """Parser for PDFs, their scanned pages read by OCR; see the module docstring for what the offsets index.

    `max_pages`: a PDF with more pages is refused before its pages are read (None: no limit).
    `ocr`: how pages without text (scans) are read; None: not at all (they are left out)."""

    suffixes = (".pdf",)
    max_pages: int | None = None
    ocr: Ocr | None = Ocr()

    def parse_document(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        """Metadata, passages and the raw page texts their offsets index, from one read of the PDF."""
        path = Path(path)
        reader = _open(path, display_name, self.max_pages)
        meta = read_meta(path, reader, display_name)
        pages = _read_pages(reader, display_name, path, self.ocr)
        scanned = {page.number for page in pages if page.ocr}
        chunks = _structure(pages)
        passages = [
            Passage(
                doc_id=meta.doc_id,
                seq=seq,
                text=chunk.text,
                pages=chunk.pages,
                section=chunk.section or meta.title,  # text before the first heading
                kind=chunk.kind,
                char_start=chunk.char_start,
                char_end=chunk.char_end,
                footnotes=chunk.footnotes,
                ocr=bool(scanned.intersection(chunk.pages)),
                meta=meta,
            )
            for seq, chunk in enumerate(chunks)
        ]
        return meta, passages, [page.raw for page in pages]


def page_texts(path: Path, ocr: Ocr | None = None) -> list[str]:
    """The raw text of each page (index 0 = page 1), as the passage offsets index it (with
    `ocr`, a scanned page's text as OCR read it)."""
    path = Path(path)
    return [page.raw for page in _read_pages(_open(path, path.name), path.name, path, ocr)]


def read_meta(path: Path, reader: PdfReader, display_name: str) -> DocumentMeta:
    """Metadata from the PDF info dictionary (/Title, /Author as source, /CreationDate as date,
    the catalog's /Lang), each field overridden by the sidecar `NAME.pdf.yaml` if it has it."""
    fields: dict = {}
    info = reader.metadata
    if info is not None:
        if info.title and info.title.strip():
            fields["title"] = _clean_title(info.title)
        if info.author and info.author.strip():
            fields["source"] = " ".join(info.author.split())
        try:
            created = info.creation_date
        except ValueError:  # malformed date string in the PDF: no date
            created = None
        if created is not None:
            fields["date"] = created.date().isoformat()
    lang = reader.root_object.get("/Lang")
    lang = lang.get_object() if hasattr(lang, "get_object") else lang
    if lang:
        fields["language"] = str(lang)
    fields.update(read_sidecar(path, display_name))
    return make_meta(fields, path.stem, display_name)  # doc_id = file stem, as for text files


# ---------------------------------------------------------------------------------------------
# Reading


def _open(path: Path, name: str, max_pages: int | None = None) -> PdfReader:
    redo = "Export or download the PDF again and replace the file."
    if not path.exists():
        raise UnreadableDocument(name, "the file does not exist.", "Check the path.")
    if path.stat().st_size == 0:
        raise UnreadableDocument(name, "the file is empty (0 bytes).", redo)
    try:
        reader = PdfReader(path)
        encrypted = reader.is_encrypted
    except MemoryError:
        raise
    except LimitReachedError as exc:
        raise _over_limit(name, "its structure", exc) from exc
    except Exception as exc:  # pypdf raises many types (PdfReadError, KeyError...) on damage
        raise UnreadableDocument(
            name, f"not a readable PDF ({type(exc).__name__}: {exc}).",
            "Check that it opens in a PDF viewer; " + redo[0].lower() + redo[1:],
        ) from exc
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))  # protected against editing only: opens anyway
        except DependencyError:
            raise UnreadableDocument(
                name, "the PDF is AES-encrypted, and the package cryptography that opens it is not installed.",
                "Install the requirements (pip install -r requirements.txt) and build again.",
            ) from None
        except Exception:
            opened = False
        if not opened:
            raise UnreadableDocument(
                name, "the PDF is password-protected.",
                "Save an unprotected copy (open it with the password, then save or print it as a PDF "
                "without one) and put that in the corpus folder instead.",
            )
    if max_pages is not None:
        declared = _declared_pages(reader)
        if declared is not None and declared > max_pages:
            raise _too_many_pages(name, declared, max_pages)
    try:
        count = len(reader.pages)
    except MemoryError:
        raise
    except LimitReachedError as exc:
        raise _over_limit(name, "its page tree", exc) from exc
    except Exception as exc:
        raise UnreadableDocument(name, f"the page tree is damaged ({exc}).", redo) from exc
    if max_pages is not None and count > max_pages:
        raise _too_many_pages(name, count, max_pages)
    if count == 0:
        raise UnreadableDocument(name, "the PDF has no pages.", redo)
    return reader


def _declared_pages(reader: PdfReader) -> int | None:
    """The page count the PDF states (/Count of its page tree), read without walking the tree."""
    try:
        count = reader.root_object["/Pages"].get_object()["/Count"]
        return int(count.get_object() if hasattr(count, "get_object") else count)
    except Exception:  # no or a damaged count: the walk below counts the pages
        return None


def _too_many_pages(name: str, count: int, limit: int) -> UnreadableDocument:
    return UnreadableDocument(
        name, f"the PDF has {count:,} pages, more than the limit of {limit:,} pages per file.",
        f"Split it into parts of at most {limit:,} pages, or raise BELEIDSWIJZER_PARSE_PAGES if the file is genuine.",
    )


def _over_limit(name: str, part: str, exc: Exception) -> UnreadableDocument:
    """A PDF that goes past one of pypdf's safety limits (decompressed size, page tree depth...)."""
    return UnreadableDocument(
        name, f"{part} goes past a safety limit of the PDF reader ({exc}).",
        "If the file is genuine, print it to a new PDF and add that instead; otherwise remove it.",
    )


class _LimitWarnings(logging.Handler):
    """Collects the safety limits pypdf reached and only logged, e.g. a form on a page whose
    content is over the decompression limit: pypdf leaves it out and goes on."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reached: list[LimitReachedError] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.args.get("exception") if isinstance(record.args, dict) else None
        if isinstance(exc, LimitReachedError):
            self.reached.append(exc)


@dataclass(frozen=True)
class _Line:
    page: int  # 1-based
    index: int  # position among the page's non-empty lines
    text: str  # the line without surrounding whitespace, verbatim
    start: int  # offset of text[0] in the raw page text
    y: float | None = None  # baseline height on the page (None: no layout)
    gap_before: bool = False  # a paragraph gap separates it from the previous body line

    def piece(self, joiner: str = " ") -> Piece:
        return Piece(self.text, self.page, self.start, joiner)


@dataclass(frozen=True)
class _Page:
    number: int
    raw: str
    lines: list[_Line]
    middle: float | None  # height of the page's middle (None: unknown)
    limited: bool = False  # pypdf left content out at one of its safety limits
    ocr: bool = False  # the text was read from the page's image by OCR


def _read_pages(reader: PdfReader, name: str, path: Path, ocr: Ocr | None) -> list[_Page]:
    pages = []
    limits = _LimitWarnings()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(limits)
    try:
        for number, page in enumerate(reader.pages, start=1):
            pages.append(_read_page(number, page, name, limits))
    finally:
        pypdf_log.removeHandler(limits)
    limited = sorted({p.number for p in pages if p.limited})
    scans = [p.number for p in pages if not p.raw.strip() and not p.limited]
    texts = any(p.raw.strip() for p in pages)
    unread = ""  # why the scanned pages could not be read
    if scans and ocr is not None:
        try:
            pages = _with_ocr(pages, ocr.read(path, scans))
        except OcrUnavailable as exc:
            if not texts and not limited:
                raise UnreadableDocument(
                    name, f"no extractable text on any of its {len(pages)} page(s): it is a scanned image, "
                    f"and it cannot be read by OCR here: {exc.reason}", exc.remedy,
                )  # fmt: skip
            unread = f" ({exc.reason} {exc.remedy})"
        except OcrFailed as exc:
            raise UnreadableDocument(name, exc.reason, exc.remedy) from None
    if not any(p.raw.strip() for p in pages):
        if limited:
            raise UnreadableDocument(
                name, f"page {limited[0]} holds content over the PDF reader's limit for decompressed data "
                f"({limits.reached[0]}), and no other text could be read.",
                "If the file is genuine, print it to a new PDF and add that instead; otherwise remove it.",
            )
        if ocr is None:
            raise UnreadableDocument(
                name, f"no extractable text on any of its {len(pages)} page(s); it is probably a scanned image.",
                "Run OCR on it (e.g. `ocrmypdf in.pdf out.pdf`) and add the OCR'd PDF instead.",
            )
        raise UnreadableDocument(
            name, f"no extractable text on any of its {len(pages)} page(s), and OCR found none on the scanned "
            "page(s) either: they are blank, or the scan is too faint or too coarse to read.",
            "Check the file; if it is a scan of text, scan it again (300 dpi, black on white) and replace the file.",
        )  # fmt: skip
    if limited:
        log.warning("%s: content over the PDF reader's limits left out on page(s) %s", name, limited)
    empty = [p.number for p in pages if not p.raw.strip()]
    if empty:
        log.warning("%s: no text on page(s) %s (scanned or blank); they are not indexed%s", name, empty, unread)
    return pages


OCR_LINE_STEP = 12.0  # synthetic line distance for OCR text: a blank line in it doubles the gap


def _with_ocr(pages: list[_Page], texts: dict[int, str]) -> list[_Page]:
    """The pages with the OCR text of the scanned ones. Tesseract separates paragraphs by a
    blank line; each line gets a height as if it were printed, so a blank line is a paragraph gap."""
    out = []
    for page in pages:
        raw = texts.get(page.number)
        if raw is None or not raw.strip():
            out.append(page)
            continue
        parts = raw.splitlines(keepends=True)
        frags = [(part, -OCR_LINE_STEP * row) for row, part in enumerate(parts)]
        middle = -OCR_LINE_STEP * len(parts) / 2
        out.append(_Page(page.number, raw, _lines(page.number, raw, frags), middle, ocr=True))
    return out


def _read_page(number: int, page, name: str, limits: _LimitWarnings) -> _Page:
    frags: list[tuple[str, float]] = []

    def visit(text, cm, tm, font, size):
        frags.append((text, tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))  # y of text matrix x CTM

    reached = len(limits.reached)
    try:
        raw = page.extract_text(visitor_text=visit)
    except MemoryError:
        raise
    except LimitReachedError as exc:
        raise _over_limit(name, f"page {number}", exc) from exc
    except Exception as exc:
        raise UnreadableDocument(
            name, f"text of page {number} cannot be extracted ({type(exc).__name__}: {exc}).",
            "Open it in a PDF viewer and print it to a new PDF, then replace the file.",
        ) from exc
    layout = "".join(f[0] for f in frags) == raw
    try:
        middle = (float(page.mediabox.bottom) + float(page.mediabox.top)) / 2
    except (TypeError, ValueError, KeyError):
        middle = None
    return _Page(number, raw, _lines(number, raw, frags if layout else []), middle, len(limits.reached) > reached)


def _lines(number: int, raw: str, frags: list[tuple[str, float]]) -> list[_Line]:
    """Non-empty lines of the raw text with their offsets and, from the visitor fragments (whose
    texts add up to `raw`), the height of each line on the page."""
    marks: list[tuple[int, float]] = []  # offset in raw of each fragment that carries text, y
    pos = 0
    for text, y in frags:
        if text.strip():
            marks.append((pos + len(text) - len(text.lstrip()), y))
        pos += len(text)
    lines = []
    offset = 0
    for part in raw.split("\n"):
        text = part.strip()
        if text:
            start = offset + len(part) - len(part.lstrip())
            end = start + len(text)
            y = next((y for at, y in marks if start <= at < end), None)
            lines.append(_Line(number, len(lines), text, start, y))
        offset += len(part) + 1
    return lines


# ---------------------------------------------------------------------------------------------
# Metadata sidecar


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    word = re.match(r"^Microsoft Word - (.+?)(?:\.docx?)?$", title)  # Word's export default
    return word.group(1) if word else title


# ---------------------------------------------------------------------------------------------
# Structure: running elements, footnotes, headings, paragraphs


def _structure(pages: list[_Page]) -> list[Chunk]:
    running = _running_lines(pages)
    words = {w.lower() for p in pages for w in re.findall(r"[^\W\d_]+", p.raw)}
    body: list[_Line] = []
    notes: list[_Note] = []
    last_note = 0
    for page in pages:
        lines = [
            l for l in page.lines
            if (l.page, l.index) not in running and not _RULE_LINE.match(l.text)
        ]
        found, lines = _footnotes(page, lines, last_note)
        if found:
            last_note = int(found[-1].number)
        notes.extend(found)
        body.extend(lines)
    body = _mark_gaps(body)
    layout = any(l.gap_before for l in body)
    full = _full_line(body)

    walk = _Walk(body, layout, full, words, preamble_headings=False)
    if not walk.numbered_found:  # no numbered outline: short unnumbered lines are the headings
        walk = _Walk(body, layout, full, words, preamble_headings=True)
    blocks = walk.blocks

    for note in notes:
        pieces = [l.piece() for l in note.lines]
        _dehyphenate(pieces, words)
        section = walk.line_sections.get((note.marker_page, note.marker_line), "")
        blocks.append(Block(pieces, section=section, kind="footnote", footnotes=(note.number,)))

    body_chunks = chunk_blocks([b for b in blocks if b.kind != "footnote"])
    note_chunks = chunk_blocks([b for b in blocks if b.kind == "footnote"])
    cited = []
    for chunk in body_chunks:
        refs = [n.number for n in notes if chunk.covers(n.marker_page, n.marker_offset)]
        cited.append(replace(chunk, footnotes=tuple(dict.fromkeys(refs))))
    return sorted(cited + note_chunks, key=lambda c: (c.pages[0], c.char_start))


def _norm(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def _running_lines(pages: list[_Page]) -> set[tuple[int, int]]:
    """Lines at the top or bottom of pages that are page numbers, or that repeat (digits aside)
    in the same place, top or bottom, on most pages."""
    edges = [
        (zone, line)
        for p in pages
        for zone, lines in (("top", p.lines[:EDGE_LINES]), ("bottom", p.lines[-EDGE_LINES:]))
        for line in lines
    ]
    drop = {(l.page, l.index) for _, l in edges if _PAGE_NUMBER.match(l.text)}
    if len(pages) >= 2:
        seen = {(zone, l.page, _norm(l.text)) for zone, l in edges}  # once per page
        counts = Counter((zone, text) for zone, _, text in seen)
        least = max(2, math.ceil(RUNNING_SHARE * len(pages)))
        drop |= {(l.page, l.index) for zone, l in edges if counts[(zone, _norm(l.text))] >= least}
    return drop


@dataclass(frozen=True)
class _Note:
    number: str
    lines: list[_Line]
    marker_page: int
    marker_line: int  # raw offset of the line holding the marker
    marker_offset: int  # raw offset of the marker itself


def _marker_at(number: str, lines: list[_Line]) -> tuple[_Line, int] | None:
    """Where the body text cites footnote `number`: digits glued to a word or punctuation
    ("TOELT1", "zijn.2"), not a code like "Q1" (one capital) nor part of a number."""
    pattern = re.compile(rf"(?<=[^\W\d_]|[.,;:)’”\"']){number}(?=[\s.,;:)]|$)")
    for line in lines:
        for match in pattern.finditer(line.text):
            word = re.search(r"(\S*)$", line.text[: match.start()]).group(1)
            if re.fullmatch(r"[A-Z]", word) or re.search(r"\d\W$", word):  # "Q1", "4.3"
                continue
            return line, line.start + match.start()
    return None


def _footnotes(page: _Page, lines: list[_Line], last: int) -> tuple[list[_Note], list[_Line]]:
    """Split the footnotes off the bottom of a page: the lines from the first "N text" (N the
    next footnote number, or 1, cited in the body above it) down. Returns (notes, body lines)."""
    for i, line in enumerate(lines):
        match = _FOOTNOTE.match(line.text)
        if not match or int(match.group(1)) not in (last + 1, 1) or not _low_on_page(page, lines, i):
            continue
        body = lines[:i]
        marker = _marker_at(match.group(1), body)
        if marker is None:
            continue
        notes: list[_Note] = []
        for note_line in lines[i:]:
            nxt = _FOOTNOTE.match(note_line.text)
            if nxt and (not notes or int(nxt.group(1)) == int(notes[-1].number) + 1):
                marker = _marker_at(nxt.group(1), body)
                if marker is not None:
                    marked, offset = marker
                    notes.append(_Note(nxt.group(1), [], page.number, marked.start, offset))
            notes[-1].lines.append(note_line)
        return notes, body
    return [], lines


def _low_on_page(page: _Page, lines: list[_Line], i: int) -> bool:
    """Footnotes sit in the lower half of the page."""
    line = lines[i]
    if line.y is not None and page.middle is not None:
        return line.y < page.middle
    return i >= len(lines) / 2


def _mark_gaps(body: list[_Line]) -> list[_Line]:
    """Flag lines after a vertical gap larger than the usual line distance (same page only).

    The usual distance is measured where the next line starts in lower case (surely inside a
    paragraph): with many one-line paragraphs the most common distance is the paragraph gap."""
    pairs = [
        (a.y - b.y, b.text[0].islower())
        for a, b in zip(body, body[1:])
        if a.page == b.page and a.y is not None and b.y is not None and a.y > b.y
    ]
    if not pairs:
        return body
    inside = sorted(step for step, lower in pairs if lower)
    steps = inside or sorted(step for step, _ in pairs)
    usual = steps[len(steps) // 2] if inside else steps[len(steps) // 4]
    out = []
    for prev, line in zip([None] + body[:-1], body):
        gap = (
            prev is not None
            and prev.page == line.page
            and prev.y is not None
            and line.y is not None
            and (prev.y - line.y > GAP_FACTOR * usual or prev.y <= line.y)
        )
        out.append(replace(line, gap_before=gap))
    return out


def _full_line(body: list[_Line]) -> float:
    """Length of a full body line (90th percentile), to tell short lines."""
    lengths = sorted(len(l.text) for l in body)
    if len(lengths) < 5:
        return float(HEADING_MAX_CHARS)
    return float(lengths[int(0.9 * (len(lengths) - 1))])


@dataclass
class _Heading:
    depth: int
    section: str
    lines: list[_Line]
    has_body: bool = False


def _is_heading_text(text: str, limit: float = HEADING_MAX_CHARS) -> bool:
    return (
        0 < len(text) <= limit
        and text[0].isupper()
        and not text.endswith(_FINAL_PUNCT)
        and not _LIST_ITEM.match(text)
    )


def _depth(number: str) -> int:
    return number.count(".") + 1  # "4" -> 1, "4.2" -> 2


def _spacing_style(spacing: str) -> str:
    return "wide" if len(spacing) > 1 or "\t" in spacing else "narrow"


class _Walk:
    """One pass over the body lines: headings set the section path, the other lines make
    paragraph and list blocks.

    The path has numbered levels ("3. Kernpunten", "4.2 ...") and below them one level for an
    unnumbered or labelled heading ("Advies 1: ...", "Algemene achtergrond"). A heading without
    body text and without sub-sections becomes a block of kind "heading", so it is not lost.
    """

    def __init__(
        self, body: list[_Line], layout: bool, full: float, words: set[str], preamble_headings: bool
    ) -> None:
        self.body, self.layout, self.full, self.words = body, layout, full, words
        self.preamble_headings = preamble_headings
        self.numbered: list[tuple[str, str]] = []  # (number, heading), outer level first
        self.sub: str | None = None
        self.top_style: str | None = None  # spacing after the first top-level number
        self.last_top = 0  # number of the last top-level heading
        self.numbered_found = False
        self.blocks: list[Block] = []
        self.line_sections: dict[tuple[int, int], str] = {}  # (page, line start) -> section
        self.heading: _Heading | None = None
        self.current: Block | None = None
        self._run()

    @property
    def path(self) -> str:
        return " > ".join([t for _, t in self.numbered] + ([self.sub] if self.sub else []))

    def _run(self) -> None:
        body = self.body
        i = 0
        while i < len(body):
            line = body[i]
            boundary = self._starts_block(i)
            # a heading may also follow a sentence end directly, without a gap
            after_sentence = i > 0 and body[i - 1].text.endswith(_SENTENCE_END)
            found = self._heading_at(i) if boundary or after_sentence else None
            if found:
                i += self._enter(i, *found)
                continue
            self.line_sections[(line.page, line.start)] = self.path
            if self.heading:
                self.heading.has_body = True
            item = bool(_LIST_ITEM.match(line.text))
            current = self.current
            if current is not None and not boundary:
                if item:
                    current.kind = "list"
                    current.pieces.append(line.piece("\n"))
                else:
                    _append(current.pieces, line, self.words)
            elif current is not None and item and (current.kind == "list" or current.text.endswith(":")):
                current.kind = "list"  # a lead-in ending in ":" keeps its items
                current.pieces.append(line.piece("\n"))
            else:
                self.current = Block([line.piece()], section=self.path, kind="list" if item else "paragraph")
                self.blocks.append(self.current)
            i += 1
        self._close_heading(None)

    def _starts_block(self, i: int) -> bool:
        """Whether body[i] starts a new paragraph (ignoring list items)."""
        if i == 0 or self.current is None:
            return True
        prev, line = self.body[i - 1], self.body[i]
        if line.gap_before:
            return True
        if line.text[0].islower():
            return False
        if prev.page != line.page:  # no gap to measure across a page break
            return prev.text.endswith(_SENTENCE_END) or len(prev.text) < SHORT_LINE * self.full
        if self.layout:
            return False
        return len(prev.text) < SHORT_LINE * self.full  # text only: a short line ends a paragraph

    def _continues(self, j: int) -> bool:
        """Line j carries on the text before it (a lower-case start without a gap)."""
        body = self.body
        return j < len(body) and not body[j].gap_before and body[j].text[0].islower()

    def _heading_at(self, i: int) -> tuple[str, str, str, int] | None:
        """(kind, number, heading text, line count) if a heading starts at body[i]."""
        text = self.body[i].text
        if _LABELLED.match(text):
            return self._labelled(i)
        if self._continues(i + 1):
            return None
        short = len(text) < SHORT_LINE * self.full
        limit = max(HEADING_MAX_CHARS, SHORT_LINE * self.full)  # a numbered heading may be longer
        sub = _SUB.match(text)
        if sub and _is_heading_text(sub.group(2), limit):
            number = sub.group(1)
            parents = [n for n, _ in self.numbered if _depth(n) == _depth(number) - 1]
            # "4.2" under "4"; under another parent only as a short line
            if not parents or parents[0] == number.rsplit(".", 1)[0] or short:
                return "sub", number, " ".join(text.split()), 1
        top = _TOP.match(text)
        if top and _is_heading_text(top.group(4), limit):
            number, style = int(top.group(1)), _spacing_style(top.group(3))
            tops = [int(n) for n, _ in self.numbered if _depth(n) == 1]
            expected = (tops[0] if tops else self.last_top) + 1
            marked = top.group(2) == "." or style == "wide"  # "1. Inleiding", "1     Inleiding"
            if (
                self.top_style in (None, style)
                and (number == expected or (style == "wide" and number > expected))
                and (marked or short)
            ):
                return "top", str(number), " ".join(text.split()), 1
        if (
            (self.preamble_headings or self.numbered)
            and _is_heading_text(text)
            and short
            and i + 1 < len(self.body)
        ):
            return "plain", "", " ".join(text.split()), 1
        return None

    def _labelled(self, i: int) -> tuple[str, str, str, int] | None:
        """"Advies 2: ..." with the lines it wraps onto, up to its short last line."""
        body, j, parts = self.body, i, []
        while j < len(body) and j - i < LABELLED_HEADING_MAX_LINES:
            if j > i and body[j].gap_before:
                break
            parts.append(body[j].text)
            j += 1
            if len(body[j - 1].text) < SHORT_LINE * self.full:
                break
        text = " ".join(" ".join(parts).split())
        if len(text) > LABELLED_HEADING_MAX_CHARS or text.endswith((",", ";")) or self._continues(j):
            return None
        return "label", "", text, j - i

    def _enter(self, i: int, kind: str, number: str, text: str, count: int) -> int:
        """Make the heading at body[i] the current section; returns the lines it takes."""
        if kind in ("top", "sub"):
            depth = _depth(number)
            if kind == "top":
                self.last_top = int(number)
                if self.top_style is None:
                    self.top_style = _spacing_style(_TOP.match(self.body[i].text).group(3))
            self._close_heading(depth)
            outer = [(n, t) for n, t in self.numbered if number.startswith(n + ".")]
            self.numbered = outer + [(number, text)]
            self.sub = None
            self.numbered_found = True
        else:
            depth = len(self.numbered) + 1
            self._close_heading(depth)
            self.sub = text
        self.heading = _Heading(depth, self.path, self.body[i : i + count])
        self.current = None
        return count

    def _close_heading(self, new_depth: int | None) -> None:
        """Keep the previous heading as a block if it had no text and gets no sub-section."""
        heading = self.heading
        if heading and not heading.has_body and (new_depth is None or new_depth <= heading.depth):
            pieces = [l.piece() for l in heading.lines]
            self.blocks.append(Block(pieces, section=heading.section, kind="heading"))


def _append(pieces: list[Piece], line: _Line, words: set[str]) -> None:
    """Add a wrapped line to a paragraph, joining a word broken with a hyphen at the line end."""
    pieces.append(line.piece(" "))
    _dehyphenate(pieces, words, only_last=True)


def _dehyphenate(pieces: list[Piece], words: set[str], only_last: bool = False) -> None:
    """Join "woord-" + "deel": drop the hyphen only if the joined word occurs elsewhere in the
    document, keep it ("EU-lidstaat") otherwise, keep the space before a conjunction ("besluit- en")."""
    indexes = [len(pieces) - 1] if only_last else range(1, len(pieces))
    for k in indexes:
        if k < 1:
            continue
        prev, piece = pieces[k - 1], pieces[k]
        if piece.joiner != " " or not re.search(r"\w-$", prev.text):
            continue
        head = re.search(r"([^\W\d_]+)-$", prev.text)
        tail = re.match(r"([^\W\d_]+)", piece.text)
        if not tail or tail.group(1).lower() in _CONJUNCTIONS:
            continue
        if head and head.group(1).islower() and tail.group(1).islower() and (
            (head.group(1) + tail.group(1)).lower() in words
        ):
            pieces[k - 1] = replace(prev, text=prev.text[:-1])
        pieces[k] = replace(piece, joiner="")
