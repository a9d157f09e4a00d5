"""An .xml file of the corpus: a BWB toestand (wetten.overheid.nl) or an officielebekendmakingen.nl
publication, told apart by the root element; XML of any other kind is reported and skipped."""
from __future__ import annotations

from pathlib import Path

from indexer.parsers import DocumentParser, UnreadableDocument
from indexer.parsers.markup import local, read_xml
from indexer.passage import DocumentMeta, Passage

KINDS = {
    "toestand": "indexer.parsers.bwb:BwbParser",
    "officiele-publicatie": "indexer.parsers.officiele:OfficieleParser",
}


class XmlParser(DocumentParser):
    suffixes = (".xml",)

    def parse_document(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        """Metadata, passages and [plain text]: the text their offsets index."""
        import importlib

        root = read_xml(Path(path), display_name)
        target = KINDS.get(local(root.tag))
        if target is None:
            raise UnreadableDocument(
                display_name,
                f"it is XML of another kind (its root element is <{local(root.tag)[:60]}>), not a consolidated "
                "regulation of wetten.overheid.nl (<toestand>) or a publication of officielebekendmakingen.nl "
                "(<officiele-publicatie>).",
                "Download the XML from one of those sites, or save the document as PDF, Word or text.",
            )
        module, cls = target.split(":")
        return getattr(importlib.import_module(module), cls)().parse_root(root, Path(path), display_name)
