"""CLI: python -m indexer build --corpus DIR [--corpus DIR ...] --index DIR [--model SPEC] [--store DSN].

Exit codes and the JSON progress format are in BUILD_EPILOG (shown by --help); the app runs
rebuilds as this command and reads both.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

from indexer.config import DEFAULT_CORPUS, default_index_dir

BUILD_EPILOG = """\
exit codes:
  0  the index was built or updated (or was up to date); files that could not be
     read are listed as skipped
  1  nothing could be indexed
  2  unusable arguments, settings (BELEIDSWIJZER_PARSE_SECONDS, _MB, _PAGES) or model
  3  busy: another build of this index is running; try again when it has finished
  4  the disk is full; free space and build again
  5  the build was made but could not be published to the PostgreSQL store (--store);
     the store keeps its previous build
On an error the last line on stderr says what went wrong and what to do.

--progress json writes one JSON object per line on stdout,
  {"stage": "parse"|"embed"|"write"|"publish", "done": N, "total": N, "detail": "file name"}
and --json then writes the report as the last line (one line of JSON).
"""


def _progress_printer(clock: Callable[[], float] = time.monotonic):
    """A tqdm bar per stage on stderr (parse, embed); the embed bar says how many passages are
    done and, once it is known, about how long the rest takes (indexer.progress)."""
    from tqdm import tqdm

    from indexer.progress import StageEta, embed_text

    bars: dict[str, tqdm] = {}
    labels = {"parse": "Parsing documents", "embed": "Embedding passages", "write": "Writing index",
              "publish": "Publishing to PostgreSQL"}
    eta = StageEta(clock)

    def progress(stage: str, done: int, total: int, detail: str) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=labels.get(stage, stage), unit="", file=sys.stderr, leave=True)
        bar.total = total
        bar.n = done
        if stage == "embed":
            # tqdm's own rate and time left would count from the bar's creation, model loading
            # included: the embed bar shows indexer.progress's instead
            text = embed_text(done, total, eta.update(done, total))
            bar.bar_format = "{desc}: {percentage:3.0f}%|{bar}| " + text.replace("{", "{{").replace("}", "}}")
        else:
            bar.set_postfix_str(detail[:40], refresh=False)
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def _json_progress():
    """One JSON object per line on stdout for another process to read (see BUILD_EPILOG): the
    first and last step of a stage and every hundredth of it in between."""
    from indexer.build import PROGRESS_STAGES
    from indexer.sources import shown

    said: dict[str, int] = {}

    def progress(stage: str, done: int, total: int, detail: str) -> None:
        if stage not in PROGRESS_STAGES:
            return
        if stage in said and 0 < done < total and done - said[stage] < max(1, total // 100):
            return
        said[stage] = done
        line = {"stage": stage, "done": done, "total": total, "detail": shown(detail)}
        print(json.dumps(line, ensure_ascii=False), flush=True)

    return progress


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m indexer", description="Build the Beleidswijzer index.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser(
        "build", help="parse, embed and index the corpus (incremental)", epilog=BUILD_EPILOG,
        description="Parse, embed and index the corpus folders (incremental: only new and changed files).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    b.add_argument("--corpus", action="append", type=Path, help=f"corpus folder (repeatable; default {DEFAULT_CORPUS})")
    b.add_argument("--index", type=Path, default=None, help="index folder (default: BELEIDSWIJZER_INDEX or ./index)")
    b.add_argument("--model", default=None, help="'e5-small' (default), 'fake', or a sentence-transformers folder")
    b.add_argument(
        "--store", default=None, metavar="DSN",
        help="also publish the build to this PostgreSQL database (default: BELEIDSWIJZER_STORE; the "
        "index folder is then the builder's working copy, reused for incremental builds)",
    )  # fmt: skip
    b.add_argument("--json", action="store_true", help="print the report as one line of JSON")
    b.add_argument(
        "--progress", choices=("bar", "json", "none"), default=None,
        help="progress bars on stderr (default), JSON lines on stdout, or none",
    )  # fmt: skip
    b.add_argument("--quiet", action="store_true", help="no progress bars (--progress none)")
    args = ap.parse_args(argv)

    from indexer.build import (
        EXIT_BUSY, EXIT_DISK_FULL, EXIT_NOT_PUBLISHED, EXIT_NOTHING, EXIT_OK, EXIT_UNUSABLE, BuildLocked, DiskFull,
        NothingIndexed, build,
    )  # fmt: skip
    from indexer.config import SettingError, default_store, parse_limits
    from indexer.encoders import get_encoder
    from indexer.sources import shown

    corpora = args.corpus or [DEFAULT_CORPUS]
    index_dir = args.index or default_index_dir()
    mode = args.progress or ("none" if args.quiet else "bar")
    progress = {"bar": _progress_printer, "json": _json_progress}.get(mode, lambda: None)()

    def fail(exc: Exception, code: int) -> int:
        print(f"error: {shown(str(exc))}", file=sys.stderr)
        return code

    published = None
    try:
        limits = parse_limits()
        dsn = args.store or default_store()
        encoder = get_encoder(args.model)
        report = build(corpora, index_dir, encoder, progress=progress, limits=limits)
        if dsn:
            from indexer.pgstore import publish_current
            from indexer.store import IndexError_

            try:
                published = publish_current(dsn, index_dir, progress=progress)
            except IndexError_ as exc:
                return fail(exc, EXIT_NOT_PUBLISHED)
    except NothingIndexed as exc:
        return fail(exc, EXIT_NOTHING)
    except BuildLocked as exc:
        return fail(exc, EXIT_BUSY)
    except DiskFull as exc:
        return fail(exc, EXIT_DISK_FULL)
    except (SettingError, FileNotFoundError, RuntimeError, OSError) as exc:  # settings, model, index folder
        return fail(exc, EXIT_UNUSABLE)
    if args.json:
        out = report.to_dict() | ({"published": published} if dsn else {})
        print(json.dumps(out, ensure_ascii=False), flush=True)
        return EXIT_OK
    print(f"Index: {index_dir}")
    if dsn:
        from indexer.pgstore import redact

        print(f"Store: {redact(dsn)}, build {published['name']} ({'published now' if published['published'] else 'already current'})")
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
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
