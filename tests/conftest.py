"""Shared fixtures: repo paths, ../shared (skipped on a user's clone, a failure under CI=true),
a temp folder for all user data so tests never touch the real cache or index, and AppTest
sessions that count as local."""
from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NOTE_PDF = REPO / "corpus" / "beleidsconsequenties-mobilisatie-rusland.pdf"


def require_shared() -> Path:
    """The ../shared folder; skip when absent, fail under CI=true (CI always has it)."""
    if (SHARED / "corpus").is_dir():
        return SHARED
    msg = f"../shared not found at {SHARED} (it sits beside the repo in CI and on dev machines)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + "; under CI=true it must be present")
    pytest.skip(msg)


@pytest.fixture(autouse=True)
def apptest_is_local(monkeypatch) -> None:
    """An AppTest session is the local user's, as a browser on 127.0.0.1 is: AppTest's stand-in
    runtime reports a mock as the client address, which ui.auth rightly takes for another address."""
    monkeypatch.setattr("ui.auth.client_address", lambda: None)


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()


@pytest.fixture
def shared_corpus(shared_dir: Path) -> Path:
    return shared_dir / "corpus"


def fake_retriever(folder: Path, files: dict[str, str]):
    """A Retriever (fake encoder) over an index of `files` (name -> text) built in `folder`."""
    from indexer.build import build
    from indexer.encoders.fake import FakeEncoder
    from retrieval.retriever import Retriever

    corpus = folder / "c"
    corpus.mkdir()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build([corpus], folder / "ix", FakeEncoder())
    return Retriever(folder / "ix", FakeEncoder())


def stop_process_group(proc: subprocess.Popen) -> None:
    """End a process group started by a fixture: SIGTERM, then SIGKILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)
