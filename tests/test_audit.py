"""The audit trail (audit/): records appended and chained, every kind of tampering found and
named, the file and its head readable by the service user only, the exports and the CLI.

The behaviour is tested on both stores, the JSON Lines file and PostgreSQL (marked `postgres`,
on the `pg_dsn` fixture of tests/conftest.py): each is tampered with in its own way (lines of
the file rewritten; UPDATE, DELETE and INSERT on the table) and must name the same problems."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from audit import events, open_store
from audit.__main__ import main as audit_cli
from audit.export import to_csv, to_jsonl
from audit.pgconn import SharedStateError
from audit.record import GENESIS, Record, content_hash
from tests.conftest import REPO


def fill(log, n: int = 4):
    for i in range(n):
        log.append(events.upload("lokaal", file=f"doc{i}.md", folder="/corpus", sha256=f"{i:064x}", size=10 + i))
    return log


def trail(tmp_path: Path, n: int = 4):
    return fill(open_store(tmp_path / "ix" / "audit.jsonl"), n)


def lines(log) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines()


def rewrite(log, new_lines: list[str]) -> None:
    log.path.write_text("".join(line + "\n" for line in new_lines), encoding="utf-8")


def kinds(log) -> list[tuple[str, int, int]]:
    return [(p.kind, p.line, p.seq) for p in log.verify().problems]


class FileTrail:
    """The JSON Lines store, tampered with by rewriting its lines."""

    def __init__(self, path: Path):
        self.store = open_store(path)

    def lines(self) -> list[str]:
        return lines(self.store)

    def record(self, seq: int) -> dict:
        return next(json.loads(line) for line in self.lines() if json.loads(line)["seq"] == seq)

    def _index(self, seq: int) -> int:
        return next(i for i, line in enumerate(self.lines()) if json.loads(line)["seq"] == seq)

    def replace(self, seq: int, record: dict) -> None:
        old = self.lines()
        old[self._index(seq)] = json.dumps(record)
        rewrite(self.store, old)

    def delete(self, seq: int) -> None:
        rewrite(self.store, [line for i, line in enumerate(self.lines()) if i != self._index(seq)])

    def swap(self, a: int, b: int) -> None:
        old, i, j = self.lines(), self._index(a), self._index(b)
        old[i], old[j] = old[j], old[i]
        rewrite(self.store, old)

    def insert_after(self, seq: int, record: dict | None) -> None:
        """`record`, or (None) a line that is not a record, after the record `seq`."""
        old, i = self.lines(), self._index(seq)
        rewrite(self.store, [*old[: i + 1], json.dumps(record) if record else "niet eens json", *old[i + 1 :]])

    def add(self, record: dict | None) -> None:
        with open(self.store.path, "a", encoding="utf-8") as fh:
            fh.write((json.dumps(record) if record else "kapot") + "\n")

    def drop_head(self) -> None:
        self.store.head_path.unlink()


class DatabaseTrail:
    """The PostgreSQL store, tampered with by SQL on its tables (as the tables' owner could)."""

    def __init__(self, dsn: str):
        self.store = open_store(dsn)
        self.dsn = dsn

    def sql(self, query: str, params: tuple = ()) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con, con.transaction():
            con.execute(query, params)

    def lines(self) -> list[str]:
        return self.store.lines()

    def record(self, seq: int) -> dict:
        return next(json.loads(line) for line in self.lines() if json.loads(line)["seq"] == seq)

    def replace(self, seq: int, record: dict) -> None:
        self.sql("UPDATE beleidswijzer_audit SET at = %s, subject = %s, action = %s, details = %s, prev = %s, hash = %s "
                 "WHERE seq = %s", (record["at"], record["subject"], record["action"], json.dumps(record["details"]),
                                    record["prev"], record["hash"], seq))  # fmt: skip

    def delete(self, seq: int) -> None:
        self.sql("DELETE FROM beleidswijzer_audit WHERE seq = %s", (seq,))

    def swap(self, a: int, b: int) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as con, con.transaction():
            where = {seq: con.execute("SELECT pos FROM beleidswijzer_audit WHERE seq = %s", (seq,)).fetchone()[0]
                     for seq in (a, b)}  # fmt: skip
            con.execute("UPDATE beleidswijzer_audit SET pos = 0 WHERE seq = %s", (a,))  # pos is a key: one at a time
            con.execute("UPDATE beleidswijzer_audit SET pos = %s WHERE seq = %s", (where[a], b))
            con.execute("UPDATE beleidswijzer_audit SET pos = %s WHERE seq = %s", (where[b], a))

    def insert_after(self, seq: int, record: dict | None) -> None:
        """`record`, or (None) a row whose details are not an object, after the row of record `seq`."""
        self.sql("UPDATE beleidswijzer_audit SET pos = pos + 1000 WHERE pos > (SELECT pos FROM beleidswijzer_audit "
                 "WHERE seq = %s)", (seq,))  # fmt: skip
        self._insert(record, "(SELECT pos + 1 FROM beleidswijzer_audit WHERE seq = %s)", (seq,))

    def add(self, record: dict | None) -> None:
        self._insert(record, "(SELECT max(pos) + 1 FROM beleidswijzer_audit)", ())

    def _insert(self, record: dict | None, pos: str, params: tuple) -> None:
        r = record or {"seq": 0, "at": "", "subject": "", "action": "", "details": [], "prev": "", "hash": ""}
        self.sql(f"INSERT INTO beleidswijzer_audit (pos, seq, at, subject, action, details, prev, hash) "
                 f"VALUES ({pos}, %s, %s, %s, %s, %s, %s, %s)",
                 (*params, r["seq"], r["at"], r["subject"], r["action"], json.dumps(r["details"]), r["prev"], r["hash"]))  # fmt: skip

    def drop_head(self) -> None:
        self.sql("DELETE FROM beleidswijzer_audit_head")


@pytest.fixture(params=["file", pytest.param("database", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    """A trail (FileTrail or DatabaseTrail) with nothing in it yet."""
    if request.param == "file":
        return FileTrail(tmp_path / "ix" / "audit.jsonl")
    return DatabaseTrail(request.getfixturevalue("pg_dsn"))


def test_records_are_numbered_chained_and_verified(store):
    log = fill(store.store)
    records = log.events()
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev == GENESIS and all(b.prev == a.hash for a, b in zip(records, records[1:]))
    assert all(r.hash == content_hash(r) for r in records)
    assert records[2].subject == "lokaal" and records[2].action == "upload"
    assert records[2].details == {"file": "doc2.md", "folder": "/corpus", "sha256": f"{2:064x}", "bytes": 12}
    result = log.verify()
    assert result.ok and result.records == 4 and result.last_hash == records[-1].hash
    line = json.loads(store.lines()[0])
    assert list(line) == ["seq", "at", "subject", "action", "details", "prev", "hash"]
    assert line["at"].endswith("+00:00")  # UTC


def test_an_empty_trail_is_intact(store):
    log = store.store
    assert log.events() == [] and log.verify().ok and log.verify().records == 0


def test_an_empty_file_is_not_created_by_reading(tmp_path):
    log = open_store(tmp_path / "audit.jsonl")
    assert log.events() == [] and log.verify().ok and not log.path.exists()


def test_an_edited_field_is_found(store):
    log = fill(store.store)
    store.replace(2, {**store.record(2), "subject": "iemand-anders"})
    assert kinds(log) == [("edited", 2, 2)]
    assert str(log.verify().problems[0]) == "record 2 (line 2) was edited: its content does not match its hash."


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(store):
    log = fill(store.store)
    rec = store.record(2)
    rec["details"]["file"] = "vervalst.md"
    rec["hash"] = content_hash(rec)
    store.replace(2, rec)
    assert kinds(log) == [("broken_link", 3, 3)]


def test_a_deleted_record_is_found(store):
    log = fill(store.store)
    store.delete(2)
    problems = log.verify().problems
    assert [(p.kind, p.seq, p.last, p.line) for p in problems] == [("removed", 2, 2, 2)]
    assert str(problems[0]) == "records 2-2 were removed (they belong before line 2)."


def test_the_last_record_deleted_is_found_by_the_head(store):
    log = fill(store.store)
    store.delete(4)
    problems = log.verify().problems
    assert [(p.kind, p.seq, p.last) for p in problems] == [("truncated", 4, 4)]


def test_reordered_records_are_found(store):
    log = fill(store.store)
    store.swap(2, 3)
    assert kinds(log) == [("out_of_order", 3, 2)]


def test_an_inserted_record_is_found(store):
    log = fill(store.store)
    forged = store.record(2)
    forged["details"]["file"] = "vervalst.md"
    forged["hash"] = content_hash(forged)  # a well-formed copy of record 2
    store.insert_after(2, forged)
    assert kinds(log) == [("duplicate", 3, 2)]


def test_something_inserted_that_is_not_a_record_is_found(store):
    log = fill(store.store)
    store.insert_after(2, None)  # a line that is not JSON; a row whose details are not an object
    assert kinds(log) == [("unreadable", 3, 0)]


def test_records_appended_outside_the_app_are_found_by_the_head(store):
    log = fill(store.store, 2)
    last = log.events()[-1]
    extra = {"seq": 3, "at": last.at, "subject": "x", "action": "upload", "details": {}, "prev": last.hash}
    store.add({**extra, "hash": content_hash(extra)})
    assert [p.kind for p in log.verify().problems] == ["head"]
    store.drop_head()
    assert [p.kind for p in log.verify().problems] == ["head"]  # the head is written with every record


def test_appends_after_damage_keep_chaining_to_the_last_record(store):
    log = fill(store.store, 2)
    store.add(None)  # something that is not a record
    record = log.append(events.remove("lokaal", doc=events.document("a.md", "0" * 64), folder="/c", moved_to="/x"))
    assert record.seq == 3 and record.prev == log.events()[1].hash
    assert kinds(log) == [("unreadable", 3, 0)]


def test_concurrent_appends_form_one_chain(store):
    log = store.store

    def work(i: int) -> None:
        for j in range(10):
            log.append(events.login(f"user{i}", name="B", roles=["beheerder"]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert log.verify().ok and [r.seq for r in log.events()] == list(range(1, 41))


APPENDER = """
import sys
from audit import events, open_store
log = open_store(sys.argv[1])
sys.stdin.readline()  # all processes start appending together
for j in range(int(sys.argv[3])):
    log.append(events.login(sys.argv[2], name="B", roles=["beheerder"]))
"""


def test_appends_from_several_processes_form_one_chain(store):
    location = store.store.location if isinstance(store, FileTrail) else store.dsn
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", APPENDER, location, f"process{i}", "50"], stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env, cwd=REPO, text=True) for i in range(2)]  # fmt: skip
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    records = store.store.events()
    result = store.store.verify()
    assert result.ok and result.records == 100, result.problems
    assert [r.seq for r in records] == list(range(1, 101))  # each seq once, in order
    assert {r.subject for r in records} == {"process0", "process1"}


def test_an_unreachable_database_is_a_clear_error(capsys):
    dsn = "postgresql://beleidswijzer:secret@127.0.0.1:1/nothing"
    log = open_store(dsn)  # opening connects to nothing
    assert "secret" not in log.location and log.location.endswith("table beleidswijzer_audit")
    for use in (log.prepare, log.events, log.verify, lambda: log.append(events.login("b", name="B", roles=["beheerder"]))):
        with pytest.raises(SharedStateError) as exc:
            use()
        message = str(exc.value)
        assert "cannot be reached" in message and "BELEIDSWIJZER_AUDIT_LOG" in message and "scripts/pg.sh start" in message
        assert "secret" not in message  # the password is never shown
    assert audit_cli(["verify", dsn]) == 2
    err = capsys.readouterr().err
    assert "cannot be reached" in err and "secret" not in err


@pytest.mark.postgres
def test_a_dropped_table_is_found_by_the_head(pg_dsn):
    trail_ = DatabaseTrail(pg_dsn)
    log = fill(trail_.store, 3)
    trail_.sql("DROP TABLE beleidswijzer_audit")
    assert log.events() == []
    assert [(p.kind, p.seq, p.last) for p in log.verify().problems] == [("truncated", 1, 3)]


@pytest.mark.postgres
def test_an_append_that_waits_too_long_for_the_lock_says_so(pg_dsn, monkeypatch):
    import psycopg

    from audit import pg, pgconn

    log = fill(open_store(pg_dsn), 1)
    monkeypatch.setattr(pgconn, "LOCK_TIMEOUT_S", 0.5)
    with psycopg.connect(pg_dsn) as stuck:  # a session that holds the lock and does not let go
        stuck.execute("SELECT pg_advisory_xact_lock(%s)", (pg.LOCK,))
        with pytest.raises(SharedStateError, match="is busy: another session has held its lock.*nothing was stored"):
            log.append(events.login("b", name="B", roles=["beheerder"]))
    assert log.append(events.login("b", name="B", roles=["beheerder"])).seq == 2  # once it is released
    assert log.verify().ok


def _as_user(dsn: str, role: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(netloc=f"{role}:geheim@{parts.hostname}:{parts.port}"))


@pytest.mark.postgres
def test_a_database_user_without_the_rights_is_told_what_to_ask_for(pg_dsn):
    import uuid

    import psycopg

    role = f"r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_dsn, autocommit=True) as con:
        con.execute(f"CREATE ROLE {role} LOGIN")
    try:
        user = open_store(_as_user(pg_dsn, role))
        with pytest.raises(SharedStateError, match="lacks a privilege.*grant SELECT, INSERT on beleidswijzer_audit") as exc:
            user.prepare()  # may not create tables in the schema (PUBLIC has no CREATE on it since PostgreSQL 15)
        assert "geheim" not in str(exc.value)
        open_store(pg_dsn).prepare()  # the administrator creates them...
        with psycopg.connect(pg_dsn, autocommit=True) as con:
            con.execute(f"GRANT SELECT ON beleidswijzer_audit, beleidswijzer_audit_head TO {role}")  # ...but grants too little
        with pytest.raises(SharedStateError, match="cannot be written: the database user lacks a privilege"):
            user.prepare()
        with pytest.raises(SharedStateError, match="lacks a privilege"):
            user.append(events.login("b", name="B", roles=["beheerder"]))
        assert user.verify().ok and user.events() == []  # reading was granted
        with psycopg.connect(pg_dsn, autocommit=True) as con:  # what the message asks for
            con.execute(f"GRANT INSERT ON beleidswijzer_audit TO {role}")
            con.execute(f"GRANT INSERT, UPDATE ON beleidswijzer_audit_head TO {role}")
        user.prepare()
        fill(user, 2)
        assert user.verify().ok and len(user.events()) == 2
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as con:
            con.execute(f"DROP OWNED BY {role}")
            con.execute(f"DROP ROLE {role}")


@pytest.mark.postgres
def test_cli_verifies_and_exports_a_database_trail(pg_dsn, capsys, monkeypatch):
    trail_ = DatabaseTrail(pg_dsn)
    fill(trail_.store, 2)
    assert audit_cli(["verify", pg_dsn]) == 0
    assert "table beleidswijzer_audit: intact, 2 record(s)" in capsys.readouterr().out
    assert audit_cli(["export", pg_dsn]) == 0
    assert capsys.readouterr().out.splitlines() == trail_.lines()  # the rows as the file would hold them
    trail_.delete(2)
    monkeypatch.delenv("BELEIDSWIJZER_AUDIT_LOG", raising=False)
    monkeypatch.setenv("BELEIDSWIJZER_STORE", pg_dsn)  # the default: the app's trail
    assert audit_cli(["verify"]) == 1
    assert "records 2-2 were removed from the end" in capsys.readouterr().out
    assert audit_cli(["export", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("seq,at,subject")


def test_the_trail_and_its_head_are_readable_by_the_service_user_only(tmp_path):
    folder = tmp_path / "index"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    log = open_store(folder / "audit.jsonl")
    log.append(events.login("lokaal", name="Lokale gebruiker", roles=["beheerder", "officer"]))
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.head_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # the folder is not widened (nor changed)
    deep = open_store(tmp_path / "new" / "sub" / "audit.jsonl")
    deep.append(events.login("lokaal", name="L", roles=["beheerder"]))
    assert stat.S_IMODE((tmp_path / "new" / "sub").stat().st_mode) == 0o700  # a folder made for it: 0700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_a_trail_made_readable_by_others_is_narrowed_on_the_next_append(tmp_path):
    log = trail(tmp_path, 1)
    log.path.chmod(0o644)
    log.append(events.login("lokaal", name="L", roles=["beheerder"]))
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600


def test_exports_as_json_lines_and_csv(tmp_path):
    log = trail(tmp_path, 2)
    log.append(events.upload("lokaal", file="=cmd.md", folder="/c", sha256="ab", size=1))
    assert to_jsonl(log.events()).decode().splitlines() == lines(log)
    rows = list(csv.DictReader(io.StringIO(to_csv(log.events()).decode())))
    assert [r["seq"] for r in rows] == ["1", "2", "3"] and rows[0]["hash"] == log.events()[0].hash
    assert json.loads(rows[2]["details"])["file"] == "=cmd.md"  # inside JSON: no formula
    assert rows[0]["subject"] == "lokaal"


def test_cli_verifies_and_exports(tmp_path, capsys):
    log = trail(tmp_path, 2)
    assert audit_cli(["verify", str(log.path)]) == 0
    assert "intact, 2 record(s)" in capsys.readouterr().out
    rewrite(log, lines(log)[:1])
    assert audit_cli(["verify", str(log.path)]) == 1
    assert "records 2-2 were removed from the end" in capsys.readouterr().out
    assert audit_cli(["export", str(log.path), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("seq,at,subject")
    assert audit_cli(["verify", str(tmp_path / "nope.jsonl")]) == 2
    assert "no audit trail at" in capsys.readouterr().err


def test_events_hold_only_their_own_fields():
    report = {"documents": 2, "passages": 9, "added": ["a.md"], "changed": [], "removed": ["b.pdf"],
              "skipped": [{"file": "c.pdf", "reason": "r", "remedy": "m"}], "seconds": 1.5, "index": "/ix"}  # fmt: skip
    e = events.rebuild("lokaal", outcome="ok", report=report, files=[events.document("a.md", "00")])
    assert e.details == {"outcome": "ok", "documents": 2, "passages": 9, "added": ["a.md"], "changed": [],
                         "removed": ["b.pdf"], "skipped": ["c.pdf"], "files": [{"file": "a.md", "sha256": "00"}]}  # fmt: skip
    assert set(events.ACTIONS) >= {e.action, "login", "replace", "remove", "upload", "upload-refused"}
    with pytest.raises(TypeError):
        events.upload("lokaal", file="a", folder="b", sha256="c", size=1, question="Is Ivan een deserteur?")


def test_a_beheerders_login_is_recorded_once_per_session_and_an_officers_not(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    def page() -> None:
        import streamlit as st

        from ui import auth, audit_trail

        beheerder = auth.User("b-7", "Beheerder Zeven", frozenset(auth.ROLES))
        officer = auth.User("o-3", "Officer Drie", frozenset({auth.OFFICER}))
        st.write(audit_trail.record_login(beheerder), audit_trail.record_login(beheerder),
                 audit_trail.record_login(officer))  # fmt: skip

    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(tmp_path / "ix"))
    monkeypatch.delenv("BELEIDSWIJZER_AUDIT_LOG", raising=False)
    monkeypatch.delenv("BELEIDSWIJZER_STORE", raising=False)
    at = AppTest.from_function(page).run()
    assert not at.exception, [e.value for e in at.exception]
    at.run()  # a rerun of the same session records nothing more
    records = open_store(tmp_path / "ix" / "audit.jsonl").events()
    assert [(r.action, r.subject, r.details) for r in records] == [
        ("login", "b-7", {"name": "Beheerder Zeven", "roles": ["beheerder", "officer"]})]


def test_the_trail_is_in_the_index_folder_unless_the_setting_names_another_file(tmp_path):
    from ui import settings

    assert settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path)}).audit_log == tmp_path / "audit.jsonl"
    elsewhere = settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path), "BELEIDSWIJZER_AUDIT_LOG": str(tmp_path / "a" / "t.jsonl")})
    assert elsewhere.audit_log == tmp_path / "a" / "t.jsonl"


def test_a_files_hash_is_what_sha256sum_prints(tmp_path):
    import hashlib

    f = tmp_path / "nota.md"
    f.write_bytes(b"x" * (3 << 20))
    assert events.file_sha256(f) == hashlib.sha256(f.read_bytes()).hexdigest()
