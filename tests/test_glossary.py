"""The onboarding glossary extractor and the note's outline, on tiny passages with the expected
terms, expansions and passages spelled out."""
from __future__ import annotations

import re

import pytest

from indexer.passage import DocumentMeta, Passage
from retrieval.glossary import CuratedTerm, build_glossary, caps_tokens, definitions, load_curated, long_form
from retrieval.outline import note_doc_id, outline, top_sections

NOTE = DocumentMeta(doc_id="nota", title="Nota", file="nota.pdf", doctype="nota")
NEWS = DocumentMeta(doc_id="nieuws", title="Nieuws", file="nieuws.txt", doctype="nieuwsbericht")


def p(meta: DocumentMeta, seq: int, text: str, section: str = "", kind: str = "paragraph") -> Passage:
    return Passage(doc_id=meta.doc_id, seq=seq, text=text, section=section, kind=kind, meta=meta)


@pytest.mark.parametrize("abbr, before, expected", [
    ("BVM", "Op 29 juni is er een besluit- en vertrekmoratorium ", "besluit- en vertrekmoratorium"),
    ("TOELT", "het IND-expertisecentrum Team Onderzoek en Expertise Land en Taal ",
     "Team Onderzoek en Expertise Land en Taal"),
    ("IND", "Dit betekent dat de Immigratie- en Naturalisatiedienst ", "Immigratie- en Naturalisatiedienst"),
    ("CDA", "Wopke Hoekstra (minister buitenlandse zaken) ", None),  # a party after a parenthesis: no expansion
    ("EU", "the procedure laid down in Regulation ", None),
    ("X", "een enkele letter ", None),
])  # fmt: skip
def test_long_form_follows_schwartz_hearst(abbr, before, expected):
    assert long_form(abbr, before) == expected


def test_definitions_give_the_span_of_expansion_and_abbreviation():
    text = "Sinds juni geldt een besluit- en vertrekmoratorium (BVM) voor dienstplichtigen."
    (d,) = definitions(text)
    assert (d.term, d.expansion) == ("BVM", "besluit- en vertrekmoratorium")
    assert text[d.start : d.end] == "besluit- en vertrekmoratorium (BVM)"


def test_caps_tokens_skip_shouted_headings_and_roman_numerals():
    text = "DE HOGE VERDRAGSLUITENDE PARTIJEN: de DT&V en de IND, hoofdstuk II, de WBV en de VVD (TOELT1)."
    assert [t for t, _, _ in caps_tokens(text)] == ["DT&V", "IND", "WBV", "VVD"]


CURATED = (
    CuratedTerm("Vw", "Vreemdelingenwet 2000", (re.compile(r"\bVw\b"),)),
    CuratedTerm("spoor 2", "versnelde procedure", (re.compile(r"\bspoor 2\b", re.I),)),
    CuratedTerm("IND", "Immigratie- en Naturalisatiedienst", (re.compile(r"\bIND\b"),),
                ("Immigratie- en Naturalisatiedienst (IND)",)),
    CuratedTerm("Vb", "Vreemdelingenbesluit 2000", (re.compile(r"\bVb\b"),)),  # used nowhere: left out
)  # fmt: skip
PASSAGES = [
    p(NOTE, 0, "Kernpunten", kind="heading"),
    p(NOTE, 1, "De IND beslist niet; het besluit- en vertrekmoratorium (BVM) geldt, zie art. 43 Vw."),
    p(NOTE, 2, "Uitgezonderd zijn Spoor 2-zaken. Het BVM geldt ook voor de DT&V."),
    p(NEWS, 0, "De Immigratie- en Naturalisatiedienst (IND) verlengt het BVM."),
]


def test_glossary_terms_with_their_defining_or_first_passage():
    entries = {e.term: e for e in build_glossary(PASSAGES, CURATED)}
    assert sorted(entries, key=str.casefold) == ["BVM", "IND", "spoor 2", "Vw"]  # DT&V: used, never explained
    bvm = entries["BVM"]
    assert (bvm.expansion, bvm.defines, bvm.origin) == ("besluit- en vertrekmoratorium", True, "corpus")
    assert bvm.passage.seq == 1 and bvm.passage.text[slice(*bvm.span)] == "besluit- en vertrekmoratorium (BVM)"
    assert (bvm.uses, bvm.documents) == (3, {"nota", "nieuws"})
    ind = entries["IND"]  # used first in the note, defined in the news item: the definition wins
    assert ind.passage.doc_id == "nieuws" and ind.defines and ind.curated == "Immigratie- en Naturalisatiedienst"
    vw = entries["Vw"]
    assert (vw.origin, vw.defines, vw.passage.seq) == ("curated", False, 1)
    assert vw.passage.text[slice(*vw.span)] == "Vw"
    spoor = entries["spoor 2"]
    assert spoor.passage.text[slice(*spoor.span)] == "Spoor 2"  # matched case-insensitively
    assert "DT&V" not in entries  # an abbreviation without a meaning is no help to a new officer


def test_curated_list_loads_and_names_the_terms_of_the_issue():
    terms = {c.term for c in load_curated()}
    assert {"BVM", "DT&V", "TOELT", "IND", "Vw", "Vc", "WBV", "1F", "spoor 2", "ambtsbericht"} <= terms


def test_curated_list_errors_name_the_file_and_entry(tmp_path):
    bad = tmp_path / "glossary.yaml"
    bad.write_text("terms:\n  - term: X\n    forms: ['(']\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"glossary.yaml: terms\[0\] \(X\): bad regular expression"):
        load_curated(bad)


def test_outline_lists_sections_in_reading_order_with_key_passages():
    long = "Een passage die lang genoeg is om als kernpassage te tellen, want zij draagt echte inhoud. "
    doc = [
        p(NOTE, 0, "SJenV\nNota", section="Nota"),
        p(NOTE, 1, long + "Aanleiding.", section="1. Aanleiding"),
        p(NOTE, 2, "Algemene achtergrond", section="3. Kernpunten > Achtergrond", kind="heading"),
        p(NOTE, 3, long + "Achtergrond.", section="3. Kernpunten > Achtergrond"),
        p(NOTE, 4, "1 Een voetnoot bij de achtergrond die ook best lang is, maar een voetnoot blijft het.",
          section="3. Kernpunten > Achtergrond", kind="footnote"),
        p(NOTE, 5, long + "Advies.", section="3. Kernpunten > Advies 1"),
        p(NEWS, 0, long, section="Nieuws"),
    ]  # fmt: skip
    sections = outline(doc, "nota")
    assert [s.path for s in sections] == ["Nota", "1. Aanleiding", "3. Kernpunten > Achtergrond", "3. Kernpunten > Advies 1"]
    assert [s.level for s in sections] == [1, 1, 2, 2]
    assert sections[0].key_passages() == []  # a letterhead is no key passage
    assert [k.seq for k in sections[2].key_passages(n=5)] == [3]  # heading and footnote left out
    assert [(top, [s.title for s in group]) for top, group in top_sections(sections)] == [
        ("Nota", ["Nota"]), ("1. Aanleiding", ["1. Aanleiding"]), ("3. Kernpunten", ["Achtergrond", "Advies 1"])]


def test_the_note_is_the_document_of_type_nota_else_the_first_pdf():
    assert note_doc_id({"nieuws": NEWS, "nota": NOTE}) == "nota"
    pdf = DocumentMeta(doc_id="b", title="B", file="b.pdf")
    assert note_doc_id({"nieuws": NEWS, "b": pdf}) == "b"
    assert note_doc_id({"nieuws": NEWS}) == "nieuws" and note_doc_id({}) is None


def test_the_shipped_glossary_of_the_corpus_has_no_party_or_broadcaster(tmp_path):
    from indexer.build import build
    from indexer.encoders.fake import FakeEncoder
    from retrieval.retriever import Retriever
    from tests.conftest import REPO

    build([REPO / "corpus"], tmp_path / "ix", FakeEncoder())
    terms = {e.term for e in build_glossary(Retriever(tmp_path / "ix", FakeEncoder()).library.passages)}
    assert not terms & {"CDA", "SP", "VVD", "NOS"}
    assert {"BVM", "IND", "EURODAC", "NAVO", "Vw", "WBV"} <= terms
