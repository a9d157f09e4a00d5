"""The interface every audit store offers, and the one the settings choose.

A store appends records under a lock (so two sessions never take the same place in the chain),
hands them back in order and verifies them. Today the only store is a JSON Lines file
(`jsonl.py`); a database store follows the same three methods.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from audit.record import Event, Record
from audit.verify import Verification


class AuditStore(Protocol):
    location: str  # where the records are, for the operator (a file path, a table)

    def append(self, event: Event) -> Record:
        """Seal `event` as the record after the last one and store it; returns the record."""
        ...

    def events(self) -> list[Record]:
        """Every readable record, in stored order."""
        ...

    def verify(self) -> Verification:
        """Check every hash and link, and the end of the trail; see audit.verify."""
        ...


def open_store(location: str | Path) -> AuditStore:
    """The store at `location`: today a path to a JSON Lines file (created on the first append)."""
    from audit.jsonl import JsonlAuditLog

    return JsonlAuditLog(Path(location))
