"""CLI: python -m retrieval ask "QUESTION" [--history EARLIER ...] | --questions FILE [--conversations]
                                [--index DIR | --store DSN] [--k 5] [--on DATE] [--json]
        python -m retrieval lexicon-gaps [--index DIR | --store DSN] [--limit N]

A stable interface for scripts and evaluation: one JSON object per question (JSON Lines
with --questions). `--history` gives the earlier questions of a conversation (oldest first);
with `--questions FILE --conversations`, a blank line separates conversations and each line is
a turn of the current one. Exit code 2 when the index is missing, damaged or built by another model.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import textwrap
from pathlib import Path

from indexer.config import SettingError, default_index_dir, default_store
from retrieval.measures import period_span
from retrieval.places import quoted
from retrieval.validity import STATUS_WORDS
from retrieval.thesaurus import expansion_text


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date; write YYYY-MM-DD, e.g. 2022-11-01") from None


def render_text(result: dict) -> str:
    """A readable rendering of one result with its citations."""
    lines = [f"Vraag: {result['question']}"]
    if result.get("interpreted_as") and result["interpreted_as"] != result["question"]:
        lines.append(f"Opgevat als: {result['interpreted_as']}")
    for m in result.get("missing_references") or []:
        nearest = f" Bestaande verwijzingen in de buurt: {', '.join(m['suggestions'])}." if m["suggestions"] else ""
        lines.append(f"{m['reference']} staat niet in het corpus.{nearest}")
    if result.get("answer"):
        lines.append(f"{'Antwoord' if result.get('confidence') == 'high' else 'Mogelijk antwoord'}: {result['answer']['text']}")
    if result.get("thesaurus"):
        pairs = ((m["expression"], m["terms"]) for m in result["thesaurus"])
        lines.append(f"Ook gezocht met de termen van de documenten voor (thesaurus): {expansion_text(pairs)}")
    if not result["answerable"]:
        if result.get("unknown_places"):
            lines.append(f"Geen document van het corpus noemt {quoted(result['unknown_places'])}, waar de vraag over gaat.")
        nearest = " Dichtstbijzijnde passages (geen antwoord):" if result["passages"] else ""
        lines.append(f"Het corpus bevat geen passage die deze vraag beantwoordt.{nearest}")
    elif result.get("confidence") == "low":
        lines.append("Mogelijk relevant: deze passages lijken op de vraag, maar het is niet zeker dat ze haar beantwoorden.")
    for i, p in enumerate(result["passages"], 1):
        flags = "" if p["status"] == "current" else f"  [{STATUS_WORDS.get(p['status'], p['status'])}]"
        if p.get("ocr"):
            flags += "  [OCR-tekst: controleer tegen het origineel]"
        if p.get("measure"):
            m = p["measure"]
            span = period_span(m["from"], m["until"])
            flags += f"  [{m['label']}: {span}, {'geldt' if m['applies'] else 'afgelopen'}]"
        lines.append(f"\n{i}. {p['citation']}{flags}  (score {p['score']})")
        lines.append(textwrap.indent(textwrap.fill(f"“{p['quote']}”", 100), "   "))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m retrieval", description="Ask the Beleidswijzer index.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("ask", help="answer a question (or a file of questions) with cited passages")
    a.add_argument("question", nargs="?", help="the question (Dutch or English)")
    a.add_argument("--questions", type=Path, help="file with one question per line (JSON Lines output)")
    a.add_argument("--history", action="append", default=[], metavar="EARLIER",
                   help="an earlier question of the conversation (repeatable, oldest first)")
    a.add_argument("--conversations", action="store_true",
                   help="with --questions: a blank line separates conversations, each line is a turn")
    a.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    a.add_argument("--store", default=None, metavar="DSN", help="a PostgreSQL store instead of the index folder "
                   "(default: BELEIDSWIJZER_STORE)")
    a.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    a.add_argument("--on", type=_date, default=None, help="only documents valid on this date (YYYY-MM-DD)")
    a.add_argument("--mode", choices=("hybrid", "dense", "lexical"), default="hybrid")
    a.add_argument("--model", default=None, help="model spec; default: the one that built the index")
    a.add_argument("--json", action="store_true", help="print JSON (one object per question)")
    g = sub.add_parser(
        "lexicon-gaps",
        help="list the Dutch words of the index that the English-Dutch lexicon does not reach",
        description="Words of the index's Dutch documents whose stem has no entry in "
        "retrieval/lexicon-en-nl.yaml, most widespread first (word, documents, occurrences). "
        "English questions reach these words only through the dense side: after adding documents, "
        "translate the content words among them into the lexicon.",
    )
    g.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    g.add_argument("--store", default=None, metavar="DSN", help="a PostgreSQL store (default: BELEIDSWIJZER_STORE)")
    g.add_argument("--limit", type=int, default=None, help="print at most this many words")
    args = ap.parse_args(argv)
    if args.cmd == "lexicon-gaps":
        if args.limit is not None and args.limit < 1:
            ap.error("--limit must be at least 1")
        location = _location(args)
        return lexicon_gaps(location, args.limit) if location is not None else 2

    if bool(args.question) == bool(args.questions):
        ap.error("give either a QUESTION or --questions FILE")
    if args.k < 1:
        ap.error("--k must be at least 1")
    if args.conversations and not args.questions:
        ap.error("--conversations needs --questions FILE")
    if args.history and args.questions:
        ap.error("--history goes with a single QUESTION; in a file, use --conversations")
    if args.questions:
        try:
            lines = args.questions.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"error: cannot read {args.questions}: {exc}. Give a UTF-8 text file, one question per line.", file=sys.stderr)
            return 2
        turns = conversation_turns(lines) if args.conversations else [(q.strip(), []) for q in lines if q.strip()]
    else:
        turns = [(args.question, list(args.history))]

    from retrieval.retriever import RetrievalError, Retriever

    location = _location(args)
    if location is None:
        return 2
    try:
        retriever = Retriever(location, args.model)
    except RetrievalError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # model provisioning and loading errors say what to do
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for q, history in turns:
        result = retriever.search(q, k=args.k, on=args.on, mode=args.mode, history=history).to_dict()
        if args.json:
            print(json.dumps(result, ensure_ascii=False), flush=True)
        else:
            print(render_text(result) + "\n", flush=True)
    return 0


def _location(args) -> Path | str | None:
    """--store, else --index, else BELEIDSWIJZER_STORE, else the index folder; None (reported)
    for an unusable BELEIDSWIJZER_STORE."""
    if args.store:
        return args.store
    if args.index:
        return args.index
    try:
        return default_store() or default_index_dir()
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def conversation_turns(lines: list[str]) -> list[tuple[str, list[str]]]:
    """(question, earlier questions of its conversation) per non-blank line; a blank line starts
    a new conversation."""
    out: list[tuple[str, list[str]]] = []
    earlier: list[str] = []
    for line in lines:
        q = line.strip()
        if not q:
            earlier = []
            continue
        out.append((q, list(earlier)))
        earlier.append(q)
    return out


def lexicon_gaps(location: Path | str, limit: int | None) -> int:
    from indexer.store import IndexError_
    from indexer.stores import open_store
    from retrieval.lexicon import LEXICON, Lexicon, gaps

    try:
        reader = open_store(location)
    except IndexError_ as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        lexicon = Lexicon.load()
    except (OSError, ValueError) as exc:
        print(f"error: cannot read the lexicon {LEXICON}: {exc}. Restore it from the repository.", file=sys.stderr)
        return 2
    dutch = {d for d, m in reader.documents.items() if not m.language or m.language.lower().startswith("nl")}
    texts: dict[str, list[str]] = {}
    for p in reader.passages():
        if p.doc_id in dutch:
            texts.setdefault(p.doc_id, []).append(p.text)
    found = gaps(("\n".join(parts) for parts in texts.values()), lexicon)
    if found:
        print(f"{len(found)} words of {len(texts)} Dutch documents have no entry in {LEXICON.name}; English "
              "questions reach them only through the dense side. Translate the content words into its "
              "'terms' and list function words and names under 'untranslated'.", file=sys.stderr)  # fmt: skip
    else:
        print(f"Every word of the {len(texts)} Dutch documents has an entry in {LEXICON.name} "
              "or is listed there as untranslated.", file=sys.stderr)  # fmt: skip
    for gap in found[:limit]:
        print(f"{gap.word}\t{gap.documents}\t{gap.occurrences}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
