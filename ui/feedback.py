"""Officers' feedback per answer (useful / not useful, an optional comment): in a local SQLite file
(the default), or in a table of the PostgreSQL database all replicas share (ui.feedback_pg)
when the location is a postgresql:// DSN (see ui.settings).

The rules are applied here, before either store sees a row: the question is stored only when the
setting allows it (BELEIDSWIJZER_STORE_QUESTIONS=on), as a question may name an applicant; a
comment is cut to MAX_COMMENT characters; rule checks store the rule id and outcome, never the
facts. Nothing here is logged. The SQLite file is readable by the service user only (mode 0600).
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from audit import private
from indexer.contract import is_dsn

KINDS = ("answer", "rule")
MAX_COMMENT = 2000  # characters kept of a comment
COLUMNS = ("created_at", "kind", "useful", "comment", "question", "citations", "rule_id", "outcome", "index_build")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,          -- 'answer' (chat) or 'rule' (rule check)
    useful INTEGER NOT NULL,     -- 1 useful, 0 not useful
    comment TEXT NOT NULL DEFAULT '',
    question TEXT,               -- NULL unless storing questions is switched on
    citations TEXT NOT NULL DEFAULT '[]',  -- JSON list of the citations shown
    rule_id TEXT,
    outcome TEXT,
    index_build TEXT
);
"""
# per kind: total, useful, not useful, with a comment
_COUNTS = "SELECT kind, COUNT(*), SUM(useful), SUM(1 - useful), SUM(comment != '') FROM feedback GROUP BY kind"


@dataclass(frozen=True)
class Counts:
    total: int = 0
    useful: int = 0
    not_useful: int = 0
    with_comment: int = 0


def describe(location: Path | str) -> str:
    """Where the feedback is, for the operator: the file, or the database (no password) and table."""
    if is_dsn(location):
        from ui import feedback_pg

        return feedback_pg.describe(str(location))
    return str(location)


def _connect(path: Path) -> sqlite3.Connection:
    private.ensure_file(path)  # SQLite would create it readable by all; its journal takes the file's mode
    con = sqlite3.connect(path, timeout=10)
    con.executescript(_SCHEMA)
    return con


def record(
    location: Path | str,
    *,
    kind: str,
    useful: bool,
    comment: str = "",
    question: str | None = None,
    store_question: bool = False,
    citations: list[str] | None = None,
    rule_id: str | None = None,
    outcome: str | None = None,
    index_build: str | None = None,
) -> int:
    """Store one piece of feedback at `location` (a SQLite file or a DSN); returns its id.
    `question` is dropped unless `store_question`. For a database, audit.pgconn.SharedStateError
    (an OSError) says what went wrong."""
    if kind not in KINDS:
        raise ValueError(f"feedback kind {kind!r} is not allowed; use one of {', '.join(KINDS)}")
    row = (
        dt.datetime.now().isoformat(timespec="seconds"), kind, int(bool(useful)), (comment or "").strip()[:MAX_COMMENT],
        question if store_question and question else None, json.dumps(citations or [], ensure_ascii=False),
        rule_id, outcome, index_build,
    )  # fmt: skip
    if is_dsn(location):
        from ui import feedback_pg

        return feedback_pg.insert(str(location), dict(zip(COLUMNS, row)))
    with closing(_connect(Path(location))) as con, con:
        cur = con.execute(f"INSERT INTO feedback ({', '.join(COLUMNS)}) VALUES (?,?,?,?,?,?,?,?,?)", row)
        return int(cur.lastrowid)


def counts(location: Path | str) -> dict[str, Counts]:
    """Counts per kind ('answer', 'rule') and over all ('all'); zeros when nothing is stored yet."""
    out = {k: Counts() for k in (*KINDS, "all")}
    if is_dsn(location):
        from ui import feedback_pg

        grouped = feedback_pg.grouped(str(location))
    else:
        grouped = _read(Path(location), _COUNTS)
    for kind, total, useful, not_useful, commented in grouped:
        out[kind] = Counts(total, useful or 0, not_useful or 0, commented or 0)
    out["all"] = Counts(*(sum(getattr(c, f) for k, c in out.items() if k != "all")
                          for f in ("total", "useful", "not_useful", "with_comment")))  # fmt: skip
    return out


def rows(location: Path | str, limit: int = 200) -> list[dict]:
    """The latest feedback, newest first (for the management page): id and COLUMNS."""
    if is_dsn(location):
        from ui import feedback_pg

        return feedback_pg.latest(str(location), limit)
    return _read(Path(location), "SELECT * FROM feedback ORDER BY id DESC LIMIT ?", (limit,), as_dicts=True)


def _read(path: Path, sql: str, params: tuple = (), as_dicts: bool = False) -> list:
    """The rows of a query on the SQLite file, read-only; [] when there is no file or no table yet."""
    if not path.is_file():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        if as_dicts:
            con.row_factory = sqlite3.Row
        try:
            found = con.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # an empty file without the table
            return []
    return [dict(r) for r in found] if as_dicts else found
