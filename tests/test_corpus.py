"""The shipped default corpus (corpus/): the policy note and its related regulations and letters,
the texts of ../shared/corpus copied with their front matter (provenance, validity, status,
completeness), so `make app` answers questions on the regulations too."""
from __future__ import annotations

from indexer.parsers import parser_for
from tests.conftest import NOTE_PDF, REPO

CORPUS = REPO / "corpus"


def test_the_shipped_corpus_holds_every_shared_text_unchanged(shared_corpus):
    shared = sorted(p.name for p in shared_corpus.iterdir() if p.is_file())
    assert shared, "../shared/corpus is empty"
    for name in shared:
        copy = CORPUS / name
        assert copy.is_file(), f"corpus/ lacks {name}: copy it from ../shared/corpus with its front matter"
        assert copy.read_bytes() == (shared_corpus / name).read_bytes(), f"corpus/{name} differs from ../shared/corpus"


def test_every_shipped_text_keeps_its_front_matter():
    texts = sorted(CORPUS.glob("*.txt"))
    assert len(texts) >= 11 and NOTE_PDF.is_file()
    for path in texts:
        meta, passages, _ = parser_for(path).parse_document(path, path.name)
        assert meta.title and meta.source, f"{path.name}: front matter lost (title, source)"
        assert passages, path.name
