"""Plain text and Markdown with an optional YAML front matter.

Recognises the structure of legislation ("Artikel 43", leden "1.", points "a." / "(a)" / "1°.",
convention sections "A."), headings ("=== C2/3.2 ... ===", "CHAPTER I", "1 Inleiding") and
paragraphs. Character offsets index the document body: the text after the front matter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from indexer.parsers import DocumentParser, UnreadableDocument
from indexer.parsers.frontmatter import make_meta, parse_yaml_meta, split_front_matter
from indexer.passage import DocumentMeta, Passage

MAX_CHARS = 1200  # a passage never exceeds this unless one sentence does
TARGET_CHARS = 900  # merging paragraphs stops once a passage would pass this...
MIN_CHARS = 300  # ...unless it is still shorter than this

_BANNER = re.compile(r"^(?:===+|---+)\s*(.+?)\s*(?:===+|---+)$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*$")
_ARTICLE = re.compile(r"^(?:Artikel|Article|Art\.)\s+(\d+(?:\.\d+)?[a-z]{0,2})\b\s*(?:[-–—:]\s*(.*))?$")
_DIVISION = re.compile(r"^(?:CHAPTER|HOOFDSTUK|Hoofdstuk|SECTION|Afdeling|Paragraaf|Titel|TITEL|Chapter)\s+\S+.*$")
_NUM_HEADING = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+([A-Z][^.:;!?]{1,90})$")
_LID = re.compile(r"^(\d+)\.\s+\S")
_SECTION_LETTER = re.compile(r"^([A-F])\.(?:\s+|$)")
_POINT = re.compile(r"^(?:([a-z])[.)]|\(([a-z])\)|(\d+°)\.?|\((\d+)\))\s+\S")
_BULLET = re.compile(r"^[*•\-–]\s+\S")
_CLAUSE = re.compile(r"(?<=[,;])\s+")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-Z(„\"'])")


@dataclass
class _Unit:
    """One structural line (or several joined continuation lines) of the body."""

    text: str
    start: int
    end: int
    kind: str  # heading | article | lid | point | para
    label: str = ""
    after_blank: bool = True  # preceded by a blank line (or the start of the body)


class TextParser(DocumentParser):
    suffixes = (".txt", ".md")

    def parse_document(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        """Metadata, passages and [body]: the text (after the front matter) their offsets index."""
        raw = _read_utf8(path)
        fm, body, _ = split_front_matter(raw)
        fields = parse_yaml_meta(fm, path, "front matter") if fm is not None else {}
        meta = make_meta(fields, path.stem, display_name)
        if not body.strip():
            raise UnreadableDocument(
                path, "the file has no text after its front matter.", "Add the document text or remove the file."
            )
        return meta, list(passages_from_body(body, meta)), [body]


def _read_utf8(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(
            path,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}).",
            "Save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8`) and rebuild.",
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def body_of(path: Path) -> str:
    """The body text that passage offsets of a text file index (after front matter)."""
    return split_front_matter(_read_utf8(path))[1]


def _units(body: str) -> list[_Unit]:
    """Split the body into structural units; wrapped lines of one paragraph are joined."""
    units: list[_Unit] = []
    pos = 0
    prev_blank = True
    prev_line_len = 0
    for line in body.split("\n"):
        start = pos
        pos += len(line) + 1
        stripped = line.strip()
        if not stripped:
            prev_blank = True
            continue
        lead = len(line) - len(line.lstrip())
        s, e = start + lead, start + lead + len(stripped)
        kind, label = _classify(stripped)
        if kind == "para" and not prev_blank and units and _continues(units[-1], prev_line_len, stripped):
            last = units[-1]
            last.text += " " + stripped
            last.end = e
        else:
            after_heading = bool(units) and units[-1].kind in ("heading", "article")
            units.append(_Unit(stripped, s, e, kind, label, prev_blank or after_heading))
        prev_blank = False
        prev_line_len = len(stripped)
    return units


def _continues(prev: _Unit, prev_line_len: int, line: str) -> bool:
    """A line wrapped mid-sentence continues the previous unit (hard-wrapped Markdown): the
    previous line did not end a sentence, and either this one starts in lower case or the
    previous one was long (a wrap, not a heading)."""
    return (
        prev.kind in ("para", "lid", "point")
        and not prev.text.rstrip().endswith((".", ":", ";", "?", "!"))
        and (line[:1].islower() or prev_line_len >= 60)
    )


def _classify(line: str) -> tuple[str, str]:
    if m := _MD_HEADING.match(line):
        return "heading", m.group(2)
    if m := _BANNER.match(line):
        return "heading", m.group(1)
    if m := _ARTICLE.match(line):
        return "article", m.group(1)
    if _DIVISION.match(line) and len(line) <= 90 and not line.endswith(":"):
        return "heading", line
    if m := _LID.match(line):
        return "lid", m.group(1)
    if m := _SECTION_LETTER.match(line):
        return "lid", m.group(1)
    if m := _POINT.match(line):
        return "point", next(g for g in m.groups() if g)
    if _BULLET.match(line):
        return "point", ""
    return "para", ""


def _heading_level(line: str) -> int:
    """0 for a banner (=== X ===), 1-3 for Markdown #, ##, ###+, 1 for CHAPTER/Afdeling lines."""
    if m := _MD_HEADING.match(line):
        return min(3, len(m.group(1)))
    return 0 if _BANNER.match(line) else 1


def _short_unpunctuated_run(nxt: _Unit | None) -> bool:
    """The next line continues a block of short label lines (no sentence end)."""
    return (
        nxt is not None
        and nxt.kind == "para"
        and not nxt.after_blank
        and len(nxt.text) <= 90
        and not nxt.text.endswith((".", ";", ":", "?", "!"))
    )


def _is_subheading(unit: _Unit, nxt: _Unit | None, title_of_article: bool = False) -> bool:
    """A short line without closing punctuation, after a blank line (or a heading) and followed
    by more text, is a heading; a run of short lines ('Ingediend ...', 'Indiener ...') is not."""
    t = unit.text
    return (
        unit.kind == "para"
        and unit.after_blank
        and (title_of_article or not _short_unpunctuated_run(nxt))
        and nxt is not None
        and len(t) <= 90
        and not t.endswith((".", ";", "?", "!", ")"))
        and ":" not in t
        and "," not in t
        and t[:1].isupper()
    )


def passages_from_body(body: str, meta: DocumentMeta) -> list[Passage]:
    """Group units into passages: one per lid (with its points) in articles, merged paragraphs elsewhere."""
    units = _units(body)
    out: list[Passage] = []
    headings = ["", "", "", ""]  # banner, division, numbered heading, sub-heading
    article = ""
    article_word = "Artikel"
    article_title = ""
    lid = ""
    group: list[_Unit] = []

    def set_heading(level: int, text: str) -> None:
        headings[level] = text
        for deeper in range(level + 1, len(headings)):
            headings[deeper] = ""

    def section() -> str:
        parts = [h for h in headings if h]
        if article and article_title:
            parts.append(f"{article_word} {article} {article_title}")
        return " > ".join(parts)

    def flush() -> None:
        if not group:
            return
        for chunk in _pack(group, in_article=bool(article)):
            first, last = chunk[0], chunk[-1]
            text = "\n".join(u.text for u in chunk)
            points = [u.label for u in chunk if u.kind == "point" and u.label]
            whole_lid = chunk is group or (chunk[0] is group[0] and chunk[-1] is group[-1])
            point = "" if whole_lid or not points else (points[0] if len(points) == 1 else f"{points[0]}-{points[-1]}")
            out.append(
                Passage(
                    doc_id=meta.doc_id,
                    seq=len(out),
                    text=text,
                    section=section(),
                    article=article,
                    lid=lid,
                    point=point,
                    kind="article" if article else ("list" if any(u.kind == "point" for u in chunk) else "paragraph"),
                    char_start=first.start,
                    char_end=last.end,
                    meta=meta,
                )
            )
        group.clear()

    for i, u in enumerate(units):
        nxt = units[i + 1] if i + 1 < len(units) else None
        if u.kind == "heading":
            flush()
            article, article_title, lid = "", "", ""
            set_heading(_heading_level(u.text), u.label)
            continue
        if u.kind == "article":
            flush()
            article, lid = u.label, ""
            article_word = u.text.split()[0]
            article_title = (_ARTICLE.match(u.text).group(2) or "").strip()
            continue
        if article and not article_title and not group and _is_subheading(u, nxt, title_of_article=True):
            article_title = u.text
            continue
        if not article and u.kind == "para" and _NUM_HEADING.match(u.text) and nxt is not None:
            flush()
            set_heading(2, " ".join(u.text.split()))
            continue
        if not article and _is_subheading(u, nxt):
            flush()
            set_heading(3, u.text)
            continue
        if u.kind == "lid" and article:
            flush()
            lid = u.label
        group.append(u)
    flush()
    return out


def _pack(units: list[_Unit], in_article: bool) -> list[list[_Unit]]:
    """Pack units into chunks of at most MAX_CHARS; a lone overlong unit is split at sentences."""
    pieces: list[_Unit] = []
    for u in units:
        pieces.extend(_split_long(u) if len(u.text) > MAX_CHARS else [u])
    chunks: list[list[_Unit]] = []
    size = 0
    for u in pieces:
        n = len(u.text) + 1
        if chunks and (size + n <= MAX_CHARS) and (in_article or size < MIN_CHARS or size + n <= TARGET_CHARS):
            chunks[-1].append(u)
            size += n
        else:
            chunks.append([u])
            size = n
    return chunks


def _split_long(u: _Unit) -> list[_Unit]:
    """Split one overlong unit into pieces of at most MAX_CHARS: at sentence ends, or, for a
    single overlong sentence, at clause boundaries (", " / "; ")."""
    out: list[_Unit] = []
    for piece in _split_at(u, _SENTENCE_END):
        out.extend(_split_at(piece, _CLAUSE) if len(piece.text) > MAX_CHARS else [piece])
    return out


def _split_at(u: _Unit, boundary: re.Pattern) -> list[_Unit]:
    bounds = [0] + [m.end() for m in boundary.finditer(u.text)] + [len(u.text)]
    out: list[_Unit] = []
    cur = 0
    for b_prev, b in zip(bounds, bounds[1:]):
        if b - cur > MAX_CHARS and b_prev > cur:
            out.append(_sub(u, cur, b_prev))
            cur = b_prev
    out.append(_sub(u, cur, len(u.text)))
    return out


def _sub(u: _Unit, a: int, b: int) -> _Unit:
    seg = u.text[a:b]
    lead = len(seg) - len(seg.lstrip())
    seg = seg.strip()
    # offsets are exact only when the unit is a single source line (no joined wraps)
    start = u.start + a + lead
    return _Unit(seg, start, start + len(seg), u.kind, u.label)
