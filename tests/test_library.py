"""retrieval.library: the documents, passages and page texts of a build as the pages read them."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import fake_retriever

LAW = """---
title: Wet selectie
---
Artikel 1
1. Eerste lid van artikel een.
2. Tweede lid van artikel een.

Artikel 2
Tekst van artikel twee.
"""
NOTE = "---\ntitle: Aanwijzing\n---\nDe aanwijzing zegt iets korts.\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("library")
    return folder, fake_retriever(folder, {"a-wet.txt": LAW, "z-aanwijzing.txt": NOTE})


@pytest.fixture(scope="module")
def library(built):
    return built[1].library


def test_documents_are_listed_by_title_with_their_counts_and_source_files(built, library):
    folder, _ = built
    docs = library.documents()
    assert [(d.doc_id, d.title, d.n_passages, d.n_pages) for d in docs] == [
        ("z-aanwijzing", "Aanwijzing", 1, 1),
        ("a-wet", "Wet selectie", 3, 1),
    ]
    assert [Path(d.path) for d in docs] == [(folder / "c" / f).resolve() for f in ("z-aanwijzing.txt", "a-wet.txt")]
    assert [d.source_file() for d in docs] == [Path(d.path) for d in docs]
    assert not any(d.is_pdf for d in docs) and all(len(d.sha256) == 64 for d in docs)
    assert library.metas() == {d.doc_id: d.meta for d in docs}
    assert (library.manifest["documents"], library.manifest["passages"]) == (2, 4)


def test_passages_of_a_document_come_in_reading_order(library):
    law = library.passages_of("a-wet")
    assert [(p.seq, p.article, p.text) for p in law] == [
        (0, "1", "1. Eerste lid van artikel een."),
        (1, "1", "2. Tweede lid van artikel een."),
        (2, "2", "Tekst van artikel twee."),
    ]
    assert [p.text for p in library.passages_of("z-aanwijzing")] == ["De aanwijzing zegt iets korts."]
    assert library.passages_of("onbekend") == []
    assert len(library.passages) == 4


def test_page_text_of_a_text_file_is_its_body_after_the_front_matter(library):
    body = library.page_text("a-wet", 1)
    assert body == LAW.split("---\n", 2)[2]
    p = library.passages_of("a-wet")[2]
    assert body[p.char_start : p.char_end] == p.text
    assert library.page_text("a-wet", 2) is None
    assert library.page_text("onbekend", 1) is None


def test_document_of_an_unknown_id_is_none(library):
    assert library.document("onbekend") is None
    assert library.document("a-wet").title == "Wet selectie"


def test_source_file_is_none_once_the_file_has_gone(tmp_path):
    library = fake_retriever(tmp_path, {"nota.txt": NOTE}).library
    (tmp_path / "c" / "nota.txt").unlink()
    assert library.document("nota").source_file() is None
    assert library.document("nota").path.endswith("nota.txt")
