"""The officers' feedback store (ui/feedback.py) and its settings."""
from __future__ import annotations

import sqlite3

import pytest

from ui import feedback, settings


def test_feedback_counts_and_no_question_unless_allowed(tmp_path):
    db = tmp_path / "sub" / "feedback.sqlite"
    assert feedback.counts(db)["all"] == feedback.Counts()  # no file yet
    feedback.record(db, kind="answer", useful=True, question="Is Ivan (25) een deserteur?", citations=["Nota, p. 1"])
    feedback.record(db, kind="answer", useful=False, comment="  mist art. 43  ", question="vraag 2", store_question=True)
    feedback.record(db, kind="rule", useful=True, rule_id="beslistermijn", outcome="computed")
    counts = feedback.counts(db)
    assert counts["answer"] == feedback.Counts(total=2, useful=1, not_useful=1, with_comment=1)
    assert counts["rule"] == feedback.Counts(total=1, useful=1) and counts["all"].total == 3
    stored = {r["id"]: r for r in feedback.rows(db)}
    assert stored[1]["question"] is None and stored[2]["question"] == "vraag 2"
    assert stored[2]["comment"] == "mist art. 43" and stored[1]["citations"] == '["Nota, p. 1"]'
    with sqlite3.connect(db) as con:  # the question of the first feedback is nowhere in the file
        assert not con.execute("SELECT COUNT(*) FROM feedback WHERE question LIKE '%Ivan%'").fetchone()[0]
    with pytest.raises(ValueError, match="allowed; use one of answer, rule"):
        feedback.record(db, kind="chat", useful=True)


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
