"""English -> Dutch query translation for the lexical side (retrieval/lexicon.py)."""
from __future__ import annotations

import pytest
import yaml

import retrieval.retriever as retriever_module
from retrieval.lexicon import LEXICON, Lexicon, build_lexical_query, question_languages
from retrieval.references import EXACT
from retrieval.thesaurus import Thesaurus
from tests.conftest import fake_retriever


@pytest.fixture(autouse=True)
def _no_thesaurus(monkeypatch):
    """These tests are about the lexicon alone; the thesaurus has its own (test_thesaurus.py)."""
    monkeypatch.setattr(retriever_module, "default_thesaurus", lambda: Thesaurus([]))


def query_text(question: str, lexicon: Lexicon | None, thesaurus: Thesaurus | None = None, vocabulary=None) -> str:
    """The text the lexical side searches with (build_lexical_query's text); no thesaurus unless given."""
    return build_lexical_query(question, lexicon, thesaurus if thesaurus is not None else Thesaurus([]), vocabulary).text


@pytest.mark.parametrize(
    "question, english",
    [
        ("What is the decision period for an asylum application?", True),
        ("Can a conscript who deserted be sent back?", True),
        ("Wat is de beslistermijn voor een asielaanvraag?", False),
        ("Kan een dienstplichtige worden uitgezet?", False),
        ("art. 43 Vw", False),  # no function words: treated as Dutch, left alone
    ],
)
def test_language_is_told_by_function_words(question, english):
    assert (question_languages(question) == ("en",)) is english


def test_translation_replaces_the_longest_phrase_and_keeps_unknown_words():
    lex = Lexicon({"verblijfsvergunning": ["residence permit", "permit"], "vergunning": ["permit"], "opvang": ["reception"]})
    text, found = lex.translate("Is a Residence Permit needed for reception in Ter Apel?")
    assert found == 2
    assert text == "is a verblijfsvergunning needed for opvang in ter apel"
    assert lex.translate("Which permit?") == ("which verblijfsvergunning vergunning", 1)


def test_dutch_questions_and_untranslatable_english_are_searched_as_asked():
    lex = Lexicon({"opvang": ["reception"]})
    assert query_text("Wat is opvang?", lex) == "Wat is opvang?"
    assert query_text("What is the weather like?", lex) == "What is the weather like?"
    assert query_text("What is reception?", lex) == "what is opvang"


def test_shipped_lexicon_is_well_formed():
    data = yaml.safe_load(LEXICON.read_text(encoding="utf-8"))
    terms = data["terms"]
    assert len(terms) >= 300
    for dutch, english in terms.items():
        assert isinstance(dutch, str) and dutch == dutch.lower()
        assert english and all(isinstance(e, str) and e == e.lower() and len(e.split()) <= 3 for e in english)
    lex = Lexicon.load()
    assert "dienstplichtigen" in lex.translate("conscripts")[0]
    assert "opvang" in lex.translate("reception")[0]


def test_english_question_finds_dutch_passage_lexically(tmp_path):
    r = fake_retriever(tmp_path, {"nota.txt":
        "---\ntitle: Nota\n---\nOpvang\nDe vreemdeling die zich meldt in Ter Apel krijgt opvang en verstrekkingen terug.\n\n"
        "Termijn\nDe beslistermijn wordt verlengd met negen maanden voor alle asielaanvragen die in 2022 zijn ingediend.\n",
    })  # fmt: skip
    res = r.search("Where does a foreign national get reception back?", k=2, mode="lexical")
    assert "opvang" in res.hits[0].passage.text
    assert res.hits[0].lexical and res.hits[0].lexical > 0
    # the quote is chosen with the Dutch words, so it is the sentence about reception
    assert "opvang" in res.hits[0].quote
    res = r.search("How long is the decision period extended?", k=2, mode="lexical")
    assert "beslistermijn" in res.hits[0].passage.text


def test_document_that_restates_a_vc_paragraph_is_that_paragraph(tmp_path):
    r = fake_retriever(tmp_path, {"wbv.txt":
        "---\ntitle: WBV 2023/3 — wijziging Vreemdelingencirculaire 2000, C1/2.13 beslistermijn\n"
        "identifier: WBV 2023/3\n---\nBesluit van de Staatssecretaris houdende wijziging van de Vreemdelingencirculaire 2000.\n\n"
        "2.13. Het geven van de beschikking\nDe IND neemt binnen zes maanden na indiening van de aanvraag een beslissing op de aanvraag.\n\n"
        "2.14. Iets anders\nDeze paragraaf gaat over een ander onderwerp dan de beslistermijn van de aanvraag.\n",
    })  # fmt: skip
    hits = r.search("C1/2.13 Vc", k=3).hits
    assert hits[0].reference_match == EXACT and "zes maanden" in hits[0].passage.text
    assert all(h.reference_match < EXACT for h in hits if "ander onderwerp" in h.passage.text)


def test_dutch_words_get_pivot_synonyms_unless_ambiguous():
    lex = Lexicon({
        "afwijzing": ["rejection"], "afgewezen": ["rejected", "rejection"],
        "gepubliceerd": ["published"], "bekendgemaakt": ["published", "announced"],
        "besluit": ["decision"], "beslissing": ["decision"], "beschikking": ["decision"], "uitspraak": ["decision"],
    })
    assert query_text("Wat volgt uit een afwijzing?", lex) == "Wat volgt uit een afwijzing? afgewezen"
    assert query_text("Hoe wordt het bekendgemaakt?", lex).endswith("gepubliceerd")
    # 'besluit' shares 'decision' with three other words: too ambiguous to expand
    assert query_text("Welk besluit?", lex) == "Welk besluit?"


def test_gaps_are_the_corpus_words_no_entry_reaches_most_widespread_first():
    from retrieval.lexicon import gaps

    lex = Lexicon({"opvang": ["reception"]}, untranslated=["zodra"])
    texts = [
        "De opvang eindigt zodra de termijn verstrijkt. Termijnen lopen door.",
        "De termijn van 28 dagen; opvangcentra en de lhbt-gemeenschap.",
    ]
    found = {g.word: g for g in gaps(texts, lex)}
    # 'termijn' and 'termijnen' are one stem, in two documents, three times
    assert found["termijn"].documents == 2 and found["termijn"].occurrences == 3
    assert list(found)[0] == "termijn"
    assert "opvang" not in found  # has an entry
    assert "zodra" not in found  # untranslated on purpose
    assert "de" not in found and "28" not in found  # stop word, number
    assert "opvangcentra" in found and "lhbt" in found  # a compound or new word is a gap of its own


def test_lexicon_gaps_cli_lists_the_index_words_without_entry(tmp_path, capsys):
    from retrieval.__main__ import main

    fake_retriever(tmp_path, {
        "nota.txt": "---\ntitle: Nota\nlanguage: nl\n---\nDe opvang bij het kruispunt in Ter Apel blijft gewaarborgd.\n",
        "en.txt": "---\ntitle: Directive\nlanguage: en\n---\nMember States shall ensure reception of applicants.\n",
    })  # fmt: skip
    assert main(["lexicon-gaps", "--index", str(tmp_path / "ix")]) == 0
    out, err = capsys.readouterr()
    words = [line.split("\t")[0] for line in out.splitlines()]
    assert "kruispunt" in words and "gewaarborgd" in words
    assert "opvang" not in words  # the shipped lexicon has it
    assert "member" not in words and "applicants" not in words  # English documents are not listed
    assert "of 1 Dutch documents have no entry" in err
    assert main(["lexicon-gaps", "--index", str(tmp_path / "ix"), "--limit", "1"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["lexicon-gaps", "--index", str(tmp_path / "ix"), "--limit", "0"])
    assert "--limit must be at least 1" in capsys.readouterr().err
    assert main(["lexicon-gaps", "--index", str(tmp_path / "missing")]) == 2
    assert "Rebuild it with" in capsys.readouterr().err


def test_shipped_lexicon_reaches_every_word_of_the_shipped_note():
    """The note ships as the default corpus: each of its words has an entry or is untranslated on purpose."""
    from pathlib import Path

    from indexer.build import parse_file
    from retrieval.lexicon import gaps

    note = Path(__file__).resolve().parents[1] / "corpus" / "beleidsconsequenties-mobilisatie-rusland.pdf"
    _, passages, _ = parse_file(note)
    assert [g.word for g in gaps(["\n".join(p.text for p in passages)], Lexicon.load())] == []


def test_a_lone_english_function_word_in_the_lexicon_is_not_translated():
    lex = Lexicon({"zitten": ["sit", "be"], "worden": ["to be"], "opvang": ["reception"]})
    assert lex.translate("Can an applicant be given reception?") == ("can an applicant be given opvang", 1)
    assert lex.translate("Where do they sit?")[0] == "where do they zitten"
    assert lex.translate("What is to be done?")[0] == "what is worden done"  # a phrase of several words still counts
