"""Every `source.phrase` of every rule occurs verbatim in the corpus text it names: on the page it
names (the note PDF, extracted with pypdf) or in the article and lid it names (../shared/corpus).

Comparison joins lines and collapses whitespace; otherwise it is exact and case-sensitive.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

import rules
from rules.model import Source
from tests.conftest import NOTE_PDF, REPO

README_RULE_DIR_KEY = "readme"


def normalise(text: str) -> str:
    """Lines joined with a space, runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=None)
def pdf_pages(path: Path) -> tuple[str, ...]:
    """Extracted text per page; each page starts with its header 'Pagina N van M'."""
    from pypdf import PdfReader

    return tuple(page.extract_text() or "" for page in PdfReader(str(path)).pages)


def pdf_text(path: Path, pages: tuple[int, ...]) -> str:
    """The named pages joined, with the running header of each page removed."""
    texts = pdf_pages(path)
    parts = []
    for number in pages:
        assert 1 <= number <= len(texts), f"{path.name} has pages 1-{len(texts)}, not {number}"
        text = texts[number - 1]
        header = f"Pagina {number} van {len(texts)}"
        assert text.lstrip().startswith(header), f"{path.name} page {number} does not start with '{header}'"
        parts.append(text.lstrip()[len(header):])
    return normalise(" ".join(parts))


def text_body(path: Path) -> str:
    """A corpus text file without its YAML front matter."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        text = text.split("\n---", 1)[1].split("\n", 1)[1]
    return text


def article_block(body: str, article: str) -> str:
    """The lines of 'Artikel N' (Dutch) or 'Article N' (English) up to the next article heading."""
    blocks = re.split(r"(?m)^(?=Arti(?:kel|cle) \S)", body)
    found = [b for b in blocks if re.match(rf"Arti(?:kel|cle) {re.escape(article)}(\s|$)", b)]
    assert found, f"article {article} not found"
    return "\n".join(found)


def lid_block(article_text: str, lid: str) -> str:
    """The lines of lid N inside an article ('N. ...' up to the next numbered lid)."""
    blocks = re.split(r"(?m)^(?=\d+\. )", article_text)
    found = [b for b in blocks if b.startswith(f"{lid}. ")]
    assert found, f"lid {lid} not found"
    return "\n".join(found)


def located_text(source: Source, shared_corpus: Path | None) -> str:
    """The corpus text a source points at: its page(s), or its article and lid."""
    if source.document == NOTE_PDF.name:
        return pdf_text(NOTE_PDF, source.pages)
    assert shared_corpus is not None
    path = shared_corpus / source.document
    assert path.is_file(), f"{source.document} is not in {shared_corpus}"
    text = text_body(path)
    if source.article:
        text = article_block(text, source.article)
        if source.lid:
            text = lid_block(text, source.lid)
    return normalise(text)


def all_sources() -> list[tuple[str, Source]]:
    out = []
    for rule in rules.load_rules().values():
        out += [(f"{rule.id}:{where}", source) for where, source in rule.sources()]
    return out


CORPUS_SOURCES = [(w, s) for w, s in all_sources() if s.in_corpus]
OUTSIDE_SOURCES = [(w, s) for w, s in all_sources() if not s.in_corpus]


@pytest.mark.parametrize("where,source", CORPUS_SOURCES, ids=[w for w, _ in CORPUS_SOURCES])
def test_phrase_occurs_in_named_corpus_text(where: str, source: Source, request: pytest.FixtureRequest) -> None:
    shared = None if source.document == NOTE_PDF.name else request.getfixturevalue("shared_corpus")
    haystack = located_text(source, shared)
    phrase = normalise(source.phrase or "")
    assert phrase, f"{where}: empty phrase"
    assert phrase in haystack, (f"{where}: phrase not found in {source.citation} ({source.document}):\n"
                                f"  {phrase!r}")


def test_pdf_pages_have_headers() -> None:
    """The note's page N starts with 'Pagina N van 8', so page numbers in rules are checkable."""
    pages = pdf_pages(NOTE_PDF)
    assert len(pages) == 8
    for number, text in enumerate(pages, start=1):
        assert text.lstrip().startswith(f"Pagina {number} van 8")


def test_sources_outside_the_corpus_are_flagged() -> None:
    """A source without a verbatim phrase must say so; today only the Algemene termijnenwet."""
    assert OUTSIDE_SOURCES, "expected the Algemene termijnenwet note"
    for where, source in OUTSIDE_SOURCES:
        assert source.reference and "niet in het corpus" in source.reference, where
        assert source.phrase is None, where


def test_phrase_finder_rejects_wrong_page() -> None:
    """The check is strict: a phrase on page 1 is not found on page 2."""
    assert "van 18 tot en met 27 jaar" in pdf_text(NOTE_PDF, (1,))
    assert "Pas als gebleken is dat daarvan geen sprake is" not in pdf_text(NOTE_PDF, (1,))
    assert "Pas als gebleken is dat daarvan geen sprake is" in pdf_text(NOTE_PDF, (2,))


def test_article_and_lid_blocks(shared_corpus: Path) -> None:
    body = text_body(shared_corpus / "vreemdelingenwet-2000-art-28-45.txt")
    lid1 = normalise(lid_block(article_block(body, "42"), "1"))
    assert "binnen zes maanden na ontvangst van de aanvraag" in lid1
    assert "negen maanden" not in lid1  # that is lid 4
    assert "eenentwintig maanden" not in normalise(article_block(body, "42"))
    assert REPO.is_dir()
