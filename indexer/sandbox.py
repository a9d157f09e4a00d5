"""Parsing in a child process under limits on time, memory and pages per file.

A hostile file (a PDF whose page tree holds 50,000 pages, a YAML alias bomb, a text of zeros
that fills memory) must neither stop the build nor hold it for minutes. Every new or changed
file is parsed by a child process (`python -m indexer.sandbox`) whose address space is limited
with setrlimit; the parent kills it when a file takes longer than its time. The file is then
reported and skipped, and the next file starts a new child. One child serves all files of a
build, so a corpus of dozens of files pays for one interpreter start.

A scanned PDF is read by OCR in the child: Tesseract runs as its child, under the same memory
limit, and is killed with it (the child leads its own process group). Before OCR the child tells
the parent how many pages it will read, and the file's time grows by `ocr_seconds` per page, by
`ocr_file_seconds` at most. The child and Tesseract end with their parent (indexer.lifeline): a
killed build leaves no OCR running.
"""
from __future__ import annotations

import logging
import os
import resource
import signal
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

from indexer import lifeline, sources
from indexer.config import REPO, ParseLimits
from indexer.parsers import UnreadableDocument, parser_for
from indexer.parsers.ocr import Ocr
from indexer.passage import DocumentMeta, Passage

Parsed = tuple[DocumentMeta, list[Passage], list[str]]
MB = 1024 * 1024
REPORT = "Report this file to the maintainers; the rest of the corpus was indexed."


def parse_file(path: Path, root: Path | None = None, max_pages: int | None = None, ocr: Ocr | None = None) -> Parsed:
    """Parse one file of the corpus folder `root` (default: the file's own folder) into metadata,
    passages and the page texts their offsets index, in this process. A link that leads out of
    `root` is refused (the folder may have changed since it was scanned), as is a PDF of more
    than `max_pages` pages. `ocr`: how scanned pages are read (default: the parser's, uncached)."""
    path = Path(path)
    root = Path(os.path.realpath(root if root is not None else path.parent))
    problem = sources.link_problem(path, root) or sources.sidecar_problem(path, root)
    if problem is not None:
        raise UnreadableDocument(path.name, *problem)
    parser = parser_for(path)
    if hasattr(parser, "max_pages"):
        parser.max_pages = max_pages
    if ocr is not None and hasattr(parser, "ocr"):
        parser.ocr = ocr
    meta, passages, pages = parser.parse_document(path, path.name)
    if not passages:
        raise UnreadableDocument(path, "no text passages could be extracted.", "Check that the file has text content.")
    return meta, passages, pages


class ParseWorker:
    """The parent's side: `parse` sends a file to the child and waits at most `limits.seconds`.

    The child is started on the first file and after a kill; use it as a context manager so the
    child ends with the build. `ocr_cache`: the folder where the text OCR read is kept (None: none)."""

    def __init__(self, limits: ParseLimits, ocr_cache: Path | None = None):
        self.limits = limits
        self.ocr_cache = ocr_cache
        self._proc: subprocess.Popen | None = None
        self._send: Connection | None = None
        self._recv: Connection | None = None

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def parse(self, path: Path, root: Path) -> Parsed:
        """What `parse_file` gives, parsed in the child; UnreadableDocument for a file the parser
        refuses and for one that goes past a limit or stops the child."""
        cache = str(self.ocr_cache) if self.ocr_cache is not None else None
        request = (str(path), str(root), self.limits, cache)
        try:
            self._start().send(request)
        except OSError:  # the child ended between two files: once more with a new one
            self._stop()
            self._start().send(request)
        assert self._recv is not None
        started = time.monotonic()
        deadline = started + self.limits.seconds
        scanned = 0  # pages the child announced it reads by OCR
        while True:
            if not self._recv.poll(max(0.0, deadline - time.monotonic())):
                self._stop()
                raise UnreadableDocument(path.name, *_over_time(self.limits, scanned))
            try:
                answer = self._recv.recv()
            except (EOFError, OSError):
                raise self._stopped(path) from None
            if answer[0] != "ocr":
                break
            scanned += answer[1]
            deadline = started + self.limits.seconds + _ocr_time(self.limits, scanned)
        kind, *rest = answer
        if kind == "ok":
            return rest[0]
        if kind == "unreadable":
            raise UnreadableDocument(path.name, *rest)
        if kind == "memory":
            self._stop()
            raise UnreadableDocument(path.name, *_over_memory(self.limits.megabytes))
        name, message = rest
        raise UnreadableDocument(path.name, f"could not be parsed ({name}: {message}).", REPORT)

    def close(self) -> None:
        """End the child: it reads the end of its input and exits; killed if it does not."""
        self._stop(gently=True)

    def _start(self) -> Connection:
        if self._proc is not None and self._proc.poll() is None and self._send is not None:
            return self._send
        self._stop()
        requests_r, requests_w = os.pipe()
        results_r, results_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "indexer.sandbox", str(requests_r), str(results_w), str(self.limits.megabytes),
                 str(os.getpid())],
                pass_fds=(requests_r, results_w), stdin=subprocess.DEVNULL, stdout=2, env=env, process_group=0,
            )  # fmt: skip; its stdout goes to stderr: the build's stdout may carry JSON progress
        finally:
            os.close(requests_r)
            os.close(results_w)
        self._send = Connection(requests_w, readable=False)
        self._recv = Connection(results_r, writable=False)
        return self._send

    def _stop(self, gently: bool = False) -> None:
        proc, self._proc = self._proc, None
        for conn in (self._send, self._recv):
            if conn is not None:
                conn.close()
        self._send = self._recv = None
        if proc is None:
            return
        if gently:
            try:
                proc.wait(timeout=5)
                return
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the child and a Tesseract it runs
        except ProcessLookupError:
            pass
        proc.wait()

    def _stopped(self, path: Path) -> UnreadableDocument:
        """The child ended without an answer: killed by a signal (out of memory in C code, a
        crash) or exited."""
        proc = self._proc
        self._stop(gently=True)
        code = proc.returncode if proc is not None else None
        how = f"signal {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        return UnreadableDocument(
            path.name, f"the parser stopped while reading it ({how}), possibly at the memory limit of "
            f"{self.limits.megabytes} MB per file.",
            "Check where the file comes from; if it is genuine, raise BELEIDSWIJZER_PARSE_MB and build again.",
        )  # fmt: skip


def _ocr_time(limits: ParseLimits, scanned: int) -> float:
    """The time added to a file's for OCR of `scanned` pages."""
    return min(scanned * limits.ocr_seconds, limits.ocr_file_seconds)


def _over_time(limits: ParseLimits, scanned: int) -> tuple[str, str]:
    if not scanned:
        return (
            f"reading it took longer than the limit of {limits.seconds:g} seconds per file.",
            "Check where the file comes from; if it is genuine, raise BELEIDSWIJZER_PARSE_SECONDS and build again.",
        )
    if scanned * limits.ocr_seconds > limits.ocr_file_seconds:
        return (
            f"reading it, with OCR of {scanned} scanned page(s), took longer than its limit of {limits.seconds:g} "
            f"seconds per file plus {limits.ocr_file_seconds:g} seconds of OCR per file.",
            "If the file is genuine, raise BELEIDSWIJZER_OCR_FILE_SECONDS and build again; "
            "the pages read so far are kept and not read again.",
        )
    return (
        f"reading it, with OCR of {scanned} scanned page(s), took longer than its limit of {limits.seconds:g} seconds "
        f"per file plus {limits.ocr_seconds:g} seconds per scanned page.",
        "If the file is genuine, raise BELEIDSWIJZER_OCR_SECONDS (seconds per scanned page) and build again; "
        "the pages read so far are kept and not read again.",
    )


def _over_memory(megabytes: int) -> tuple[str, str]:
    return (
        f"reading it needed more than the limit of {megabytes} MB of memory per file.",
        "Check where the file comes from; if it is genuine, raise BELEIDSWIJZER_PARSE_MB and build again.",
    )


# ---------------------------------------------------------------------------------------------
# The child


class _Escaped(logging.Formatter):
    """Log lines with control characters escaped: pypdf's warnings quote the file's own bytes."""

    def format(self, record: logging.LogRecord) -> str:
        return sources.shown(super().format(record))


def _limit_memory(megabytes: int) -> None:
    size = megabytes * MB
    try:
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError) as exc:  # a platform without these limits: time still applies
        logging.getLogger(__name__).warning("no memory limit for parsing (%s)", exc)


def _limit_cpu(seconds: float) -> None:
    """CPU time for the next file, in case the parent is gone and cannot kill this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 5
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def _answer(results: Connection, parent: int, path: str, root: str, limits: ParseLimits, ocr_cache: str | None) -> tuple:
    _limit_cpu(limits.seconds)

    def announce(scanned: int) -> None:  # the parent extends the file's time; so does the CPU limit
        results.send(("ocr", scanned))
        _limit_cpu(limits.seconds + _ocr_time(limits, scanned))

    def wanted() -> bool:  # where the parent's end does not kill this process (not Linux)
        return os.getppid() == parent

    ocr = Ocr(Path(ocr_cache) if ocr_cache else None, limits.ocr_seconds, announce, limits.ocr_pages,
              limits.ocr_file_seconds, wanted)  # fmt: skip
    try:
        return ("ok", parse_file(Path(path), Path(root), limits.pages, ocr))
    except UnreadableDocument as exc:
        return ("unreadable", exc.reason, exc.remedy)
    except MemoryError:
        return ("memory",)
    except Exception as exc:  # a parser bug must not lose the rest of the corpus
        return ("error", type(exc).__name__, str(exc)[:500])


def main(argv: list[str]) -> int:
    """The child: parse each requested file and send back what `parse_file` gives or why not."""
    requests_fd, results_fd, megabytes, parent = (int(a) for a in argv)
    lifeline.die_with_parent(parent)
    _limit_memory(megabytes)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Escaped("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    requests = Connection(requests_fd, writable=False)
    results = Connection(results_fd, readable=False)
    while True:
        try:
            request = requests.recv()
        except (EOFError, OSError):
            return 0
        answer = _answer(results, parent, *request)
        try:
            results.send(answer)
        except MemoryError:  # the answer itself is too large to send
            answer = ("memory",)
            results.send(answer)
        except (BrokenPipeError, OSError):
            return 0
        if answer[0] == "memory":
            return 0  # a fresh process for the next file


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
