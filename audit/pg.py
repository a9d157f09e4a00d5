"""The audit trail in PostgreSQL (BELEIDSWIJZER_AUDIT_LOG, or else BELEIDSWIJZER_STORE, a
postgresql:// DSN): one trail for all app replicas, in two tables of the database.

    beleidswijzer_audit(pos, seq, at, subject, action, details, prev, hash)
        a row per record: `pos` is the order the rows were stored in (the file's line number),
        the rest the record's fields as the JSON Lines file keeps them; `details` is of type
        json, which keeps the exact text, so a hash is recomputed over the values it was taken of
    beleidswijzer_audit_head(one, seq, hash)
        one row: the seq and hash of the record last appended (the file's `.head`), written in
        the append's own transaction, so records cut from the end are found

An append takes a transaction-scoped advisory lock, reads the last stored record, inserts the
record after it, moves the head and commits: appends from any number of processes form one
chain. `verify()` hands the rows, in stored order, to audit.verify as the file store hands its
lines, so an edited, removed, inserted or moved row, or rows cut from the end, are named alike.
As in the file, nothing makes `seq` unique: after tampering new records are still appended, and
verify names the duplicate.

The tables are created on the first append when the database user may create tables; else the
administrator creates them with the statements in CREATE and grants the user GRANTS.
"""
from __future__ import annotations

import json

from audit import pgconn
from audit.pgconn import SharedStateError
from audit.record import FIELDS, Event, Record, seal
from audit.verify import Verification, verify_stored
from indexer.pgstore import redact

TABLE = "beleidswijzer_audit"
HEAD = "beleidswijzer_audit_head"
CREATE = {
    TABLE: f"CREATE TABLE IF NOT EXISTS {TABLE} (pos bigint PRIMARY KEY, "
           "seq bigint NOT NULL, at text NOT NULL, subject text NOT NULL, action text NOT NULL, "
           "details json NOT NULL, prev text NOT NULL, hash text NOT NULL)",
    HEAD: f"CREATE TABLE IF NOT EXISTS {HEAD} (one int PRIMARY KEY DEFAULT 1 CHECK (one = 1), "
          "seq bigint NOT NULL, hash text NOT NULL)",
}  # fmt: skip
GRANTS = f"SELECT, INSERT on {TABLE} and SELECT, INSERT, UPDATE on {HEAD} (or the right to create them)"
SETTING = "BELEIDSWIJZER_AUDIT_LOG (or BELEIDSWIJZER_STORE)"
LOCK = pgconn.lock_key("bw-audit")  # one append at a time, in every process
_COLUMNS = ", ".join(FIELDS)  # seq, at, subject, action, details, prev, hash


class PgAuditLog:
    """An append-only, hash-chained audit trail in a PostgreSQL database."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.location = f"{redact(dsn)}, table {TABLE}"

    def _connection(self):
        return pgconn.connection(self.dsn, what="The audit trail", setting=SETTING, grants=GRANTS)

    def prepare(self) -> None:
        """SharedStateError unless records can be appended: the database answers, the tables exist
        (they are created when missing) and the user may write them."""
        with self._connection() as con:
            pgconn.create_tables(con, LOCK, CREATE)
            needed = [(TABLE, "SELECT"), (TABLE, "INSERT"), (HEAD, "SELECT"), (HEAD, "INSERT"), (HEAD, "UPDATE")]
            # one privilege per call: given several, has_table_privilege is true when any one is held
            allowed = all(con.execute("SELECT has_table_privilege(%s, %s)", pair).fetchone()[0] for pair in needed)
        if not allowed:
            raise SharedStateError(
                f"The audit trail in {self.location} cannot be written: the database user lacks a privilege. "
                f"Ask the database's administrator to grant {GRANTS}."
            )

    def append(self, event: Event) -> Record:
        from psycopg.types.json import Json

        with self._connection() as con, con.transaction():
            pgconn.lock(con, LOCK)
            for name in pgconn.missing_tables(con, list(CREATE)):
                con.execute(CREATE[name])
            record = seal(event, _last_record(con))
            details = Json(record.details, dumps=lambda d: json.dumps(d, ensure_ascii=False))
            con.execute(  # the next place after the last row, whoever stored that row
                f"INSERT INTO {TABLE} (pos, {_COLUMNS}) SELECT coalesce(max(pos), 0) + 1, %s, %s, %s, %s, %s, %s, %s "
                f"FROM {TABLE}",
                (record.seq, record.at, record.subject, record.action, details, record.prev, record.hash),
            )
            con.execute(
                f"INSERT INTO {HEAD} (one, seq, hash) VALUES (1, %s, %s) "
                "ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
                (record.seq, record.hash),
            )
        return record

    def _stored(self) -> tuple[list[dict], dict | None]:
        """The rows as record fields, in stored order, and the head; one snapshot of both, so an
        append committed meanwhile is either wholly in it or not at all."""
        import psycopg

        with self._connection() as con:
            con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            con.read_only = True
            with con.transaction():
                missing = pgconn.missing_tables(con, [TABLE, HEAD])  # a dropped table, with a head left: truncated
                rows = [] if TABLE in missing else con.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY pos").fetchall()
                head = None if HEAD in missing else con.execute(f"SELECT seq, hash FROM {HEAD}").fetchone()
        return [dict(zip(FIELDS, row)) for row in rows], ({"seq": head[0], "hash": head[1]} if head else None)

    def lines(self) -> list[str]:
        """Each row as the JSON line the file store would hold (for verification and export)."""
        return [_line(row) for row in self._stored()[0]]

    def events(self) -> list[Record]:
        out = []
        for row in self._stored()[0]:
            try:
                out.append(Record.from_dict(row))
            except ValueError:
                continue  # verify() names the row
        return out

    def verify(self) -> Verification:
        rows, head = self._stored()
        return verify_stored([_line(row) for row in rows], head)


def _line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def _last_record(con) -> Record | None:
    """The last readable record in stored order (read backwards, in the append's transaction)."""
    with con.cursor(name="beleidswijzer_audit_last") as cur:
        cur.itersize = 16
        cur.execute(f"SELECT {_COLUMNS} FROM {TABLE} ORDER BY pos DESC")
        for row in cur:
            try:
                return Record.from_dict(dict(zip(FIELDS, row)))
            except ValueError:
                continue
    return None
