"""Evaluate follow-up questions: for each two-turn conversation of a conversations file, is a
passage that answers the second turn (as meant in context) among the k shown, when the second
turn is read against the first (retrieval.conversation) and when it is searched on its own?

    python -m retrieval.conversation_eval --index DIR [--conversations eval/conversations.yaml] [--k 5]

File format (eval/conversations.yaml): `conversations: [{id, lang, turns: [first, follow-up], doc,
expect: [phrase, ...]}]`; the expect phrases answer the last turn.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from retrieval.evalsets import conversation_sets
from retrieval.evaluate import LANGS, answers
from retrieval.retriever import Retriever
from retrieval.yamlfile import entries


class ConversationFileError(ValueError):
    """The conversations file is malformed; the message names the file, the entry and the fix."""


@dataclass(frozen=True)
class Conversation:
    id: str
    lang: str
    turns: tuple[str, ...]
    expect: tuple[str, ...]
    doc: str = ""


def load_conversations(path: Path | str) -> list[Conversation]:
    """Conversations from a YAML file (`conversations: [{id, lang, turns, expect, doc}]`)."""
    path = Path(path)
    out: list[Conversation] = []
    for where, item in entries(path, "conversations", ConversationFileError):
        turns, expect = item.get("turns"), item.get("expect")
        if not item.get("id") or item.get("lang") not in LANGS:
            raise ConversationFileError(f"{where}: needs an id and a lang ({', '.join(LANGS)})")
        if not isinstance(turns, list) or len(turns) < 2 or not all(isinstance(t, str) and t.strip() for t in turns):
            raise ConversationFileError(f"{where}: 'turns' must list at least two questions")
        if not isinstance(expect, list) or not expect:
            raise ConversationFileError(f"{where}: 'expect' must list the phrases that answer the last turn")
        out.append(Conversation(str(item["id"]), item["lang"], tuple(t.strip() for t in turns),
                                tuple(str(e) for e in expect), str(item.get("doc") or "")))  # fmt: skip
    return out


def rank(retriever: Retriever, c: Conversation, k: int, with_history: bool) -> int | None:
    """The 1-based rank of the first passage that answers the last turn, or None."""
    history = c.turns[:-1] if with_history else ()
    result = retriever.search(c.turns[-1], k=k, history=history)
    return next((i for i, h in enumerate(result.hits, 1) if answers(h.passage.text, c.expect)), None)


def evaluate_conversations(retriever: Retriever, conversations: list[Conversation], k: int = 5) -> dict:
    """Recall@k of the last turn read in context and searched alone, per language and all."""
    rows = [{"id": c.id, "lang": c.lang, "in_context": rank(retriever, c, k, True), "alone": rank(retriever, c, k, False)}
            for c in conversations]  # fmt: skip
    out: dict = {"k": k, "rows": rows, "metrics": {}}
    for group in (*LANGS, "all"):
        rs = [r for r in rows if group == "all" or r["lang"] == group]
        hit = lambda key: sum(1 for r in rs if r[key] is not None) / len(rs) if rs else None  # noqa: E731
        out["metrics"][group] = {"n": len(rs), f"recall@{k}_in_context": hit("in_context"), f"recall@{k}_alone": hit("alone")}
    return out


def main(argv: list[str] | None = None) -> int:
    from indexer.config import default_index_dir
    from retrieval.retriever import RetrievalError

    sets = conversation_sets()
    ap = argparse.ArgumentParser(prog="python -m retrieval.conversation_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    ap.add_argument("--conversations", type=Path, default=sets[0].path if sets else None, help="conversations file")
    ap.add_argument("--k", type=int, default=5)
    args = ap.parse_args(argv)
    if args.conversations is None:
        ap.error("no conversations file: name one with --conversations FILE")
    try:
        conversations = load_conversations(args.conversations)
        retriever = Retriever(args.index or default_index_dir())
    except (ConversationFileError, RetrievalError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = evaluate_conversations(retriever, conversations, args.k)
    k = args.k
    print(f"{len(conversations)} conversations, k={k}: the last turn's answer in the top {k}")
    for group, m in report["metrics"].items():
        print(f"  {group:4} ({m['n']:3}): read in context {m[f'recall@{k}_in_context']:.3f}   searched alone {m[f'recall@{k}_alone']:.3f}")
    missed = [r["id"] for r in report["rows"] if r["in_context"] is None]
    if missed:
        print("Not found in context: " + ", ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
