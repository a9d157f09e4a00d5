"""The audit trail (audit/): records appended and chained, every kind of tampering found and
named, the file and its head readable by the service user only, the exports and the CLI."""
from __future__ import annotations

import csv
import io
import json
import stat
import threading
from pathlib import Path

import pytest

from audit import events, open_store
from audit.__main__ import main as audit_cli
from audit.export import to_csv, to_jsonl
from audit.record import GENESIS, Record, content_hash


def trail(tmp_path: Path, n: int = 4):
    log = open_store(tmp_path / "ix" / "audit.jsonl")
    for i in range(n):
        log.append(events.upload("lokaal", file=f"doc{i}.md", folder="/corpus", sha256=f"{i:064x}", size=10 + i))
    return log


def lines(log) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines()


def rewrite(log, new_lines: list[str]) -> None:
    log.path.write_text("".join(line + "\n" for line in new_lines), encoding="utf-8")


def kinds(log) -> list[tuple[str, int, int]]:
    return [(p.kind, p.line, p.seq) for p in log.verify().problems]


def test_records_are_numbered_chained_and_verified(tmp_path):
    log = trail(tmp_path)
    records = log.events()
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev == GENESIS and all(b.prev == a.hash for a, b in zip(records, records[1:]))
    assert all(r.hash == content_hash(r) for r in records)
    assert records[2].subject == "lokaal" and records[2].action == "upload"
    assert records[2].details == {"file": "doc2.md", "folder": "/corpus", "sha256": f"{2:064x}", "bytes": 12}
    result = log.verify()
    assert result.ok and result.records == 4 and result.last_hash == records[-1].hash
    line = json.loads(lines(log)[0])
    assert list(line) == ["seq", "at", "subject", "action", "details", "prev", "hash"]
    assert line["at"].endswith("+00:00")  # UTC


def test_an_empty_trail_is_intact(tmp_path):
    log = open_store(tmp_path / "audit.jsonl")
    assert log.events() == [] and log.verify().ok and not log.path.exists()


def test_an_edited_field_is_found(tmp_path):
    log = trail(tmp_path)
    edited = lines(log)
    edited[1] = edited[1].replace('"lokaal"', '"iemand-anders"')
    rewrite(log, edited)
    assert kinds(log) == [("edited", 2, 2)]
    assert str(log.verify().problems[0]) == "record 2 (line 2) was edited: its content does not match its hash."


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(tmp_path):
    log = trail(tmp_path)
    edited = lines(log)
    rec = json.loads(edited[1])
    rec["details"]["file"] = "vervalst.md"
    rec["hash"] = content_hash(rec)
    edited[1] = json.dumps(rec)
    rewrite(log, edited)
    assert kinds(log) == [("broken_link", 3, 3)]


def test_a_deleted_line_is_found(tmp_path):
    log = trail(tmp_path)
    rewrite(log, [line for i, line in enumerate(lines(log)) if i != 1])
    problems = log.verify().problems
    assert [(p.kind, p.seq, p.last, p.line) for p in problems] == [("removed", 2, 2, 2)]
    assert str(problems[0]) == "records 2-2 were removed (they belong before line 2)."


def test_the_last_line_deleted_is_found_by_the_head(tmp_path):
    log = trail(tmp_path)
    rewrite(log, lines(log)[:-1])
    problems = log.verify().problems
    assert [(p.kind, p.seq, p.last) for p in problems] == [("truncated", 4, 4)]


def test_reordered_lines_are_found(tmp_path):
    log = trail(tmp_path)
    old = lines(log)
    rewrite(log, [old[0], old[2], old[1], old[3]])
    assert kinds(log) == [("out_of_order", 3, 2)]


def test_an_inserted_record_is_found(tmp_path):
    log = trail(tmp_path)
    old = lines(log)
    forged = json.loads(old[1])
    forged["details"]["file"] = "vervalst.md"
    forged["hash"] = content_hash(forged)  # a well-formed copy of record 2
    rewrite(log, [old[0], old[1], json.dumps(forged), *old[2:]])
    assert kinds(log) == [("duplicate", 3, 2)]
    garbage = [*old[:2], "niet eens json", *old[2:]]
    rewrite(log, garbage)
    assert kinds(log) == [("unreadable", 3, 0)]


def test_records_appended_outside_the_app_are_found_by_the_head(tmp_path):
    log = trail(tmp_path, 2)
    last = Record.from_dict(json.loads(lines(log)[-1]))
    extra = {"seq": 3, "at": last.at, "subject": "x", "action": "upload", "details": {}, "prev": last.hash}
    rewrite(log, [*lines(log), json.dumps({**extra, "hash": content_hash(extra)})])
    assert [p.kind for p in log.verify().problems] == ["head"]
    log.head_path.unlink()
    assert [p.kind for p in log.verify().problems] == ["head"]  # the head is written with every record


def test_appends_after_damage_keep_chaining_to_the_last_record(tmp_path):
    log = trail(tmp_path, 2)
    with open(log.path, "a", encoding="utf-8") as fh:
        fh.write("kapot\n")
    record = log.append(events.remove("lokaal", doc=events.document("a.md", "0" * 64), folder="/c", moved_to="/x"))
    assert record.seq == 3 and record.prev == log.events()[1].hash
    assert kinds(log) == [("unreadable", 3, 0)]


def test_concurrent_appends_form_one_chain(tmp_path):
    log = open_store(tmp_path / "audit.jsonl")

    def work(i: int) -> None:
        for j in range(10):
            log.append(events.login(f"user{i}", name="B", roles=["beheerder"]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert log.verify().ok and [r.seq for r in log.events()] == list(range(1, 41))


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
