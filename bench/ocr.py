"""OCR: parsing a generated scan of N pages with Tesseract, against parsing it again from the OCR
cache (what a rebuild does) and against the same text as a PDF with a text layer, in one run.

    python -m bench.ocr [--pages 3] [--reps 3]      # JSON on stdout, progress on stderr

Needs Tesseract with its Dutch data (Debian: tesseract-ocr tesseract-ocr-nld) and DejaVu Sans.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import stats_ms, timed
from indexer.parsers.ocr import DPI, Ocr
from indexer.sandbox import parse_file

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = [
    "De staatssecretaris heeft het verzoek om een verblijfsvergunning asiel",
    "voor bepaalde tijd afgewezen. Betrokkene heeft niet aannemelijk gemaakt",
    "dat hij bij terugkeer naar het land van herkomst een reëel risico loopt",
    "op ernstige schade. Het bezwaar is ongegrond en het besluit blijft in stand.",
]


def page_lines(n: int) -> list[str]:
    """Page n: a heading and 24 lines of letter text (a typical typed letter page)."""
    return [f"Overweging {n}", ""] + LINES * 6


def scan(path: Path, pages: int) -> None:
    """An image-only PDF (150 dpi page images) of `pages` pages."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 26)
    images = []
    for n in range(1, pages + 1):
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(page_lines(n)):
            draw.text((110, 140 + 44 * row), line, font=font, fill=0)
        images.append(image)
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)


def text_pdf(path: Path, pages: int) -> None:
    """The same pages as a PDF with a text layer (the baseline: no OCR)."""
    from fpdf import FPDF

    doc = FPDF(format="A4")
    doc.add_font("dejavu", fname=FONT)
    for n in range(1, pages + 1):
        doc.add_page()
        doc.set_font("dejavu", size=11)
        doc.multi_cell(0, 6, "\n".join(page_lines(n)))
    doc.output(str(path))


def run(pages: int, reps: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="beleidswijzer-bench-ocr-") as tmp:
        work = Path(tmp)
        scanned, typed = work / "scan.pdf", work / "typed.pdf"
        scan(scanned, pages)
        text_pdf(typed, pages)
        print(f"ocr: {pages} page(s), {reps} run(s) each", file=sys.stderr)
        caches = iter(work / f"cache-{i}" for i in range(reps))
        cold_s, (_, passages, _) = timed(lambda: parse_file(scanned, ocr=Ocr(next(caches))), reps)
        warm = Ocr(work / "warm")
        parse_file(scanned, ocr=warm)
        cached_s, _ = timed(lambda: parse_file(scanned, ocr=warm), reps)
        typed_s, _ = timed(lambda: parse_file(typed), reps)
    version = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    cold, cached, typed = stats_ms(cold_s), stats_ms(cached_s), stats_ms(typed_s)
    return {
        "pages": pages, "dpi": DPI, "tesseract": version, "passages": len(passages),
        "ocr": cold, "ocr_cached": cached, "text_layer": typed,
        "ocr_s_per_page": cold["median_ms"] / 1000 / pages,
        "ocr_vs_cached": cold["median_ms"] / cached["median_ms"],
        "cached_vs_text_layer": cached["median_ms"] / typed["median_ms"],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.ocr", description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args(argv)
    print(json.dumps(run(args.pages, args.reps), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
