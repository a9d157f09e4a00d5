"""The audit trail as a JSON Lines file (default `<index>/audit.jsonl`, mode 0600): one record per
line, appended under an exclusive lock; beside it `<file>.head` holds the seq and hash of the last
record appended, so that records removed from the end are found too."""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from audit import private
from audit.record import Event, Record, seal
from audit.verify import Verification, verify_stored

HEAD_SUFFIX = ".head"
TAIL_CHUNK = 64 * 1024


class JsonlAuditLog:
    """An append-only JSON Lines audit trail in one file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + HEAD_SUFFIX)
        self.location = str(self.path)

    def prepare(self) -> None:
        """OSError unless records can be appended (the file is created, mode 0600, if new)."""
        private.ensure_file(self.path)

    def append(self, event: Event) -> Record:
        fd = private.open_append(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            record = seal(event, _last_record(fd))
            os.write(fd, (record.to_json() + "\n").encode("utf-8"))
            os.fsync(fd)
            head = {"seq": record.seq, "hash": record.hash}
            private.write_private(self.head_path, json.dumps(head).encode("utf-8"))
            return record
        finally:
            os.close(fd)  # releases the lock

    def lines(self) -> list[str]:
        """The stored lines, as they are (for verification and export)."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def events(self) -> list[Record]:
        out = []
        for line in self.lines():
            try:
                out.append(Record.from_dict(json.loads(line)))
            except ValueError:
                continue  # verify() names the line
        return out

    def head(self) -> dict | None:
        try:
            data = json.loads(self.head_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError:
            return {"seq": 0, "hash": "unreadable"}
        return data if isinstance(data, dict) else {"seq": 0, "hash": "unreadable"}

    def verify(self) -> Verification:
        return verify_stored(self.lines(), self.head())


def _last_record(fd: int) -> Record | None:
    """The last readable record of the file (read from its end), or None for an empty file."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - TAIL_CHUNK)
    while True:
        tail = os.pread(fd, size - start, start)
        lines = tail.splitlines()
        complete = lines if start == 0 else lines[1:]  # the first line of a chunk may be cut
        for raw in reversed(complete):
            try:
                return Record.from_dict(json.loads(raw))
            except ValueError:
                continue
        if start == 0:
            return None
        start = max(0, start - TAIL_CHUNK)
