"""The case file as an A4 PDF, rendered from the same blocks as the Markdown.

The PDF needs a Unicode TrueType font: DejaVu Sans (Debian: fonts-dejavu-core) or the file
named by BELEIDSWIJZER_PDF_FONT.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from casefile.content import QUOTE_CLOSE, QUOTE_OPEN, blocks
from casefile.model import CaseFile

FONT_ENV = "BELEIDSWIJZER_PDF_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)


class ExportError(RuntimeError):
    """The export cannot be made; the message says what to install or set."""


@lru_cache(maxsize=1)
def find_font() -> tuple[str, str]:
    """(regular, bold) paths of a Unicode TrueType font; ExportError when there is none."""
    configured = os.environ.get(FONT_ENV, "").strip()
    candidates = [configured] if configured else list(FONT_CANDIDATES)
    if not configured and shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", "DejaVu Sans:style=Book"], capture_output=True,
                                   text=True, timeout=5).stdout.strip()  # fmt: skip
            if found.lower().endswith(".ttf"):
                candidates.append(found)
        except (OSError, subprocess.SubprocessError):
            pass
    for path in candidates:
        if path and Path(path).is_file():
            bold = Path(path).with_name(Path(path).stem + "-Bold.ttf")
            return path, str(bold if bold.is_file() else path)
    if configured:
        raise ExportError(f"{FONT_ENV}={configured!r} is not a file; name a TrueType (.ttf) font with Unicode glyphs.")
    raise ExportError("No Unicode TrueType font for the PDF export. Install DejaVu Sans "
                      f"(Debian: apt-get install fonts-dejavu-core) or set {FONT_ENV} to a .ttf file.")  # fmt: skip


@lru_cache(maxsize=1)
def pdf_problem() -> str | None:
    """Why a PDF cannot be made here (no Unicode font), or None when it can; asked once."""
    try:
        find_font()
    except ExportError as exc:
        return str(exc)
    return None


def case_pdf(case: CaseFile) -> bytes:
    """The case as an A4 PDF (text selectable and searchable)."""
    from fpdf import FPDF

    regular, bold = find_font()
    pdf = FPDF(format="A4")
    pdf.set_title("Beleidswijzer — export voor het dossier")
    pdf.set_creator("Beleidswijzer")
    pdf.set_creation_date(case.created)
    pdf.add_font("Case", "", regular)
    pdf.add_font("Case", "B", bold)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    sizes = {"h1": 15, "h2": 12.5, "h3": 11}
    for kind, text in blocks(case):
        text = text.replace("\t", " ")
        if kind in sizes:
            pdf.ln(2 if kind == "h3" else 4)
            pdf.set_font("Case", "B", sizes[kind])
            pdf.multi_cell(0, sizes[kind] * 0.5, " ".join(text.split()), new_x="LMARGIN", new_y="NEXT", align="L")
            pdf.ln(1)
            continue
        pdf.set_font("Case", "", 9 if kind in ("meta", "sub") else 10)
        grey = 90 if kind == "meta" else 0
        pdf.set_text_color(grey, grey, grey)
        indent = {"quote": 5, "cited": 5, "item": 3, "sub": 9}.get(kind, 0)
        pdf.set_x(pdf.l_margin + indent)
        if kind in ("quote", "cited"):
            pdf.set_fill_color(245, 245, 240)
        prefix = "• " if kind == "item" and not text[:1].isdigit() else ("– " if kind == "sub" else "")
        # the quote of a cited passage in bold; fpdf's markdown would also read '__' and '--' in a
        # text, so a text holding those markers is shown plain
        bold = kind == "cited" and not any(m in text for m in ("**", "__", "--"))
        if kind == "cited":
            text = text.replace(QUOTE_OPEN, "**" if bold else "").replace(QUOTE_CLOSE, "**" if bold else "")
        pdf.multi_cell(pdf.epw - indent, 4.6, prefix + text, new_x="LMARGIN", new_y="NEXT",
                       fill=kind in ("quote", "cited"), align="L", markdown=bold)  # fmt: skip
        if kind in ("p", "quote", "cited", "meta"):
            pdf.ln(1.5)
    return bytes(pdf.output())
