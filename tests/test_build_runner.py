"""App rebuilds in a child process (ui/build_runner.py, ui/resources.build_index): the indexer's
`--progress json` lines reach the progress callback, the last line is the report, each exit code
becomes the app's exception, an interrupted build kills its child, and the server process never
loads the model for a build."""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from indexer.build import BuildLocked, DiskFull, NothingIndexed
from tests.conftest import REPO
from ui import build_runner, resources, settings
from ui.build_runner import BuildFailed
from ui.i18n import STRINGS

NOTE = "---\ntitle: Nota\n---\nKernpunten\nHet moratorium geldt voor dienstplichtigen.\n\nTweede\nNog een alinea.\n"


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "nota.md").write_text(NOTE, encoding="utf-8")
    (folder / "tweede.txt").write_text("Beslistermijn\nZes maanden.\n", encoding="utf-8")
    return folder


def child(script: str) -> list[str]:
    """A stand-in for the indexer: a Python child running `script`."""
    return [sys.executable, "-c", textwrap.dedent(script)]


def test_the_indexer_prints_progress_lines_and_the_report_last(corpus, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "indexer", "build", "--corpus", str(corpus), "--index", str(tmp_path / "ix"),
         "--model", "fake", "--progress", "json", "--json"], cwd=REPO, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    progress, report = lines[:-1], lines[-1]
    assert {p["stage"] for p in progress} == {"parse", "embed", "write"}
    assert all(set(p) == {"stage", "done", "total", "detail"} for p in progress)
    assert {"stage": "parse", "done": 0, "total": 2, "detail": "nota.md"} in progress
    assert report["documents"] == 2 and report["added"] == ["nota.md", "tweede.txt"] and "stage" not in report


def test_a_build_runs_in_a_child_and_passes_its_progress_on(corpus, tmp_path):
    seen: list[tuple] = []
    result = build_runner.run([corpus], tmp_path / "ix", "fake", lambda *a: seen.append(a))
    assert (result.documents, result.added, result.changed_anything) == (2, ["nota.md", "tweede.txt"], True)
    assert result.report["documents"] == 2 and result.skipped == []
    assert seen[0] == ("parse", 0, 2, "nota.md") and ("write", 1, 1, "") in seen
    again = build_runner.run([corpus], tmp_path / "ix", "fake")
    assert not again.changed_anything


def test_exit_codes_become_the_apps_exceptions(corpus, tmp_path):
    with pytest.raises(NothingIndexed, match="Nothing could be indexed"):
        build_runner.run([tmp_path / "missing"], tmp_path / "ix", "fake")
    (tmp_path / "ix").mkdir(exist_ok=True)
    with open(tmp_path / "ix" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another build holds the index
        with pytest.raises(BuildLocked, match="Another build"):
            build_runner.run([corpus], tmp_path / "ix", "fake")
    with pytest.raises(BuildFailed, match="model folder .* does not exist"):
        build_runner.run([corpus], tmp_path / "ix2", str(tmp_path / "no-such-model"))
    full = child("import sys; print('error: No space left on device: /ix/builds', file=sys.stderr); sys.exit(4)")
    with pytest.raises(DiskFull, match="No space left on device"):
        build_runner.run([corpus], tmp_path / "ix", None, cmd=full)
    with pytest.raises(BuildFailed, match="exit code 9. It printed no message"):
        build_runner.run([corpus], tmp_path / "ix", None, cmd=child("import sys; sys.exit(9)"))
    killed = child("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(BuildFailed, match="stopped by signal SIGKILL .the system may have run out of memory"):
        build_runner.run([corpus], tmp_path / "ix", None, cmd=killed)


def test_the_report_may_span_lines_but_must_be_readable(corpus, tmp_path):
    indented = child("""
        import json
        print(json.dumps({"stage": "parse", "done": 0, "total": 1, "detail": "a.md"}))
        print(json.dumps({"documents": 1, "passages": 3, "added": ["a.md"], "changed": [], "removed": [],
                          "unchanged": 0, "skipped": [], "embedded": 3, "seconds": 0.5, "index": "ix"}, indent=2))
    """)
    assert build_runner.run([corpus], tmp_path / "ix", None, cmd=indented).passages == 3
    for script in ("print('hallo')", "print('{\"documents\": \"veel\"}')", "pass"):
        with pytest.raises(BuildFailed, match="report"):
            build_runner.run([corpus], tmp_path / "ix", None, cmd=child(script))
    odd = child("""
        print('{"stage": "index-vacuum", "done": 1, "total": 1, "detail": ""}')
        print('{"stage": "parse", "done": "x", "total": null}')
        print('{"documents": 0, "passages": 0}')
    """)
    seen: list[tuple] = []
    build_runner.run([corpus], tmp_path / "ix", None, lambda *a: seen.append(a), cmd=odd)
    assert seen == [("parse", 0, 0, "")]  # an unknown stage is left out; odd numbers read as 0


def test_an_interrupted_build_kills_its_child(corpus, tmp_path):
    pid_file = tmp_path / "pid"
    slow = child(f"""
        import json, os, time
        open({str(pid_file)!r}, "w").write(str(os.getpid()))
        print(json.dumps({{"stage": "parse", "done": 0, "total": 1, "detail": "a.md"}}), flush=True)
        time.sleep(60)
    """)

    def rerun(*a):
        raise KeyboardInterrupt  # as Streamlit stops a script for a rerun

    with pytest.raises(KeyboardInterrupt):
        build_runner.run([corpus], tmp_path / "ix", None, rerun, cmd=slow)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # killed and reaped


def test_build_index_keeps_the_report_records_the_build_and_loads_no_model(corpus, tmp_path, monkeypatch):
    from audit import open_store

    st.cache_resource.clear()
    monkeypatch.setenv("BELEIDSWIJZER_MODEL", "fake")
    cfg = settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path / "ix"), "BELEIDSWIJZER_CORPUS": str(corpus),
                         "BELEIDSWIJZER_MODEL": "fake"})  # fmt: skip
    result = resources.build_index(cfg)
    assert result.documents == 2 and resources.last_report(cfg)["added"] == ["nota.md", "tweede.txt"]
    assert resources._encoders()[0] == {}  # the model was loaded by the build process, not here
    rebuilt = open_store(cfg.audit_log).events()[-1]
    assert (rebuilt.action, rebuilt.subject, rebuilt.details["outcome"], rebuilt.details["passages"]) == (
        "rebuild", "anoniem", "ok", result.passages)
    assert [f["file"] for f in rebuilt.details["files"]] == ["nota.md", "tweede.txt"]
    with pytest.raises(NothingIndexed):
        resources.build_index(settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path / "ix"),
                                             "BELEIDSWIJZER_CORPUS": str(tmp_path / "leeg"), "BELEIDSWIJZER_MODEL": "fake"}))  # fmt: skip
    failed = open_store(cfg.audit_log).events()[-1]
    assert failed.details["outcome"] == "nothing-indexed" and "Nothing could be indexed" in failed.details["message"]
    st.cache_resource.clear()


def test_a_full_disk_on_first_start_is_one_sentence(corpus, tmp_path, monkeypatch):
    def full(*a, **k):
        raise DiskFull("No space left on device: /ix/builds/.tmp-1")

    monkeypatch.setattr(build_runner, "run", full)
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(tmp_path / "ix"))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    monkeypatch.setenv("BELEIDSWIJZER_MODEL", "fake")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()
    errors = [e.value.replace("\\", "") for e in at.error]  # the folder is Markdown-escaped
    assert errors[0] == STRINGS["nl"]["index_disk_full"].format(index=tmp_path / "ix")
    assert any("No space left" in c.value for c in at.caption)
