"""Documents an operator uploads: type and size checked, name sanitised, stored atomically in the
corpus folder. The indexer decides later whether the content can be indexed."""
from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from indexer.parsers import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES

MAX_NAME = 120  # characters of the stem kept


@dataclass(frozen=True)
class Problem:
    """Why an upload is refused: an i18n key and its values."""

    key: str
    values: dict


def sanitise_name(name: str) -> str | None:
    """A safe file name: no folders, ASCII letters, digits, '.', '-' and '_' only, lower-case
    suffix; None when nothing usable is left. 'Nota (v2) — déf.PDF' -> 'Nota-v2-def.pdf'."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._")[:MAX_NAME].strip("-._")
    suffix = re.sub(r"[^a-z0-9]", "", suffix.lower())
    if not stem or not suffix:
        return None
    return f"{stem}.{suffix}"


def check(name: str, data: bytes, max_mb: int) -> Problem | None:
    """None if the upload may be stored; else what is wrong with it."""
    safe = sanitise_name(name)
    if safe is None:
        return Problem("manage_bad_name", {})
    suffix = Path(safe).suffix
    if suffix not in SUPPORTED_SUFFIXES or safe.endswith(SIDECAR_SUFFIX):
        return Problem("manage_bad_type", {"suffix": suffix or "—", "allowed": ", ".join(SUPPORTED_SUFFIXES)})
    if len(data) > max_mb * 1024 * 1024:
        return Problem("manage_too_big", {"mb": len(data) / 1024 / 1024, "limit": max_mb})
    if suffix == ".pdf" and not data.lstrip()[:5] == b"%PDF-":
        return Problem("manage_not_pdf", {})
    if suffix != ".pdf":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return Problem("manage_not_utf8", {})
    return None


def store(folder: Path, name: str, data: bytes, replace: bool) -> Path | Problem:
    """Write the upload into `folder` under its sanitised name (temp file + rename: a reader
    never sees half a file); a Problem if a file of that name exists and `replace` is False."""
    safe = sanitise_name(name)
    if safe is None:
        return Problem("manage_bad_name", {})
    target = folder / safe
    if target.exists() and not replace:
        return Problem("manage_exists", {"name": safe})
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
