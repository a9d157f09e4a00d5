"""The case file (casefile/): its Markdown and PDF hold the same text and every citation of the case."""
from __future__ import annotations

import datetime as dt
import io

import pytest

import rules
from casefile import (
    FONT_ENV, CaseFile, CitedPassage, ExportError, RuleCheck, case_citations, case_markdown, case_pdf, find_font,
)  # fmt: skip
from indexer.passage import DocumentMeta, Passage

CONSCRIPT = {"nationality": "RUS", "category": "dienstplichtige", "age": 25, "refused_or_deserted": True,
             "related_to_ukraine_war": True, "exclusions": []}  # fmt: skip


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def squeezed(text: str) -> str:
    """Without white space: a PDF wraps lines where the Markdown does not."""
    return "".join(text.split())


def case() -> CaseFile:
    result = rules.check("bvm-dienstplichtigen", CONSCRIPT, dt.date(2022, 10, 1)).to_dict()
    return CaseFile(
        question="Valt een 25-jarige Russische deserteur onder het moratorium?",
        on=dt.date(2022, 10, 1),
        passages=[CitedPassage("Beleidsconsequenties mobilisatie Rusland, p. 1, 3. Kernpunten",
                               "Op 29 juni jl. is er een besluit- en vertrekmoratorium (BVM) afgekondigd.",
                               "besluit- en vertrekmoratorium (BVM)", "current", "Beleidsconsequenties"),
                  CitedPassage("Verdrag betreffende de status van vluchtelingen, art. 1F — “Oekraïne”",
                               "Tekst met ë, ï, é, ‘aanhalingstekens’ en — streepjes.")],
        checks=[RuleCheck(result, {2: "Beleidsconsequenties mobilisatie Rusland, p. 1, 3. Kernpunten"},
                          {"age": "25-jarige"})],
        created=dt.datetime(2024, 5, 6, 7, 8),
    )  # fmt: skip


def test_every_citation_is_in_the_markdown_and_the_pdf():
    c = case()
    md, pdf = case_markdown(c), pdf_text(case_pdf(c))
    cites = case_citations(c)
    assert "Vreemdelingenwet 2000, art. 43 lid 1" in cites and "IND nieuws 28 december 2022" in cites
    assert "Nota Beleidsconsequenties mobilisatie Rusland, p. 1" in cites
    for citation in cites:
        assert citation in md, citation
        assert squeezed(citation) in squeezed(pdf), citation


def test_the_case_holds_question_trace_reference_date_and_rule_version():
    c = case()
    version = c.checks[0].result["rule_version"]
    md, pdf = case_markdown(c), squeezed(pdf_text(case_pdf(c)))
    for text in ("Valt een 25-jarige Russische deserteur onder het moratorium?", f"versie {version}, uitkomstcode applies",
                 "Peildatum: 01-10-2022", "Uitkomst: Het BVM voor Russische dienstplichtigen is van toepassing",
                 '(voorgevuld uit de vraag: "25-jarige")', "Passage in de index: Beleidsconsequenties mobilisatie Rusland",
                 "Het brondocument staat niet in de index.", "Categorie: Dienstplichtige (opgeroepen voor de militaire dienstplicht)",
                 "[voldaan] De vreemdeling heeft de Russische nationaliteit", "Tekst met ë, ï, é, ‘aanhalingstekens’ en — streepjes."):  # fmt: skip
        assert text in md, text
        assert squeezed(text) in pdf, text
    assert md.count("\n1. [voldaan] Regel in werking") == 0  # steps are list items, numbered by the trace
    assert "- 1. [voldaan] Regel in werking op de peildatum" in md


def test_a_term_check_exports_its_deadline_and_the_source_outside_the_corpus():
    result = rules.check("beslistermijn", {"application_date": "2022-06-01", "decision_date": None,
                                           "moratorium": False}, dt.date(2022, 10, 1)).to_dict()  # fmt: skip
    md = case_markdown(CaseFile(checks=[RuleCheck(result)]))
    assert "Uiterste beslisdatum: 01-09-2023 (15 maanden)" in md
    assert "Datum beslissing: nog niet beslist" in md
    assert "Algemene termijnenwet, art. 1 lid 1 en art. 3 (niet in het corpus)" in md
    assert "Deze bron staat niet in het corpus." in md
    assert "## Vraag" not in md  # a check opened without a question


def test_a_check_of_a_rule_no_longer_defined_shows_its_fact_names(monkeypatch):
    result = rules.check("beslistermijn", {"application_date": "2022-06-01", "decision_date": None,
                                           "moratorium": False}, dt.date(2022, 10, 1)).to_dict()  # fmt: skip
    result["rule"] = "beslistermijn-oud"
    md = case_markdown(CaseFile(checks=[RuleCheck(result)]))
    assert "- application_date: 01-06-2022" in md and "## Regelcheck: " in md

    def broken(rule_id: str):
        raise rules.RuleDefinitionError("beslistermijn.yaml", "facts: expected a list")

    monkeypatch.setattr(rules, "get_rule", broken)
    with pytest.raises(rules.RuleDefinitionError, match="beslistermijn.yaml"):  # only an unknown rule is forgiven
        case_markdown(CaseFile(checks=[RuleCheck(result)]))


def test_from_search_keeps_the_order_and_quotes_of_the_hits():
    from retrieval.hits import Hit, SearchResult

    meta = DocumentMeta(doc_id="n", title="Nota — sub", file="n.pdf")
    hits = [Hit(Passage("n", i, f"Tekst {i}. Meer tekst.", pages=(i,), meta=meta), 1.0, None, None, f"Tekst {i}.",
                0, 8, 0, "current") for i in (3, 1)]  # fmt: skip
    c = CaseFile.from_search(SearchResult("vraag", True, hits, on=dt.date(2023, 1, 1)))
    assert [p.citation for p in c.passages] == ["Nota, p. 3", "Nota, p. 1"]
    assert c.question == "vraag" and c.passages[0].quote == "Tekst 3." and "Beleid geldend op 01-01-2023" in case_markdown(c)


def test_a_missing_font_is_a_sentence_naming_the_setting(monkeypatch, tmp_path):
    find_font.cache_clear()
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "nope.ttf"))
    try:
        with pytest.raises(ExportError, match=FONT_ENV):
            case_pdf(case())
    finally:
        find_font.cache_clear()



def test_each_passage_is_in_the_export_once_with_its_quote_marked():
    c = case()
    md, pdf = case_markdown(c), squeezed(pdf_text(case_pdf(c)))
    assert "> Op 29 juni jl. is er een **besluit- en vertrekmoratorium (BVM)** afgekondigd." in md
    passages = md.split("## Geciteerde passages")[1].split("## Regelcheck")[0]
    assert "Citaat" not in md and passages.count("besluit- en vertrekmoratorium (BVM)") == 1
    pdf_passages = pdf.split(squeezed("Geciteerde passages"))[1].split(squeezed("Regelcheck"))[0]
    assert pdf_passages.count(squeezed("besluit- en vertrekmoratorium (BVM)")) == 1  # not repeated under it
    assert squeezed("Op 29 juni jl. is er een besluit- en vertrekmoratorium (BVM) afgekondigd.") in pdf


def test_the_case_number_is_in_the_export_only_when_the_officer_types_it():
    c = case()
    assert "V-nummer" not in case_markdown(c)
    c.case_number = " 1234567890 "
    assert "V-nummer: 1234567890" in case_markdown(c)
    assert squeezed("V-nummer: 1234567890") in squeezed(pdf_text(case_pdf(c)))


def test_a_passage_with_markdown_markers_is_shown_plain_in_the_pdf():
    c = CaseFile(passages=[CitedPassage("X, p. 1", "Een tekst met -- en ** erin, en het citaat hier.", "het citaat hier.")])
    text = pdf_text(case_pdf(c))
    assert "Een tekst met -- en ** erin, en het citaat hier." in " ".join(text.split())
    assert "\\*\\*" in case_markdown(c)  # literal asterisks escaped in the Markdown


def test_a_passage_in_the_export_names_its_texts_status_and_its_measures_period():
    c = CaseFile(passages=[CitedPassage("Nota, p. 1", "Tekst.", status="current", title="Nota",
                                        measure="BVM Russische dienstplichtigen: van 29-06-2022 tot 29-06-2023")])  # fmt: skip
    assert "*huidige tekst · BVM Russische dienstplichtigen: van 29-06-2022 tot 29-06-2023 · Nota*" in case_markdown(c)
