"""The index on disk: immutable build folders and an atomically replaced CURRENT pointer.

    INDEX/CURRENT            name of the build in use (replaced with os.replace: atomic)
    INDEX/builds/<name>/     manifest.json, passages.sqlite, vectors.npy, dense.faiss,
                             lexical.npz, lexical_vocab.json, lexical_words.json,
                             background.npy, background.sha256

A build is written into a new folder and only then named in CURRENT, so a build killed at
any moment leaves the previous index fully queryable.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.passage import DocumentMeta, Passage

FORMAT_VERSION = 1
REBUILD_HINT = "Rebuild it with: python -m indexer build --corpus corpus --index {index}"


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
    footnotes TEXT
);
CREATE INDEX passages_doc ON passages(doc_id, seq);
CREATE TABLE page_texts (doc_id TEXT, page INTEGER, text TEXT, PRIMARY KEY (doc_id, page));
"""

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
    """Write a complete build into `folder` (which must not exist yet); returns the manifest."""
    from indexer import dense
    from indexer.lexical import Bm25Index

    folder.mkdir(parents=True)
    con = sqlite3.connect(folder / "passages.sqlite")
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
            con.execute(
                "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (row, p.doc_id, p.seq, p.text, json.dumps(list(p.pages)), p.section, p.article, p.lid, p.point,
                 p.kind, p.char_start, p.char_end, json.dumps(list(p.footnotes))),
            )  # fmt: skip
            texts.append(search_text(p))
            row += 1
    con.commit()
    con.close()
    assert vectors.shape[0] == row, f"{vectors.shape[0]} vectors for {row} passages"
    np.save(folder / "vectors.npy", vectors.astype(np.float32))
    index, kind = dense.build(vectors.astype(np.float32), dense_kind)
    dense.save(index, folder / "dense.faiss")
    # compound parts come from the passage texts, with each title and section heading counted once
    headings = dict.fromkeys(h for d in docs for h in (d.meta.title, *(p.section for p in d.passages)) if h)
    Bm25Index.build(texts, [p.text for d in docs for p in d.passages] + list(headings)).save(folder / "")
    if encoder is not None:
        from indexer.background import save_background

        save_background(folder, encoder, previous)
    manifest = {**manifest, "format": FORMAT_VERSION, "passages": row, "documents": len(docs), "dense_index": kind}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


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


def remove_stale_tmp(index_dir: Path) -> None:
    """Remove folders of builds that were killed before they were published."""
    builds = index_dir / "builds"
    if builds.is_dir():
        for old in builds.glob(".tmp-*"):
            shutil.rmtree(old, ignore_errors=True)


class IndexReader:
    """Read access to one published build: manifest, passages, documents, page texts."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        hint = REBUILD_HINT.format(index=self.index_dir)
        folder = current_build(self.index_dir)
        if folder is None:
            raise IndexError_(f"No index found in {self.index_dir}. {hint}")
        self.folder = folder
        try:
            self.manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if self.manifest.get("format") != FORMAT_VERSION:
                raise IndexError_(
                    f"The index in {self.index_dir} has format {self.manifest.get('format')}, "
                    f"this version reads format {FORMAT_VERSION}. {hint}"
                )
            self._con = sqlite3.connect(f"file:{folder / 'passages.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            self._docs = self._load_documents()
            self.n_passages = self._con.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        except IndexError_:
            raise
        except (OSError, ValueError, sqlite3.Error) as exc:
            raise IndexError_(f"The index in {self.index_dir} is damaged ({exc}). {hint}") from None
        self._passages: list[Passage] | None = None

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
            cur = self._con.execute(
                "SELECT doc_id, seq, text, pages, section, article, lid, point, kind, char_start, char_end, "
                "footnotes FROM passages ORDER BY row"
            )
            self._passages = [
                Passage(
                    doc_id=r[0], seq=r[1], text=r[2], pages=tuple(json.loads(r[3])), section=r[4], article=r[5],
                    lid=r[6], point=r[7], kind=r[8], char_start=r[9], char_end=r[10],
                    footnotes=tuple(json.loads(r[11])), meta=self._docs.get(r[0]),
                )  # fmt: skip
                for r in cur.fetchall()
            ]
        return self._passages

    def page_text(self, doc_id: str, page: int) -> str | None:
        """Extracted text of a PDF page (1-based) or, with page 1, the body of a text file."""
        r = self._con.execute("SELECT text FROM page_texts WHERE doc_id=? AND page=?", (doc_id, page)).fetchone()
        return r[0] if r else None

    def vectors(self) -> np.ndarray:
        return np.load(self.folder / "vectors.npy", mmap_mode="r")

    def doc_rows(self, doc_id: str) -> list[int]:
        return [r[0] for r in self._con.execute("SELECT row FROM passages WHERE doc_id=? ORDER BY seq", (doc_id,))]
