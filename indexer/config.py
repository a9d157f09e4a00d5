"""Settings with their defaults; each can be set by an environment variable."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO / "corpus"


def default_index_dir() -> Path:
    """BELEIDSWIJZER_INDEX, else `index/` in the repo (ignored by git)."""
    return Path(os.environ.get("BELEIDSWIJZER_INDEX") or REPO / "index")


def ocr_cache_dir(index_dir: Path) -> Path:
    """BELEIDSWIJZER_OCR_CACHE, else `ocr-cache/` in the index folder: the text OCR read from
    scanned PDFs, by content hash, so that parsing a file again does not read it again."""
    return Path(os.environ.get("BELEIDSWIJZER_OCR_CACHE") or Path(index_dir) / "ocr-cache")


def cache_dir() -> Path:
    """BELEIDSWIJZER_CACHE, else ~/.cache/beleidswijzer (the converted model lives here)."""
    return Path(os.environ.get("BELEIDSWIJZER_CACHE") or Path.home() / ".cache" / "beleidswijzer")


class SettingError(ValueError):
    """An environment variable with a value that cannot be used; the message says what to set."""


def default_store(env=None) -> str | None:
    """BELEIDSWIJZER_STORE: a postgresql:// DSN whose database holds the index (and, for the app,
    the feedback and the audit trail), or None for the embedded default (the index folder)."""
    from indexer.contract import is_dsn

    raw = (os.environ if env is None else env).get("BELEIDSWIJZER_STORE", "").strip()
    if not raw:
        return None
    if not is_dsn(raw):
        raise SettingError(
            f"BELEIDSWIJZER_STORE={raw!r} cannot be used: set it to a PostgreSQL DSN "
            "(postgresql://user@host:port/database), or leave it empty for the index folder."
        )
    return raw


def shared_location(raw: str | None, store: str | None, default: Path) -> str | Path:
    """Where the app keeps state that all its replicas share (the audit trail, the feedback):
    `raw`, the value of its own setting, when given (a file, or a postgresql:// DSN); else
    `store`, the DSN of BELEIDSWIJZER_STORE (default_store); else `default`, a file in the index
    folder. A DSN is returned as a string, a file as a Path."""
    from indexer.contract import is_dsn

    raw = (raw or "").strip()
    if raw:
        return raw if is_dsn(raw) else Path(raw).expanduser()
    return store or default


@dataclass(frozen=True)
class ParseLimits:
    """What reading one file may take; a file over a limit is reported and skipped."""

    seconds: float = 30.0  # BELEIDSWIJZER_PARSE_SECONDS: wall-clock time
    megabytes: int = 500  # BELEIDSWIJZER_PARSE_MB: address space of the parsing process
    pages: int = 2_000  # BELEIDSWIJZER_PARSE_PAGES: pages of a PDF
    ocr_seconds: float = 60.0  # BELEIDSWIJZER_OCR_SECONDS: added per scanned page read by OCR
    ocr_pages: int = 200  # BELEIDSWIJZER_OCR_PAGES: scanned pages of a PDF read by OCR
    ocr_file_seconds: float = 600.0  # BELEIDSWIJZER_OCR_FILE_SECONDS: OCR of all scanned pages of one file


# variable, field, smallest value, what it is
_LIMITS = (
    ("BELEIDSWIJZER_PARSE_SECONDS", "seconds", 1, "the seconds one file may take to read"),
    ("BELEIDSWIJZER_PARSE_MB", "megabytes", 200, "the megabytes of memory reading one file may use"),
    ("BELEIDSWIJZER_PARSE_PAGES", "pages", 1, "the pages a PDF may have"),
    ("BELEIDSWIJZER_OCR_SECONDS", "ocr_seconds", 1, "the seconds OCR may take for one scanned page"),
    ("BELEIDSWIJZER_OCR_PAGES", "ocr_pages", 1, "the scanned pages of a PDF that OCR may read"),
    ("BELEIDSWIJZER_OCR_FILE_SECONDS", "ocr_file_seconds", 1, "the seconds OCR may take for all pages of a file"),
)


def parse_limits() -> ParseLimits:
    """The limits per file from BELEIDSWIJZER_PARSE_SECONDS, _MB and _PAGES (defaults 30 s,
    500 MB, 2,000 pages), BELEIDSWIJZER_OCR_SECONDS (60 s more per scanned page), _OCR_PAGES
    (200 scanned pages) and _OCR_FILE_SECONDS (600 s of OCR per file at most); SettingError for
    a value that is not a number or too small."""
    default = ParseLimits()
    values: dict = {}
    for var, name, least, meaning in _LIMITS:
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        kind = float if name.endswith("seconds") else int
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or value < least:
            raise SettingError(
                f"{var}={raw!r} cannot be used: set it to {meaning}, "
                f"{'a number' if kind is float else 'a whole number'} of at least {least} "
                f"(default {getattr(default, name):g})."
            )
        values[name] = value
    return ParseLimits(**values)
