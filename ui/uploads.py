"""Changes an operator makes to the corpus folders, none of them silent.

An upload is checked (type, size, content), its name sanitised, and stored atomically, never over
an existing file. An upload whose document id (the file name without extension, as the indexer
names documents) or file name exists in any corpus folder is refused; only a replacement, which
shows old and new title and sha256 before it is confirmed, puts it in place of the existing
file(s). A replaced or removed file is moved into `.removed/` beside its corpus folder, never
deleted. The indexer decides later whether the content can be indexed.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from audit.events import file_sha256
from indexer.build import scan
from indexer.config import SettingError, parse_limits
from indexer.parsers import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, UnreadableDocument
from indexer.parsers.docx import OLE_MAGIC
from indexer.sandbox import ParseWorker

MAX_NAME = 120  # characters of the stem kept
REMOVED = ".removed"  # beside each corpus folder: replaced and removed files, one folder per change


class TitleError(RuntimeError):
    """A document's title could not be read; the message says why."""


@dataclass(frozen=True)
class Problem:
    """Why an upload or change is refused: an i18n key and its values."""

    key: str
    values: dict


@dataclass(frozen=True)
class Existing:
    """A file of the corpus as a beheerder sees it before replacing or removing it."""

    path: Path
    title: str
    sha256: str

    @property
    def doc_id(self) -> str:
        return self.path.stem

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Replacement:
    """An upload the beheerder has chosen to put in place of `old`, waiting for confirmation."""

    name: str  # sanitised
    data: bytes
    title: str
    sha256: str
    old: tuple[Existing, ...]

    @property
    def doc_id(self) -> str:
        return Path(self.name).stem


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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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
    # a .docx is a ZIP package; a compound file is a protected one, which the build reports as such
    if suffix == ".docx" and not data.startswith((b"PK\x03\x04", OLE_MAGIC)):
        return Problem("manage_not_docx", {})
    if suffix in (".txt", ".md"):  # XML and HTML declare their own encoding
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return Problem("manage_not_utf8", {})
    return None


def conflicts(corpora: Sequence[Path], name: str) -> list[Path]:
    """The files in any corpus folder with the upload's document id or file name (letter case
    ignored: 'Nota.md' beside 'nota.pdf' is refused too), found as the indexer finds documents."""
    safe = sanitise_name(name)
    if safe is None:
        return []
    stem, whole = Path(safe).stem.casefold(), safe.casefold()
    files, _ = scan([Path(c) for c in corpora])
    return [f for f in files if f.stem.casefold() == stem or f.name.casefold() == whole]


def exists_problem(found: list[Path]) -> Problem:
    """The refusal of an upload that collides with `found`."""
    return Problem("manage_exists_id", {"id": found[0].stem, "files": ", ".join(f.name for f in found)})


def store(corpora: Sequence[Path], name: str, data: bytes) -> Path | Problem:
    """Write a new document into the first corpus folder under its sanitised name (temp file,
    then a link that fails if the name is taken: a reader never sees half a file, and no file
    is overwritten); a Problem if its document id or name exists in any corpus folder."""
    safe = sanitise_name(name)
    if safe is None:
        return Problem("manage_bad_name", {})
    found = conflicts(corpora, safe)
    if found:
        return exists_problem(found)
    target = Path(corpora[0]) / safe
    if not _publish(target, data):
        return exists_problem([target])
    return target


def prepare_replacement(corpora: Sequence[Path], name: str, data: bytes,
                        indexed_title: Callable[[Path], str | None] = lambda p: None) -> Replacement | Problem:  # fmt: skip
    """What a replacement would change: the upload's title and sha256 and those of every file it
    would replace, or why it cannot replace them. `indexed_title(path)` gives the title the index
    shows for a file (None: read it from the file)."""
    safe = sanitise_name(name)
    if safe is None:
        return Problem("manage_bad_name", {})
    found = conflicts(corpora, safe)
    if not found:
        return Problem("manage_replace_nothing", {"name": safe})
    new_id = Path(safe).stem
    for f in found:
        if f.stem != new_id:  # the same id only in another letter case: it would not replace it
            return Problem("manage_replace_id_case", {"id": f.stem, "file": f.name, "name": f.stem + Path(safe).suffix})
    same_name = [f for f in found if f.name == safe]
    try:
        with tempfile.TemporaryDirectory(prefix="beleidswijzer-upload-") as tmp:
            probe = Path(tmp) / safe
            probe.write_bytes(data)
            sidecar = same_name[0].with_name(safe + SIDECAR_SUFFIX) if same_name else None
            if sidecar is not None and sidecar.is_file():  # it stays, so it names the new file too
                shutil.copyfile(sidecar, probe.with_name(probe.name + SIDECAR_SUFFIX))
            title = read_title(probe, Path(tmp))
    except TitleError as exc:
        return Problem("manage_replace_unreadable", {"name": safe, "reason": str(exc)})
    old = tuple(Existing(f, _title(f, corpus_of(corpora, f), indexed_title), file_sha256(f)) for f in found)
    return Replacement(safe, data, title, sha256(data), old)


def apply_replacement(corpora: Sequence[Path], rep: Replacement) -> tuple[Path, Path] | Problem:
    """Put the confirmed replacement in place: the old file(s) move into `.removed/` (a PDF's
    sidecar with it, unless the new file has the same name), the new file takes the first old
    file's folder. Refused when the corpus changed since the beheerder saw the comparison.
    Returns (the new file, the folder the old ones were moved to)."""
    now = {f: file_sha256(f) for f in conflicts(corpora, rep.name)}
    if now != {e.path: e.sha256 for e in rep.old}:
        return Problem("manage_replace_changed", {"id": rep.doc_id})
    target = rep.old[0].path.parent / rep.name
    aside = _aside_folder(corpora, rep.old[0].path, rep.doc_id)
    moved: list[tuple[Path, Path]] = []
    try:
        for e in rep.old:
            moved += _move_aside(e.path, aside, keep_sidecar=e.name == rep.name)
        if not _publish(target, rep.data):
            raise FileExistsError(f"{target} appeared during the replacement")
    except BaseException:
        for original, where in reversed(moved):  # put everything back as it was
            shutil.move(where, original)
        aside.rmdir()
        raise
    return target, aside


def prepare_removal(corpora: Sequence[Path], path: Path,
                    indexed_title: Callable[[Path], str | None] = lambda p: None) -> Existing:  # fmt: skip
    """The file as the beheerder confirms its removal: title and sha256."""
    return Existing(path, _title(path, corpus_of(corpora, path), indexed_title), file_sha256(path))


def remove(corpora: Sequence[Path], doc: Existing) -> Path | Problem:
    """Move a confirmed document (and a PDF's sidecar) into `.removed/`; returns that folder.
    Refused when the file changed or went since the beheerder saw it."""
    if not doc.path.is_file() or file_sha256(doc.path) != doc.sha256:
        return Problem("manage_remove_changed", {"file": doc.name})
    aside = _aside_folder(corpora, doc.path, doc.doc_id)
    _move_aside(doc.path, aside, keep_sidecar=False)
    return aside


def corpus_of(corpora: Sequence[Path], path: Path) -> Path:
    """The corpus folder `path` is in (the first, for a path in none of them)."""
    resolved = path.resolve()
    for c in corpora:
        if resolved.is_relative_to(Path(c).resolve()):
            return Path(c)
    return Path(corpora[0])


def removed_folder(corpus: Path) -> Path:
    """Where files moved out of `corpus` go: `.removed/` beside it (outside it, so never indexed)."""
    return Path(corpus).resolve().parent / REMOVED


def read_title(path: Path, root: Path) -> str:
    """The title the index would show for `path`, a file of the folder `root` (with its sidecar,
    if one is beside it), read as the build reads a file: by the parsing child under the build's
    limits (indexer.sandbox), so that a hostile upload cannot stall or bloat the server while a
    beheerder compares it with the document it would replace."""
    try:
        with ParseWorker(parse_limits()) as worker:
            meta, _, _ = worker.parse(path, root)
    except UnreadableDocument as exc:
        raise TitleError(f"{exc.reason} {exc.remedy}") from None
    except SettingError as exc:
        raise TitleError(str(exc)) from None
    except OSError as exc:
        raise TitleError(f"the reader could not be started ({exc}).") from None
    return meta.title


def _title(path: Path, root: Path, indexed_title: Callable[[Path], str | None]) -> str:
    title = indexed_title(path)
    if title:
        return title
    try:
        return read_title(path, root)
    except TitleError as exc:
        return f"({exc})"


def _publish(target: Path, data: bytes) -> bool:
    """Write `data` to `target` atomically; False (and nothing written) if `target` exists."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.link(tmp, target)
        return True
    except FileExistsError:
        return False
    finally:
        Path(tmp).unlink(missing_ok=True)


def _aside_folder(corpora: Sequence[Path], path: Path, doc_id: str) -> Path:
    """A new folder under `.removed/` for one change: '<UTC time>-<document id>'."""
    base = removed_folder(corpus_of(corpora, path))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    n = 0
    while True:
        folder = base / (f"{stamp}-{doc_id}" + (f"-{n}" if n else ""))
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            n += 1


def _move_aside(path: Path, aside: Path, keep_sidecar: bool) -> list[tuple[Path, Path]]:
    """Move `path` (and its sidecar unless `keep_sidecar`) into `aside`; the moves made."""
    moved = []
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    for p in [path] + ([sidecar] if sidecar.is_file() and not keep_sidecar else []):
        shutil.move(p, aside / p.name)  # a rename; a copy only if `.removed/` is on another disk
        moved.append((p, aside / p.name))
    return moved
