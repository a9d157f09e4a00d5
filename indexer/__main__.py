"""CLI: python -m indexer build --corpus DIR [--corpus DIR ...] --index DIR [--model SPEC].

Exit codes: 0 ok, 1 nothing indexed, 2 unusable arguments, index or model, 3 another build is
running, 4 the disk is full.
"""
from __future__ import annotations

import argparse
import errno
import json
import sys
from pathlib import Path

from indexer.config import DEFAULT_CORPUS, default_index_dir


def _progress_printer():
    """A tqdm bar per stage on stderr (parse, embed)."""
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}
    labels = {"parse": "Parsing documents", "embed": "Embedding passages", "write": "Writing index"}

    def progress(stage: str, done: int, total: int, detail: str) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=labels.get(stage, stage), unit="", file=sys.stderr, leave=True)
        bar.total = total
        bar.n = done
        bar.set_postfix_str(detail[:40], refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def _progress_json(stage: str, done: int, total: int, detail: str) -> None:
    """One JSON object per line on stdout, for a program that runs the build (the app)."""
    print(json.dumps({"stage": stage, "done": done, "total": total, "detail": detail}, ensure_ascii=False), flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m indexer", description="Build the Beleidswijzer index.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="parse, embed and index the corpus (incremental)")
    b.add_argument("--corpus", action="append", type=Path, help=f"corpus folder (repeatable; default {DEFAULT_CORPUS})")
    b.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    b.add_argument("--model", default=None, help="'e5-small' (default), 'fake', or a sentence-transformers folder")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    b.add_argument("--progress", choices=("bars", "json"), default="bars",
                   help="'json': progress as JSON lines on stdout, and the --json report on one last line")  # fmt: skip
    args = ap.parse_args(argv)

    from indexer.build import BuildLocked, NothingIndexed, build
    from indexer.encoders import get_encoder

    corpora = args.corpus or [DEFAULT_CORPUS]
    index_dir = args.index or default_index_dir()
    try:
        encoder = get_encoder(args.model)
        progress = _progress_json if args.progress == "json" else None if args.quiet else _progress_printer()
        report = build(corpora, index_dir, encoder, progress=progress)
    except NothingIndexed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BuildLocked as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 4 if exc.errno == errno.ENOSPC else 2
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        indent = None if args.progress == "json" else 2
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=indent))
        return 0
    print(f"Index: {index_dir}")
    print(f"Documents: {report.documents}   passages: {report.passages}   embedded now: {report.embedded}")
    if report.changed_anything:
        for label, names in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
            if names:
                print(f"  {label}: {', '.join(names)}")
    elif report.lexical_rewritten:
        print("No document changed; the search terms were written again for this version (nothing re-embedded).")
    else:
        print("No change since the last build: the index was kept as it is.")
    if report.skipped:
        print(f"Skipped {len(report.skipped)} file(s):")
        for s in report.skipped:
            print(f"  - {s}")
    print(f"Seconds: {report.seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
