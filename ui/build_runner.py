"""Index builds in a child process, `python -m indexer build ... --progress json --json`, so that
the Streamlit server never parses a document or loads the model for a build, and a build that
hangs or is killed never takes the server with it.

The child prints one JSON object per line on stdout: progress `{"stage": "parse"|"embed"|"write"|"publish",
"done": N, "total": N, "detail": "file name"}`, and last the report (BuildReport.to_dict()). Its
exit code says how it ended: 0 ok, 1 nothing indexed, 2 unusable arguments, index or model,
3 another build is running, 4 the disk is full, 5 built but not published to the PostgreSQL store
(indexer.build's EXIT_ codes); stderr holds the message
for the operator.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from indexer.build import (
    EXIT_BUSY, EXIT_DISK_FULL, EXIT_NOT_PUBLISHED, EXIT_NOTHING, EXIT_OK, EXIT_UNUSABLE, PROGRESS_STAGES, BuildLocked, BuildProgress, DiskFull,
    NothingIndexed,
)  # fmt: skip

REPO = Path(__file__).resolve().parents[1]
STDERR_LINES = 40  # the end of the child's stderr kept for the message


class BuildFailed(RuntimeError):
    """The build process could not start, or ended without a usable index; the message says why."""


@dataclass(frozen=True)
class BuildResult:
    """The child's final report, as BuildReport.to_dict() wrote it, with the fields the app reads."""

    report: dict
    documents: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    lexical_rewritten: bool = False

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @classmethod
    def from_report(cls, report: object) -> BuildResult:
        """BuildFailed when the report lacks a field or has one of the wrong type."""
        try:
            if not isinstance(report, dict):
                raise TypeError("not a JSON object")
            names = lambda key: [str(n) for n in report.get(key, [])]  # noqa: E731
            skipped = [s for s in report.get("skipped", []) if isinstance(s, dict)]
            return cls(
                report=report, documents=int(report["documents"]), passages=int(report["passages"]),
                added=names("added"), changed=names("changed"), removed=names("removed"), skipped=skipped,
                seconds=float(report.get("seconds", 0.0)), lexical_rewritten=bool(report.get("lexical_rewritten")),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise BuildFailed(
                f"The build process printed a report the app cannot read ({exc}). "
                "Run 'python -m indexer build --progress json --json' by hand to see it."
            ) from None


def command(corpora: list[Path], index_dir: Path, model: str | None, store: str | None = None) -> list[str]:
    """The command line of the child (absolute paths: it runs in the repository folder); with a
    PostgreSQL `store`, the child publishes the build there too."""
    cmd = [sys.executable, "-m", "indexer", "build"]
    for corpus in corpora:
        cmd += ["--corpus", str(Path(corpus).resolve())]
    cmd += ["--index", str(Path(index_dir).resolve()), "--progress", "json", "--json"]
    if model:
        cmd += ["--model", model]
    if store:
        cmd += ["--store", store]
    return cmd


def run(corpora: list[Path], index_dir: Path, model: str | None, progress: BuildProgress | None = None,
        cmd: list[str] | None = None, store: str | None = None) -> BuildResult:  # fmt: skip
    """Build in a child process, passing its progress on; raise NothingIndexed, BuildLocked,
    DiskFull or BuildFailed as its exit code says. If the caller is interrupted (a Streamlit
    rerun), the child is killed: the build is atomic, so the previous index stays."""
    say = progress or (lambda *a: None)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    try:
        proc = subprocess.Popen(
            cmd or command(corpora, index_dir, model, store), cwd=REPO, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
        )  # fmt: skip
    except OSError as exc:
        raise BuildFailed(f"The build process could not be started ({exc}). Check the Python at {sys.executable}.") from None
    errors: deque[str] = deque(maxlen=STDERR_LINES)
    drain = threading.Thread(target=_collect, args=(proc.stderr, errors), name="beleidswijzer-build-stderr", daemon=True)
    drain.start()
    rest: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            item = _json(line)
            if isinstance(item, dict) and "stage" in item:
                if item["stage"] in PROGRESS_STAGES:  # the app adds "model" before them
                    say(item["stage"], _int(item.get("done")), _int(item.get("total")), str(item.get("detail") or ""))
            elif line.strip():
                rest.append(line)
        code = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        drain.join(timeout=5)
    message = _message(errors, code)
    if code == EXIT_OK:
        return BuildResult.from_report(_report(rest))
    if code == EXIT_NOTHING:
        raise NothingIndexed(message)
    if code == EXIT_BUSY:
        raise BuildLocked(message)
    if code == EXIT_DISK_FULL:
        raise DiskFull(message)
    raise BuildFailed(message)


def _collect(stream: IO[str] | None, into: deque) -> None:
    if stream is None:
        return
    for line in stream:
        if line.strip():
            into.append(line.rstrip())


def _json(line: str) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None


def _int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _report(lines: list[str]) -> object:
    """The report: the last line that is a JSON object, else all non-progress lines as one
    (a report printed over several lines)."""
    for line in reversed(lines):
        item = _json(line)
        if isinstance(item, dict):
            return item
    item = _json("".join(lines))
    if item is None:
        raise BuildFailed("The build process ended without a report. Run 'python -m indexer build' by hand to see why.")
    return item


def _message(errors: deque, code: int) -> str:
    """The child's own message (its 'error:' lines, else its last lines), or what its exit says."""
    lines = [e.removeprefix("error: ") for e in errors if e.startswith("error: ")] or list(errors)[-3:]
    text = " ".join(lines).strip()
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        stopped = f"The build process was stopped by signal {name}"
        hint = " (the system may have run out of memory)" if name == "SIGKILL" else ""
        return f"{stopped}{hint}; the previous index stays in use. {text}".strip()
    if code not in (EXIT_OK, EXIT_NOTHING, EXIT_UNUSABLE, EXIT_BUSY, EXIT_DISK_FULL, EXIT_NOT_PUBLISHED):
        return f"The build process ended with exit code {code}. {text or 'It printed no message.'}".strip()
    return text or f"The build process ended with exit code {code} and printed no message."
