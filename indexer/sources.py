"""Which files of a corpus folder are read, and how file names are shown.

A symbolic link is followed only when its target lies inside the corpus folder it was found
in: a link to /etc/passwd would otherwise be indexed and served as a cited passage. A link
out of the folder, a dangling link, a file that is not a regular file and a name with control
characters or bytes that are not UTF-8 are each reported and skipped. Every name and message
of a report passes through `shown`, so control characters never reach a terminal or a page.
"""
from __future__ import annotations

import errno
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from indexer.parsers import SIDECAR_SUFFIX

LINK_OUT_REMEDY = "Copy the file into the corpus folder instead of linking to it."
DANGLING_REMEDY = "Remove the link, or copy the file it was meant for into the corpus folder."


@dataclass
class Skipped:
    """A file that was not indexed: what is wrong and what to do, safe to print."""

    file: str
    reason: str
    remedy: str

    def __post_init__(self) -> None:
        self.file, self.reason, self.remedy = shown(self.file), shown(self.reason), shown(self.remedy)

    def __str__(self) -> str:
        return f"{self.file}: {self.reason} {self.remedy}"


@dataclass(frozen=True)
class Source:
    """A file to index and the corpus folder (resolved) it was found in."""

    path: Path
    root: Path


def _unsafe(ch: str) -> bool:
    """Control and format characters (escape sequences, bidi overrides), line separators and the
    stand-ins Python uses for bytes that are not UTF-8."""
    return unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8, as os.fsdecode keeps it
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def shown(text: str) -> str:
    """`text` with control characters escaped as in repr ('\\x1b', '\\u202e'), to print safely."""
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in text)


def name_problem(name: str) -> tuple[str, str] | None:
    """(reason, remedy) when a file name cannot be shown or stored as it is, else None."""
    if any(0xDC80 <= ord(ch) <= 0xDCFF for ch in name):
        return "its name is not valid UTF-8.", "Rename it (letters, digits, '-', '_' and '.')."
    if any(_unsafe(ch) for ch in name):
        return "its name contains control characters.", "Rename it (letters, digits, '-', '_' and '.')."
    return None


def link_problem(path: Path, root: Path) -> tuple[str, str] | None:
    """(reason, remedy) when `path`, or a link on the way to it, leads out of `root` (a resolved
    folder) or to nothing; None when the file may be read."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:  # a missing target, or a loop of links
        if not path.is_symlink():
            return "the file no longer exists.", "Build again."
        if exc.errno == errno.ELOOP:
            return "is a symbolic link that leads into a loop of links.", DANGLING_REMEDY
        return f"is a symbolic link to {os.readlink(path)}, which does not exist.", DANGLING_REMEDY
    if not real.is_relative_to(root):
        return f"is a symbolic link that points outside the corpus folder (to {real}).", LINK_OUT_REMEDY
    return None


def sidecar_problem(path: Path, root: Path) -> tuple[str, str] | None:
    """(reason, remedy) when the metadata file NAME.yaml beside `path` is a link out of `root` or
    a dangling link (it would be read as the document's metadata), else None."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_symlink() and not sidecar.exists():
        return None
    problem = link_problem(sidecar, root)
    if problem is None:
        return None
    return f"its metadata file {sidecar.name} {problem[0]}", problem[1]


def find(corpora: list[Path]) -> tuple[list[Source], list[Skipped]]:
    """The document files under the corpus folders (sidecars and hidden files excluded), in
    path order, and the files that are skipped with their reasons."""
    found: list[Source] = []
    skipped: list[Skipped] = []
    for corpus in corpora:
        corpus = Path(corpus)
        if not corpus.is_dir():
            skipped.append(Skipped(str(corpus), "the corpus folder does not exist.", "Check the --corpus path."))
            continue
        root = Path(os.path.realpath(corpus))
        for path in _walk(corpus, skipped):
            if path.name.startswith(".") or path.name.endswith(SIDECAR_SUFFIX):
                continue
            problem = _problem(path, root)
            if problem is None:
                found.append(Source(path, root))
            elif problem != _FOLDER:
                skipped.append(Skipped(path.name, *problem))
    found.sort(key=lambda s: s.path)
    return found, skipped


_FOLDER = ("", "")  # a link to a folder inside the corpus: that folder is walked where it is


def _problem(path: Path, root: Path) -> tuple[str, str] | None:
    problem = name_problem(path.name) or link_problem(path, root)
    if problem is not None:
        return problem
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "the file no longer exists.", "Build again."
    if stat.S_ISDIR(mode):
        return _FOLDER
    if not stat.S_ISREG(mode):
        return "is not a regular file (a device, pipe or socket).", "Remove it from the corpus folder."
    return None


def _walk(folder: Path, skipped: list[Skipped]) -> list[Path]:
    """Every entry under `folder`, without descending into linked folders; a folder that cannot
    be listed is added to `skipped`."""
    out: list[Path] = []
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        skipped.append(Skipped(str(folder), f"the folder cannot be read ({exc.strerror}).", "Check its permissions."))
        return out
    for entry in entries:
        path = folder / entry.name
        if not entry.is_dir(follow_symlinks=False):
            out.append(path)
        elif (problem := name_problem(entry.name)) is not None:  # its files' paths could not be stored
            skipped.append(Skipped(str(path), f"is a folder whose name {problem[0].removeprefix('its name ')}", problem[1]))
        else:
            out.extend(_walk(path, skipped))
    return out
