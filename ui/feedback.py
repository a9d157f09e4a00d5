"""Officers' feedback per answer (useful / not useful, an optional comment) in a local SQLite file.

The question is stored only when the setting allows it (BELEIDSWIJZER_STORE_QUESTIONS=on):
a question may name an applicant. Rule checks store the rule id and outcome, never the facts.
Nothing here is logged. The file is readable by the service user only (mode 0600).
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from audit import private

KINDS = ("answer", "rule")
MAX_COMMENT = 2000  # characters kept of a comment

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


@dataclass(frozen=True)
class Counts:
    total: int = 0
    useful: int = 0
    not_useful: int = 0
    with_comment: int = 0


def _connect(path: Path) -> sqlite3.Connection:
    private.ensure_file(path)  # SQLite would create it readable by all; its journal takes the file's mode
    con = sqlite3.connect(path, timeout=10)
    con.executescript(_SCHEMA)
    return con


def record(
    path: Path,
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
    """Store one piece of feedback; returns its id. `question` is dropped unless `store_question`."""
    if kind not in KINDS:
        raise ValueError(f"feedback kind {kind!r} is not allowed; use one of {', '.join(KINDS)}")
    row = (
        dt.datetime.now().isoformat(timespec="seconds"), kind, int(bool(useful)), (comment or "").strip()[:MAX_COMMENT],
        question if store_question and question else None, json.dumps(citations or [], ensure_ascii=False),
        rule_id, outcome, index_build,
    )  # fmt: skip
    with closing(_connect(path)) as con, con:
        cur = con.execute(
            "INSERT INTO feedback (created_at, kind, useful, comment, question, citations, rule_id, outcome, "
            "index_build) VALUES (?,?,?,?,?,?,?,?,?)", row,
        )  # fmt: skip
        return int(cur.lastrowid)


def counts(path: Path) -> dict[str, Counts]:
    """Counts per kind ('answer', 'rule') and over all ('all'); zeros when there is no file yet."""
    out = {k: Counts() for k in (*KINDS, "all")}
    if not path.is_file():
        return out
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        try:
            rows = con.execute(
                "SELECT kind, COUNT(*), SUM(useful), SUM(1 - useful), SUM(comment != '') FROM feedback GROUP BY kind"
            ).fetchall()
        except sqlite3.OperationalError:  # an empty file without the table
            return out
    for kind, total, useful, not_useful, commented in rows:
        out[kind] = Counts(total, useful or 0, not_useful or 0, commented or 0)
    out["all"] = Counts(*(sum(getattr(c, f) for k, c in out.items() if k != "all")
                          for f in ("total", "useful", "not_useful", "with_comment")))  # fmt: skip
    return out


def rows(path: Path, limit: int = 200) -> list[dict]:
    """The latest feedback, newest first (for the management page)."""
    if not path.is_file():
        return []
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        con.row_factory = sqlite3.Row
        try:
            found = con.execute("SELECT * FROM feedback ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        except sqlite3.OperationalError:
            return []
    return [dict(r) for r in found]
