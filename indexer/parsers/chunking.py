"""Paragraphs to passage-sized chunks: merge short neighbours, split long ones at sentences.

Shared by the parsers. A parser describes each paragraph (or list group, footnote, bare heading)
as a `Block` of verbatim `Piece`s that know where they sit in the source; `chunk_blocks` returns
`Chunk`s whose text is those pieces joined, and whose `spans` still point into the source.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Passage size for retrieval and display: long enough to carry a rule with its condition,
# short enough to quote on screen and to fit the encoder's 512-token window.
MIN_CHARS = 300
MAX_CHARS = 1200

# Kinds that stay on their own: a footnote is cited as "voetnoot N", a bare heading marks a
# section without body text.
UNMERGED_KINDS = ("footnote", "heading")


@dataclass(frozen=True)
class Piece:
    """A verbatim run of source text (usually one line) and where it starts.

    `page` is 1-based (0 for unpaged text); `start` is the offset of `text[0]` in that page's
    text. `joiner` goes between the previous piece and this one: " " for a wrapped line, "" after
    a hyphen at a line end, "\\n" for a new list item.
    """

    text: str
    page: int
    start: int
    joiner: str = " "

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass
class Block:
    """A paragraph, list group (lead-in plus items), footnote or bare heading of one section."""

    pieces: list[Piece]
    section: str = ""
    kind: str = "paragraph"
    footnotes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return _join(self.pieces)[0]


@dataclass(frozen=True)
class Chunk:
    """A passage-sized piece of text; `spans` are (page, start, end) per source piece it covers."""

    text: str
    section: str
    kind: str
    spans: tuple[tuple[int, int, int], ...]
    footnotes: tuple[str, ...] = ()

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(sorted({page for page, _, _ in self.spans}))

    @property
    def char_start(self) -> int:
        """Offset of the first character in the text of the first page."""
        return self.spans[0][1]

    @property
    def char_end(self) -> int:
        """Offset just past the last character, in the text of the last page."""
        return self.spans[-1][2]

    def covers(self, page: int, offset: int) -> bool:
        return any(p == page and start <= offset < end for p, start, end in self.spans)


def chunk_blocks(
    blocks: list[Block], min_chars: int = MIN_CHARS, max_chars: int = MAX_CHARS
) -> list[Chunk]:
    """Merge short consecutive blocks of one section, split blocks over `max_chars`."""
    chunks: list[Chunk] = []
    for group in _merge(blocks, min_chars, max_chars):
        pieces = list(group[0].pieces)
        for block in group[1:]:
            pieces.append(_with_joiner(block.pieces[0], "\n"))
            pieces.extend(block.pieces[1:])
        kinds = {b.kind for b in group}
        kind = group[0].kind if len(kinds) == 1 else ("list" if "list" in kinds else "paragraph")
        notes = tuple(dict.fromkeys(n for b in group for n in b.footnotes))
        chunks.extend(_split(pieces, group[0].section, kind, notes, min_chars, max_chars))
    return chunks


def _merge(blocks: list[Block], min_chars: int, max_chars: int) -> list[list[Block]]:
    groups: list[list[Block]] = []
    size = 0
    for block in blocks:
        length = len(block.text)
        last = groups[-1] if groups else None
        if (
            last is not None
            and last[-1].section == block.section
            and last[-1].kind not in UNMERGED_KINDS
            and block.kind not in UNMERGED_KINDS
            and (size < min_chars or length < min_chars)
            and size + 1 + length <= max_chars
        ):
            last.append(block)
            size += 1 + length
        else:
            groups.append([block])
            size = length
    return groups


def _with_joiner(piece: Piece, joiner: str) -> Piece:
    return Piece(piece.text, piece.page, piece.start, joiner)


def _join(pieces: list[Piece]) -> tuple[str, list[int]]:
    """The joined text and the index where each piece starts in it."""
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for i, piece in enumerate(pieces):
        if i:
            parts.append(piece.joiner)
            pos += len(piece.joiner)
        starts.append(pos)
        parts.append(piece.text)
        pos += len(piece.text)
    return "".join(parts), starts


# A sentence ends at . ! ? (plus closing quotes/brackets) before whitespace and a capital.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(]?[A-ZÀ-Ý])")
_CLAUSE_END = re.compile(r"[;:](?=\s)")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:[a-z]\.){2,}$|(?:^|\s)(?:bijv|vgl|zgn|resp|nr|art|jl)\.$")


def _boundaries(text: str, starts: list[int], pieces: list[Piece]) -> dict[int, int]:
    """Where a chunk may end (index just after its last character) -> preference (higher wins)."""
    found: dict[int, int] = {}
    for match in re.finditer(r"\S(?=\s)", text):  # any word end
        found[match.end()] = 0
    for match in _CLAUSE_END.finditer(text):
        found[match.end()] = 1
    for match in _SENTENCE_END.finditer(text):
        if not _ABBREVIATION.search(text[max(0, match.start() - 8) : match.start() + 1]):
            found[match.end()] = 2
    for i, piece in enumerate(pieces[1:], start=1):
        if "\n" in piece.joiner:  # between list items or merged paragraphs
            found[starts[i] - len(piece.joiner)] = 3
    return found


def _split(
    pieces: list[Piece],
    section: str,
    kind: str,
    footnotes: tuple[str, ...],
    min_chars: int,
    max_chars: int,
) -> list[Chunk]:
    text, starts = _join(pieces)
    bounds = _boundaries(text, starts, pieces) if len(text) > max_chars else {}
    out: list[Chunk] = []
    begin = 0
    while begin < len(text):
        while begin < len(text) and text[begin].isspace():
            begin += 1
        if begin >= len(text):
            break
        rest = len(text) - begin
        if rest <= max_chars:
            end = len(text)
        else:
            target = begin + rest / math.ceil(rest / max_chars)
            window = [b for b in bounds if begin + min_chars <= b <= begin + max_chars]
            window = window or [b for b in bounds if begin < b <= begin + max_chars]
            if window:
                end = max(window, key=lambda b: (bounds[b], -abs(b - target)))
            else:  # one unbroken run of characters: cut it
                end = begin + max_chars
        out.append(_chunk(text, starts, pieces, begin, end, section, kind, footnotes))
        begin = end
    return out


def _chunk(
    text: str,
    starts: list[int],
    pieces: list[Piece],
    begin: int,
    end: int,
    section: str,
    kind: str,
    footnotes: tuple[str, ...],
) -> Chunk:
    while end > begin and text[end - 1].isspace():
        end -= 1
    spans = []
    for piece, at in zip(pieces, starts):
        lo, hi = max(begin, at), min(end, at + len(piece.text))
        if lo < hi:
            spans.append((piece.page, piece.start + lo - at, piece.start + hi - at))
    return Chunk(text[begin:end], section, kind, tuple(spans), footnotes)
