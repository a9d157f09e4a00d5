"""CLI: python -m audit verify [TRAIL] | python -m audit export [TRAIL] --format jsonl|csv.

TRAIL is a JSON Lines file or a postgresql:// DSN (the trail's tables in that database). It
defaults to what the app uses: BELEIDSWIJZER_AUDIT_LOG, else the DSN of BELEIDSWIJZER_STORE, else
audit.jsonl in the index folder. Exit codes: 0 the trail is intact, 1 a problem was found, 2 the
trail cannot be read.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from audit.export import to_csv, to_jsonl
from audit.jsonl import JsonlAuditLog
from audit.pgconn import SharedStateError
from audit.store import AUDIT_FILE, open_store
from audit.verify import Verification, verify_lines
from indexer.config import SettingError, default_index_dir, default_store, shared_location
from indexer.contract import is_dsn


def default_location() -> str | Path:
    """The trail the app uses (SettingError for an unusable BELEIDSWIJZER_STORE)."""
    return shared_location(os.environ.get("BELEIDSWIJZER_AUDIT_LOG"), default_store(), default_index_dir() / AUDIT_FILE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m audit", description="Check or export the Beleidswijzer audit trail.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("verify", help="check every record's hash and link")
    v.add_argument("trail", nargs="?", help="a JSON Lines file or a postgresql:// DSN (default: the app's trail: "
                   "BELEIDSWIJZER_AUDIT_LOG, BELEIDSWIJZER_STORE or <index>/audit.jsonl)")  # fmt: skip
    e = sub.add_parser("export", help="print the trail as JSON Lines or CSV")
    e.add_argument("trail", nargs="?")
    e.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    args = ap.parse_args(argv)

    try:
        location = (args.trail if is_dsn(args.trail) else Path(args.trail)) if args.trail else default_location()
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if is_dsn(location):
        return _database(args, str(location))
    return _file(args, Path(location))


def _database(args: argparse.Namespace, dsn: str) -> int:
    store = open_store(dsn)
    try:
        records = store.events() if args.cmd == "export" else []
        result = None if args.cmd == "export" else store.verify()
    except SharedStateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result is None:
        sys.stdout.buffer.write(to_csv(records) if args.format == "csv" else to_jsonl(records))
        return 0
    return _report(result, store.location)


def _file(args: argparse.Namespace, path: Path) -> int:
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
    if head is None:
        print(f"note: no {log.head_path.name} beside the file (an export): records removed from its end cannot be found.")
    return _report(verify_lines(lines, head), str(path))


def _report(result: Verification, where: str) -> int:
    for problem in result.problems:
        print(f"problem: {problem}")
    if result.ok:
        print(f"{where}: intact, {result.records} record(s); last hash {result.last_hash or '-'}")
        return 0
    print(f"{where}: {len(result.problems)} problem(s) in {result.records} record(s). "
          "Keep the trail as it is, and compare it with your last export.")  # fmt: skip
    return 1


if __name__ == "__main__":
    sys.exit(main())
