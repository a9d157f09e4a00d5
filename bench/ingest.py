"""Ingest: PDF parsing (the note replicated to >= 200 pages), embedding, cold build,
no-change rebuild and one-file-changed rebuild of corpus/ + ../shared/corpus."""
from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

from bench.common import Plan, stats_ms, timed
from indexer.build import build, parse_file
from indexer.parsers.pdf import PdfParser, page_texts

REPO = Path(__file__).resolve().parents[1]
NOTE = REPO / "corpus" / "beleidsconsequenties-mobilisatie-rusland.pdf"
CHANGED_FILE = "ind-nieuws-2022-12-28-bvm-verlengd.txt"  # a short file: a typical one-file edit


def replicated_pdf(src: Path, out: Path, min_pages: int) -> int:
    """Write `out`: the pages of `src` appended again and again until >= min_pages; page count."""
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(src)
    writer = PdfWriter()
    while len(writer.pages) < min_pages:
        for page in reader.pages:
            writer.add_page(page)
    with out.open("wb") as fh:
        writer.write(fh)
    return len(writer.pages)


def pdf_parsing(plan: Plan, work: Path) -> dict:
    """Pages/s of the PDF parser, of page_texts and of parse_file (both, as the build calls it)."""
    pdf = work / "note-replicated.pdf"
    pages = replicated_pdf(NOTE, pdf, plan.pdf_min_pages)
    out: dict = {"pages": pages, "source": NOTE.name}
    parse_s, (_, passages) = timed(lambda: PdfParser().parse(pdf, pdf.name), plan.build_reps)
    texts_s, _ = timed(lambda: page_texts(pdf), plan.build_reps)
    file_s, _ = timed(lambda: parse_file(pdf), plan.build_reps)
    for name, secs in (("parse", parse_s), ("page_texts", texts_s), ("parse_file", file_s)):
        st = stats_ms(secs)
        out[name] = {**st, "pages_per_s": pages / (st["median_ms"] / 1000)}
    out["passages"] = len(passages)
    return out


def corpora() -> list[Path]:
    """The shipped corpus: the note and its related regulations."""
    return [REPO / "corpus"]


class StageClock:
    """A build progress callback that records when each stage (scan/parse/embed/write) starts."""

    def __init__(self):
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.embed_total = 0

    def __call__(self, stage: str, done: int, total: int, detail: str) -> None:
        now = time.perf_counter()
        self.first.setdefault(stage, now)
        self.last[stage] = now
        if stage == "embed":
            self.embed_total = total

    def split(self, t0: float, t1: float) -> dict[str, float]:
        order = [s for s in ("parse", "embed", "write") if s in self.first]
        marks = [self.first[s] for s in order] + [t1]
        out = {"start": self.first.get(order[0], t1) - t0 if order else t1 - t0}
        for s, a, b in zip(order, marks, marks[1:]):
            out[s] = b - a
        return out


def _timed_build(corpora, index_dir, encoder):
    """One build: (wall seconds, seconds per stage, the build report)."""
    clock = StageClock()
    t0 = time.perf_counter()
    report = build(corpora, index_dir, encoder, progress=clock)
    t1 = time.perf_counter()
    return t1 - t0, clock.split(t0, t1), report


def builds(plan: Plan, encoder, work: Path) -> dict:
    """Cold build (fresh index folder), no-change rebuild and one-file-changed rebuild."""
    src = work / "corpora"
    if src.exists():
        shutil.rmtree(src)
    copies = []
    for i, d in enumerate(corpora()):
        dst = src / f"{i}-{d.name}"
        shutil.copytree(d, dst)
        copies.append(dst)
    out: dict = {"corpora": [str(d) for d in corpora()]}
    cold, splits, report = [], [], None
    index = work / "index-real"
    for r in range(plan.build_reps):
        folder = work / f"cold-{r}"
        shutil.rmtree(folder, ignore_errors=True)
        seconds, split, report = _timed_build(copies, folder, encoder)
        cold.append(seconds)
        splits.append(split)
        if r == plan.build_reps - 1:
            shutil.rmtree(index, ignore_errors=True)
            folder.rename(index)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    out["documents"], out["passages"] = report.documents, report.passages
    out["cold"] = stats_ms(cold)
    stages = {k: stats_ms([s.get(k, 0.0) for s in splits]) for k in ("start", "parse", "embed", "write")}
    out["cold_stages"] = stages
    out["embedding_passages_per_s"] = report.passages / (stages["embed"]["median_ms"] / 1000)
    same, _ = timed(lambda: build(copies, index, encoder), plan.rebuild_reps)
    out["no_change"] = stats_ms(same)
    target = next((p for d in copies for p in d.rglob(CHANGED_FILE)), None) or next(p for d in copies for p in d.rglob("*.txt"))
    original = target.read_text(encoding="utf-8")
    changed, csplits, embedded = [], [], 0
    for r in range(plan.rebuild_reps):
        target.write_text(original + f"\n\nAanvulling {r}: deze alinea is toegevoegd voor de meting.\n", encoding="utf-8")
        seconds, split, rep = _timed_build(copies, index, encoder)
        changed.append(seconds)
        csplits.append(split)
        embedded = rep.embedded
    target.write_text(original, encoding="utf-8")
    build(copies, index, encoder)  # back to the original corpus
    out["one_changed"] = {**stats_ms(changed), "file": target.name, "embedded": embedded}
    out["one_changed_stages"] = {k: stats_ms([s.get(k, 0.0) for s in csplits]) for k in ("start", "parse", "embed", "write")}
    out["index_dir"] = str(index)
    return out


def write_breakdown(index_dir: Path, encoder) -> dict:
    """Where the write stage goes: BM25 build, FAISS build, background embedding (one run each)."""
    import numpy as np

    from indexer import dense
    from indexer.background import encode_background
    from indexer.lexical import Bm25Index
    from indexer.store import IndexReader, search_text

    reader = IndexReader(index_dir)
    texts = [search_text(p) for p in reader.passages()]
    vectors = np.asarray(reader.vectors(), dtype=np.float32)
    out = {}
    t = time.perf_counter()
    Bm25Index.build(texts)
    out["bm25_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    dense.build(vectors)
    out["faiss_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    encode_background(encoder)
    out["background_ms"] = (time.perf_counter() - t) * 1000
    return out


def length_sorting(encoder, texts: list[str]) -> dict | None:
    """Embedding in length-sorted batches (what the encoder does) against file order, each twice
    (the mean), after a warm-up run."""
    from bench.encoding import BATCH, batch_encoder

    run, close = batch_encoder(encoder)

    def in_batches(order: list[int]) -> float:
        t = time.perf_counter()
        for s in range(0, len(order), BATCH):
            run([texts[i] for i in order[s : s + BATCH]])
        return time.perf_counter() - t

    file_order = list(range(len(texts)))
    by_length = sorted(file_order, key=lambda i: len(texts[i]), reverse=True)
    try:
        run([texts[i] for i in by_length[:BATCH]])  # the sessions' first runs (memory set-up) are not the order's
        times: dict[str, list[float]] = {"sorted": [], "file": []}
        for first in ("sorted", "file", "file", "sorted"):  # each order first once, on a busy machine
            times[first].append(in_batches(by_length if first == "sorted" else file_order))
        sorted_s, unsorted_s = statistics.mean(times["sorted"]), statistics.mean(times["file"])
    finally:
        close()
    return {"passages": len(texts), "sorted_s": sorted_s, "file_order_s": unsorted_s, "speedup": unsorted_s / sorted_s}
