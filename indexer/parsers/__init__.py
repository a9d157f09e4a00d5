"""Parsers: one per file type, each turning a file into DocumentMeta + Passages.

A parser raises `UnreadableDocument` with a reason and a remedy; the build reports it by file
name, skips the file and indexes the rest.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

from indexer.passage import DocumentMeta, Passage


class UnreadableDocument(Exception):
    """A file that cannot be indexed. `reason` says what is wrong, `remedy` what to do."""

    def __init__(self, file: str | Path, reason: str, remedy: str):
        self.file = str(file)
        self.reason = reason
        self.remedy = remedy
        super().__init__(f"{self.file}: {reason} {remedy}")


class Parser(Protocol):
    suffixes: tuple[str, ...]

    def parse(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage]]:
        """Parse `path`; `display_name` is the name recorded as the passage's file."""
        ...

    def parse_document(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        """As `parse`, plus the page texts the passages' character offsets index (one per PDF
        page; a text file's body or a Word document's plain text as its single 'page'), from the
        same single read of the file."""
        ...


class DocumentParser:
    """What every parser shares: `parse` is its `parse_document` without the page texts."""

    def parse(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage]]:
        meta, passages, _ = self.parse_document(path, display_name)  # type: ignore[attr-defined]
        return meta, passages


# suffix -> "module:Class"; imported on first use so a text-only corpus never loads pypdf
PARSERS = {
    ".pdf": "indexer.parsers.pdf:PdfParser",
    ".txt": "indexer.parsers.text:TextParser",
    ".md": "indexer.parsers.text:TextParser",
    ".xml": "indexer.parsers.xmldoc:XmlParser",  # BWB toestand or officielebekendmakingen XML
    ".html": "indexer.parsers.officiele:OfficieleParser",
    ".htm": "indexer.parsers.officiele:OfficieleParser",
    ".docx": "indexer.parsers.docx:DocxParser",
}
SUPPORTED_SUFFIXES = tuple(PARSERS)
SIDECAR_SUFFIX = ".yaml"  # NAME.pdf.yaml holds metadata for NAME.pdf, not a document itself


def parser_for(path: Path) -> Parser:
    """The parser for a file's type, or UnreadableDocument naming the supported types."""
    import importlib

    target = PARSERS.get(path.suffix.lower())
    if target is None:
        raise UnreadableDocument(
            path,
            f"unsupported file type '{path.suffix or '(none)'}'.",
            f"Supported types: {', '.join(SUPPORTED_SUFFIXES)}; convert the file or remove it from the corpus folder.",
        )
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)()
