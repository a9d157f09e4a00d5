"""The title the indexer's parser reads from a document, read in a child process with a time and
memory limit, so that a hostile upload cannot stall or bloat the Streamlit server while a
beheerder compares it with the document it would replace.

    python -m ui.doc_title FILE   prints {"title": ..., "doc_id": ..., "passages": N} or {"error": ...}
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECONDS = 30  # a document whose title takes longer is not offered as a replacement
MEMORY = 1024 * 1024 * 1024  # bytes of address space the child may use


class TitleError(RuntimeError):
    """The document's title could not be read; the message says why."""


def read_title(path: Path, seconds: float = SECONDS) -> str:
    """The title the index would show for `path` (with its sidecar, if one is beside it)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ui.doc_title", str(Path(path).resolve())], cwd=REPO, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=seconds,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise TitleError(f"reading the file took longer than {seconds:.0f} s.") from None
    except OSError as exc:
        raise TitleError(f"the reader could not be started ({exc}).") from None
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("title"), str) and done.returncode == 0:
        return answer["title"]
    if isinstance(answer, dict) and answer.get("error"):
        raise TitleError(str(answer["error"]))
    if done.returncode < 0 or "MemoryError" in done.stderr:
        raise TitleError("reading the file needed more memory or time than allowed.")
    raise TitleError(f"the reader ended with exit code {done.returncode}.")


def main(argv: list[str] | None = None) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    from indexer.parsers import UnreadableDocument, parser_for

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(json.dumps({"error": "usage: python -m ui.doc_title FILE"}))
        return 2
    path = Path(args[0])
    try:
        meta, passages, _ = parser_for(path).parse_document(path, path.name)
    except UnreadableDocument as exc:
        print(json.dumps({"error": f"{exc.reason} {exc.remedy}"}, ensure_ascii=False))
        return 1
    except MemoryError:
        print(json.dumps({"error": "reading the file needed more memory than allowed."}))
        return 1
    except Exception as exc:  # a parser bug: say which, as the build does
        print(json.dumps({"error": f"could not be parsed ({type(exc).__name__}: {exc})."}, ensure_ascii=False))
        return 1
    if not passages:
        print(json.dumps({"error": "no text passages could be extracted. Check that the file has text content."}))
        return 1
    print(json.dumps({"title": meta.title, "doc_id": meta.doc_id, "passages": len(passages)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
