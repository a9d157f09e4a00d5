"""The indexed corpus as pages and tools read it: its documents, their passages and page texts.

A small read-only facade over one published build, so that the app's pages, the glossary and
the onboarding outline never need to know how a build stores its parts (local files or
PostgreSQL, behind the store contract of indexer.contract). `Retriever.library` gives the one for its build.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexer.passage import DocumentMeta, Passage
from indexer.contract import PassageStore


@dataclass(frozen=True)
class Document:
    """A document of the index: its metadata, the source file it was read from, and its size."""

    meta: DocumentMeta
    path: str  # the source file as it was indexed (absolute)
    sha256: str
    n_passages: int
    n_pages: int  # PDF: its pages; a text file: 1 (its body)

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def is_pdf(self) -> bool:
        return str(self.meta.file).lower().endswith(".pdf")

    def source_file(self) -> Path | None:
        """The source file when it is still where it was indexed, else None."""
        p = Path(self.path) if self.path else None
        return p if p is not None and p.is_file() else None


class Library:
    """Documents, passages and page texts of one build (read once, except page texts)."""

    def __init__(self, reader: PassageStore, passages: list[Passage]):
        self._reader = reader
        self._passages = passages
        self._documents = {
            r["doc_id"]: Document(reader.documents[r["doc_id"]], r["path"] or "", r["sha256"] or "",
                                  int(r["n_passages"] or 0), int(r["n_pages"] or 0))
            for r in reader.document_rows()
        }  # fmt: skip
        self._rows: dict[str, list[int]] = {}
        for i, p in enumerate(passages):
            self._rows.setdefault(p.doc_id, []).append(i)
        for rows in self._rows.values():
            rows.sort(key=lambda i: passages[i].seq)

    @property
    def manifest(self) -> dict:
        """The build's manifest: model, counts, build time, versions, files."""
        return self._reader.manifest

    @property
    def passages(self) -> list[Passage]:
        """All passages in index row order."""
        return self._passages

    def documents(self) -> list[Document]:
        """The documents, by title."""
        return list(self._documents.values())

    def document(self, doc_id: str) -> Document | None:
        return self._documents.get(doc_id)

    def metas(self) -> dict[str, DocumentMeta]:
        """doc_id -> metadata, for every document."""
        return {d: doc.meta for d, doc in self._documents.items()}

    def passages_of(self, doc_id: str) -> list[Passage]:
        """The passages of one document in reading order."""
        return [self._passages[i] for i in self._rows.get(doc_id, [])]

    def page_text(self, doc_id: str, page: int) -> str | None:
        """The extracted text of a PDF page (1-based) or, with page 1, the body of a text file."""
        return self._reader.page_text(doc_id, page)
