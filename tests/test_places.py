"""The gazetteer of states: which states a question names, which the corpus mentions, and the
retriever's abstention on a question about a state no document mentions."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from indexer.analysis import tokenize
from retrieval.places import Gazetteer, Mention, StateClass, default_gazetteer, unknown_places
from tests.conftest import fake_retriever

SMALL = Gazetteer(
    {
        "RU": ["Rusland", "Russia", "Russisch", "Russische", "Rus", "Russen", "Russian"],
        "BY": ["Belarus", "Wit-Rusland", "Wit-Russische", "Belarusian"],
        "YE": ["Jemen", "Yemen", "Jemenitische"],
        "CI": ["Ivoorkust", "Côte d'Ivoire"],
        "DE": ["Duitsland", "Germany", "Duitse"],
        "GB": ["Verenigd Koninkrijk", "United Kingdom", "UK"],
    },
    [StateClass("lidstaten", ("lidstaat", "lidstaten"), frozenset({"DE"}))],
)


def states(text: str, g: Gazetteer = SMALL) -> list[tuple[str, str]]:
    return [(m.state, m.text) for m in g.mentions(text)]


def test_names_are_found_as_written_whole_words_any_case_and_accent():
    assert states("Geldt er een moratorium voor JEMEN?") == [("YE", "JEMEN")]
    assert states("What is Germany's policy on Russian deserters?") == [("DE", "Germany"), ("RU", "Russian")]
    assert states("asielzoekers uit Côte d’Ivoire en cote d'ivoire") == [("CI", "Côte d’Ivoire"), ("CI", "cote d'ivoire")]
    assert states("Wat zegt het Verenigd  Koninkrijk?") == []  # a phrase is matched as written, one space
    assert states("het Verenigd Koninkrijk en de UK") == [("GB", "Verenigd Koninkrijk"), ("GB", "UK")]


def test_a_name_inside_another_word_or_name_is_not_found():
    assert states("een Ruslandkenner en een rusteloze Rusty") == []
    assert states("dienstweigeraars uit Wit-Rusland") == [("BY", "Wit-Rusland")]  # not Rusland
    assert states("Wit-Russische en Russische dienstplichtigen") == [("BY", "Wit-Russische"), ("RU", "Russische")]


def test_states_in_the_corpus_from_the_index_vocabulary_and_classes():
    vocab = set(tokenize("De Russische Federatie en Oekraïne; een andere lidstaat is verantwoordelijk."))
    assert SMALL.in_corpus(vocab) == {"RU", "DE"}  # DE as a member of 'lidstaten'
    assert SMALL.in_corpus(set(tokenize("Rusland"))) == {"RU"}
    assert SMALL.in_corpus(set(tokenize("United Kingdom"))) == {"GB"}  # a phrase: all its terms
    assert SMALL.in_corpus(set(tokenize("United"))) == set()


def test_unknown_places_only_when_no_named_state_is_in_the_corpus():
    known = {"RU", "DE"}
    assert unknown_places(SMALL.mentions("Geldt er een moratorium voor Jemen en Belarus?"), known) == ("Jemen", "Belarus")
    assert unknown_places(SMALL.mentions("Russen die via Jemen reizen"), known) == ()
    assert unknown_places(SMALL.mentions("Wat als Duitsland verantwoordelijk is?"), known) == ()
    assert unknown_places(SMALL.mentions("Hoe verleng ik mijn rijbewijs?"), known) == ()
    assert unknown_places([Mention("YE", "Jemen"), Mention("YE", "Jemen")], known) == ("Jemen",)


def test_the_shipped_gazetteer_lists_the_states_once_each():
    g = default_gazetteer()
    assert g is not None and len(g.states) >= 190
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in g.states)
    assert {"NO", "RU", "UA", "NL", "YE", "BY", "DE"} <= set(g.states)  # "NO" is a key, not false
    assert states("Noorse, Belarusian, Eritreeërs en Jemenitische asielzoekers", g) == [
        ("NO", "Noorse"), ("BY", "Belarusian"), ("ER", "Eritreeërs"), ("YE", "Jemenitische")]  # fmt: skip
    # words officers use for other things are not names of states
    assert states("Let op: is er een Engelse versie? Waar moet ik op letten? Tell us, vs. the EU", g) == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("places:\n  NO: [Noorwegen]\n", "must be a code in quotes"),
        ("places:\n  YE: Jemen\n", "'YE' must be a non-empty list"),
        ("places:\n  YE: [Jemen]\n  XY: [jemen]\n", "'jemen' names both YE and XY"),
        ("places:\n  YE: [Jemen]\nclasses:\n  - words: [lidstaat]\n    members: [DE]\n", "not listed: DE"),
        ("places:\n  YE: [Jemen]\nclasses:\n  - members: [YE]\n", "class 1 must be a mapping"),
        ("countries: []\n", "must hold 'places:'"),
    ],
)
def test_a_broken_gazetteer_file_says_what_is_wrong(tmp_path: Path, text: str, message: str):
    path = tmp_path / "places.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        Gazetteer.load(path)
    assert str(path) in str(err.value)


NOTE = """---
title: Nota moratorium Rusland
---
Kernpunten
Op 29 juni is een besluit- en vertrekmoratorium afgekondigd voor Russische dienstplichtigen van 18 tot en met 27 jaar.
"""
LAW = """---
title: Vreemdelingenwet 2000
---
Artikel 42
1. Op de aanvraag wordt binnen zes maanden na ontvangst een beschikking gegeven, ook wanneer de aanvrager in Nederland verblijft.

Artikel 43
1. Bij besluit van Onze Minister kan voor bepaalde categorieën vreemdelingen een moratorium worden bepaald.
"""


def test_a_passage_is_about_a_foreign_state_when_its_title_or_section_names_one():
    assert SMALL.names_foreign_state("Nota moratorium Rusland")
    assert SMALL.names_foreign_state("C7/21 Het asielbeleid ten aanzien van Belarus > 21.2 Artikel 1F")
    assert not SMALL.names_foreign_state("Vreemdelingenwet 2000 > Artikel 42")
    g = default_gazetteer()
    assert not g.names_foreign_state("Verblijf in Nederland")  # the home state is not foreign
    assert g.names_foreign_state("Landenbeleid Nederland en Rusland")


@pytest.fixture(scope="module")
def retriever(tmp_path_factory):
    r = fake_retriever(tmp_path_factory.mktemp("places"), {"nota.txt": NOTE, "wet.txt": LAW})
    r.params = dataclasses.replace(r.params, min_margin=-1.0)  # the threshold alone would answer all
    return r


def test_a_question_about_a_state_no_document_mentions_is_not_answerable_when_its_best_passage_is_about_another_state(
    retriever,
):
    assert "RU" in retriever.states_in_corpus and "YE" not in retriever.states_in_corpus
    for mode in ("hybrid", "dense", "lexical"):
        out = retriever.search("Is er een vertrekmoratorium afgekondigd voor dienstplichtigen uit Jemen?", k=3, mode=mode)
        assert out.hits[0].passage.doc_id == "nota", mode  # the Russia note is nearest
        assert not out.answerable and out.hits, mode  # the nearest passages are still listed
        assert out.unknown_places == ("Jemen",)
        assert out.to_dict()["unknown_places"] == ["Jemen"]
    same_without = retriever.search("Is er een vertrekmoratorium afgekondigd voor dienstplichtigen?", k=3)
    assert same_without.answerable and same_without.unknown_places == ()


def test_a_state_named_in_a_question_about_a_general_rule_is_incidental(retriever):
    # the applicant's nationality: the decision period of the law is the same for every state
    for mode in ("hybrid", "dense", "lexical"):
        out = retriever.search("Binnen hoeveel maanden wordt een beschikking gegeven op de aanvraag van een Jemenitische vreemdeling?", k=3, mode=mode)
        assert out.hits[0].passage.doc_id == "wet", mode
        assert out.answerable and out.unknown_places == (), mode


def test_a_state_the_corpus_mentions_or_a_named_reference_keeps_the_question_answerable(retriever):
    assert retriever.search("Geldt het moratorium voor Russische dienstplichtigen uit Jemen?", k=3).answerable
    out = retriever.search("Geldt artikel 43 ook voor Jemen?", k=3)
    assert out.answerable and out.unknown_places == ()


def test_the_cli_text_names_the_places(retriever):
    from retrieval.__main__ import render_text

    d = retriever.search("Is er een vertrekmoratorium afgekondigd voor dienstplichtigen uit Jemen of Belarus?", k=1).to_dict()
    text = render_text(d)
    assert "Geen document van het corpus noemt ‘Jemen’, ‘Belarus’, waar de vraag over gaat." in text, text
    assert "noemt" not in render_text(retriever.search("Geldt het moratorium voor dienstplichtigen?", k=1).to_dict())


def test_a_broken_gazetteer_file_stops_the_retriever_with_a_sentence_that_says_how_to_mend_it(tmp_path, monkeypatch):
    import retrieval.retriever as retriever_module
    from retrieval.retriever import RetrievalError

    broken = tmp_path / "places.yaml"
    broken.write_text("places:\n  NO: [Noorwegen]\n", encoding="utf-8")
    monkeypatch.setattr(retriever_module, "default_gazetteer", lambda: Gazetteer.load(broken))
    with pytest.raises(RetrievalError) as err:
        fake_retriever(tmp_path, {"nota.txt": NOTE})
    message = str(err.value)
    assert "retrieval/places.yaml cannot be read (" in message and "must be a code in quotes" in message
    assert "git checkout -- retrieval/places.yaml" in message and "\n" not in message
