"""Parsing in a child process (indexer/sandbox.py): one child for many files, a file over the
time, memory or page limit is refused in one sentence and the next file gets a new child; the
limits come from the environment."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from indexer.config import ParseLimits, SettingError, parse_limits
from indexer.parsers import UnreadableDocument
from indexer.sandbox import ParseWorker, parse_file
from tests import hostile

DOC = "---\ntitle: Nota A\n---\nHet besluit- en vertrekmoratorium geldt voor dienstplichtigen.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text(DOC, encoding="utf-8")
    hostile.text_pdf(tmp_path / "b.pdf")
    return tmp_path


def refusal(worker: ParseWorker, path: Path) -> str:
    with pytest.raises(UnreadableDocument) as exc:
        worker.parse(path, path.parent.resolve())
    return f"{exc.value.reason} {exc.value.remedy}"


def test_one_child_parses_many_files_and_ends_with_the_build(folder):
    with ParseWorker(ParseLimits()) as worker:
        meta, passages, pages = worker.parse(folder / "a.txt", folder.resolve())
        pid = worker._proc.pid
        assert meta.title == "Nota A" and "vertrekmoratorium" in passages[0].text and len(pages) == 1
        _, passages, _ = worker.parse(folder / "b.pdf", folder.resolve())
        assert passages[0].text == hostile.TEXT and worker._proc.pid == pid
        proc = worker._proc
    assert proc.returncode == 0  # it read the end of its input and exited


def test_a_file_over_the_time_limit_is_killed_and_the_next_gets_a_new_child(folder):
    slow = hostile.slow_pdf(folder / "traag.pdf")
    with ParseWorker(ParseLimits(seconds=2)) as worker:
        start = time.monotonic()
        why = refusal(worker, slow)
        assert time.monotonic() - start < 4
        assert why.startswith("reading it took longer than the limit of 2 seconds per file.")
        assert "BELEIDSWIJZER_PARSE_SECONDS" in why
        assert worker.parse(folder / "a.txt", folder.resolve())[0].title == "Nota A"


def test_a_file_over_the_memory_limit_is_refused(folder):
    zeros = hostile.zeros_text(folder / "nullen.txt", megabytes=300)
    with ParseWorker(ParseLimits(megabytes=500)) as worker:
        why = refusal(worker, zeros)
        assert why.startswith("reading it needed more than the limit of 500 MB of memory per file.")
        assert "BELEIDSWIJZER_PARSE_MB" in why
        assert worker.parse(folder / "b.pdf", folder.resolve())[1][0].text == hostile.TEXT


def test_a_child_that_dies_is_reported_and_replaced(folder):
    slow = hostile.slow_pdf(folder / "traag.pdf")
    with ParseWorker(ParseLimits(seconds=20)) as worker:
        worker.parse(folder / "a.txt", folder.resolve())
        threading.Timer(0.5, worker._proc.kill).start()  # as the kernel's OOM killer would
        why = refusal(worker, slow)
        assert why.startswith("the parser stopped while reading it (signal SIGKILL)")
        assert worker.parse(folder / "a.txt", folder.resolve())[0].title == "Nota A"


def test_the_page_limit_reaches_the_pdf_parser(folder):
    big = hostile.page_tree_pdf(folder / "groot.pdf", 2_500)
    with ParseWorker(ParseLimits(pages=2_000)) as worker:
        assert refusal(worker, big).startswith("the PDF has 2,500 pages, more than the limit of 2,000")
    with ParseWorker(ParseLimits(pages=3_000)) as worker:  # read on: its one line on every page is a running header
        assert refusal(worker, big).startswith("no text passages could be extracted")


def test_a_file_swapped_for_a_link_out_after_the_scan_is_refused(folder, tmp_path_factory):
    outside = tmp_path_factory.mktemp("buiten") / "geheim.txt"
    outside.write_text("Geheim.\n", encoding="utf-8")
    (folder / "a.txt").unlink()
    (folder / "a.txt").symlink_to(outside)
    with pytest.raises(UnreadableDocument) as exc:
        parse_file(folder / "a.txt", folder.resolve())
    assert "points outside the corpus folder" in exc.value.reason


def test_limits_from_the_environment(monkeypatch):
    assert parse_limits() == ParseLimits(seconds=30, megabytes=500, pages=2_000)
    monkeypatch.setenv("BELEIDSWIJZER_PARSE_SECONDS", "7.5")
    monkeypatch.setenv("BELEIDSWIJZER_PARSE_MB", "800")
    monkeypatch.setenv("BELEIDSWIJZER_PARSE_PAGES", "100")
    assert parse_limits() == ParseLimits(seconds=7.5, megabytes=800, pages=100)


@pytest.mark.parametrize(
    "var, value, says",
    [
        ("BELEIDSWIJZER_PARSE_SECONDS", "dertig", "set it to the seconds one file may take to read, a number of at least 1"),
        ("BELEIDSWIJZER_PARSE_MB", "50", "a whole number of at least 200 (default 500)"),
        ("BELEIDSWIJZER_PARSE_PAGES", "1.5", "the pages a PDF may have, a whole number of at least 1"),
    ],
)
def test_an_unusable_limit_says_what_to_set(monkeypatch, var, value, says):
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingError) as exc:
        parse_limits()
    assert str(exc.value).startswith(f"{var}={value!r} cannot be used:") and says in str(exc.value)


def test_the_child_has_no_core_dumps_and_a_memory_ceiling(folder):
    with ParseWorker(ParseLimits(megabytes=300)) as worker:
        worker.parse(folder / "a.txt", folder.resolve())
        limits = Path(f"/proc/{worker._proc.pid}/limits").read_text()
    address = next(line for line in limits.splitlines() if line.startswith("Max address space"))
    core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert str(300 * 1024 * 1024) in address and core.split()[4] == "0"
