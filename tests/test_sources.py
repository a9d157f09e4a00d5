"""A rule source (document, page or article/lid, phrase) -> the indexed passage that holds it."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

import rules
from indexer.passage import DocumentMeta, Passage
from indexer.text import squeeze
from retrieval.sources import (
    HEADING_MATCH, PHRASE_MATCH, PLACE_MATCH, document_indexed, find_source_passage, trace_passages,
)  # fmt: skip

NOTE = DocumentMeta(doc_id="nota", title="Nota", file="nota.pdf", valid_until="2023-06-30")
LAW = DocumentMeta(doc_id="vw", title="Vreemdelingenwet 2000", file="vw.txt")


def p(meta: DocumentMeta, seq: int, text: str, **kw) -> Passage:
    return Passage(doc_id=meta.doc_id, seq=seq, text=text, meta=meta, **kw)


@dataclass
class Index:
    """The part of a Retriever that the resolver reads."""

    passages: list[Passage] = field(default_factory=list)


INDEX = Index([
    p(NOTE, 0, "Kernpunten", pages=(1,), kind="heading", section="3. Kernpunten"),
    p(NOTE, 1, "Op 29 juni jl. is er een besluit- en vertrek-\nmoratorium (BVM) afgekondigd voor Russische "
               "dienstplichtigen van 18 tot en met 27 jaar.", pages=(1,), section="3. Kernpunten"),
    p(NOTE, 2, "De IND beslist in deze periode niet. De beslistermijn wordt", pages=(2,), section="4. Toelichting"),
    p(NOTE, 3, "verlengd met een jaar tot ten hoogste 21 maanden.", pages=(3,), section="4. Toelichting"),
    p(NOTE, 4, "Nu er voldoende informatie is, wordt individueel beslist.", pages=(3,),
      section="3. Kernpunten > Advies 1: Geen moratorium voor gemobiliseerden"),
    p(NOTE, 5, "Herhaling: dienstplichtigen van 18 tot en met 27 jaar.", pages=(5,), section="4. Toelichting"),
    p(LAW, 0, "Artikel 42", article="42", kind="heading"),
    p(LAW, 1, "1. Op de aanvraag wordt binnen zes maanden na ontvangst een beschikking gegeven.", article="42", lid="1"),
    p(LAW, 2, "4. De termijn kan met ten hoogste negen maanden worden verlengd.", article="42", lid="4"),
])  # fmt: skip


def test_phrase_is_found_despite_line_breaks_hyphens_and_case():
    hit = find_source_passage(INDEX, {"document": "nota.pdf", "page": 1,
                                      "phrase": "besluit- en vertrekmoratorium (BVM) afgekondigd"})  # fmt: skip
    assert hit.score == PHRASE_MATCH and hit.passage.seq == 1
    assert hit.quote == "besluit- en vertrek-\nmoratorium (BVM) afgekondigd"
    assert hit.passage.text[hit.quote_start : hit.quote_end] == hit.quote


def test_a_phrase_on_two_places_prefers_the_cited_page():
    source = {"document": "nota.pdf", "phrase": "dienstplichtigen van 18 tot en met 27 jaar"}
    assert find_source_passage(INDEX, {**source, "page": 5}).passage.seq == 5
    assert find_source_passage(INDEX, {**source, "page": 1}).passage.seq == 1
    assert find_source_passage(INDEX, source).passage.seq == 1  # no page: the first in the document


def test_a_phrase_running_into_the_next_passage_is_quoted_in_the_first():
    hit = find_source_passage(INDEX, {"document": "nota.pdf", "page": 2,
                                      "phrase": "De beslistermijn wordt verlengd met een jaar"})  # fmt: skip
    assert hit.score == PHRASE_MATCH and hit.passage.seq == 2
    assert hit.quote == "De beslistermijn wordt"


def test_a_phrase_that_is_a_heading_gives_the_sections_first_passage():
    hit = find_source_passage(INDEX, {"document": "nota.pdf", "page": 3,
                                      "phrase": "Advies 1: Geen moratorium voor gemobiliseerden"})  # fmt: skip
    assert hit.score == HEADING_MATCH and hit.passage.seq == 4 and hit.quote == ""


def test_article_and_lid_of_a_law():
    hit = find_source_passage(INDEX, {"document": "vw.txt", "article": "42", "lid": "1",
                                      "phrase": "binnen zes maanden na ontvangst"})  # fmt: skip
    assert hit.score == PHRASE_MATCH and hit.passage.citation == "Vreemdelingenwet 2000, art. 42 lid 1"


def test_phrase_not_found_falls_back_to_the_cited_place():
    hit = find_source_passage(INDEX, {"document": "vw.txt", "article": "42", "lid": "4", "phrase": "staat er niet"})
    assert hit.score == PLACE_MATCH and hit.passage.lid == "4" and hit.quote_start == hit.quote_end == 0
    hit = find_source_passage(INDEX, {"document": "nota.pdf", "page": 1, "phrase": "staat er niet"})
    assert hit.score == PLACE_MATCH and hit.passage.seq == 1  # the heading on page 1 is skipped


def test_status_follows_the_date_asked():
    import datetime as dt

    source = {"document": "nota.pdf", "page": 1, "phrase": "afgekondigd"}
    assert find_source_passage(INDEX, source, on=dt.date(2022, 10, 1)).status == "current"
    assert find_source_passage(INDEX, source, on=dt.date(2024, 1, 1)).status == "expired"


@pytest.mark.parametrize("source", [
    {"document": "kamerbrief.txt", "phrase": "om het besluit- en vertrekmoratorium te verlengen"},  # not indexed
    {"document": None, "reference": "Algemene termijnenwet (niet in het corpus)", "in_corpus": False},
    {"document": "nota.pdf", "page": 7, "phrase": "nergens"},  # no passage on that page
    {},
])  # fmt: skip
def test_no_passage_when_the_source_is_not_in_the_index(source):
    assert find_source_passage(INDEX, source) is None


def test_document_indexed_by_file_name():
    assert document_indexed(INDEX, "nota.pdf") and document_indexed(INDEX, "corpus/vw.txt")
    assert not document_indexed(INDEX, "kamerbrief.txt") and not document_indexed(INDEX, None)


def test_squeeze_keeps_a_map_to_the_original_text():
    text = "Vertrek-\nmoratorium  ‘BVM’"
    squeezed, where = squeeze(text)
    assert squeezed == "vertrekmoratorium'bvm'"
    assert text[where[squeezed.index("m")]] == "m" and len(where) == len(squeezed)


def test_every_rule_source_in_the_note_resolves_in_an_index_of_the_note(small_note_index):
    """On a real index of the shipped note: every trace step citing the note gets its passage,
    verbatim except the one phrase that is a section heading."""
    import datetime as dt

    result = rules.check("bvm-dienstplichtigen", {"nationality": "RUS", "category": "dienstplichtige", "age": 25,
                                                 "refused_or_deserted": True, "related_to_ukraine_war": True,
                                                 "exclusions": []}, dt.date(2022, 10, 1)).to_dict()  # fmt: skip
    hits = trace_passages(small_note_index, result)
    cited = [s for s in result["trace"] if (s.get("source") or {}).get("document", "").endswith(".pdf")]
    assert cited and {s["step"] for s in cited} == set(hits)
    for step in cited:
        hit = hits[step["step"]]
        assert step["source"]["page"] in hit.passage.pages
        assert hit.score == PHRASE_MATCH or step["id"] == "mobilised"


@pytest.fixture(scope="module")
def small_note_index(tmp_path_factory):
    import shutil

    from indexer.build import build
    from indexer.encoders.fake import FakeEncoder
    from retrieval.retriever import Retriever
    from tests.conftest import NOTE_PDF

    root = tmp_path_factory.mktemp("note")
    (root / "corpus").mkdir()
    shutil.copy(NOTE_PDF, root / "corpus" / NOTE_PDF.name)
    build([root / "corpus"], root / "index", FakeEncoder())
    return Retriever(root / "index", encoder=FakeEncoder()).library
