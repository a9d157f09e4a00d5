"""Index build: summary, incremental rebuild, atomic replacement, bad input, model check."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer import store
from indexer.build import NothingIndexed, build
from indexer.encoders.fake import FakeEncoder
from tests.conftest import NOTE_PDF, REPO

DOC_A = "---\ntitle: Nota A\ndate: 2022-11-01\n---\nKop A\nHet besluit- en vertrekmoratorium geldt voor dienstplichtigen van 18 tot en met 27 jaar.\n"
DOC_B = "---\ntitle: Wet B\n---\nArtikel 43\n1. Bij besluit kan de beslistermijn worden verlengd.\n2. Het besluit wordt bekendgemaakt.\n"
DOC_C = "Brief C over de mobilisatie in Rusland en de gevolgen voor asielzoekers.\n"


class CountingEncoder(FakeEncoder):
    """The fake encoder, counting what it embeds (to prove incremental builds skip work)."""

    def __init__(self):
        self.embedded: list[str] = []

    def encode_passages(self, texts, progress=None):
        self.embedded.extend(texts)
        return super().encode_passages(texts, progress)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    c = tmp_path / "corpus"
    c.mkdir()
    (c / "a.txt").write_text(DOC_A, encoding="utf-8")
    (c / "b.md").write_text(DOC_B, encoding="utf-8")
    (c / "c.txt").write_text(DOC_C, encoding="utf-8")
    return c


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_first_build_indexes_everything(corpus, tmp_path):
    enc = CountingEncoder()
    r = build([corpus], tmp_path / "ix", enc)
    assert (r.documents, r.passages, r.embedded) == (3, 4, 4)
    assert sorted(r.added) == ["a.txt", "b.md", "c.txt"] and not r.skipped
    reader = store.IndexReader(tmp_path / "ix")
    m = reader.manifest
    assert (m["model"], m["dim"], m["passages"], m["dense_index"]) == ("fake-trigram-64", 64, 4, "flat")
    assert {f["file"] for f in m["files"]} == {"a.txt", "b.md", "c.txt"}
    assert all(len(f["sha256"]) == 64 for f in m["files"])
    assert {"faiss", "pypdf", "python", "numpy"} <= set(m["versions"])
    cites = {p.citation for p in reader.passages()}
    assert {"Wet B, art. 43 lid 1", "Wet B, art. 43 lid 2", "Nota A, Kop A"} <= cites
    assert reader.vectors().shape == (4, 64)


def test_second_build_without_change_does_nothing(corpus, tmp_path):
    build([corpus], tmp_path / "ix", FakeEncoder())
    before = store.current_build(tmp_path / "ix")
    enc = CountingEncoder()
    r = build([corpus], tmp_path / "ix", enc)
    assert not r.changed_anything and not r.published and enc.embedded == []
    assert sorted(r.unchanged) == ["a.txt", "b.md", "c.txt"]
    assert store.current_build(tmp_path / "ix") == before


def test_changed_file_is_the_only_one_embedded_again(corpus, tmp_path):
    build([corpus], tmp_path / "ix", FakeEncoder())
    old = store.IndexReader(tmp_path / "ix")
    old_vec = {p.text: v for p, v in zip(old.passages(), np.asarray(old.vectors()))}
    (corpus / "c.txt").write_text(DOC_C.replace("Rusland", "de Russische Federatie"), encoding="utf-8")
    os.utime(corpus / "a.txt")  # touched without a content change: not re-embedded
    enc = CountingEncoder()
    r = build([corpus], tmp_path / "ix", enc)
    assert r.changed == ["c.txt"] and not r.added and not r.removed
    assert enc.embedded == [DOC_C.replace("Rusland", "de Russische Federatie").strip()]
    new = store.IndexReader(tmp_path / "ix")
    for p, v in zip(new.passages(), np.asarray(new.vectors())):
        if p.doc_id != "c":
            np.testing.assert_array_equal(v, old_vec[p.text])  # reused, in the right row


def test_deleted_file_drops_its_passages(corpus, tmp_path):
    build([corpus], tmp_path / "ix", FakeEncoder())
    (corpus / "b.md").unlink()
    r = build([corpus], tmp_path / "ix", CountingEncoder())
    assert r.removed == ["b.md"] and r.embedded == 0
    reader = store.IndexReader(tmp_path / "ix")
    assert {p.doc_id for p in reader.passages()} == {"a", "c"}
    assert reader.vectors().shape[0] == len(reader.passages()) == 2


def test_killed_build_leaves_previous_index_queryable(corpus, tmp_path):
    from retrieval.retriever import Retriever

    build([corpus], tmp_path / "ix", FakeEncoder())
    before = snapshot(store.current_build(tmp_path / "ix"))

    class Crash(Exception):
        pass

    class CrashingEncoder(FakeEncoder):
        def encode_passages(self, texts, progress=None):
            raise Crash("killed mid-embedding")

    (corpus / "d.txt").write_text("Nieuw document over de beslistermijn.\n", encoding="utf-8")
    with pytest.raises(Crash):
        build([corpus], tmp_path / "ix", CrashingEncoder())
    assert snapshot(store.current_build(tmp_path / "ix")) == before
    res = Retriever(tmp_path / "ix", FakeEncoder()).search("beslistermijn verlengd", k=2)
    assert res.hits[0].passage.citation == "Wet B, art. 43 lid 1"


def test_build_killed_while_writing_leaves_previous_index(corpus, tmp_path, monkeypatch):
    build([corpus], tmp_path / "ix", FakeEncoder())
    current = store.current_build(tmp_path / "ix")
    before = snapshot(current)

    def die(*a, **k):
        raise KeyboardInterrupt  # as if the process was stopped half-way through writing

    monkeypatch.setattr(store, "publish", die)
    (corpus / "a.txt").write_text(DOC_A + "Extra zin.\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build([corpus], tmp_path / "ix", FakeEncoder())
    assert store.current_build(tmp_path / "ix") == current and snapshot(current) == before
    assert list((tmp_path / "ix" / "builds").iterdir()) == [current]  # the half build was removed
    monkeypatch.undo()
    (tmp_path / "ix" / "builds" / ".tmp-20250101T000000-0").mkdir()  # as a SIGKILLed build leaves it
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    assert r.changed == ["a.txt"]
    assert not list((tmp_path / "ix" / "builds").glob(".tmp-*"))  # ...cleaned up by the next build


def _no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _faiss_no_space(*args, **kwargs):  # what faiss-cpu raises when fwrite fails on a full disk
    raise RuntimeError(
        "Error in void faiss::write_index(const Index*, IOWriter*, int) at /project/faiss/faiss/impl/index_write.cpp:"
        "1012: Error: 'ret == (n)' failed: write error in ix/builds/.tmp-1/dense.faiss: 0 != 256 (No space left on device)"
    )


@pytest.mark.parametrize(
    "where, failure", [("write_lexical", _no_space), ("dense_save", _faiss_no_space), ("publish", _no_space)]
)
def test_a_full_disk_is_said_in_one_sentence_and_leaves_nothing_behind(corpus, tmp_path, monkeypatch, where, failure):
    from indexer import dense
    from indexer.build import DiskFull
    from retrieval.retriever import Retriever

    build([corpus], tmp_path / "ix", FakeEncoder())
    current = store.current_build(tmp_path / "ix")
    (corpus / "d.txt").write_text("Nieuw document over de beslistermijn.\n", encoding="utf-8")
    target = {"write_lexical": (store, "write_lexical"), "dense_save": (dense, "save"), "publish": (store.os, "fsync")}
    monkeypatch.setattr(*target[where], failure)
    with pytest.raises(DiskFull) as exc:
        build([corpus], tmp_path / "ix", FakeEncoder())
    monkeypatch.undo()
    message = str(exc.value)
    assert message == (
        f"The disk is full: the new index could not be written to {tmp_path / 'ix'} (any previous index is "
        "unchanged); free space on that disk and build again."
    )
    assert exc.value.__cause__ is None and exc.value.__suppress_context__  # no C++ text behind it
    assert list((tmp_path / "ix" / "builds").iterdir()) == [current]
    assert [p.name for p in (tmp_path / "ix").iterdir() if p.name.startswith(".CURRENT")] == []
    res = Retriever(tmp_path / "ix", FakeEncoder()).search("beslistermijn verlengd", k=1)
    assert res.hits[0].passage.citation == "Wet B, art. 43 lid 1"


def test_sqlite_and_quota_count_as_a_full_disk():
    import sqlite3

    assert store.disk_full(sqlite3.OperationalError("database or disk is full"))
    assert store.disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise ValueError("could not save") from inner
    except ValueError as outer:
        assert store.disk_full(outer)
    assert not store.disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not store.disk_full(RuntimeError("Error in faiss: out of memory"))


def test_process_killed_mid_build_leaves_previous_index(corpus, tmp_path):
    """A real SIGKILL while embedding: CURRENT still names a complete, loadable build."""
    build([corpus], tmp_path / "ix", FakeEncoder())
    before = store.current_build(tmp_path / "ix")
    for i in range(200):
        (corpus / f"extra{i}.txt").write_text(f"Document {i} over de beslistermijn en het moratorium.\n" * 3)
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from indexer.build import build\nfrom indexer.encoders.fake import FakeEncoder\n"
        "class Slow(FakeEncoder):\n"
        "    def encode_passages(self, texts, progress=None):\n"
        "        print('embedding', flush=True); time.sleep(30)\n"
        "build([%r], %r, Slow())\n"
    ) % (str(REPO), str(corpus), str(tmp_path / "ix"))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "embedding"
    proc.kill()
    proc.wait()
    assert store.current_build(tmp_path / "ix") == before
    assert store.IndexReader(tmp_path / "ix").n_passages == 4


def make_bad_files(folder: Path) -> dict[str, str]:
    """Broken inputs of every kind, with the words their skip reason must contain."""
    from pypdf import PdfWriter

    folder.mkdir(exist_ok=True)
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    w.encrypt("geheim")
    with open(folder / "encrypted.pdf", "wb") as fh:
        w.write(fh)
    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    with open(folder / "scanned.pdf", "wb") as fh:
        w.write(fh)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.7\n this is not really a pdf \x00\x01")
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "latin1.txt").write_bytes("Beleid over café\n".encode("latin-1"))
    (folder / "badyaml.md").write_text("---\ntitle: [oops\n---\nTekst.\n", encoding="utf-8")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    return {
        "encrypted.pdf": "password",
        "scanned.pdf": "OCR",  # read by OCR and found blank, or no Tesseract to read it
        "corrupt.pdf": "PDF",
        "empty.pdf": "empty",
        "latin1.txt": "UTF-8",
        "badyaml.md": "YAML",
        "notes.docx": "not a readable Word document",
    }


def test_bad_input_is_reported_skipped_and_the_rest_indexed(corpus, tmp_path):
    expected = make_bad_files(corpus)
    listing = {p: p.read_bytes() for p in corpus.iterdir()}
    r = build([corpus], tmp_path / "ix", FakeEncoder())
    assert r.documents == 3
    reasons = {s.file: f"{s.reason} {s.remedy}" for s in r.skipped}
    assert set(reasons) == set(expected)
    for name, word in expected.items():
        assert word.lower() in reasons[name].lower(), (name, reasons[name])
    assert {p: p.read_bytes() for p in corpus.iterdir()} == listing  # sources untouched


def test_nothing_indexable_fails_with_the_reasons(tmp_path):
    bad = tmp_path / "bad"
    make_bad_files(bad)
    with pytest.raises(NothingIndexed) as exc:
        build([bad], tmp_path / "ix", FakeEncoder())
    assert "encrypted.pdf" in str(exc.value) and "Add documents (.pdf, .txt" in str(exc.value) and ".docx" in str(exc.value)


def test_cli_summary_and_exit_codes(corpus, tmp_path):
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "indexer", "build", *a], cwd=REPO, capture_output=True, text=True
    )
    make_bad_files(corpus)
    out = run("--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["documents"], summary["passages"], len(summary["skipped"])) == (3, 4, 7)
    assert "Parsing documents" in out.stderr and "Embedding passages" in out.stderr  # progress shown
    again = run("--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--quiet")
    assert "No change since the last build" in again.stdout and "Skipped 7 file(s)" in again.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    none = run("--corpus", str(empty), "--index", str(tmp_path / "ix2"), "--model", "fake")
    assert none.returncode == 1 and "Nothing could be indexed" in none.stderr


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", "build", *args], cwd=REPO, capture_output=True, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_cli_json_progress_lines_then_the_report_as_the_last_line(corpus, tmp_path):
    (corpus / "kapot.pdf").write_bytes(b"%PDF-1.7 kapot")
    out = cli("--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--progress", "json", "--json")
    assert out.returncode == 0, out.stderr
    *lines, last = [json.loads(line) for line in out.stdout.splitlines()]  # every line is one JSON object
    assert all(set(line) == {"stage", "done", "total", "detail"} for line in lines)
    stages = [line["stage"] for line in lines]
    assert stages == sorted(stages, key=["parse", "embed", "write"].index) and stages[-2:] == ["write", "write"]
    assert [(line["done"], line["total"]) for line in lines if line["stage"] == "embed"][-1] == (4, 4)
    assert [(line["done"], line["total"], line["detail"]) for line in lines if line["stage"] == "parse"] == [
        (0, 4, "a.txt"), (1, 4, "b.md"), (2, 4, "c.txt"), (3, 4, "kapot.pdf"), (4, 4, "")]  # fmt: skip
    assert lines[-1] == {"stage": "write", "done": 1, "total": 1, "detail": ""}
    assert (last["documents"], last["passages"], [s["file"] for s in last["skipped"]]) == (3, 4, ["kapot.pdf"])
    assert "Parsing documents" not in out.stderr  # no bars beside the JSON


def test_cli_exit_code_3_when_another_build_runs(corpus, tmp_path):
    import fcntl

    (tmp_path / "ix").mkdir()
    with open(tmp_path / "ix" / ".build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        out = cli("--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--quiet")
    assert out.returncode == 3
    assert out.stderr.strip().splitlines()[-1] == (
        f"error: Another build of {tmp_path / 'ix'} is running. Wait for it to finish, then try again."
    )


def test_cli_exit_code_4_on_a_full_disk(corpus, tmp_path, monkeypatch, capsys):
    from indexer import dense
    from indexer.__main__ import main

    monkeypatch.setattr(dense, "save", _faiss_no_space)
    args = ["build", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--quiet"]
    assert main(args) == 4
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: The disk is full: the new index could not be written to {tmp_path / 'ix'} (any previous "
                   "index is unchanged); free space on that disk and build again."]  # fmt: skip
    assert list((tmp_path / "ix" / "builds").iterdir()) == []


@pytest.mark.parametrize(
    "args, env, says",
    [
        ((), {"BELEIDSWIJZER_PARSE_SECONDS": "lang"}, "error: BELEIDSWIJZER_PARSE_SECONDS='lang' cannot be used: set it"),
        (("--model", "/bestaat/niet"), {}, "error: "),
    ],
)
def test_cli_exit_code_2_for_unusable_settings_or_model(corpus, tmp_path, args, env, says):
    out = cli("--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--quiet", *args, env=env)
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1].startswith(says)
    assert "Traceback" not in out.stderr


def test_cli_help_names_the_exit_codes_and_the_json_lines():
    out = subprocess.run([sys.executable, "-m", "indexer", "build", "--help"], cwd=REPO, capture_output=True, text=True)
    for line in ("0  the index was built", "1  nothing could be indexed", "2  unusable arguments", "3  busy",
                 "4  the disk is full", "5  the build was made but could not be published",
                 '{"stage": "parse"|"embed"|"write"|"publish", "done": N, "total": N, "detail": "file name"}'):
        assert line in out.stdout  # fmt: skip


def test_index_refuses_another_model(corpus, tmp_path):
    from retrieval.retriever import RetrievalError, Retriever

    build([corpus], tmp_path / "ix", FakeEncoder())

    class Other(FakeEncoder):
        name = "other-model"

    with pytest.raises(RetrievalError) as exc:
        Retriever(tmp_path / "ix", Other())
    assert "fake-trigram-64" in str(exc.value) and "other-model" in str(exc.value) and "rebuild" in str(exc.value)


def test_note_pdf_in_shipped_corpus_builds(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    shutil.copy(NOTE_PDF, c)
    r = build([c], tmp_path / "ix", FakeEncoder())
    assert r.documents == 1 and not r.skipped and r.passages > 10
    reader = store.IndexReader(tmp_path / "ix")
    assert reader.documents["beleidsconsequenties-mobilisatie-rusland"].title == "Beleidsconsequenties mobilisatie Rusland"
    assert all(p.pages and p.section for p in reader.passages())


def test_incremental_build_reuses_the_background_embeddings(corpus, tmp_path):
    """The general-domain background texts are embedded once per model, not on every build."""
    from indexer.background import background_texts

    class QueryCounting(FakeEncoder):
        queries = 0

        def encode_queries(self, texts):
            type(self).queries += len(texts)
            return super().encode_queries(texts)

    build([corpus], tmp_path / "ix", QueryCounting())
    assert QueryCounting.queries == len(background_texts())
    first = np.load(store.current_build(tmp_path / "ix") / "background.npy")
    (corpus / "c.txt").write_text(DOC_C + "Nog een zin.\n", encoding="utf-8")
    r = build([corpus], tmp_path / "ix", QueryCounting())
    assert r.changed == ["c.txt"] and QueryCounting.queries == len(background_texts())  # no new encoding
    np.testing.assert_array_equal(np.load(store.current_build(tmp_path / "ix") / "background.npy"), first)


def test_index_from_an_older_lexical_version_is_rewritten_without_embedding(corpus, tmp_path):
    build([corpus], tmp_path / "ix", FakeEncoder())
    folder = store.current_build(tmp_path / "ix")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["lexical_version"]  # as written before compound splitting
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "lexical_words.json").unlink()
    enc = CountingEncoder()
    r = build([corpus], tmp_path / "ix", enc)
    assert not r.changed_anything
    assert r.published and enc.embedded == [] and sorted(r.unchanged) == ["a.txt", "b.md", "c.txt"]
    new = store.current_build(tmp_path / "ix")
    assert new != folder and (new / "lexical_words.json").is_file()
    assert store.IndexReader(tmp_path / "ix").manifest["lexical_version"] >= 2
    assert not build([corpus], tmp_path / "ix", CountingEncoder()).published  # and then it is current


def test_cli_says_when_only_the_search_terms_were_written_again(corpus, tmp_path, capsys):
    from indexer.__main__ import main

    args = ["build", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--quiet"]
    assert main(args) == 0
    folder = store.current_build(tmp_path / "ix")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    (folder / "manifest.json").write_text(json.dumps({**manifest, "lexical_version": 1}), encoding="utf-8")
    capsys.readouterr()
    assert main(args) == 0
    assert "search terms were written again" in capsys.readouterr().out


def test_file_indexed_before_and_unreadable_now_is_reported_removed(corpus, tmp_path, capsys):
    from indexer.__main__ import main

    args = ["build", "--corpus", str(corpus), "--index", str(tmp_path / "ix"), "--model", "fake", "--quiet"]
    assert main(args) == 0
    (corpus / "c.txt").write_bytes("Brief C over café\n".encode("latin-1"))  # no longer valid UTF-8
    r = build([corpus], tmp_path / "ix", CountingEncoder())
    assert r.published and r.removed == ["c.txt"] and not r.lexical_rewritten
    assert any(s.file == "c.txt" for s in r.skipped)
    assert {p.doc_id for p in store.IndexReader(tmp_path / "ix").passages()} == {"a", "b"}
    (corpus / "c.txt").write_bytes("Brief C over café, opnieuw.\n".encode("latin-1"))
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "search terms were written again" not in out and "No change since the last build" in out
