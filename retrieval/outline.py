"""A document's structure as a guided outline: its sections in reading order, each with its key
passages (the first passages of the section that carry text), from the passages' section paths."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from indexer.passage import DocumentMeta, Passage

NOTE_DOCTYPES = ("nota", "note", "beleidsnota")
SKIP_KINDS = ("heading", "footnote")  # never a key passage: a lone heading, a footnote


@dataclass
class Section:
    """One section: its path ('3. Kernpunten > Advies 1: ...'), depth (1 = top) and passages."""

    path: str
    passages: list[Passage] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.path.split(" > ")[-1]

    @property
    def level(self) -> int:
        return self.path.count(" > ") + 1

    @property
    def top(self) -> str:
        return self.path.split(" > ")[0]

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(sorted({pg for p in self.passages for pg in p.pages}))

    def key_passages(self, n: int = 1) -> list[Passage]:
        """The first `n` passages that carry text: no heading, footnote or letterhead (a line
        shorter than an answer, outside an article)."""
        return [p for p in self.passages if p.kind not in SKIP_KINDS and p.can_answer][:n]


def note_doc_id(documents: Mapping[str, DocumentMeta]) -> str | None:
    """The policy note of the corpus: a document whose type is a note, else the first PDF by
    title, else the first document; None for an empty index."""
    notes = sorted((m.title, d) for d, m in documents.items() if (m.doctype or "").lower() in NOTE_DOCTYPES)
    if notes:
        return notes[0][1]
    pdfs = sorted((m.title, d) for d, m in documents.items() if (m.file or "").lower().endswith(".pdf"))
    if pdfs:
        return pdfs[0][1]
    return min(documents, key=lambda d: documents[d].title) if documents else None


def outline(passages: Iterable[Passage], doc_id: str) -> list[Section]:
    """The sections of `doc_id` in reading order (by passage sequence); a section that comes
    back after a footnote is one section, not two."""
    sections: dict[str, Section] = {}
    for p in sorted((p for p in passages if p.doc_id == doc_id), key=lambda p: p.seq):
        path = p.section or (p.meta.title if p.meta else doc_id)
        sections.setdefault(path, Section(path)).passages.append(p)
    return list(sections.values())


def top_sections(sections: list[Section]) -> list[tuple[str, list[Section]]]:
    """Sections grouped under their top-level heading, in order."""
    groups: dict[str, list[Section]] = {}
    for s in sections:
        groups.setdefault(s.top, []).append(s)
    return list(groups.items())
