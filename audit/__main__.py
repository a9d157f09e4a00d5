"""CLI: python -m audit verify [FILE] | python -m audit export [FILE] --format jsonl|csv.

FILE defaults to BELEIDSWIJZER_AUDIT_LOG, else audit.jsonl in the index folder. Exit codes:
0 the trail is intact, 1 a problem was found, 2 the file cannot be read.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from audit.export import to_csv, to_jsonl
from audit.jsonl import JsonlAuditLog
from audit.verify import verify_lines

AUDIT_FILE = "audit.jsonl"


def default_path() -> Path:
    from indexer.config import default_index_dir

    raw = os.environ.get("BELEIDSWIJZER_AUDIT_LOG", "").strip()
    return Path(raw).expanduser() if raw else default_index_dir() / AUDIT_FILE


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m audit", description="Check or export the Beleidswijzer audit trail.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check every record's hash and link")
    v.add_argument("file", nargs="?", type=Path, help="the trail (default: BELEIDSWIJZER_AUDIT_LOG or <index>/audit.jsonl)")
    e = sub.add_parser("export", help="print the trail as JSON Lines or CSV")
    e.add_argument("file", nargs="?", type=Path)
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    args = ap.parse_args(argv)

    path = args.file or default_path()
    if not path.is_file():
        print(f"error: no audit trail at {path}. Give the file, or set BELEIDSWIJZER_AUDIT_LOG.", file=sys.stderr)
        return 2
    log = JsonlAuditLog(path)
    try:
        lines = log.lines()
    except OSError as exc:
        print(f"error: {path} cannot be read ({exc.strerror}). Run this as the user the app runs as.", file=sys.stderr)
        return 2
    if args.cmd == "export":
        data = to_csv(log.events()) if args.format == "csv" else to_jsonl(log.events())
        sys.stdout.buffer.write(data)
        return 0
    head = log.head()
    result = verify_lines(lines, head)
    if head is None:
        print(f"note: no {log.head_path.name} beside the file (an export): records removed from its end cannot be found.")
    for problem in result.problems:
        print(f"problem: {problem}")
    if result.ok:
        print(f"{path}: intact, {result.records} record(s); last hash {result.last_hash or '-'}")
        return 0
    print(f"{path}: {len(result.problems)} problem(s) in {result.records} record(s). "
          "Keep this file as it is, and compare it with your last export.")  # fmt: skip
    return 1


if __name__ == "__main__":
    sys.exit(main())
