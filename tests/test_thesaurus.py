"""Everyday expressions -> corpus words for the lexical side (retrieval/thesaurus.py)."""
from __future__ import annotations

import re

import pytest
import yaml

from indexer.analysis import tokenize
from indexer.text import fold
from retrieval.lexicon import Lexicon, build_lexical_query
from retrieval.retriever import QueryFiles, Retriever
from retrieval.thesaurus import THESAURUS, Concept, Thesaurus, terms_of
from tests.conftest import fake_retriever
from tests.test_lexicon import query_text

REFUSAL = Concept(
    "refusal of military service",
    ("dienstweigering", "dienstweigeraars"),
    {"nl": ("weigeren te vechten", "niet in het leger willen"), "en": ("refuse to fight", "draft dodger")},
)

AUTOMATIC = Concept("by operation of law", ("van rechtswege",), {"nl": ("automatisch",), "en": ("automatically",)})


def with_thesaurus(r: Retriever, thesaurus: Thesaurus) -> Retriever:
    """The same index searched with another thesaurus (the Retriever receives its query files)."""
    return Retriever(r.index_dir, r.encoder, QueryFiles(r.lexicon, thesaurus, r.gazetteer))

def corpus_terms(t: Thesaurus, question: str, language: str, bridges=None) -> list[str]:
    """The corpus words of the concepts `t` matches in the question, each once, in thesaurus order."""
    return terms_of(t.matches(question, language, bridges))


def test_an_expression_matches_when_all_its_content_words_are_in_the_question_in_any_order():
    t = Thesaurus([REFUSAL, AUTOMATIC])
    assert corpus_terms(t, "Wat gebeurt er met Russen die weigeren om in Oekraïne te vechten?", "nl") == [
        "dienstweigering",
        "dienstweigeraars",
    ]
    assert corpus_terms(t, "Vechten zij liever niet, en weigeren zij?", "nl") == ["dienstweigering", "dienstweigeraars"]
    # one content word of two is not enough; stop words ('te', 'in', 'het') do not count
    assert corpus_terms(t, "Wie weigert een verblijfsvergunning?", "nl") == []
    assert corpus_terms(t, "Wat staat er in het leger?", "nl") == []
    assert corpus_terms(t, "Geldt dat automatisch voor dienstweigeraars die niet willen vechten?", "nl") == [
        "van rechtswege"
    ]


def test_english_expressions_match_with_english_stemming_and_only_english_questions():
    t = Thesaurus([REFUSAL])
    assert corpus_terms(t, "Can Russians refusing to fight get asylum?", "en") == ["dienstweigering", "dienstweigeraars"]
    assert corpus_terms(t, "What about draft dodgers?", "en") == ["dienstweigering", "dienstweigeraars"]
    # a question is matched with the expressions of its language; one without function words with both
    assert query_text("Krijgt een draft dodger asiel?", Lexicon({}), t) == "Krijgt een draft dodger asiel?"
    assert query_text("draft dodger asiel", Lexicon({}), t) == "draft dodger asiel dienstweigering dienstweigeraars"


def test_a_negation_is_part_of_an_expression_but_does_not_bridge():
    admissible = Concept("inadmissible", ("niet-ontvankelijk",), {"nl": ("niet toegelaten",), "en": ("not admissible",)})
    t = Thesaurus([admissible])
    assert corpus_terms(t, "Is the application admissible?", "en") == []
    assert corpus_terms(t, "Why is the application not admissible?", "en") == ["niet-ontvankelijk"]
    assert corpus_terms(t, "Wordt hij toegelaten?", "nl") == []
    # 'niet' is no word of the index, but it is not what the expression bridges
    assert corpus_terms(t, "Wordt hij niet toegelaten?", "nl", lambda w: w != "toegelaten") == []
    assert corpus_terms(t, "Wordt hij niet toegelaten?", "nl", lambda w: True) == ["niet-ontvankelijk"]


def test_the_lexical_query_gets_the_corpus_words_of_the_matched_concepts():
    lex = Lexicon({"asiel": ["asylum"], "rus": ["russians"]})
    t = Thesaurus([REFUSAL, AUTOMATIC])
    assert query_text("Can Russians refusing to fight get asylum?", lex, t) == (
        "can rus refusing to fight get asiel dienstweigering dienstweigeraars"
    )
    assert query_text("Krijgen Russen die weigeren te vechten asiel?", lex, t) == (
        "Krijgen Russen die weigeren te vechten asiel? dienstweigering dienstweigeraars"
    )
    assert query_text("Wat is de beslistermijn?", lex, t) == "Wat is de beslistermijn?"


def test_with_the_index_vocabulary_an_expression_counts_only_when_it_bridges_a_word_the_index_lacks():
    lex = Lexicon({"moratorium": ["moratorium"], "vechten": ["fight"]})
    ban = Concept("exceptions", ("uitgezonderd",), {"nl": ("niet onder het moratorium",), "en": ("fight the moratorium",)})
    t = Thesaurus([REFUSAL, ban])
    vocab = set(tokenize("moratorium dienstweigering uitgezonderd"))  # stems, as the index holds them
    question = "Valt wie weigert te vechten niet onder het moratorium?"
    assert query_text(question, lex, t) == f"{question} dienstweigering dienstweigeraars uitgezonderd"
    # 'moratorium' is a term of the index: that expression adds nothing; 'vechten' is not one
    assert query_text(question, lex, t, vocab) == f"{question} dienstweigering dienstweigeraars"
    assert query_text(question, lex, t, vocab | {"vecht", "weiger"}) == question
    # in an English question a word the lexicon translates is not bridged either
    assert query_text("Can they fight the moratorium?", lex, t, vocab) == "can they vechten the moratorium"
    assert query_text("Can they fight the moratorium?", Lexicon({}), t, vocab) == (
        "Can they fight the moratorium? uitgezonderd"
    )


def test_only_the_corpus_words_the_index_has_are_added_and_shown():
    """An index of some of the documents (the shipped note alone) lacks other documents' words;
    searching for them would only lower the question's term coverage."""
    t = Thesaurus([Concept("refusal", ("dienstweigering", "desertie"), {"nl": ("weigeren te vechten",)})])
    question = "Wat als iemand weigert te vechten?"
    q = build_lexical_query(question, Lexicon({}), t, set(tokenize("dienstweigering")))
    assert q.text == f"{question} dienstweigering"
    assert [(m.expression, m.terms) for m in q.thesaurus] == [("weigeren te vechten", ("dienstweigering",))]
    none = build_lexical_query(question, Lexicon({}), t, set(tokenize("moratorium")))
    assert none.text == question and none.thesaurus == ()  # nothing to add: no match is reported


def test_a_question_in_everyday_words_finds_the_passage_in_legal_words(tmp_path):
    r = fake_retriever(tmp_path, {"nota.txt":
        "---\ntitle: Nota\n---\nDienstweigering\nDienstweigering kan leiden tot bescherming wanneer de straf die erop staat onevenredig zwaar is.\n\n"
        "Termijn\nDe beslistermijn wordt verlengd met negen maanden voor alle asielaanvragen die in 2022 zijn ingediend.\n",
    })  # fmt: skip
    question = "Wat als iemand weigert te vechten?"  # 'weigert' is not 'weigeren': the -t counts without it
    assert with_thesaurus(r, Thesaurus([])).search(question, k=2, mode="lexical").hits == []  # no word in common
    hit = with_thesaurus(r, Thesaurus([REFUSAL])).search(question, k=2, mode="lexical").hits[0]
    assert "Dienstweigering kan leiden" in hit.passage.text
    assert hit.quote.startswith("Dienstweigering kan leiden")  # the quote is chosen with the added words too


def test_a_malformed_thesaurus_file_says_what_is_wrong(tmp_path):
    bad = tmp_path / "t.yaml"
    for text, message in [
        ("concepts: {a: b}\n", "must hold 'concepts:', a list"),
        ("- concept: x\n  corpus: [y]\n", "must hold 'concepts:', a list"),  # the list without its key
        ("concepts:\n  - concept: x\n    nl: [iets]\n", "concept 1 .*'corpus'"),
        ("concepts:\n  - concept: x\n    corpus: dienstweigering\n", "'corpus' of concept 1 \\(x\\) must be a list"),
        ("concepts:\n  - concept: x\n    corpus: [y]\n    nl: weigeren\n", "'nl' of concept 1 \\(x\\) must be a list"),
    ]:
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            Thesaurus.load(bad)


def test_concepts_and_matches_can_be_hashed():
    assert len({REFUSAL, AUTOMATIC, REFUSAL}) == 2
    assert len(set(Thesaurus([REFUSAL]).matches("Wat als iemand weigert te vechten?", "nl"))) == 1


def test_shipped_thesaurus_is_well_formed():
    data = yaml.safe_load(THESAURUS.read_text(encoding="utf-8"))
    t = Thesaurus.load()
    assert len(t.concepts) >= 50
    expressions = 0
    for item in data["concepts"]:
        assert item["corpus"] and all(isinstance(w, str) and w.strip() for w in item["corpus"])
        for lang in ("nl", "en"):
            listed = [fold(e) for e in item.get(lang) or []]
            assert len(set(listed)) == len(listed), f"{item['concept']!r} repeats an expression"
            assert all(1 <= len(e.split()) <= 4 for e in listed), item["concept"]
            expressions += len(listed)
    # every expression has content words, or it would match every question
    assert sum(len(v) for v in t.entries.values()) == expressions


def test_shipped_thesaurus_points_only_to_words_of_the_corpus(shared_corpus):
    """Its corpus words occur in the shipped note or in ../shared/corpus, as written."""
    texts = [p.read_text(encoding="utf-8") for p in shared_corpus.glob("*.txt")]
    texts += [p.read_text(encoding="utf-8") for p in (shared_corpus.parent / "seed").glob("*.txt")]
    corpus = fold(re.sub(r"\s+", " ", " ".join(texts)))
    missing = [w for c in Thesaurus.load().concepts for w in c.corpus if fold(w) not in corpus]
    assert not missing, f"corpus words not in the corpus: {missing}"


def test_the_result_says_which_expressions_widened_the_word_search(tmp_path):
    from retrieval.__main__ import render_text

    r = fake_retriever(tmp_path, {"nota.txt":
        "---\ntitle: Nota\n---\nDienstweigering\nDienstweigering kan leiden tot bescherming wanneer de straf die erop staat onevenredig zwaar is.\n",
    })  # fmt: skip
    r = with_thesaurus(r, Thesaurus([REFUSAL, AUTOMATIC]))
    d = r.search("Wat als iemand weigert te vechten?", k=1).to_dict()
    assert d["thesaurus"] == [{
        "concept": "refusal of military service", "expression": "weigeren te vechten",
        "terms": ["dienstweigering", "dienstweigeraars"],
    }]  # fmt: skip
    assert "(thesaurus): ‘weigeren te vechten’ → dienstweigering, dienstweigeraars" in render_text(d)
    assert r.search("Wat als iemand weigert te vechten?", k=1, mode="dense").to_dict()["thesaurus"] == []
    plain = r.search("Wat is de straf?", k=1).to_dict()
    assert plain["thesaurus"] == [] and "thesaurus" not in render_text(plain)


def test_expansion_text_lists_each_expression_once_with_its_words_once():
    from retrieval.thesaurus import expansion_text

    pairs = [("asiel krijgen", ["internationale bescherming"]), ("weigeren te vechten", ["dienstweigering"]),
             ("asiel krijgen", ["internationale bescherming", "asielbescherming"])]  # fmt: skip
    assert expansion_text(pairs) == (
        "‘asiel krijgen’ → internationale bescherming, asielbescherming; ‘weigeren te vechten’ → dienstweigering"
    )


def test_a_broken_thesaurus_file_is_a_sentence_that_says_how_to_mend_it(tmp_path, monkeypatch):
    import retrieval.retriever as retriever_module
    from retrieval.retriever import RetrievalError

    broken = tmp_path / "thesaurus.yaml"
    broken.write_text("concepts:\n  - concept: x\n    corpus: [dienstweigering, \n    nl: [iets]\n", encoding="utf-8")
    monkeypatch.setattr(retriever_module, "default_thesaurus", lambda: Thesaurus.load(broken))
    with pytest.raises(RetrievalError) as err:
        fake_retriever(tmp_path, {"nota.txt": "---\ntitle: Nota\n---\nTekst van de nota over het moratorium.\n"})
    message = str(err.value)
    assert "retrieval/thesaurus.yaml cannot be read (" in message and "not valid YAML: while parsing" in message
    assert "git checkout -- retrieval/thesaurus.yaml" in message and "\n" not in message


def test_a_yaml_syntax_error_is_a_value_error_naming_the_file(tmp_path):
    from retrieval.yamlfile import read_yaml

    bad = tmp_path / "lexicon-en-nl.yaml"
    bad.write_text("terms:\n  opvang: [reception\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"lexicon-en-nl\.yaml: not valid YAML"):
        read_yaml(bad)
    with pytest.raises(ValueError, match="not valid YAML"):
        Lexicon.load(bad)
