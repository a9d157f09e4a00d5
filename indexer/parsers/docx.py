"""Word (.docx) parser: headings as sections, paragraphs, list items and tables as passages.

Offsets: a .docx has no pages. The parser writes the document as plain text, one line per
paragraph, list item or table row, with a blank line between paragraphs, and that text is the
document's single "page" (as a text file's body is): `char_start`/`char_end` index it, and
`pages` is empty, so the app shows a passage in context within that text.

Sections: the Title style and Heading 1..9 make the section path ("Werkinstructie X > 2. Aanvraag
> 2.1 Termijnen"); text before the first heading is filed under the document title. A list item
keeps its number or bullet as Word shows it ("1.", "a)", "•"), computed from the list's
numbering definition. A table row is its cells joined by " | ", in document order.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from indexer.parsers import DocumentParser, UnreadableDocument
from indexer.parsers.markup import Body, Part
from indexer.parsers.frontmatter import make_meta, read_sidecar
from indexer.passage import DocumentMeta, Passage

CELL_SEPARATOR = " | "
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a compound file: an encrypted .docx, or an old .doc
_HEADING_STYLE = re.compile(r"^heading\s+([1-9])$", re.IGNORECASE)
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIPPED = {f"{_W}del", f"{_W}txbxContent", f"{_W}moveFrom"}  # deleted text, text boxes
# the Symbol font's codes for the signs policy texts use (Adobe's Symbol encoding)
_SYMBOL_FONT = {0x2D: "\u2212", 0xA3: "\u2264", 0xB3: "\u2265", 0xB1: "\u00b1", 0xB4: "\u00d7", 0xB8: "\u00f7",
                0xB7: "\u2022", 0xB9: "\u2260", 0xBB: "\u2248", 0xAE: "\u2192", 0xAC: "\u2190", 0xA5: "\u221e",
                0xB0: "\u00b0", 0xDE: "\u21d2"}  # fmt: skip
_REDO = "Open it in Word, save it again as a Word document (.docx) and replace the file."


class DocxParser(DocumentParser):
    """Parser for Word documents; see the module docstring for what the offsets index."""

    suffixes = (".docx",)

    def parse_document(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        """Metadata, passages and [plain text]: the document as text, which their offsets index."""
        path = Path(path)
        document = _open(path, display_name)
        meta = read_meta(path, document, display_name)
        body = _body(document, meta.title)
        return meta, body.passages(meta), [body.text]


def read_meta(path: Path, document, display_name: str) -> DocumentMeta:
    """Metadata from the core properties (title, author as source, created or else last modified
    date, language), each field overridden by the sidecar `NAME.docx.yaml` if it has it. The type
    is "werkinstructie" when the title or file name says so, else "document". The date is where
    validity starts without a sidecar, so it is the creation date (as a PDF's /CreationDate):
    saving the file again must not move it."""
    props = document.core_properties
    fields: dict = {}
    if props.title and props.title.strip():
        fields["title"] = " ".join(props.title.split())
    if props.author and props.author.strip():
        fields["source"] = " ".join(props.author.split())
    when = props.created or props.modified
    if when is not None:
        fields["date"] = when.date().isoformat()
    if props.language and props.language.strip():
        fields["language"] = props.language.strip()
    named = f"{fields.get('title', '')} {path.stem}".lower()
    fields["doctype"] = "werkinstructie" if "werkinstructie" in named else "document"
    fields.update(read_sidecar(path, display_name))
    return make_meta(fields, path.stem, display_name)


# ---------------------------------------------------------------------------------------------
# Reading


def _open(path: Path, name: str):
    """The python-docx Document, or UnreadableDocument saying why the file cannot be read."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not path.exists():
        raise UnreadableDocument(name, "the file does not exist.", "Check the path.")
    if path.stat().st_size == 0:
        raise UnreadableDocument(name, "the file is empty (0 bytes).", _REDO)
    with open(path, "rb") as fh:
        head = fh.read(len(OLE_MAGIC))
    if head == OLE_MAGIC:
        if _encrypted(path):
            raise UnreadableDocument(
                name, "the Word document is password-protected (encrypted).",
                "Open it in Word with the password, save a copy without one (File > Info > Protect Document > "
                "Encrypt with Password: empty) and put that copy in the corpus folder instead.",
            )  # fmt: skip
        raise UnreadableDocument(
            name, "it is an old Word 97-2003 document (.doc) with a .docx name.",
            "Open it in Word and save it as a Word document (.docx), then replace the file.",
        )  # fmt: skip
    if not zipfile.is_zipfile(path):
        raise UnreadableDocument(name, "not a readable Word document (a .docx is a ZIP package; this is not one).", _REDO)
    try:
        return docx.Document(str(path))
    except MemoryError:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:  # a damaged or foreign package
        raise UnreadableDocument(name, f"not a readable Word document ({type(exc).__name__}: {exc}).", _REDO) from exc
    except Exception as exc:  # lxml's XML errors and other damage inside the package
        raise UnreadableDocument(name, f"the Word document is damaged ({type(exc).__name__}: {exc}).", _REDO) from exc


def _encrypted(path: Path) -> bool:
    """Whether a compound file holds an encrypted Office package (its EncryptedPackage stream)."""
    with open(path, "rb") as fh:
        data = fh.read(1 << 20)  # the directory naming the streams sits near the start
    return "EncryptedPackage".encode("utf-16-le") in data


# ---------------------------------------------------------------------------------------------
# Structure


def _body(document, title: str) -> Body:
    """The document as markup.Body: headings, paragraphs, runs of list items (one part each) and
    tables, under the section path of the headings above them (the title before the first)."""
    from docx.table import Table

    body = Body()
    headings: dict[int, str] = {}  # level -> heading text
    items: list[str] = []  # the list items of the current run

    def section() -> str:
        return " > ".join(headings[level] for level in sorted(headings)) or title

    def end_list() -> None:
        if items:
            body.add(Part(list(items), section(), "list"))
            items.clear()

    numbers = _Numbering(document)
    for item in _body_items(document):
        if isinstance(item, Table):
            end_list()
            body.add(Part(_rows(item), section(), "table"))
            continue
        text = _clean(_text(item._p))
        if not text:
            continue
        level = _heading_level(item)
        label = numbers.label(item)
        if level is not None:
            end_list()
            heading = f"{label} {text}" if label else text
            body.heading(heading)
            headings = {lv: h for lv, h in headings.items() if lv < level} | {level: heading}
        elif label is not None:
            items.append(f"{label} {text}" if label else text)
        else:
            end_list()
            body.add(Part([text], section()))
    end_list()
    return body


def _body_items(document):
    """The body's paragraphs and tables in document order, also those inside content controls
    (w:sdt) and custom XML, which python-docx's own iteration passes over."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    def walk(parent):
        for child in parent.iterchildren():
            if child.tag == f"{_W}p":
                yield Paragraph(child, document._body)
            elif child.tag == f"{_W}tbl":
                yield Table(child, document._body)
            elif child.tag in (f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"):
                yield from walk(child)

    yield from walk(document.element.body)


def _text(p) -> str:
    """A paragraph's visible text: its runs, also inside hyperlinks, fields, content controls and
    tracked insertions (python-docx's Paragraph.text leaves those out); not deleted text, field
    codes or text boxes (whose content Word also keeps as a fallback copy)."""
    out = []
    for el in p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr", f"{_W}noBreakHyphen", f"{_W}softHyphen", f"{_W}sym"):
        hidden = False
        for up in el.iterancestors():
            if up is p:
                break
            if up.tag in _SKIPPED:
                hidden = True
                break
        if not hidden:
            out.append(_run_text(el))
    return "".join(out)


def _run_text(el) -> str:
    """The text one run element stands for: w:t its text, a non-breaking hyphen "-" (as typed, so
    a search for "A-status" finds it), an optional hyphen nothing (Word shows it only at a line
    end), a symbol its character (w:char, hexadecimal), a tab or line break a space. A symbol
    font's glyph (private-use code F0xx) has no character of its own: the Symbol font's signs
    found in policy texts are translated (_SYMBOL_FONT), others left out."""
    tag = el.tag
    if tag == f"{_W}t":
        return el.text or ""
    if tag == f"{_W}noBreakHyphen":
        return "-"
    if tag == f"{_W}softHyphen":
        return ""
    if tag == f"{_W}sym":
        try:
            code = int(el.get(f"{_W}char", ""), 16)
        except ValueError:
            return ""
        if 0xF000 <= code <= 0xF0FF:  # Word stores a symbol font's code + 0xF000
            return _SYMBOL_FONT.get(code - 0xF000, "") if el.get(f"{_W}font", "").lower() == "symbol" else ""
        return chr(code) if 0 < code <= 0x10FFFF else ""
    return " "


def _in_text_box(p) -> bool:
    return any(up.tag == f"{_W}txbxContent" for up in p.iterancestors())


def _clean(text: str) -> str:
    """A paragraph's text on one line: line breaks and tabs inside it become single spaces."""
    return " ".join(text.split())


def _heading_level(paragraph) -> int | None:
    """0 for the Title style, 1..9 for Heading 1..9 (or a style based on one), else None."""
    style = paragraph.style
    while style is not None:
        name = (style.name or "").strip()
        if name.lower() == "title":
            return 0
        if m := _HEADING_STYLE.match(name):
            return int(m.group(1))
        style = style.base_style
    return None


def _rows(table) -> list[str]:
    """Each row's cells joined by CELL_SEPARATOR; a merged cell counted once, empty rows left out."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            paragraphs = [p for p in cell._tc.iter(f"{_W}p") if not _in_text_box(p)]  # nested tables too
            cells.append(_clean(" ".join(_text(p) for p in paragraphs)))
        if any(cells):
            rows.append(CELL_SEPARATOR.join(cells))
    return rows


# ---------------------------------------------------------------------------------------------
# List numbers


class _Numbering:
    """The number or bullet Word shows before a list paragraph: its numbering definition (the
    paragraph's or its style's w:numPr) gives the format per level. As in Word, the counters belong
    to the abstract definition: a list continued under another w:num of the same abstractNum goes
    on counting, unless that w:num restarts a level (w:lvlOverride/w:startOverride) where it is
    first used; a w:lvlOverride's own w:lvl replaces that level's format."""

    def __init__(self, document):
        self._formats: dict[tuple[str, int], tuple[str, str, int]] = {}  # (numId, level) -> (format, text, start)
        self._abstract: dict[str, str] = {}  # numId -> abstractNumId
        self._restarts: dict[str, dict[int, int]] = {}  # numId -> level -> startOverride, until first used
        self._counters: dict[str, dict[int, int]] = {}  # abstractNumId -> level -> last number
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):  # no numbering part: no lists
            return
        abstract = {a.get(f"{_W}abstractNumId"): a for a in numbering.iter(f"{_W}abstractNum")}
        for num in numbering.iter(f"{_W}num"):
            num_id = num.get(f"{_W}numId")
            ref = num.find(f"{_W}abstractNumId")
            abstract_id = ref.get(f"{_W}val") if ref is not None else None
            definition = abstract.get(abstract_id)
            if definition is None:
                continue
            self._abstract[num_id] = abstract_id
            for lvl in definition.iter(f"{_W}lvl"):
                self._formats[(num_id, int(lvl.get(f"{_W}ilvl", "0")))] = _level_format(lvl)
            for override in num.iter(f"{_W}lvlOverride"):
                level = int(override.get(f"{_W}ilvl", "0"))
                lvl = override.find(f"{_W}lvl")
                if lvl is not None:
                    self._formats[(num_id, level)] = _level_format(lvl)
                start = override.find(f"{_W}startOverride")
                if start is not None:
                    self._restarts.setdefault(num_id, {})[level] = int(start.get(f"{_W}val", "1"))

    def label(self, paragraph) -> str | None:
        """The item's label ("3.", "b)", "•"; "" for a list without visible label), or None
        when the paragraph is not a list item."""
        num_id, level = _num_pr(paragraph)
        if num_id is None or num_id == "0":
            return None
        fmt, text, start = self._formats.get((num_id, level), ("bullet", "•", 1))
        counters = self._counters.setdefault(self._abstract.get(num_id, f"num {num_id}"), {})
        restart = self._restarts.get(num_id, {}).pop(level, None)
        if restart is not None:
            counters[level] = restart - 1
        counters[level] = counters.get(level, start - 1) + 1
        for deeper in [lv for lv in counters if lv > level]:
            del counters[deeper]  # a new item restarts its sub-lists
        if fmt == "bullet":
            return "•"
        if fmt == "none":
            return ""

        def number(m: re.Match) -> str:
            lv = int(m.group(1)) - 1
            lv_fmt = self._formats.get((num_id, lv), (fmt, "", 1))[0]
            return _format(counters.get(lv, 1), lv_fmt)

        return re.sub(r"%([1-9])", number, text).strip()


def _level_format(lvl) -> tuple[str, str, int]:
    """(number format, label text, start) of a w:lvl."""
    fmt = lvl.find(f"{_W}numFmt")
    text = lvl.find(f"{_W}lvlText")
    start = lvl.find(f"{_W}start")
    return (
        fmt.get(f"{_W}val") if fmt is not None else "decimal",
        text.get(f"{_W}val") if text is not None else "",
        int(start.get(f"{_W}val")) if start is not None else 1,
    )


def _num_pr(paragraph) -> tuple[str | None, int]:
    """(numId, level) from the paragraph's own numbering, else its style's (and the styles it is based on)."""
    p_pr = paragraph._p.pPr
    num_pr = p_pr.numPr if p_pr is not None else None
    style = paragraph.style
    while num_pr is None and style is not None:
        s_pr = style.element.pPr
        num_pr = s_pr.numPr if s_pr is not None else None
        style = style.base_style
    if num_pr is None or num_pr.numId is None:
        return None, 0
    level = num_pr.ilvl.val if num_pr.ilvl is not None else 0
    return str(num_pr.numId.val), int(level)


def _format(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        while n > 0:
            n, rest = divmod(n - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(n)
        return roman if fmt == "upperRoman" else roman.lower()
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, digits in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):  # fmt: skip
        while n >= value:
            out += digits
            n -= value
    return out or str(n)
