"""A PDF page as an image with passages highlighted (pypdfium2 renders, PIL draws).

Positions are approximate: the passage offsets index pypdf's page text, not pdfium's, so a
snippet is found on the pdfium page by comparing both texts without white space, hyphens or
case (ui.text.squeeze), whole or by its first and last 40 characters; the boxes of the
characters in between are merged per line and drawn as translucent rectangles.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from ui.text import find_squeezed, squeeze

SCALE = 1.6  # 72 dpi * 1.6 ~ 115 dpi: readable on a laptop screen, ~150 KB PNG per page
QUOTE_RGBA = (255, 208, 0, 110)
PASSAGE_RGBA = (255, 236, 150, 70)
MARGIN = 1.5  # points around each line box


@dataclass(frozen=True)
class Box:
    left: float
    bottom: float
    right: float
    top: float


def page_count(path: Path) -> int:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return len(pdf)
    finally:
        pdf.close()


def line_boxes(textpage: pdfium.PdfTextPage, snippet: str) -> list[Box]:
    """Boxes (PDF points, origin bottom left), one per text line, covering `snippet` on the page."""
    n = textpage.count_chars()
    chars = "".join(chr(pdfium.raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(n))
    hay, where = squeeze(chars)
    span = find_squeezed(squeeze(snippet)[0], hay)
    if span is None:
        return []
    first, last = where[span[0]], where[span[1] - 1]
    lines: list[list[float]] = []
    for i in range(first, last + 1):
        if chars[i].isspace():
            continue
        left, bottom, right, top = textpage.get_charbox(i)
        if right <= left or top <= bottom:
            continue
        line = lines[-1] if lines else None
        # the same line: vertical overlap with the line so far
        if line and bottom < line[3] and top > line[1]:
            line[:] = [min(line[0], left), min(line[1], bottom), max(line[2], right), max(line[3], top)]
        else:
            lines.append([left, bottom, right, top])
    return [Box(*l) for l in lines]


def render_page(path: Path, page: int, snippets: list[tuple[str, str]], scale: float = SCALE) -> bytes:
    """PNG of `page` (1-based) with each (snippet, "passage"|"quote") highlighted, passages first."""
    pdf = pdfium.PdfDocument(str(path))
    try:
        p = pdf[page - 1]
        height = p.get_height()
        image = p.render(scale=scale).to_pil().convert("RGBA")
        overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(overlay)
        textpage = p.get_textpage()
        for kind in ("passage", "quote"):
            colour = QUOTE_RGBA if kind == "quote" else PASSAGE_RGBA
            for text, k in snippets:
                if k != kind:
                    continue
                for b in line_boxes(textpage, text):
                    draw.rectangle(
                        [(b.left - MARGIN) * scale, (height - b.top - MARGIN) * scale,
                         (b.right + MARGIN) * scale, (height - b.bottom + MARGIN) * scale],
                        fill=colour,
                    )  # fmt: skip
        textpage.close()
        out = Image.alpha_composite(image, overlay).convert("RGB")
        buf = io.BytesIO()
        out.save(buf, format="PNG", optimize=True)
        return buf.getvalue()
    finally:
        pdf.close()
