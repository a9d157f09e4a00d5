"""Files at rest that only the service user may read (mode 0600): the audit trail, the feedback
database. The folder a file is in keeps its own mode; a folder made for it is 0700."""
from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path

log = logging.getLogger("beleidswijzer.app")
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def ensure_folder(folder: Path) -> None:
    """Create `folder` and any missing parents as 0700 (an existing folder is left as it is)."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=FOLDER_MODE)
        except FileExistsError:  # made meanwhile by another process
            pass


def ensure_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist; narrow an existing one that others
    can read (a file made by an older version)."""
    os.close(open_append(path))


def open_append(path: Path) -> int:
    """A file descriptor for appending to `path`, created with mode 0600."""
    ensure_folder(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, FILE_MODE)
    narrow(path)
    return fd


def narrow(path: Path) -> None:
    """Take group and others' rights off an existing file; a warning if that is not allowed."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, mode & 0o700)
    except PermissionError:
        log.warning("%s can be read by other users and its mode cannot be changed; run: chmod 600 %s", path, path)


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, mode 0600 (temp file + rename)."""
    ensure_folder(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
