"""Safe rendering of document text: HTML escaping with highlighted spans, Markdown escaping for
labels, `plain` to show such text as written, and a whitespace-tolerant search to place a quote
inside a page or body text.

Document text is never passed to Markdown or HTML unescaped: a document containing
`<script>`, HTML or Markdown must show as the characters it contains.
"""
from __future__ import annotations

import html
import re

from indexer.text import squeeze

import streamlit as st

# ASCII punctuation that CommonMark, GFM or Streamlit's Markdown extensions (":red[...]" directives,
# "$...$" math) give a meaning; CommonMark lets a backslash escape any of them.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=&^\"'])")

STYLE_QUOTE = "background:#ffe066;color:#111;border-radius:3px;padding:0 2px"
STYLE_PASSAGE = "background:#fff6d0;color:#111"
BOX = "white-space:pre-wrap;line-height:1.6;overflow-wrap:anywhere"


def md_escape(text: str) -> str:
    """`text` as literal Markdown (for labels, captions and badges, which Streamlit renders as Markdown)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def escape(text: str) -> str:
    return html.escape(str(text), quote=True)


def marked_html(text: str, spans: list[tuple[int, int, str]], box_style: str = BOX) -> str:
    """`text` escaped, inside a <div>, with each (start, end, style) span in a <mark>.

    Spans may nest (a quote inside a passage); where they overlap the later one wins.
    """
    spans = [(max(0, a), min(len(text), b), s) for a, b, s in spans if b > a]
    cuts = sorted({0, len(text), *(a for a, _, _ in spans), *(b for _, b, _ in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        style = next((s for sa, sb, s in reversed(spans) if sa <= a and b <= sb), None)
        piece = escape(text[a:b])
        out.append(f'<mark style="{style}">{piece}</mark>' if style else piece)
    return f'<div style="{box_style}">{"".join(out)}</div>'


def plain(text: str) -> None:
    """Text typed by a user or taken from a document, shown exactly as written."""
    if text.strip():
        st.html(marked_html(text, []))


def quote_html(text: str, quote_start: int | None, quote_end: int | None) -> str:
    """A passage with its quote highlighted."""
    spans = [] if quote_start is None or quote_end is None else [(quote_start, quote_end, STYLE_QUOTE)]
    return marked_html(text, spans)


EDGE_CHARS = 40  # the approximate match uses the first and last 40 significant characters


def locate(needle: str, haystack: str, start: int = 0) -> tuple[int, int] | None:
    """(start, end) of `needle` in `haystack[start:]`, ignoring white space, hyphens and case
    (a passage joins wrapped and hyphenated lines that its page text keeps apart).

    Approximate when the whole needle is not found: from the first occurrence of its first
    40 characters to the next of its last 40.
    """
    hay, where = squeeze(haystack[start:])
    ned, _ = squeeze(needle)
    span = find_squeezed(ned, hay)
    if span is None:
        return None
    a, b = span
    return start + where[a], start + where[b - 1] + 1


def find_squeezed(needle: str, hay: str) -> tuple[int, int] | None:
    """(start, end) in squeezed `hay` of squeezed `needle`, exact or by its first/last characters."""
    if not needle:
        return None
    i = hay.find(needle)
    if i >= 0:
        return i, i + len(needle)
    if len(needle) <= 2 * EDGE_CHARS:
        return None
    i = hay.find(needle[:EDGE_CHARS])
    j = hay.find(needle[-EDGE_CHARS:], i + EDGE_CHARS) if i >= 0 else -1
    return (i, j + EDGE_CHARS) if j >= 0 else None
