"""The officers' feedback store (ui/feedback.py) and its settings. The behaviour is tested on both
stores, the SQLite file and PostgreSQL (ui/feedback_pg.py; marked `postgres`, on the `pg_dsn`
fixture of tests/conftest.py), and the two must give the same rows and counts."""
from __future__ import annotations

import sqlite3

import pytest

from audit.pgconn import SharedStateError
from ui import feedback, settings


@pytest.fixture(params=["file", pytest.param("database", marks=pytest.mark.postgres)])
def location(request, tmp_path):
    """Where feedback goes: a SQLite file not yet made, or an empty database."""
    return tmp_path / "sub" / "feedback.sqlite" if request.param == "file" else request.getfixturevalue("pg_dsn")


def stored_questions(location) -> list:
    """Every question as stored, read past ui.feedback."""
    if isinstance(location, str):
        import psycopg

        with psycopg.connect(location) as con:
            return [r[0] for r in con.execute("SELECT question FROM beleidswijzer_feedback ORDER BY id")]
    with sqlite3.connect(location) as con:
        return [r[0] for r in con.execute("SELECT question FROM feedback ORDER BY id")]


def fill(location) -> None:
    feedback.record(location, kind="answer", useful=True, question="Is Ivan (25) een deserteur?", citations=["Nota, p. 1"])
    feedback.record(location, kind="answer", useful=False, comment="  mist art. 43  ", question="vraag 2", store_question=True)
    feedback.record(location, kind="rule", useful=True, rule_id="beslistermijn", outcome="computed", index_build="b1")


def test_feedback_counts_and_no_question_unless_allowed(location):
    assert feedback.counts(location)["all"] == feedback.Counts()  # nothing stored yet
    assert feedback.rows(location) == []
    fill(location)
    counts = feedback.counts(location)
    assert counts["answer"] == feedback.Counts(total=2, useful=1, not_useful=1, with_comment=1)
    assert counts["rule"] == feedback.Counts(total=1, useful=1) and counts["all"].total == 3
    stored = {r["id"]: r for r in feedback.rows(location)}
    assert list(stored) == [3, 2, 1]  # newest first
    assert stored[1]["question"] is None and stored[2]["question"] == "vraag 2"
    assert stored[2]["comment"] == "mist art. 43" and stored[1]["citations"] == '["Nota, p. 1"]'
    assert stored_questions(location) == [None, "vraag 2", None]  # the first question is nowhere in the store
    with pytest.raises(ValueError, match="allowed; use one of answer, rule"):
        feedback.record(location, kind="chat", useful=True)
    assert [r["id"] for r in feedback.rows(location, limit=2)] == [3, 2]


def test_feedback_from_several_sessions_at_once_is_all_kept(location):
    """The first feedback of several replicas at once: the table is made once, no row is lost."""
    import threading

    def send(i: int) -> None:
        for _ in range(5):
            feedback.record(location, kind="answer", useful=i % 2 == 0)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert feedback.counts(location)["answer"] == feedback.Counts(total=20, useful=10, not_useful=10)
    assert sorted(r["id"] for r in feedback.rows(location)) == list(range(1, 21))


def test_a_comment_is_capped(location):
    feedback.record(location, kind="answer", useful=False, comment="x" * (feedback.MAX_COMMENT + 50))
    assert len(feedback.rows(location)[0]["comment"]) == feedback.MAX_COMMENT


@pytest.mark.postgres
def test_both_stores_give_the_same_rows_and_counts(tmp_path, pg_dsn):
    file = tmp_path / "feedback.sqlite"
    for where in (file, pg_dsn):
        fill(where)
    assert feedback.counts(file) == feedback.counts(pg_dsn)
    drop_time = lambda rows: [{k: v for k, v in r.items() if k != "created_at"} for r in rows]  # noqa: E731
    assert drop_time(feedback.rows(file)) == drop_time(feedback.rows(pg_dsn))
    assert [list(r) for r in feedback.rows(file)] == [list(r) for r in feedback.rows(pg_dsn)]  # same columns, same order
    assert feedback.describe(pg_dsn).endswith("table beleidswijzer_feedback") and feedback.describe(file) == str(file)


@pytest.mark.postgres
def test_a_nul_in_a_comment_does_not_lose_the_feedback(pg_dsn):
    feedback.record(pg_dsn, kind="answer", useful=True, comment="a\x00b")  # PostgreSQL text cannot hold NUL
    assert feedback.rows(pg_dsn)[0]["comment"] == "ab"


def test_an_unreachable_feedback_database_is_a_clear_error():
    dsn = "postgresql://beleidswijzer:secret@127.0.0.1:1/nothing"
    for use in (lambda: feedback.record(dsn, kind="answer", useful=True, comment="geen naam"),
                lambda: feedback.counts(dsn), lambda: feedback.rows(dsn)):  # fmt: skip
        with pytest.raises(SharedStateError) as exc:
            use()
        message = str(exc.value)
        assert "cannot be reached" in message and "BELEIDSWIJZER_FEEDBACK_DB" in message
        assert "secret" not in message and "geen naam" not in message
    assert "secret" not in feedback.describe(dsn)


def test_feedback_settings(tmp_path):
    cfg = settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path)})
    assert cfg.feedback_db == tmp_path / "feedback.sqlite" and cfg.store_questions is False
    cfg = settings.load({"BELEIDSWIJZER_FEEDBACK_DB": str(tmp_path / "f.db"), "BELEIDSWIJZER_STORE_QUESTIONS": "on"})
    assert cfg.feedback_db == tmp_path / "f.db" and cfg.store_questions is True
    with pytest.raises(settings.SettingsError, match="BELEIDSWIJZER_STORE_QUESTIONS"):
        settings.load({"BELEIDSWIJZER_STORE_QUESTIONS": "misschien"})


def test_the_feedback_file_is_readable_by_the_service_user_only(tmp_path):
    import stat

    folder = tmp_path / "index"
    folder.mkdir()
    folder.chmod(0o755)
    db = folder / "feedback.sqlite"
    feedback.record(db, kind="answer", useful=True)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # the folder keeps its mode
    assert feedback.counts(db)["all"].total == 1
    db.chmod(0o644)  # a file written by an older version is narrowed on the next feedback
    feedback.record(db, kind="rule", useful=False, rule_id="beslistermijn", outcome="computed")
    assert stat.S_IMODE(db.stat().st_mode) == 0o600 and feedback.counts(db)["all"].total == 2
    fresh = tmp_path / "new" / "feedback.sqlite"
    feedback.record(fresh, kind="answer", useful=True)
    assert stat.S_IMODE(fresh.parent.stat().st_mode) == 0o700 and stat.S_IMODE(fresh.stat().st_mode) == 0o600
