"""Issue #20's hostile files, added to a corpus that is already indexed and built with
`python -m indexer build`: each is reported and skipped within 30 s, the build and its parsing
process stay under 500 MB, the rest of the corpus is indexed and the previous index stays
queryable. The slow PDF, which takes the whole 30 s limit, is in the integration set."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer import store
from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from tests import hostile
from tests.conftest import REPO

GOOD = {
    "a.txt": "---\ntitle: Nota A\n---\nHet besluit- en vertrekmoratorium geldt voor dienstplichtigen van 18 tot 27 jaar.\n",
    "b.md": "---\ntitle: Wet B\n---\nArtikel 43\n1. Bij besluit kan de beslistermijn worden verlengd.\n",
}
SECRET = "root:x:0:0:geheim-wachtwoord-van-de-beheerder:/root:/bin/bash\n"
CONTROL_NAME = "nota\x1b[2J\x1b]0;overgenomen\x07.txt"

# file name -> what its skip reason says
EXPECTED = {
    "passwd.txt": "is a symbolic link that points outside the corpus folder",
    "weg.txt": "which does not exist",
    "bom.md": "the front matter uses an anchor or alias (&name, *name) at line 1",
    "boom.pdf": "the PDF has 50,000 pages, more than the limit of 2,000 pages per file.",
    "diep.pdf": "its page tree goes past a safety limit of the PDF reader",
    "inflate.pdf": "page 1 holds content over the PDF reader's limit for decompressed data",
    "nullen.txt": "reading it needed more than the limit of 500 MB of memory per file.",
    "nota\\x1b[2J\\x1b]0;overgenomen\\x07.txt": "its name contains control characters.",
    "geheim.pdf": "the PDF is password-protected.",
    "datum.md": "the front matter has date: '2022-13-45', which is not a date in the form YYYY-MM-DD.",
}

# runs the build and then says the largest resident size of it and of its parsing processes
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print('maxrss_kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def add_hostile_files(corpus: Path, outside: Path) -> None:
    (outside / "passwd.txt").write_text(SECRET, encoding="utf-8")
    (corpus / "passwd.txt").symlink_to(outside / "passwd.txt")
    (corpus / "weg.txt").symlink_to(outside / "verwijderd.txt")
    (corpus / "bom.md").write_text(f"---\n{hostile.alias_bomb()}---\nTekst.\n", encoding="utf-8")
    hostile.page_tree_pdf(corpus / "boom.pdf", 50_000)
    hostile.deep_tree_pdf(corpus / "diep.pdf", 50_000)
    hostile.form_bomb_pdf(corpus / "inflate.pdf")
    hostile.zeros_text(corpus / "nullen.txt", megabytes=300)
    (corpus / CONTROL_NAME).write_text(GOOD["a.txt"], encoding="utf-8")
    hostile.aes_pdf(corpus / "geheim.pdf", user_password="geheim")
    (corpus / "datum.md").write_text("---\ntitle: Nota\ndate: 2022-13-45\n---\nTekst.\n", encoding="utf-8")


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A corpus of two documents, indexed; a folder outside it."""
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    for name, text in GOOD.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build([corpus], tmp_path / "ix", FakeEncoder())
    return corpus, outside, tmp_path / "ix"


def run_build(corpus: Path, index: Path, env: dict | None = None) -> dict:
    """`python -m indexer build --progress json --json`: the report, the seconds each file took
    (from one parse line to the next), the largest resident size in MB, and the output."""
    err = index.parent / "stderr.txt"
    args = ["--corpus", str(corpus), "--index", str(index), "--model", "fake", "--progress", "json", "--json"]
    start = time.monotonic()
    with open(err, "w") as err_fh:
        proc = subprocess.Popen(
            [sys.executable, "-c", WRAPPER, sys.executable, "-m", "indexer", "build", *args], cwd=REPO,
            stdout=subprocess.PIPE, stderr=err_fh, text=True, env={**os.environ, **(env or {})},
        )  # fmt: skip
        lines = [(time.monotonic(), line) for line in proc.stdout]
        proc.wait()
    stdout = "".join(line for _, line in lines)
    stderr = err.read_text()
    assert proc.returncode == 0, stderr
    parsing = [(t, json.loads(line)) for t, line in lines[:-1]]
    parsing = [(t, p) for t, p in parsing if p["stage"] == "parse"]
    seconds = {p["detail"]: t_next - t for (t, p), (t_next, _) in zip(parsing, parsing[1:])}
    return {
        "report": json.loads(lines[-1][1]), "seconds": seconds, "total": time.monotonic() - start,
        "maxrss_mb": int(stderr.strip().splitlines()[-1].split()[1]) / 1024, "stdout": stdout, "stderr": stderr,
    }  # fmt: skip


def assert_previous_index_queryable(index: Path) -> None:
    from retrieval.retriever import Retriever

    passages = store.IndexReader(index).passages()
    assert {p.doc_id for p in passages} >= {"a", "b"}
    assert not any("geheim-wachtwoord" in p.text for p in passages)
    res = Retriever(index, FakeEncoder()).search("beslistermijn verlengd", k=1)
    assert res.hits[0].passage.citation == "Wet B, art. 43 lid 1"


def test_hostile_files_are_reported_and_skipped_and_the_index_is_kept(indexed):
    corpus, outside, index = indexed
    before = store.current_build(index)
    add_hostile_files(corpus, outside)
    run = run_build(corpus, index)
    report = run["report"]
    reasons = {s["file"]: s["reason"] for s in report["skipped"]}
    assert set(reasons) == set(EXPECTED)
    for name, says in EXPECTED.items():
        assert says in reasons[name], (name, reasons[name])
    assert (report["documents"], report["added"], report["removed"]) == (2, [], [])
    assert store.current_build(index) == before  # nothing else changed: the previous build stays as it was
    assert_previous_index_queryable(index)
    assert max(run["seconds"].values()) < 30 and run["total"] < 60
    assert run["maxrss_mb"] < 500, run["maxrss_mb"]
    assert "\x1b" not in run["stdout"] + run["stderr"] and "\x07" not in run["stdout"] + run["stderr"]


def test_with_hostile_files_the_rest_of_the_corpus_is_indexed(indexed):
    corpus, outside, index = indexed
    add_hostile_files(corpus, outside)
    hostile.aes_pdf(corpus / "aes.pdf")  # encrypted against editing only, as government PDFs are
    (corpus / "c.txt").write_text("Brief C over de mobilisatie in Rusland.\n", encoding="utf-8")
    report = run_build(corpus, index)["report"]
    assert sorted(report["added"]) == ["aes.pdf", "c.txt"] and report["documents"] == 4
    assert {s["file"] for s in report["skipped"]} == set(EXPECTED)
    reader = store.IndexReader(index)
    assert [p.text for p in reader.passages() if p.doc_id == "aes"] == [hostile.TEXT]
    assert_previous_index_queryable(index)


@pytest.mark.integration
def test_every_hostile_file_with_the_default_limits_takes_at_most_30_seconds(indexed):
    """With the default limits (30 s, 500 MB, 2,000 pages) and the two slow ones: a PDF that
    takes minutes to read, and a page tree of 50,000 pages whose /Count says 1."""
    corpus, outside, index = indexed
    add_hostile_files(corpus, outside)
    hostile.slow_pdf(corpus / "traag.pdf")
    hostile.page_tree_pdf(corpus / "liegt.pdf", 50_000, declared=1)
    env = {var: "" for var in ("BELEIDSWIJZER_PARSE_SECONDS", "BELEIDSWIJZER_PARSE_MB", "BELEIDSWIJZER_PARSE_PAGES")}
    run = run_build(corpus, index, env)
    reasons = {s["file"]: s["reason"] for s in run["report"]["skipped"]}
    assert reasons["traag.pdf"] == "reading it took longer than the limit of 30 seconds per file."
    assert reasons["liegt.pdf"] == "the PDF has 50,000 pages, more than the limit of 2,000 pages per file."
    assert set(reasons) == set(EXPECTED) | {"traag.pdf", "liegt.pdf"}
    assert 29 < run["seconds"]["traag.pdf"] < 32 and max(run["seconds"].values()) < 32
    assert run["maxrss_mb"] < 500, run["maxrss_mb"]
    assert_previous_index_queryable(index)
