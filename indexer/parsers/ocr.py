"""OCR of scanned PDF pages: pdfium renders a page to a grey image, the `tesseract` program reads it.

Tesseract runs as a child of the parsing process (indexer.sandbox), so the memory limit of that
process applies to it too, and it ends with that process (indexer.lifeline). The time per page
(`Ocr.page_seconds`) and for all pages of a file (`Ocr.file_seconds`) is limited here. What it reads
is cached by the PDF's content hash (sha256 of its bytes): a rebuild that parses the file again
(a new parser version, another model, a changed sidecar) takes the text from the cache instead
of running OCR again. A cache entry is one JSON file, replaced atomically after every page, so a
build stopped half-way keeps the pages already read.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from indexer import lifeline

log = logging.getLogger(__name__)

TESSERACT = "tesseract"
LANGUAGE = "nld"  # Tesseract's Dutch model; it reads the English words in Dutch documents well enough
DPI = 300  # Tesseract's recommended resolution for body text
MAX_PIXELS = 40_000_000  # a larger page (a poster, a hostile page size) is rendered at a lower resolution
PACKAGES = "tesseract-ocr tesseract-ocr-nld"
NOT_INSTALLED = "Tesseract, the program that reads scanned pages (OCR), is not installed."
INSTALL = f"Install Tesseract with its Dutch language data (Debian: apt-get install {PACKAGES}) and build again."
CACHE_VERSION = 1  # bump when what is cached changes (rendering, Tesseract's options)


class OcrUnavailable(Exception):
    """Tesseract or its Dutch language data is missing: no page can be read. `reason` says which."""

    def __init__(self, reason: str):
        self.reason = reason
        self.remedy = INSTALL
        super().__init__(f"{reason} {INSTALL}")


class OcrFailed(Exception):
    """Reading one page went wrong (time, memory, a Tesseract error); `reason` and `remedy` say what and what to do."""

    def __init__(self, reason: str, remedy: str):
        self.reason = reason
        self.remedy = remedy
        super().__init__(f"{reason} {remedy}")


class OcrTimeout(OcrFailed):
    """Tesseract took longer than the time it was given for a page."""


@dataclass
class Ocr:
    """How scanned pages are read.

    `cache_dir`: where read pages are kept by the PDF's hash (None: no cache). `page_seconds`:
    the time Tesseract may take for one page (BELEIDSWIJZER_OCR_SECONDS). `announce`: told how
    many pages are about to be read, before the first (the sandbox extends the file's time limit).
    `file_seconds`: the time OCR may take for all pages of one file (BELEIDSWIJZER_OCR_FILE_SECONDS;
    None: no limit), so that many slow pages cannot hold the build for hours. `wanted`: asked
    before each page; False stops the reading (the build that asked for it has ended).
    A page without any image is blank to OCR: it is not read."""

    cache_dir: Path | None = None
    page_seconds: float = 60.0
    announce: Callable[[int], None] | None = None
    max_pages: int | None = None  # BELEIDSWIJZER_OCR_PAGES: scanned pages one file may have (None: no limit)
    file_seconds: float | None = None
    wanted: Callable[[], bool] | None = None

    def read(self, path: Path, numbers: list[int]) -> dict[int, str]:
        """The text of pages `numbers` (1-based) of the PDF at `path`, from the cache or read now.

        OcrUnavailable when Tesseract or its Dutch data is missing and a page is not cached;
        OcrFailed when a page cannot be read."""
        if not numbers:
            return {}
        data = Path(path).read_bytes()
        sha = hashlib.sha256(data).hexdigest()  # as content_key
        cached = self._load(sha)
        missing = [n for n in numbers if n not in cached]
        if missing:
            import pypdfium2 as pdfium

            try:
                pdf = pdfium.PdfDocument(data)
            except pdfium.PdfiumError as exc:
                raise OcrFailed(
                    f"its scanned pages cannot be rendered for OCR ({exc}).",
                    "Open it in a PDF viewer and print it to a new PDF, then replace the file.",
                ) from None
            try:
                scans = [n for n in missing if _has_image(pdf, n)]
                cached.update({n: "" for n in missing if n not in scans})  # blank: nothing to read
                if self.max_pages is not None and len(scans) > self.max_pages:
                    raise OcrFailed(
                        f"it has {len(scans):,} scanned pages without text, more than the limit of "
                        f"{self.max_pages:,} pages read by OCR per file.",
                        "Split it into smaller files, or raise BELEIDSWIJZER_OCR_PAGES if the file is genuine.",
                    )  # fmt: skip
                if scans:
                    check_tesseract()
                    if self.announce is not None:
                        self.announce(len(scans))
                started = time.monotonic()
                for done, n in enumerate(scans):
                    if self.wanted is not None and not self.wanted():
                        raise OcrFailed("the build that asked for it has stopped.", "Build again.")
                    left = math.inf if self.file_seconds is None else self.file_seconds - (time.monotonic() - started)
                    if left <= 0:
                        raise self._over_file_time(done, len(scans))
                    try:
                        cached[n] = read_image(render_page(pdf, n), min(self.page_seconds, left), n)
                    except OcrTimeout:
                        if left < self.page_seconds:  # the file's time ran out, not the page's
                            raise self._over_file_time(done, len(scans)) from None
                        raise
                    self._save(sha, cached)
            finally:
                pdf.close()
        return {n: cached[n] for n in numbers}

    def _over_file_time(self, done: int, scans: int) -> OcrFailed:
        return OcrFailed(
            f"OCR of its {scans} scanned page(s) took longer than the limit of {self.file_seconds:g} seconds "
            f"per file ({done} page(s) read).",
            "If the file is genuine, raise BELEIDSWIJZER_OCR_FILE_SECONDS and build again "
            "(pages read so far are kept).",
        )

    def _entry(self, sha: str) -> Path | None:
        return None if self.cache_dir is None else Path(self.cache_dir) / f"{sha}.json"

    def _load(self, sha: str) -> dict[int, str]:
        entry = self._entry(sha)
        if entry is None or not entry.is_file():
            return {}
        try:
            saved = json.loads(entry.read_text(encoding="utf-8"))
            if saved.get("version") != CACHE_VERSION or saved.get("language") != LANGUAGE or saved.get("dpi") != DPI:
                return {}  # read with other settings: read again
            return {int(n): str(text) for n, text in saved["pages"].items()}
        except (OSError, ValueError, KeyError, AttributeError) as exc:  # a damaged entry is read again
            log.warning("OCR cache entry %s cannot be used (%s); the pages are read again", entry, exc)
            return {}

    def _save(self, sha: str, pages: dict[int, str]) -> None:
        entry = self._entry(sha)
        if entry is None:
            return
        saved = {"version": CACHE_VERSION, "language": LANGUAGE, "dpi": DPI,
                 "pages": {str(n): pages[n] for n in sorted(pages)}}  # fmt: skip
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=f".{sha[:16]}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(saved, fh, ensure_ascii=False)
                os.replace(tmp, entry)  # atomic: a reader sees the old entry or the new one
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:  # no cache is slower, not wrong
            log.warning("OCR cache %s cannot be written (%s); the next build reads these pages again",
                        entry.parent, exc)  # fmt: skip


def content_key(path: Path) -> str:
    """The key of a PDF's cache entry: the sha256 of its bytes."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


_ENTRY = re.compile(r"^([0-9a-f]{64})\.json$|^\.([0-9a-f]{16})\..*\.tmp$")


def prune_cache(cache_dir: Path, keep: set[str]) -> int:
    """Delete the cache entries (and temporary files left by a killed build) of PDFs whose
    content key is not in `keep`: OCR text of a file no longer in the corpus is not kept, and
    the cache does not grow without end. Returns how many were deleted."""
    prefixes = {k[:16] for k in keep}
    removed = 0
    try:
        names = os.listdir(cache_dir)
    except FileNotFoundError:
        return 0
    except OSError as exc:
        log.warning("OCR cache %s cannot be read to remove old entries (%s)", cache_dir, exc)
        return 0
    for name in names:
        m = _ENTRY.match(name)
        if m is None or (m.group(1) in keep if m.group(1) else m.group(2) in prefixes):
            continue
        try:
            os.unlink(Path(cache_dir) / name)
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as exc:  # the build stands; the entry is tried again next time
            log.warning("OCR cache entry %s cannot be removed (%s); remove it by hand", name, exc)
    return removed


def check_tesseract() -> None:
    """OcrUnavailable unless the `tesseract` program is installed (missing Dutch data shows when
    it runs: read_image)."""
    if shutil.which(TESSERACT) is None:
        raise OcrUnavailable(NOT_INSTALLED)


def _has_image(pdf, number: int) -> bool:
    """Whether page `number` (1-based) shows an image (also inside a form): a scan does, a blank page not."""
    import pypdfium2.raw as pdfium_c

    page = pdf[number - 1]
    try:
        return next(page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE]), None) is not None
    finally:
        page.close()


def render_page(pdf, number: int) -> bytes:
    """Page `number` (1-based) of a pypdfium2 document as a greyscale PGM image at DPI (lower
    for a page that would exceed MAX_PIXELS)."""
    page = pdf[number - 1]
    try:
        width, height = page.get_size()  # points
        scale = DPI / 72
        pixels = width * scale * height * scale
        if pixels > MAX_PIXELS:
            scale *= math.sqrt(MAX_PIXELS / pixels)
        bitmap = page.render(scale=scale, grayscale=True)
        grey = bitmap.to_numpy()
        w, h = bitmap.width, bitmap.height
        return b"P5\n%d %d\n255\n" % (w, h) + grey[:h, :w].tobytes()
    finally:
        page.close()


def read_image(image: bytes, seconds: float, number: int) -> str:
    """Tesseract's text of one page image (PGM bytes on its standard input), form feed removed."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # one thread: the build shares the machine
    try:
        done = subprocess.run(
            [TESSERACT, "stdin", "stdout", "-l", LANGUAGE, "--dpi", str(DPI)],
            input=image, capture_output=True, timeout=seconds, env=env, preexec_fn=lifeline.child_setup(),
        )  # fmt: skip; preexec_fn: Tesseract ends with this process, also when it is killed
    except FileNotFoundError:
        raise OcrUnavailable(NOT_INSTALLED) from None
    except subprocess.TimeoutExpired:
        raise OcrTimeout(
            f"OCR of page {number} took longer than the limit of {seconds:g} seconds per page.",
            "If the scan is genuine, raise BELEIDSWIJZER_OCR_SECONDS and build again (pages read so far are kept).",
        ) from None
    err = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        if "Failed loading language" in err or "Could not initialize tesseract" in err:
            raise OcrUnavailable(f"Tesseract has no data for the language '{LANGUAGE}' (Dutch).")
        if done.returncode < 0 or "bad_alloc" in err or "alloc" in err.lower():
            raise OcrFailed(
                f"OCR of page {number} stopped ({_how(done.returncode)}), possibly at the memory limit per file.",
                "If the scan is genuine, raise BELEIDSWIJZER_PARSE_MB and build again.",
            )
        raise OcrFailed(
            f"OCR of page {number} failed ({_how(done.returncode)}: {_last_line(err)}).",
            "Scan the pages again or print the file to a new PDF, and replace the file.",
        )
    return done.stdout.decode("utf-8", "replace").replace("\f", "").rstrip()


def _how(code: int) -> str:
    import signal

    return f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no message"
