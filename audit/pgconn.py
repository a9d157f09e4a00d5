"""Connections to the PostgreSQL database that holds the state all app replicas share: the
audit trail (audit.pg) and officers' feedback (ui.feedback_pg). Errors say what went wrong and
what to do, and never show the password.

A connection is opened for one operation and closed after it: appends and reads are rare (a
corpus change, a feedback form, the Beheer page), and a short connection is never kept across
Streamlit reruns nor inherited by a build's child process. Tables are created on first use,
under a transaction-scoped advisory lock, so two replicas starting together do not race.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from indexer.pgstore import redact

CONNECT_TIMEOUT_S = 5
LOCK_TIMEOUT_S = 30  # how long an append waits for another one's lock before it gives up and says so


class SharedStateError(OSError):
    """The database cannot be used; the message says what went wrong and what to do (no password).
    An OSError, as a file that cannot be written is: callers that handle one handle both."""


def lock_key(name: str) -> int:
    """The advisory lock key of `name`, its bytes as one number (at most 8 ASCII characters, so two
    names never share a key)."""
    return int.from_bytes(name.encode("ascii").ljust(8, b"\0"), "big")


def first_line(exc: BaseException, dsn: str) -> str:
    """The first line of a database error, the password (should a server echo it) masked."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    password = urlsplit(dsn).password
    return text.replace(password, "***") if password else text


@contextmanager
def connection(dsn: str, *, what: str, setting: str, grants: str) -> Iterator:
    """An autocommit connection for one operation, closed afterwards. `what` names the state ("The
    audit trail"), `setting` the variable(s) that chose the database, `grants` the privileges the
    database user needs. Every database error becomes a SharedStateError saying what to do."""
    import psycopg

    where = redact(dsn)
    try:
        con = psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise SharedStateError(
            f"{what} in the PostgreSQL database {where} cannot be reached ({first_line(exc, dsn)}). "
            f"Start it (scripts/pg.sh start, for development) or correct {setting}."
        ) from None
    try:
        yield con
    except psycopg.errors.InsufficientPrivilege as exc:
        raise SharedStateError(
            f"{what} in {where} cannot be used: the database user lacks a privilege ({first_line(exc, dsn)}). "
            f"Ask the database's administrator to grant {grants}."
        ) from None
    except psycopg.errors.LockNotAvailable:
        raise SharedStateError(
            f"{what} in {where} is busy: another session has held its lock for over {LOCK_TIMEOUT_S} s, and "
            "nothing was stored. Try again; if it stays busy, ask the database's administrator to look for a "
            "stuck session holding an advisory lock (pg_locks)."
        ) from None
    except psycopg.Error as exc:
        if con.broken:
            raise SharedStateError(
                f"{what} in the PostgreSQL database {where} cannot be reached ({first_line(exc, dsn)}). "
                f"Check that the database is running and reachable from this server, then try again."
            ) from None
        raise SharedStateError(
            f"{what} in {where} failed ({first_line(exc, dsn)}). Nothing was stored; try again, and if it "
            "fails again give this message to the database's administrator."
        ) from None
    finally:
        con.close()


def missing_tables(con, names: list[str]) -> list[str]:
    """Those of `names` that do not exist (in the connection's search path)."""
    found = con.execute("SELECT " + ", ".join("to_regclass(%s) IS NULL" for _ in names), names).fetchone()
    return [name for name, absent in zip(names, found) if absent]


def lock(con, key: int) -> None:
    """Take the advisory lock `key` until the end of the transaction (waiting at most LOCK_TIMEOUT_S)."""
    con.execute(f"SET LOCAL lock_timeout = '{int(LOCK_TIMEOUT_S * 1000)}ms'")
    con.execute("SELECT pg_advisory_xact_lock(%s)", (key,))


def create_tables(con, key: int, tables: dict[str, str]) -> None:
    """Create those of `tables` (name: CREATE TABLE IF NOT EXISTS ...) that are missing, under the
    advisory lock `key`: a no-op once they exist."""
    if not missing_tables(con, list(tables)):
        return
    with con.transaction():
        lock(con, key)
        for create in tables.values():
            con.execute(create)
