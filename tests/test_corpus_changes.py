"""Changes to the corpus are never silent (ui/uploads.py and the Beheer page): the forged upload
of issue #20 (an .md with the id of the official PDF note) is refused; a replacement shows old and
new title and sha256 and takes effect only when confirmed, moving the old file aside; a removal
moves the file into `.removed/`; each is in the audit trail with the user's subject."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from audit import open_store
from indexer.build import DiskFull, build
from indexer.encoders.fake import FakeEncoder
from retrieval.fusion import Params
from tests import hostile
from tests.conftest import NOTE_PDF, REPO
from ui import build_runner, uploads
from ui.i18n import STRINGS

NL = STRINGS["nl"]
APP = str(REPO / "app.py")
NOTE_ID = NOTE_PDF.stem  # beleidsconsequenties-mobilisatie-rusland
SIDECAR = NOTE_PDF.with_name(NOTE_PDF.name + ".yaml")
FORGED = f"""---
title: Beleidsconsequenties mobilisatie Rusland (herzien)
---
Kernpunten
Het moratorium voor Russische dienstplichtigen is per direct afgeschaft.
""".encode()
OTHER = "---\ntitle: Werkinstructie\n---\nBeslistermijn\nDe beslistermijn is zes maanden.\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(NOTE_PDF, folder / NOTE_PDF.name)
    shutil.copy(SIDECAR, folder / SIDECAR.name)
    (folder / "werkinstructie.md").write_text(OTHER, encoding="utf-8")
    return folder


# -- the functions


def test_the_forged_upload_is_refused_whatever_its_extension_or_case(corpus, tmp_path):
    before = sorted(p.name for p in corpus.iterdir())
    for name in (f"{NOTE_ID}.md", f"{NOTE_ID}.txt", f"{NOTE_ID}.pdf", f"{NOTE_ID.upper()}.md", f"../{NOTE_ID}.md"):
        problem = uploads.store([corpus], name, FORGED)
        assert isinstance(problem, uploads.Problem) and problem.key == "manage_exists_id", name
        assert problem.values["files"] == NOTE_PDF.name
    assert sorted(p.name for p in corpus.iterdir()) == before
    second = tmp_path / "second"
    second.mkdir()  # an upload goes to the first folder, but an id in any corpus folder counts
    assert uploads.store([second, corpus], f"{NOTE_ID}.md", FORGED).key == "manage_exists_id"
    assert not list(second.iterdir())
    assert uploads.conflicts([corpus], "werkinstructie.txt") == [corpus / "werkinstructie.md"]
    assert uploads.conflicts([corpus], "nieuw.md") == []


def test_a_replacement_shows_old_and_new_title_and_hash_and_moves_the_pdf_aside(corpus):
    rep = uploads.prepare_replacement([corpus], f"{NOTE_ID}.md", FORGED)
    assert isinstance(rep, uploads.Replacement)
    assert [(e.name, e.title, e.sha256) for e in rep.old] == [
        (NOTE_PDF.name, "Beleidsconsequenties mobilisatie Rusland", sha(NOTE_PDF.read_bytes()))]
    assert (rep.name, rep.title, rep.sha256) == (f"{NOTE_ID}.md", "Beleidsconsequenties mobilisatie Rusland (herzien)", sha(FORGED))
    assert (corpus / NOTE_PDF.name).is_file() and not (corpus / f"{NOTE_ID}.md").exists()  # nothing yet
    target, aside = uploads.apply_replacement([corpus], rep)
    assert target == corpus / f"{NOTE_ID}.md" and target.read_bytes() == FORGED
    assert aside.parent == corpus.parent / ".removed" and aside.name.endswith(f"Z-{NOTE_ID}")
    assert sorted(p.name for p in aside.iterdir()) == [NOTE_PDF.name, SIDECAR.name]  # the sidecar goes with it
    assert sorted(p.name for p in corpus.iterdir()) == [f"{NOTE_ID}.md", "werkinstructie.md"]


def test_a_same_name_replacement_keeps_the_sidecar_and_reads_the_title_with_it(corpus, tmp_path):
    rep = uploads.prepare_replacement([corpus], NOTE_PDF.name, NOTE_PDF.read_bytes())
    assert rep.title == "Beleidsconsequenties mobilisatie Rusland" and rep.old[0].sha256 == rep.sha256
    target, aside = uploads.apply_replacement([corpus], rep)
    assert [p.name for p in aside.iterdir()] == [NOTE_PDF.name] and (corpus / SIDECAR.name).is_file()


def test_a_replacement_is_refused_when_the_corpus_changed_meanwhile(corpus):
    rep = uploads.prepare_replacement([corpus], "werkinstructie.md", OTHER.replace("zes", "negen").encode())
    (corpus / "werkinstructie.md").write_text(OTHER + "\nGewijzigd.\n", encoding="utf-8")
    assert uploads.apply_replacement([corpus], rep).key == "manage_replace_changed"
    (corpus / "werkinstructie.txt").write_text(OTHER, encoding="utf-8")  # another file with the id appeared
    rep = uploads.prepare_replacement([corpus], "werkinstructie.md", b"# x\ny\n")
    (corpus / "werkinstructie.txt").unlink()
    assert uploads.apply_replacement([corpus], rep).key == "manage_replace_changed"
    assert not (corpus.parent / ".removed").exists()


def test_a_replacement_must_have_exactly_the_id_it_replaces(corpus):
    problem = uploads.prepare_replacement([corpus], f"{NOTE_ID.upper()}.md", FORGED)
    assert problem.key == "manage_replace_id_case" and problem.values["name"] == f"{NOTE_ID}.md"


def test_an_unreadable_replacement_is_refused(corpus):
    problem = uploads.prepare_replacement([corpus], NOTE_PDF.name, b"%PDF-1.4 kapot")
    assert problem.key == "manage_replace_unreadable" and problem.values["reason"]
    assert (corpus / NOTE_PDF.name).read_bytes() == NOTE_PDF.read_bytes()


def test_a_hostile_replacement_is_read_under_the_builds_limits(corpus, tmp_path, monkeypatch):
    """The new file's title is read as the build reads a file (indexer.sandbox), so a page bomb is
    refused by the build's page limit and a slow file by its time limit, not read at length."""
    monkeypatch.setenv("BELEIDSWIJZER_PARSE_PAGES", "100")
    boom = hostile.page_tree_pdf(tmp_path / "boom.pdf", 5_000).read_bytes()
    problem = uploads.prepare_replacement([corpus], NOTE_PDF.name, boom)
    assert problem.key == "manage_replace_unreadable"
    assert problem.values["reason"].startswith("the PDF has 5,000 pages, more than the limit of 100 pages per file.")
    monkeypatch.delenv("BELEIDSWIJZER_PARSE_PAGES")
    monkeypatch.setenv("BELEIDSWIJZER_PARSE_SECONDS", "1")
    slow = hostile.slow_pdf(tmp_path / "slow.pdf").read_bytes()
    problem = uploads.prepare_replacement([corpus], NOTE_PDF.name, slow)
    assert problem.key == "manage_replace_unreadable"
    assert problem.values["reason"].startswith("reading it took longer than the limit of 1 seconds per file.")
    assert (corpus / NOTE_PDF.name).read_bytes() == NOTE_PDF.read_bytes()


def test_a_removal_moves_the_file_and_its_sidecar_aside(corpus):
    doc = uploads.prepare_removal([corpus], corpus / NOTE_PDF.name)
    assert doc.title == "Beleidsconsequenties mobilisatie Rusland" and doc.sha256 == sha(NOTE_PDF.read_bytes())
    aside = uploads.remove([corpus], doc)
    assert sorted(p.name for p in aside.iterdir()) == [NOTE_PDF.name, SIDECAR.name]
    assert sorted(p.name for p in corpus.iterdir()) == ["werkinstructie.md"]
    assert uploads.remove([corpus], doc).key == "manage_remove_changed"  # it is gone now


def test_the_removed_folder_is_never_indexed(corpus, tmp_path):
    uploads.remove([corpus], uploads.prepare_removal([corpus], corpus / "werkinstructie.md"))
    report = build([corpus], tmp_path / "ix", FakeEncoder())
    assert report.documents == 1 and not report.skipped


# -- the Beheer page


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    monkeypatch.setattr(Params, "for_model", classmethod(lambda cls, model: cls(min_margin=-2.0)))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app(corpus, tmp_path, monkeypatch) -> tuple[Path, Path]:
    index = tmp_path / "index"
    build([corpus], index, FakeEncoder())
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    monkeypatch.delenv("BELEIDSWIJZER_MODEL", raising=False)
    monkeypatch.delenv("BELEIDSWIJZER_AUDIT_LOG", raising=False)
    monkeypatch.delenv("BELEIDSWIJZER_FEEDBACK_DB", raising=False)
    monkeypatch.delenv("BELEIDSWIJZER_STORE", raising=False)
    monkeypatch.delenv("BELEIDSWIJZER_MANAGEMENT", raising=False)
    return corpus, index


def manage() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/manage.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes, replace: bool = False) -> AppTest:
    at.file_uploader(key="upload_file").upload(name, data, "text/markdown")
    at.checkbox(key="upload_replace").set_value(replace)
    next(b for b in at.button if b.label == NL["manage_add_button"]).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def current(index: Path) -> str:
    return (index / "CURRENT").read_text()


def test_the_forged_upload_is_refused_on_beheer_and_recorded(app):
    corpus, index = app
    build_before = current(index)
    at = upload(manage(), f"{NOTE_ID}.md", FORGED)
    errors = [e.value.replace("\\", "") for e in at.error]  # Markdown-escaped
    assert errors == [NL["manage_exists_id"].format(id=NOTE_ID, files=NOTE_PDF.name)]
    assert not (corpus / f"{NOTE_ID}.md").exists() and current(index) == build_before  # nothing stored, no build
    last = open_store(index / "audit.jsonl").events()[-1]
    assert (last.action, last.subject, last.details["reason"]) == ("upload-refused", "lokaal", "exists")
    assert last.details["existing"] == [NOTE_PDF.name] and last.details["sha256"] == sha(FORGED)


def test_a_replacement_takes_effect_only_after_confirmation_and_is_recorded(app):
    corpus, index = app
    at = upload(manage(), f"{NOTE_ID}.md", FORGED, replace=True)
    table = next(d.value for d in at.dataframe if "sha256" in d.value.columns)
    assert list(table["sha256"]) == [sha(NOTE_PDF.read_bytes()), sha(FORGED)]
    assert list(table[NL["col_title"]]) == ["Beleidsconsequenties mobilisatie Rusland", "Beleidsconsequenties mobilisatie Rusland (herzien)"]
    assert (corpus / NOTE_PDF.name).is_file() and not (corpus / f"{NOTE_ID}.md").exists()  # not yet
    at = click(at, "replace_confirm")
    assert not at.error, [e.value for e in at.error]
    assert not (corpus / NOTE_PDF.name).exists() and (corpus / f"{NOTE_ID}.md").read_bytes() == FORGED
    assert any("1 toegevoegd, 0 gewijzigd, 1 verwijderd" in s.value for s in at.success)  # the .md in, the PDF out
    trail = open_store(index / "audit.jsonl")
    replaced, rebuilt = trail.events()[-2:]
    assert (replaced.action, replaced.subject, replaced.details["doc_id"]) == ("replace", "lokaal", NOTE_ID)
    assert replaced.details["old"] == [{"file": NOTE_PDF.name, "sha256": sha(NOTE_PDF.read_bytes()),
                                        "title": "Beleidsconsequenties mobilisatie Rusland"}]  # fmt: skip
    assert replaced.details["new"]["sha256"] == sha(FORGED)
    assert Path(replaced.details["moved_to"], NOTE_PDF.name).is_file()
    assert rebuilt.action == "rebuild" and rebuilt.details["outcome"] == "ok"
    assert {"file": f"{NOTE_ID}.md", "sha256": sha(FORGED), "doc_id": NOTE_ID} in rebuilt.details["files"]
    assert trail.verify().ok
    assert any(NL["manage_audit_ok"].split(":")[0] in s.value for s in at.success)  # shown on Beheer


def test_a_replacement_can_be_cancelled(app):
    corpus, index = app
    at = click(upload(manage(), f"{NOTE_ID}.md", FORGED, replace=True), "replace_cancel")
    assert NL["manage_cancelled"] in [i.value for i in at.info]
    assert (corpus / NOTE_PDF.name).is_file() and not (corpus / f"{NOTE_ID}.md").exists()
    assert not [b for b in at.button if b.key == "replace_confirm"]


def test_a_new_document_is_added_and_recorded(app):
    corpus, index = app
    at = upload(manage(), "nieuw beleid.md", OTHER.encode())
    assert (corpus / "nieuw-beleid.md").is_file() and any("1 toegevoegd" in s.value for s in at.success)
    added, rebuilt = open_store(index / "audit.jsonl").events()[-2:]
    assert (added.action, added.details["file"], added.details["sha256"]) == ("upload", "nieuw-beleid.md", sha(OTHER.encode()))
    assert rebuilt.details["added"] == ["nieuw-beleid.md"] and rebuilt.details["documents"] == 3


def test_a_removal_is_chosen_confirmed_moved_aside_and_recorded(app):
    corpus, index = app
    at = manage()
    at.selectbox(key="remove_pick").set_value(str(corpus / "werkinstructie.md")).run()
    at = click(at, "remove_ask")
    assert any("Werkinstructie" in w.value and "werkinstructie.md" in w.value.replace("\\", "") for w in at.warning)
    assert (corpus / "werkinstructie.md").is_file()  # not before the confirmation
    at = click(at, "remove_confirm")
    assert not (corpus / "werkinstructie.md").exists() and any("1 verwijderd" in s.value for s in at.success)
    removed, rebuilt = open_store(index / "audit.jsonl").events()[-2:]
    assert (removed.action, removed.details["file"], removed.details["title"]) == ("remove", "werkinstructie.md", "Werkinstructie")
    assert Path(removed.details["moved_to"], "werkinstructie.md").read_text(encoding="utf-8") == OTHER
    assert rebuilt.details["removed"] == ["werkinstructie.md"]


def test_a_rebuild_on_a_full_disk_says_so_as_on_first_start_and_keeps_the_upload(app, monkeypatch):
    corpus, index = app

    def full(*a, **k):
        raise DiskFull("No space left on device: builds/.tmp-2")

    monkeypatch.setattr(build_runner, "run", full)
    at = upload(manage(), "nieuw beleid.md", OTHER.encode())
    errors = [e.value.replace("\\", "") for e in at.error]  # the folder is Markdown-escaped
    assert errors == [NL["index_disk_full"].format(index=index)]
    assert any("No space left on device" in c.value for c in at.caption)
    assert (corpus / "nieuw-beleid.md").is_file()  # stored; the next build indexes it
    assert open_store(index / "audit.jsonl").events()[-1].details["outcome"] == "disk-full"


def test_an_upload_that_cannot_be_written_says_so_and_is_not_recorded(app, monkeypatch):
    corpus, index = app

    def no_space(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(uploads, "store", no_space)
    at = upload(manage(), "nieuw.md", OTHER.encode())
    assert [e.value for e in at.error] == [NL["manage_change_failed"].format(error="No space left on device")]
    assert not (corpus / "nieuw.md").exists()
    assert not (index / "audit.jsonl").exists() or all(e.action != "upload" for e in open_store(index / "audit.jsonl").events())


def test_no_change_is_made_when_the_audit_trail_cannot_be_written(app, tmp_path, monkeypatch):
    corpus, index = app
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")  # (permissions would not stop root, who may run the tests)
    monkeypatch.setenv("BELEIDSWIJZER_AUDIT_LOG", str(not_a_folder / "audit.jsonl"))
    at = upload(manage(), "nieuw.md", OTHER.encode())
    assert NL["manage_audit_unwritable"] in [e.value for e in at.error]
    assert any("BELEIDSWIJZER_AUDIT_LOG" in c.value.replace("\\", "") for c in at.caption)
    assert not (corpus / "nieuw.md").exists()


def test_an_unreachable_shared_store_refuses_changes_and_says_why(app, monkeypatch):
    corpus, index = app
    down = "postgresql://beleidswijzer:geheim@127.0.0.1:1/beleidswijzer"
    # the whole store down: the index cannot be read either, so no page gets further than saying so
    monkeypatch.setenv("BELEIDSWIJZER_STORE", down)
    at = manage()
    assert [e.value for e in at.error] == [NL["index_unusable"]]
    assert any("cannot be reached" in c.value.replace("\\", "") for c in at.caption)
    assert not at.get("file_uploader")
    # the trail and the feedback down, the index in its folder: Beheer refuses changes and says why
    monkeypatch.delenv("BELEIDSWIJZER_STORE")
    monkeypatch.setenv("BELEIDSWIJZER_AUDIT_LOG", down)
    monkeypatch.setenv("BELEIDSWIJZER_FEEDBACK_DB", down)
    at = upload(manage(), "nieuw.md", OTHER.encode())
    assert NL["manage_audit_unwritable"] in [e.value for e in at.error]
    assert NL["manage_audit_db_unreadable"] in [e.value for e in at.error]  # the trail on Beheer
    assert NL["manage_feedback_db_unreadable"] in [e.value for e in at.error]  # the feedback counts
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any("cannot be reached" in c and "BELEIDSWIJZER_AUDIT_LOG" in c for c in captions)
    assert any("cannot be reached" in c and "BELEIDSWIJZER_FEEDBACK_DB" in c for c in captions)
    assert not any("geheim" in c for c in captions)
    assert not (corpus / "nieuw.md").exists() and not (index / "audit.jsonl").exists()


@pytest.mark.postgres
def test_with_a_shared_store_the_trail_and_the_feedback_are_in_the_database(app, pg_dsn, monkeypatch):
    from ui import feedback

    from indexer import pgstore
    from indexer.store import current_build

    corpus, index = app
    pgstore.publish_folder(pg_dsn, current_build(index))  # the index in the database too: no build on start
    monkeypatch.setenv("BELEIDSWIJZER_STORE", pg_dsn)
    feedback.record(pg_dsn, kind="answer", useful=True, comment="helder")
    at = upload(manage(), f"{NOTE_ID}.md", FORGED)  # a refused upload: one record
    assert not (index / "audit.jsonl").exists()  # not in the index folder: in the database
    records = open_store(pg_dsn).events()
    assert [(r.seq, r.action, r.subject) for r in records] == [(1, "upload-refused", "lokaal")]
    at = manage()
    assert any(NL["manage_audit_ok"].split(":")[0] in s.value for s in at.success)
    table = next(d.value for d in at.dataframe if NL["manage_audit_col_subject"] in d.value.columns)
    assert list(table[NL["manage_audit_col_action"]]) == [NL["manage_audit_action_upload_refused"]]
    captions = [c.value.replace("\\", "") for c in at.caption]
    shown = pg_dsn.split("://", 1)[1]  # the DSN (the test server's has no password)
    assert any(f"{NL['manage_database']}: postgresql://{shown}, table beleidswijzer_audit" in c for c in captions)
    assert any(f"{NL['manage_database']}: postgresql://{shown}, table beleidswijzer_feedback" in c for c in captions)
    assert not any(NL["manage_audit_file_note"] in c for c in captions)  # no file mode for a database
    assert next(m.value for m in at.metric if m.label == NL["manage_feedback_total"]) == "1"


def test_the_audit_trail_is_shown_with_its_verification_and_downloads(app):
    corpus, index = app
    at = upload(manage(), f"{NOTE_ID}.md", FORGED)  # a refused upload: one record
    table = next(d.value for d in at.dataframe if NL["manage_audit_col_subject"] in d.value.columns)
    assert list(table[NL["manage_audit_col_action"]]) == [NL["manage_audit_action_upload_refused"]]
    assert [b.proto.label for b in at.get("download_button")] == [NL["manage_audit_download_jsonl"], NL["manage_audit_download_csv"]]
    log = index / "audit.jsonl"
    lines = log.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["subject"] = "iemand-anders"
    log.write_text(json.dumps(record) + "\n", encoding="utf-8")
    at = manage()
    assert NL["manage_audit_tampered"].format(n=1) in [e.value for e in at.error]
    assert any(NL["manage_audit_problem_edited"].format(seq=1, line=1) in m.value for m in at.markdown)
