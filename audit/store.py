"""The interface every audit store offers, and the one a location chooses.

A store appends records under a lock (so two sessions, or two app replicas, never take the same
place in the chain), hands them back in order and verifies them. Two stores: a JSON Lines file
(`jsonl.py`, the default, in the index folder) and two tables of a PostgreSQL database (`pg.py`,
for several replicas: BELEIDSWIJZER_AUDIT_LOG or BELEIDSWIJZER_STORE a postgresql:// DSN).
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from audit.record import Event, Record
from audit.verify import Verification
from indexer.contract import is_dsn

AUDIT_FILE = "audit.jsonl"  # the file's name in the index folder, when no setting names another


class AuditStore(Protocol):
    location: str  # where the records are, for the operator (a file path; a database, no password, and table)

    def prepare(self) -> None:
        """Make sure records can be appended (create the file or the tables when missing); OSError
        (for a database audit.pgconn.SharedStateError) saying what to do when they cannot."""
        ...

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
    """The store at `location`: a postgresql:// DSN, or a path to a JSON Lines file (created on
    the first append). Opening connects to nothing: errors come with the first use."""
    if is_dsn(location):
        from audit.pg import PgAuditLog  # psycopg is imported only when PostgreSQL is used

        return PgAuditLog(str(location))
    from audit.jsonl import JsonlAuditLog

    return JsonlAuditLog(Path(location))
