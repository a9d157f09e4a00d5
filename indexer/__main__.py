"""CLI: python -m indexer build --corpus DIR [--corpus DIR ...] --index DIR [--model SPEC]."""
from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m indexer", description="Build the Beleidswijzer index.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="parse, embed and index the corpus (incremental)")
    b.add_argument("--corpus", action="append", type=Path, help=f"corpus folder (repeatable; default {DEFAULT_CORPUS})")
    b.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    b.add_argument("--model", default=None, help="'e5-small' (default), 'fake', or a sentence-transformers folder")
    b.add_argument("--json", action="store_true", help="print the summary as JSON")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    args = ap.parse_args(argv)

    from indexer.build import BuildLocked, NothingIndexed, build
    from indexer.encoders import get_encoder

    corpora = args.corpus or [DEFAULT_CORPUS]
    index_dir = args.index or default_index_dir()
    try:
        encoder = get_encoder(args.model)
        report = build(corpora, index_dir, encoder, progress=None if args.quiet else _progress_printer())
    except (NothingIndexed, BuildLocked) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
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
