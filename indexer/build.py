"""Build (or update) the index from corpus folders: parse -> passages -> embeddings -> index.

Incremental: a file whose content hash (and sidecar, parser version and model) is unchanged
keeps its passages and vectors from the previous build; only new and changed files are
parsed and embedded. Unreadable files are reported by name and skipped.
"""
from __future__ import annotations

import fcntl
import hashlib
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from indexer import sources, store
from indexer.encoders import Encoder
from indexer.analysis import LEXICAL_VERSION
from indexer.config import ParseLimits, ocr_cache_dir, parse_limits
from indexer.parsers import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, UnreadableDocument, ocr
from indexer.sandbox import ParseWorker, parse_file
from indexer.sources import Skipped

# parse_file: one file parsed in this process, as the sandbox's child parses each (bench/ingest.py)
__all__ = ["BuildLocked", "BuildProgress", "BuildReport", "DiskFull", "NothingIndexed", "Skipped", "build", "parse_file",
           "scan", "EXIT_OK", "EXIT_NOTHING", "EXIT_UNUSABLE", "EXIT_BUSY", "EXIT_DISK_FULL", "PROGRESS_STAGES"]

PARSER_VERSION = "3"  # bump when parsing changes, so every file is parsed again (3: OCR of scanned pages)

# progress(stage, done, total, detail): stage is "scan", "parse", "embed" or "write"
BuildProgress = Callable[[str, int, int, str], None]

# `python -m indexer build` (indexer/__main__.py): its exit codes, one per way it ends (the
# errors below), and the stages its `--progress json` reports; the app's build runner
# (ui/build_runner.py) reads both, so they are written here once.
EXIT_OK, EXIT_NOTHING, EXIT_UNUSABLE, EXIT_BUSY, EXIT_DISK_FULL = 0, 1, 2, 3, 4
EXIT_NOT_PUBLISHED = 5  # built, but the PostgreSQL store (--store) could not take it: it keeps its build
PROGRESS_STAGES = ("parse", "embed", "write", "publish")


@dataclass
class BuildReport:
    documents: int = 0
    passages: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    embedded: int = 0  # passages embedded in this run
    seconds: float = 0.0
    index_dir: str = ""
    published: bool = False  # False when nothing changed (the current build was kept)
    lexical_rewritten: bool = False  # the previous build's search terms came from an older version

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def to_dict(self) -> dict:
        return {
            "documents": self.documents, "passages": self.passages, "added": self.added,
            "changed": self.changed, "removed": self.removed, "unchanged": len(self.unchanged),
            "skipped": [s.__dict__ for s in self.skipped], "embedded": self.embedded,
            "seconds": round(self.seconds, 2), "index": self.index_dir, "lexical_rewritten": self.lexical_rewritten,
        }  # fmt: skip


class NothingIndexed(RuntimeError):
    """No file of the corpus could be indexed."""


class BuildLocked(RuntimeError):
    """Another build of the same index is running."""


class DiskFull(RuntimeError):
    """The disk of the index is full; the build removed what it had written."""


@contextmanager
def _lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(
                f"Another build of {index_dir} is running. Wait for it to finish, then try again."
            ) from None
        yield


def scan(corpora: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """Candidate document files under the corpus folders (sidecars and hidden files excluded),
    and the files skipped while looking (links out of the folder, dangling links, bad names)."""
    found, skipped = sources.find([Path(c) for c in corpora])
    return [s.path for s in found], skipped


def file_key(path: Path) -> str:
    """The content hash that decides whether a file must be parsed again."""
    h = hashlib.sha256()
    h.update(PARSER_VERSION.encode())
    with open(path, "rb") as fh:
        hashlib.file_digest(fh, lambda: h)
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.is_file():
        h.update(b"\0sidecar\0")
        with open(sidecar, "rb") as fh:
            hashlib.file_digest(fh, lambda: h)
    return h.hexdigest()


def _previous(index_dir: Path, encoder: Encoder) -> tuple[dict[str, tuple[store.DocRecord, np.ndarray]], dict]:
    """Documents and vectors of the current build that can be reused, keyed by source path."""
    try:
        reader = store.IndexReader(index_dir)
    except store.IndexError_:
        return {}, {}
    m = reader.manifest
    if m.get("model") != encoder.name or m.get("dim") != encoder.dim:
        return {}, m  # another model: everything is embedded again
    vectors = np.asarray(reader.vectors())
    passages = reader.passages()
    by_doc: dict[str, list[int]] = {}
    for i, p in enumerate(passages):
        by_doc.setdefault(p.doc_id, []).append(i)
    out: dict[str, tuple[store.DocRecord, np.ndarray]] = {}
    for row in reader.document_rows():
        rows = by_doc.get(row["doc_id"], [])
        pages = [reader.page_text(row["doc_id"], i + 1) or "" for i in range(row["n_pages"] or 0)]
        rec = store.DocRecord(
            meta=reader.documents[row["doc_id"]], path=row["path"], sha256=row["sha256"],
            passages=[passages[i] for i in rows], page_texts=pages,
        )  # fmt: skip
        out[row["path"]] = (rec, vectors[rows])
    return out, m


def build(
    corpora: list[Path],
    index_dir: Path,
    encoder: Encoder,
    progress: BuildProgress | None = None,
    dense_kind: str | None = None,
    limits: ParseLimits | None = None,
) -> BuildReport:
    """Build or update the index in `index_dir` from `corpora`; see the module docstring.

    New and changed files are parsed in a child process under `limits` (default: from the
    environment, see indexer.config.parse_limits); a file over a limit is reported and skipped.
    Raises NothingIndexed, BuildLocked, or DiskFull (what was written is removed again)."""
    index_dir = Path(index_dir)
    try:
        return _build(corpora, index_dir, encoder, progress, dense_kind, limits or parse_limits())
    except (NothingIndexed, BuildLocked):  # their messages quote files, which might say anything
        raise
    except Exception as exc:
        if store.disk_full(exc):
            raise DiskFull(
                f"The disk is full: the new index could not be written to {index_dir} (any previous index is "
                "unchanged); free space on that disk and build again."
            ) from None
        raise


def _build(corpora, index_dir: Path, encoder: Encoder, progress, dense_kind, limits: ParseLimits) -> BuildReport:
    t0 = time.perf_counter()
    say = progress or (lambda *a: None)
    with _lock(index_dir), ParseWorker(limits, ocr_cache_dir(index_dir)) as worker:
        store.remove_stale_tmp(index_dir)
        report = BuildReport(index_dir=str(index_dir))
        files, report.skipped = sources.find([Path(c) for c in corpora])
        previous, prev_manifest = _previous(index_dir, encoder)
        docs: list[store.DocRecord] = []
        vec_parts: list[np.ndarray | None] = []
        to_embed: list[int] = []
        seen_ids: dict[str, str] = {}
        for i, source in enumerate(files):
            path = source.path
            say("parse", i, len(files), path.name)
            key = str(path.resolve())
            try:
                sha = file_key(path)
            except OSError as exc:
                report.skipped.append(Skipped(path.name, f"cannot be read ({exc.strerror}).", "Check its permissions."))
                continue
            old = previous.get(key)
            if old and old[0].sha256 == sha:
                rec, vecs = old
                report.unchanged.append(path.name)
            else:
                try:
                    meta, passages, pages = worker.parse(path, source.root)
                except UnreadableDocument as exc:  # also a parser bug: the rest of the corpus is indexed
                    report.skipped.append(Skipped(path.name, exc.reason, exc.remedy))
                    continue
                rec, vecs = store.DocRecord(meta, key, sha, passages, pages), None
                (report.changed if old else report.added).append(path.name)
            if rec.meta.doc_id in seen_ids:
                report.skipped.append(
                    Skipped(path.name, f"has the same document id '{rec.meta.doc_id}' as {seen_ids[rec.meta.doc_id]}.",
                            "Rename one of the files; document ids are file names without extension.")
                )  # fmt: skip
                continue
            seen_ids[rec.meta.doc_id] = path.name
            if vecs is None:
                to_embed.append(len(docs))
            docs.append(rec)
            vec_parts.append(vecs)
        worker.close()  # parsing is done: the child does not wait through the embedding
        say("parse", len(files), len(files), "")
        indexed = {d.path for d in docs}  # a file indexed before and skipped now counts as removed
        report.removed = sorted(sources.shown(Path(k).name) for k in previous if k not in indexed)
        report.documents = len(docs)
        report.passages = sum(len(d.passages) for d in docs)
        if not docs:
            raise NothingIndexed(
                "Nothing could be indexed: "
                + ("; ".join(map(str, report.skipped)) if report.skipped else "the corpus folders hold no documents.")
                + f" Add documents ({', '.join(SUPPORTED_SUFFIXES)}) to the corpus folder and build again."
            )
        same_as_before = {(d.path, d.sha256) for d in docs} == {(k, v[0].sha256) for k, v in previous.items()}
        # an index whose lexical terms were made by an older version is written again (vectors reused)
        same_lexical = prev_manifest.get("lexical_version") == LEXICAL_VERSION
        if same_as_before and same_lexical and store.current_build(index_dir) is not None:
            _prune_ocr_cache(index_dir, files)
            report.seconds = time.perf_counter() - t0
            return report  # nothing to do: the current build stays
        texts = [p.text for di in to_embed for p in docs[di].passages]
        report.embedded = len(texts)
        say("embed", 0, len(texts), "")
        new_vecs = (
            encoder.encode_passages(texts, progress=lambda d, t: say("embed", d, t, ""))
            if texts
            else np.zeros((0, encoder.dim), np.float32)
        )
        pos = 0
        for di in to_embed:
            n = len(docs[di].passages)
            vec_parts[di] = new_vecs[pos : pos + n]
            pos += n
        vectors = (
            np.concatenate([v for v in vec_parts if v is not None]).astype(np.float32)
            if docs
            else np.zeros((0, encoder.dim), np.float32)
        )
        say("write", 0, 1, "")
        tmp = store.new_build_folder(index_dir)
        try:
            store.write_build(
                tmp, docs, vectors, build_manifest(encoder, docs), dense_kind, encoder, store.current_build(index_dir)
            )
            store.publish(index_dir, tmp)
        except BaseException:  # a failed build leaves nothing behind (a killed one: see remove_stale_tmp)
            store.discard(index_dir, tmp)
            raise
        say("write", 1, 1, "")
        _prune_ocr_cache(index_dir, files)
        report.published = True
        report.lexical_rewritten = bool(previous) and not same_lexical
        report.seconds = time.perf_counter() - t0
        return report


def _prune_ocr_cache(index_dir: Path, files: list[sources.Source]) -> None:
    """After a successful build: the OCR cache keeps only the PDFs now in the corpus folders
    (indexed or skipped, so a file stopped at a time limit keeps the pages read so far)."""
    cache = ocr_cache_dir(index_dir)
    if not cache.is_dir():
        return
    keep = set()
    for source in files:
        if source.path.suffix.lower() == ".pdf":
            try:
                keep.add(ocr.content_key(source.path))
            except OSError:  # unreadable now: nothing is removed this time
                return
    ocr.prune_cache(cache, keep)


def build_manifest(encoder: Encoder, docs: list[store.DocRecord]) -> dict:
    """What a build records about itself: the model, the versions that made it, and its files."""
    from importlib.metadata import version

    import faiss

    return {
        "model": encoder.name,
        "model_spec": getattr(encoder, "spec", None),
        "dim": encoder.dim,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "parser_version": PARSER_VERSION,
        "lexical_version": LEXICAL_VERSION,
        "versions": {
            "python": platform.python_version(),
            "faiss": faiss.__version__,
            "pypdf": version("pypdf"),  # not imported here: PDFs are parsed in indexer.sandbox
            "numpy": np.__version__,
        },
        "files": [
            {"file": d.meta.file, "path": d.path, "sha256": d.sha256, "doc_id": d.meta.doc_id, "passages": len(d.passages)}
            for d in docs
        ],
    }
