"""The index on disk: immutable build folders and an atomically replaced CURRENT pointer.

    INDEX/CURRENT            name of the build in use (replaced with os.replace: atomic)
    INDEX/builds/<name>/     manifest.json, passages.sqlite, vectors.npy, dense.faiss,
                             lexical.npz, lexical_vocab.json, lexical_words.json,
                             background.npy, background.sha256

A build is written into a new folder and only then named in CURRENT, so a build killed at
any moment leaves the previous index fully queryable. This module owns the file names: a
build is written by `write_build` and read by `IndexReader`, which opens every part of it
(passages, vectors, dense and lexical index, background embeddings) and checks its format,
counts, model and versions; no other module knows a file name.
"""
from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from indexer import dense
from indexer.contract import top_k
from indexer.analysis import LEXICAL_VERSION, Analyzer, Decompounder
from indexer.background import background_sha, encode_background
from indexer.lexical import Bm25Index, LexicalTerms
from indexer.passage import PASSAGE_COLUMNS, DocumentMeta, Passage, passage_from_row, passage_row

FORMAT_VERSION = 1
REBUILD_HINT = "Rebuild it with: python -m indexer build --corpus corpus --index {index}"

# The files of a build folder.
MANIFEST = "manifest.json"
PASSAGES_DB = "passages.sqlite"
VECTORS = "vectors.npy"
DENSE = "dense.faiss"
LEXICAL_WEIGHTS = "lexical.npz"
LEXICAL_VOCAB = "lexical_vocab.json"
LEXICAL_WORDS = "lexical_words.json"  # corpus word frequencies for the Decompounder
BACKGROUND_VECTORS = "background.npy"
BACKGROUND_SHA = "background.sha256"


class IndexError_(RuntimeError):
    """An index folder that cannot be used; the message says why and how to rebuild."""


_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, title TEXT, file TEXT, path TEXT, doctype TEXT, date TEXT,
    valid_from TEXT, valid_until TEXT, status TEXT, language TEXT, source TEXT,
    completeness TEXT, identifier TEXT, sha256 TEXT, n_passages INTEGER, n_pages INTEGER
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY, doc_id TEXT, seq INTEGER, text TEXT, pages TEXT, section TEXT,
    article TEXT, lid TEXT, point TEXT, kind TEXT, char_start INTEGER, char_end INTEGER,
    footnotes TEXT, valid_from TEXT, valid_until TEXT, ocr INTEGER
);
CREATE INDEX passages_doc ON passages(doc_id, seq);
CREATE TABLE page_texts (doc_id TEXT, page INTEGER, text TEXT, PRIMARY KEY (doc_id, page));
"""

_INSERT_PASSAGE = f"INSERT INTO passages (row, {', '.join(PASSAGE_COLUMNS)}) VALUES ({', '.join('?' * (len(PASSAGE_COLUMNS) + 1))})"

_META_FIELDS = (
    "doc_id", "title", "file", "doctype", "date", "valid_from", "valid_until", "status",
    "language", "source", "completeness", "identifier",
)  # fmt: skip


@dataclass
class DocRecord:
    """A parsed document as stored: metadata, passages, page texts and its source hash."""

    meta: DocumentMeta
    path: str
    sha256: str
    passages: list[Passage]
    page_texts: list[str]  # PDF: one per page (index 0 = page 1); text file: [body]


def write_build(
    folder: Path,
    docs: list[DocRecord],
    vectors: np.ndarray,
    manifest: dict,
    dense_kind: str | None = None,
    encoder=None,
    previous: Path | None = None,
) -> dict:
    """Write a complete build into `folder` (which must not exist yet); returns the manifest.

    With an `encoder`, the general-domain background texts are embedded too, or copied from the
    `previous` build folder when it embedded the same background file with the same model."""
    folder.mkdir(parents=True)
    con = sqlite3.connect(folder / PASSAGES_DB)
    con.executescript(_SCHEMA)
    row = 0
    texts: list[str] = []
    for d in docs:
        m = d.meta
        con.execute(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (m.doc_id, m.title, m.file, d.path, m.doctype, m.date, m.valid_from, m.valid_until, m.status,
             m.language, m.source, m.completeness, m.identifier, d.sha256, len(d.passages), len(d.page_texts)),
        )  # fmt: skip
        con.executemany(
            "INSERT INTO page_texts VALUES (?,?,?)", [(m.doc_id, i + 1, t) for i, t in enumerate(d.page_texts)]
        )
        for p in d.passages:
            con.execute(_INSERT_PASSAGE, (row, *passage_row(p)))
            texts.append(search_text(p))
            row += 1
    con.commit()
    con.close()
    assert vectors.shape[0] == row, f"{vectors.shape[0]} vectors for {row} passages"
    np.save(folder / VECTORS, vectors.astype(np.float32))
    index, kind = dense.build(vectors.astype(np.float32), dense_kind)
    dense.save(index, folder / DENSE)
    # compound parts come from the passage texts, with each title and section heading counted once
    headings = dict.fromkeys(h for d in docs for h in (d.meta.title, *(p.section for p in d.passages)) if h)
    analyzer = Analyzer.from_texts([p.text for d in docs for p in d.passages] + list(headings))
    write_lexical(folder, Bm25Index.build(texts, analyzer))
    if encoder is not None:
        _write_background(folder, encoder, previous)
    manifest = {**manifest, "format": FORMAT_VERSION, "passages": row, "documents": len(docs), "dense_index": kind}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def write_lexical(folder: Path, index: Bm25Index) -> None:
    """The lexical index's files: BM25 weights, vocabulary and the analyser's corpus words."""
    sp.save_npz(folder / LEXICAL_WEIGHTS, index.weights)
    (folder / LEXICAL_VOCAB).write_text(json.dumps(index.vocab, ensure_ascii=False), encoding="utf-8")
    decompounder = index.analyzer.decompounder
    if decompounder is not None:
        (folder / LEXICAL_WORDS).write_text(json.dumps(decompounder.freq, ensure_ascii=False), encoding="utf-8")


def read_lexical(folder: Path) -> Bm25Index:
    """The lexical index of a build folder; one written before compound splitting (no word file)
    searches without it until the next build (indexer.build rewrites it, see LEXICAL_VERSION)."""
    weights = sp.load_npz(folder / LEXICAL_WEIGHTS).tocsc()
    vocab = json.loads((folder / LEXICAL_VOCAB).read_text(encoding="utf-8"))
    words = folder / LEXICAL_WORDS
    freq = json.loads(words.read_text(encoding="utf-8")) if words.is_file() else None
    return Bm25Index(weights, vocab, Analyzer(Decompounder(freq) if freq is not None else None))


def _saved_background(folder: Path) -> np.ndarray | None:
    """The background embeddings of a build folder when they were made from the current
    background file; None when they are missing or stale."""
    saved, sha = folder / BACKGROUND_VECTORS, folder / BACKGROUND_SHA
    try:
        if saved.is_file() and sha.is_file() and sha.read_text().strip() == background_sha():
            return np.load(saved)
    except (OSError, ValueError):
        pass
    return None


def _write_background(folder: Path, encoder, previous: Path | None) -> None:
    """Embed the background texts into a build folder, or copy them from `previous` when it
    embedded the same background file with the same model (no model call then)."""
    vectors = None
    if previous is not None:
        try:
            model = json.loads((previous / MANIFEST).read_text(encoding="utf-8")).get("model")
        except (OSError, ValueError):
            model = None
        if model == encoder.name:
            vectors = _saved_background(previous)
    np.save(folder / BACKGROUND_VECTORS, vectors if vectors is not None else encode_background(encoder))
    (folder / BACKGROUND_SHA).write_text(background_sha())


def search_text(p: Passage) -> str:
    """What the lexical index sees: the passage with its section path and title (so a
    heading's words and the document name count as terms of every passage below them)."""
    title = p.meta.title if p.meta else ""
    return f"{title}\n{p.section}\n{p.text}"


def current_build(index_dir: Path) -> Path | None:
    """The build folder named in INDEX/CURRENT, or None when there is no index yet."""
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    folder = index_dir / "builds" / name
    return folder if name and folder.is_dir() else None


def new_build_folder(index_dir: Path) -> Path:
    """A fresh, not yet existing folder for the next build."""
    builds = index_dir / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    base = time.strftime("%Y%m%dT%H%M%S")
    n = 0
    while (builds / f"{base}-{n}").exists() or (builds / f".tmp-{base}-{n}").exists():
        n += 1
    return builds / f".tmp-{base}-{n}"


def publish(index_dir: Path, tmp_folder: Path) -> Path:
    """Rename the finished build into place, point CURRENT at it atomically, prune old builds.

    The previous build is kept (a process may still be reading it); older ones are removed,
    as are left-overs of killed builds.
    """
    final = tmp_folder.with_name(tmp_folder.name.removeprefix(".tmp-"))
    os.replace(tmp_folder, final)
    previous = current_build(index_dir)
    pointer_tmp = index_dir / f".CURRENT.{os.getpid()}"
    pointer_tmp.write_text(final.name, encoding="utf-8")
    with open(pointer_tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(pointer_tmp, index_dir / "CURRENT")
    keep = {final.name} | ({previous.name} if previous else set())
    for old in (index_dir / "builds").iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return final


def discard(index_dir: Path, tmp_folder: Path) -> None:
    """Remove a build that failed before it was published: its temporary folder (or the name it
    was renamed to, when CURRENT was not replaced yet) and the temporary pointer, so a failed
    build leaves no half-written files behind, on a full disk least of all."""
    final = tmp_folder.with_name(tmp_folder.name.removeprefix(".tmp-"))
    current = current_build(index_dir)
    for folder in (tmp_folder, final):
        if folder.exists() and (current is None or folder.name != current.name):
            shutil.rmtree(folder, ignore_errors=True)
    (index_dir / f".CURRENT.{os.getpid()}").unlink(missing_ok=True)


_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# how a full disk reads when a library turned it into its own error (faiss's C++ exception,
# SQLite's "database or disk is full")
_DISK_FULL_TEXTS = ("No space left on device", "Disk quota exceeded", "database or disk is full")


def disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from, says that the disk is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return True
        if isinstance(current, (RuntimeError, sqlite3.Error)) and any(t in str(current) for t in _DISK_FULL_TEXTS):
            return True
        current = current.__cause__ or current.__context__
    return False


def remove_stale_tmp(index_dir: Path) -> None:
    """Remove folders of builds that were killed before they were published."""
    builds = index_dir / "builds"
    if builds.is_dir():
        for old in builds.glob(".tmp-*"):
            shutil.rmtree(old, ignore_errors=True)


def check_model(manifest: dict, location: str, hint: str, name: str, dim: int) -> None:
    """IndexError_ unless the build whose manifest this is was made by the model `name` with
    vectors of `dim` (both stores check this on opening)."""
    if manifest.get("model") != name or manifest.get("dim") != dim:
        raise IndexError_(
            f"The index in {location} was built with model '{manifest.get('model')}' "
            f"(dim {manifest.get('dim')}), but the model in use is '{name}' (dim {dim}). "
            f"Use the same model (--model / BELEIDSWIJZER_MODEL) or rebuild: {hint.split(': ', 1)[1]} --model ..."
        )


@dataclass(frozen=True)
class SearchParts:
    """What a search needs of a build, loaded and checked to agree: row i of each is passage i."""

    passages: list[Passage]
    vectors: np.ndarray  # float32 [passages x dim], in memory
    dense: Any  # the FAISS index (indexer.dense)
    lexical: Bm25Index
    background: np.ndarray | None  # saved background embeddings; None when missing or stale


class IndexReader:
    """The embedded store (indexer.contract.PassageStore) over one published build folder: the
    manifest and documents on opening; passages, vectors, the dense and lexical index and the
    background embeddings on demand, loaded once and checked to agree (`search_parts`)."""

    def __init__(self, index_dir: Path, folder: Path | None = None):
        """The build named in `index_dir`/CURRENT, or the build `folder` given."""
        self.index_dir = Path(index_dir)
        self.location = str(self.index_dir)
        self.hint = REBUILD_HINT.format(index=self.index_dir)
        folder = folder or current_build(self.index_dir)
        if folder is None:
            raise IndexError_(f"No index found in {self.index_dir}. {self.hint}")
        self.folder = folder
        self.name = folder.name
        try:
            self.manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if self.manifest.get("format") != FORMAT_VERSION:
                raise IndexError_(
                    f"The index in {self.index_dir} has format {self.manifest.get('format')}, "
                    f"this version reads format {FORMAT_VERSION}. {self.hint}"
                )
            self._con = sqlite3.connect(f"file:{folder / PASSAGES_DB}?mode=ro", uri=True, check_same_thread=False)
            self._docs = self._load_documents()
            self.n_passages = self._con.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        except IndexError_:
            raise
        except (OSError, ValueError, sqlite3.Error) as exc:
            raise IndexError_(f"The index in {self.index_dir} is damaged ({exc}). {self.hint}") from None
        self._passages: list[Passage] | None = None
        self._parts: SearchParts | None = None
        self._valid_rows: dict[dt.date, np.ndarray] = {}

    @classmethod
    def for_folder(cls, folder: Path) -> "IndexReader":
        """The build in `folder` (a builds/<name> folder), whether or not it is the current one."""
        return cls(Path(folder).parent.parent, Path(folder))

    @property
    def outdated_terms(self) -> bool:
        """Whether the build's search terms were made by an older analyser (LEXICAL_VERSION):
        it still works, with the old terms, until the next build rewrites them."""
        return self.manifest.get("lexical_version") != LEXICAL_VERSION

    def check_model(self, name: str, dim: int) -> None:
        """IndexError_ unless the build was made by the model `name` with vectors of `dim`."""
        check_model(self.manifest, str(self.index_dir), self.hint, name, dim)

    def search_parts(self) -> SearchParts:
        """Every part a search needs, loaded; IndexError_ when a file is damaged or the parts'
        passage counts differ."""
        try:
            passages = self.passages()
            index = dense.load(self.folder / DENSE)
            lexical = read_lexical(self.folder)
            vectors = np.asarray(self.vectors(), dtype=np.float32)
        except Exception as exc:  # any damage to the files means: rebuild
            raise IndexError_(
                f"The index in {self.index_dir} is damaged ({type(exc).__name__}: {exc}). {self.hint}"
            ) from None
        if not (len(passages) == index.ntotal == lexical.weights.shape[0] == len(vectors)):
            raise IndexError_(f"The index in {self.index_dir} is inconsistent (passage counts differ). {self.hint}")
        return SearchParts(passages, vectors, index, lexical, _saved_background(self.folder))

    def _load_documents(self) -> dict[str, DocumentMeta]:
        cur = self._con.execute(f"SELECT {', '.join(_META_FIELDS)} FROM documents")
        return {r[0]: DocumentMeta(*r) for r in cur.fetchall()}

    @property
    def documents(self) -> dict[str, DocumentMeta]:
        return self._docs

    def document_rows(self) -> list[dict]:
        """Documents with file path, hash and counts, for the management and onboarding pages."""
        cur = self._con.execute("SELECT * FROM documents ORDER BY title")
        names = [c[0] for c in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def passages(self) -> list[Passage]:
        """All passages in row order (row i = dense/lexical id i); loaded once."""
        if self._passages is None:
            stored = {r[1] for r in self._con.execute("PRAGMA table_info(passages)")}
            columns = [c for c in PASSAGE_COLUMNS if c in stored]  # a build written before a column was added
            cur = self._con.execute(f"SELECT {', '.join(columns)} FROM passages ORDER BY row")
            self._passages = [
                passage_from_row(dict(zip(columns, r)), self._docs.get(r[0])) for r in cur.fetchall()
            ]
        return self._passages

    def page_text(self, doc_id: str, page: int) -> str | None:
        """Extracted text of a PDF page (1-based) or, with page 1, the body of a text file."""
        r = self._con.execute("SELECT text FROM page_texts WHERE doc_id=? AND page=?", (doc_id, page)).fetchone()
        return r[0] if r else None

    def vectors(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """The vectors of `rows` (float32), or all passage vectors, memory-mapped."""
        if rows is None:
            return np.load(self.folder / VECTORS, mmap_mode="r")
        return self.parts.vectors[np.asarray(rows, dtype=np.int64)]

    # ------------------------------------------------------------------ the search side of the contract

    @property
    def parts(self) -> SearchParts:
        """Every part a search needs, loaded once (`search_parts`)."""
        if self._parts is None:
            self._parts = self.search_parts()
        return self._parts

    def valid_rows(self, on: dt.date) -> np.ndarray:
        """The rows of passages valid on `on` (Passage.valid_on: their document's window narrowed to
        the part's own), sorted, cached per date."""
        rows = self._valid_rows.get(on)
        if rows is None:
            rows = np.array([i for i, p in enumerate(self.passages()) if p.valid_on(on)], dtype=np.int64)
            if len(self._valid_rows) > 64:
                self._valid_rows.clear()
            self._valid_rows[on] = rows
        return rows

    def cosines(self, query: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        """The cosine of `query` with each passage of `rows` (exact, from the stored vectors)."""
        return self.vectors(rows) @ np.asarray(query, dtype=np.float32)

    def dense_search(self, query: np.ndarray, k: int, on: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k passages nearest to `query` (valid on `on`): the FAISS index, filtered during the
        search by an ID selector, so k valid passages come back whenever there are k."""
        index = self.parts.dense
        allowed = None if on is None else self.valid_rows(on)
        rows, scores = dense.search(index, query, k, allowed)
        if dense.approximate(index):
            scores = self.cosines(query, rows)  # 8-bit scores: re-scored with the stored vectors
        return top_k(rows, scores, k)

    def lexical_terms(self) -> LexicalTerms:
        return self.parts.lexical

    def lexical_search(self, terms: Sequence[int], k: int, on: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The k passages with the highest BM25 score for the vocabulary ids `terms` (valid on `on`)."""
        if not terms:
            return top_k(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32), 0)
        rows, scores = self.parts.lexical.sum_postings(list(terms))
        if on is not None:
            keep = np.isin(rows, self.valid_rows(on), assume_unique=True)
            rows, scores = rows[keep], scores[keep]
        return top_k(rows, scores, k)

    def rarest_postings(self, terms: list[str]) -> set[int]:
        return self.parts.lexical.rarest_postings(terms)

    def background(self) -> np.ndarray | None:
        return self.parts.background

    def close(self) -> None:
        self._con.close()
