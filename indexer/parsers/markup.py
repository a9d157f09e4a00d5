"""What the XML and HTML parsers share: reading XML safely, the document's plain text that the
passages' offsets index (also the Word parser's), and the text of an element.

A parsed XML, HTML or Word document is shown and cited like a text file: its plain text (one block of
lines per paragraph, article lid or list, a blank line between blocks) is the document's single
"page", and every passage's `char_start`/`char_end` index into it. Structure comes from the
markup, never from guessing at lines.
"""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from indexer.parsers import UnreadableDocument
from indexer.parsers.chunking import Block, Piece, chunk_blocks
from indexer.passage import DocumentMeta, Passage

_SPACE = re.compile(r"\s+")
MAX_DEPTH = 200  # the readers below recurse along the nesting
REDOWNLOAD = "Download the file again from its source (wetten.overheid.nl, officielebekendmakingen.nl) and replace it."


def read_xml(path: Path, name: str) -> ET.Element:
    """The root element of an XML file. A file that declares entities is refused: entities let
    a few hundred bytes expand to gigabytes ("billion laughs") or read other files."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.parse(str(path)).getroot()
    except DefusedXmlException:
        raise UnreadableDocument(
            name, "it declares XML entities, which are refused (they can expand a small file to gigabytes "
            "or read files of this machine).", REDOWNLOAD,
        ) from None  # fmt: skip
    except ET.ParseError as exc:
        raise UnreadableDocument(name, f"it is not well-formed XML ({exc}).", REDOWNLOAD) from None
    if _depth(root) > MAX_DEPTH:
        raise UnreadableDocument(
            name, f"its elements are nested more than {MAX_DEPTH} levels deep; a regulation or publication "
            "has a few dozen.", "Check where the file comes from; " + REDOWNLOAD[0].lower() + REDOWNLOAD[1:],
        )  # fmt: skip
    return root


def _depth(root: ET.Element) -> int:
    """How deeply the elements under `root` nest (without recursion: a hostile file may nest
    deeper than Python's stack allows)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        el, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in el)
    return deepest


def local(tag: object) -> str:
    """An element's tag without its namespace ('{ns}al' -> 'al'); '' for comments and PIs."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def clean(text: str) -> str:
    """Whitespace of markup collapsed to single spaces, ends stripped."""
    return _SPACE.sub(" ", text).strip()


def text_of(el: ET.Element, skip: frozenset[str] = frozenset()) -> str:
    """The text of `el` and its descendants in document order, leaving out the subtrees whose
    tag is in `skip` (metadata, footnotes), whitespace collapsed."""
    parts: list[str] = []

    def walk(e: ET.Element) -> None:
        if e.text:
            parts.append(e.text)
        for child in e:
            if local(child.tag) not in skip:
                walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(el)
    return clean("".join(parts))


def iso_date(value: str | None, name: str, where: str) -> str | None:
    """An ISO date (YYYY-MM-DD, a time after it ignored) or None; anything else is refused: a
    date that cannot be read could make a repealed article look valid."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise UnreadableDocument(
            name, f"{where} has the date '{value[:40]}', which is not a date of the form YYYY-MM-DD.", REDOWNLOAD
        ) from None


@dataclass
class Part:
    """One block of the document: a lid or an article's text, a paragraph, a list, a footnote.

    `lines` are its lines (a list item keeps its number at the start of its line); consecutive
    paragraph parts of one section are merged into passages, an article's parts never are."""

    lines: list[str]
    section: str
    kind: str = "paragraph"  # paragraph | list | article | footnote | heading
    article: str = ""
    lid: str = ""
    footnotes: tuple[str, ...] = ()
    valid_from: str | None = None
    valid_until: str | None = None


@dataclass
class Body:
    """The document's plain text, written part by part, and the passages cut from it."""

    parts: list[tuple[Part, list[Piece]]] = field(default_factory=list)
    _text: list[str] = field(default_factory=list)
    _pos: int = 0

    def heading(self, text: str) -> None:
        """A heading line in the text (shown in context; not a passage of its own)."""
        self._write([text])

    def add(self, part: Part) -> None:
        """A part, its lines as given (the caller cleans them); a part without text is left out."""
        lines = [line for line in part.lines if line]
        if lines:
            part.lines = lines
            self.parts.append((part, self._write(lines)))

    def _write(self, lines: list[str]) -> list[Piece]:
        if self._text:
            self._text.append("\n\n")
            self._pos += 2
        pieces = []
        for i, line in enumerate(lines):
            if i:
                self._text.append("\n")
                self._pos += 1
            pieces.append(Piece(line, 0, self._pos, " " if i == 0 else "\n"))
            self._text.append(line)
            self._pos += len(line)
        return pieces

    @property
    def text(self) -> str:
        return "".join(self._text)

    def passages(self, meta: DocumentMeta) -> list[Passage]:
        """Passages of the parts: an article's lid (or text) on its own, split only when longer
        than a passage may be; paragraphs of one section merged to passage size."""
        out: list[Passage] = []
        run: list[tuple[Part, Block]] = []

        def flush() -> None:
            for chunk in chunk_blocks([block for _, block in run]):
                first = run[0][0]
                out.append(_passage(meta, len(out), chunk, first, article=""))
            run.clear()

        for part, pieces in self.parts:
            block = Block(pieces, section=part.section, kind=part.kind, footnotes=part.footnotes)
            if part.article or part.valid_from or part.valid_until:
                flush()
                for chunk in chunk_blocks([block]):
                    out.append(_passage(meta, len(out), chunk, part, article=part.article))
            else:
                run.append((part, block))
        flush()
        return out


def _passage(meta: DocumentMeta, seq: int, chunk, part: Part, article: str) -> Passage:
    return Passage(
        doc_id=meta.doc_id, seq=seq, text=chunk.text, section=chunk.section, article=article,
        lid=part.lid if article else "", kind="article" if article else chunk.kind, char_start=chunk.char_start,
        char_end=chunk.char_end, footnotes=chunk.footnotes, valid_from=part.valid_from,
        valid_until=part.valid_until, meta=meta,
    )  # fmt: skip


# element names of both formats
# never part of the text: metadata, editorial notes on amendments, inline footnotes, and titles
# (the document's title is its metadata; a division's is its heading)
SKIP = frozenset({"meta-data", "metadata", "redactie", "noot", "aanhef", "intitule", "citeertitel", "kop", "titel",
                  "kamerstukkop", "stuknr", "datumtekst", "dossier"})  # fmt: skip
# elements whose text runs on inside them (mixed content): read as one paragraph, not walked
INLINE_HOLDERS = frozenset({"tussenkop", "slotformulering", "considerans.al", "wij", "dagtekening"})
FROM_ATTRS = ("inwerking", "inwerkingtreding")  # first day in force
UNTIL_ATTRS = ("einddatum",)  # last day in force


def date_attr(el: ET.Element, attrs: tuple[str, ...], name: str, where: str) -> str | None:
    """The first of `attrs` that `el` has, as an ISO date (iso_date), or None."""
    for attr in attrs:
        if el.get(attr):
            return iso_date(el.get(attr), name, f"{where} (attribute {attr})")
    return None


def _heading(kop: ET.Element | None, with_label: bool) -> str:
    """'Hoofdstuk 3 Toelating' (a law's division) or '3.2 Artikel 29 Vw' (a circular's)."""
    if kop is None:
        return ""
    label = clean(text_of(kop.find("label"))) if kop.find("label") is not None else ""
    nr = clean(text_of(kop.find("nr"))) if kop.find("nr") is not None else ""
    titel = text_of(kop.find("titel"), frozenset({"noot", "meta-data"})) if kop.find("titel") is not None else ""
    words = [label, nr, titel] if with_label and label not in ("§",) else [nr, titel]
    return " ".join(w for w in words if w)


class Walker:
    """Walks the structure BWB and officielebekendmakingen XML share (kop with label/nr/titel,
    artikel, lid with lidnr, al, lijst/li with li.nr, CALS tabel) into a Body: a division's kop
    is a heading and a step of the section path, an article's leden are parts of their own,
    al/lijst/tabel outside articles are paragraphs. Each part carries its own validity window
    (FROM_ATTRS / UNTIL_ATTRS of it or an element above it, below the root)."""

    def __init__(self, body: Body, name: str, title: str):
        self.body, self.name, self.title = body, name, title

    def walk(self, el: ET.Element, path: list[str], window: tuple[str | None, str | None]) -> None:
        for child in el:
            tag = local(child.tag)
            if tag in SKIP or not tag:
                continue
            own = self._window(child, window, tag)
            if own is None:
                continue  # repealed or not yet in force, without dates
            if tag == "artikel":
                self._article(child, path, own)
            elif tag in ("al", "lijst", "tabel"):  # a table may have a kop (its caption) too
                self._text(child, path, own)
            elif child.find("kop") is not None:
                heading = _heading(child.find("kop"), with_label=not tag.startswith("circulaire"))
                if heading:
                    self.body.heading(heading)
                self.walk(child, [*path, heading] if heading else path, own)
            elif len(child) == 0 or tag in INLINE_HOLDERS:
                # any other element with text (a tussenkop, a closing formula, a signature) is a
                # paragraph: no text of the document is left out because its element is unknown
                self._text(child, path, own)
            else:
                self.walk(child, path, own)

    def _window(self, el: ET.Element, outer: tuple[str | None, str | None], tag: str):
        start = date_attr(el, FROM_ATTRS, self.name, f"element <{tag}>") or outer[0]
        end = date_attr(el, UNTIL_ATTRS, self.name, f"element <{tag}>") or outer[1]
        status = el.get("status", "").lower()
        if status == "vervallen" and not date_attr(el, UNTIL_ATTRS, self.name, f"element <{tag}>"):
            # the date a repealed part has is the day its repeal took effect: its last day is the
            # day before; without any date it is valid on no day the reader could name
            repealed = date_attr(el, FROM_ATTRS, self.name, f"element <{tag}>")
            if repealed is None:
                return None
            last = (dt.date.fromisoformat(repealed) - dt.timedelta(days=1)).isoformat()
            return outer[0], last if outer[1] is None or last < outer[1] else outer[1]
        if status == "nogniet" and not date_attr(el, FROM_ATTRS, self.name, f"element <{tag}>"):
            return None  # not yet in force, with no date it will be
        return start, end

    def _article(self, art: ET.Element, path: list[str], window) -> None:
        kop = art.find("kop")
        number = clean(text_of(kop.find("nr"))) if kop is not None and kop.find("nr") is not None else ""
        number = number.rstrip(".") or clean(art.get("label", "").removeprefix("Artikel"))
        title = text_of(kop.find("titel"), frozenset({"noot", "meta-data"})) if kop is not None and kop.find("titel") is not None else ""
        word = clean(text_of(kop.find("label"))) if kop is not None and kop.find("label") is not None else "Artikel"
        section = " > ".join([*path, f"{word} {number} {title}".strip()] if title else path)
        self.body.heading(f"{word} {number}" + (f" {title}" if title else ""))
        loose: list[str] = []  # the article's text outside its leden (all of it, without leden)

        def add_loose() -> None:
            if loose:
                self._add(loose, section, "article", article=number, valid_from=window[0], valid_until=window[1])
                loose.clear()

        for child in art:
            if local(child.tag) != "lid":
                loose.extend(_lines(child))
                continue
            add_loose()
            own = self._window(child, window, "lid")
            if own is None:
                continue
            nr_el = child.find("lidnr")
            nr = clean(text_of(nr_el)).rstrip(".") if nr_el is not None else ""
            lines = [line for c in child if local(c.tag) not in SKIP | {"lidnr"} for line in _lines(c)]
            if lines and nr:
                lines[0] = f"{nr}. {lines[0]}"
            self._add(lines, section, "article", article=number, lid=nr, valid_from=own[0], valid_until=own[1])
        add_loose()

    def _text(self, el: ET.Element, path: list[str], window) -> None:
        kind = "list" if local(el.tag) == "lijst" else "paragraph"
        self._add(_lines(el), " > ".join(path) or self.title, kind, valid_from=window[0], valid_until=window[1])

    def _add(self, lines: list[str], section: str, kind: str, **fields) -> None:
        """A part of `lines` with the markup's whitespace collapsed (a list number joined to an
        empty first line leaves none behind)."""
        self.body.add(Part([clean(line) for line in lines], section, kind, **fields))


def _lines(el: ET.Element) -> list[str]:
    """The lines of an element: an `al` is a line; a list item is its number and text on one
    line, its sub-list on the lines after it; a table row is its cells joined by ' | '."""
    tag = local(el.tag)
    if tag in SKIP or not tag:
        return []
    if tag == "al" or tag in INLINE_HOLDERS:
        return [text_of(el, SKIP)]
    if tag == "li":
        nr_el = el.find("li.nr")
        nr = clean(text_of(nr_el)) if nr_el is not None else ""
        lines = [line for c in el if local(c.tag) != "li.nr" for line in _lines(c)]
        if lines and nr:
            lines[0] = f"{nr} {lines[0]}"
        return lines or ([nr] if nr else [])
    if tag == "row":
        cells = [text_of(c, SKIP) for c in el if local(c.tag) == "entry"]
        return [" | ".join(c for c in cells)] if any(cells) else []
    if len(el) == 0:
        return [text_of(el, SKIP)] if (el.text or "").strip() else []
    out = [el.text.strip()] if (el.text or "").strip() else []
    for c in el:
        out.extend(_lines(c))
        if c.tail and c.tail.strip():
            out.append(c.tail.strip())
    return out
