"""CLI: python -m retrieval ask "QUESTION" | --questions FILE  [--index DIR] [--k 5] [--on DATE] [--json]

A stable interface for scripts and evaluation: one JSON object per question (JSON Lines
with --questions). Exit code 2 when the index is missing, damaged or built by another model.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import textwrap
from pathlib import Path

from indexer.config import default_index_dir


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date; write YYYY-MM-DD, e.g. 2022-11-01") from None


def render_text(result: dict) -> str:
    """A readable rendering of one result with its citations."""
    lines = [f"Vraag: {result['question']}"]
    if not result["answerable"]:
        lines.append("Het corpus bevat geen passage die deze vraag beantwoordt. Dichtstbijzijnde passages (geen antwoord):")
    for i, p in enumerate(result["passages"], 1):
        flags = "" if p["status"] == "current" else f"  [{p['status']}]"
        lines.append(f"\n{i}. {p['citation']}{flags}  (score {p['score']})")
        lines.append(textwrap.indent(textwrap.fill(f"“{p['quote']}”", 100), "   "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrieval", description="Ask the Beleidswijzer index.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ask", help="answer a question (or a file of questions) with cited passages")
    a.add_argument("question", nargs="?", help="the question (Dutch or English)")
    a.add_argument("--questions", type=Path, help="file with one question per line (JSON Lines output)")
    a.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    a.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    a.add_argument("--on", type=_date, default=None, help="only documents valid on this date (YYYY-MM-DD)")
    a.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    a.add_argument("--model", default=None, help="model spec; default: the one that built the index")
    a.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    args = ap.parse_args(argv)

    if bool(args.question) == bool(args.questions):
        ap.error("give either a QUESTION or --questions FILE")
    if args.k < 1:
        ap.error("--k must be at least 1")
    if args.questions:
        try:
            questions = [q.strip() for q in args.questions.read_text(encoding="utf-8").splitlines() if q.strip()]
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read {args.questions}: {exc}. Give a UTF-8 text file, one question per line.", file=sys.stderr)
            return 2
    else:
        questions = [args.question]

    from retrieval.retriever import RetrievalError, Retriever

    index_dir = args.index or default_index_dir()
    try:
        retriever = Retriever(index_dir, args.model)
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # model provisioning and loading errors say what to do
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for q in questions:
        result = retriever.search(q, k=args.k, on=args.on, mode=args.mode).to_dict()
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            print(render_text(result) + "\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
