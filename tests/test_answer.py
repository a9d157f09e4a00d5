"""Confidence in three levels (retrieval/fusion.py), the answer line (retrieval/answer.py) and
references in the chat that go to exact lookup or say they are not in the corpus."""
from __future__ import annotations

import dataclasses

import pytest

from retrieval import fusion
from retrieval.fusion import ConfidenceModel, Params, Signals
from tests.test_retrieval import index, retriever  # noqa: F401  (fixtures)

MODEL = ConfidenceModel(features=("margin", "coverage"), center=(0.0, 0.5), scale=(0.1, 0.25), weights=(2.0, 1.0),
                        bias=0.0, high=0.8, low=0.5)  # fmt: skip


def signals(**kw) -> Signals:
    return Signals(**{"shown": 5, "exact_reference": False, "coverage": 0.5, "margin": 0.0, **kw})


def test_the_logistic_model_gives_three_levels():
    p = Params(confidence=MODEL)
    assert fusion.probability(signals(), MODEL) == pytest.approx(0.5)
    assert fusion.confidence(signals(margin=0.2), "hybrid", p) == "high"  # z = 4
    assert fusion.confidence(signals(margin=0.01), "hybrid", p) == "low"  # z = 0.2: p 0.55
    assert fusion.confidence(signals(margin=-0.1), "hybrid", p) == "none"
    assert fusion.answerable(signals(margin=0.01), "hybrid", p) and not fusion.answerable(signals(margin=-0.1), "hybrid", p)


def test_hard_rules_come_before_the_model():
    p = Params(confidence=MODEL)
    assert fusion.confidence(signals(margin=-1.0, exact_reference=True), "hybrid", p) == "high"
    assert fusion.confidence(signals(margin=1.0, unknown_places=("Jemen",)), "hybrid", p) == "none"
    assert fusion.confidence(signals(margin=1.0, shown=0), "hybrid", p) == "none"


def test_without_a_model_and_outside_hybrid_mode_the_margin_and_coverage_rules_decide():
    p = Params(min_margin=0.02, confidence=MODEL)
    assert fusion.confidence(signals(margin=0.03), "dense", p) == "high"
    assert fusion.confidence(signals(margin=0.01), "dense", p) == "none"
    assert fusion.confidence(signals(coverage=0.6), "lexical", p) == "high"
    assert fusion.confidence(signals(coverage=0.4), "lexical", p) == "none"
    assert fusion.confidence(signals(margin=0.01), "hybrid", Params(min_margin=0.02)) == "none"


def test_a_model_round_trips_and_names_unknown_features():
    assert ConfidenceModel.from_dict(MODEL.to_dict()) == MODEL
    with pytest.raises(ValueError, match="unknown confidence feature.*choose from margin"):
        ConfidenceModel.from_dict({**MODEL.to_dict(), "features": ["margin", "length"]})
    with pytest.raises(ValueError, match="one center, scale and weight per feature"):
        ConfidenceModel.from_dict({**MODEL.to_dict(), "weights": [1.0]})


def test_agreement_is_the_share_of_the_dense_top_in_the_lexical_top():
    dense = {1: 0.9, 2: 0.8, 3: 0.7, 4: 0.6, 5: 0.5, 6: 0.4}
    assert fusion.agreement(dense, {1: 3.0, 2: 2.0, 9: 1.0}) == pytest.approx(0.4)
    assert fusion.agreement(dense, {}) == 0.0


def test_the_answer_line_is_the_leading_quote_verbatim_with_its_citation(retriever):  # noqa: F811
    res = retriever.search("Tot welke leeftijd geldt het moratorium voor dienstplichtigen?", k=3)
    assert res.confidence in ("high", "low") and res.answer is not None
    lead = res.hits[res.answer.passage]
    assert res.answer.quote in lead.passage.text and res.answer.quote == lead.quote
    assert res.answer.citation == lead.passage.citation and res.answer.quote in res.answer.text
    d = res.to_dict()
    assert d["confidence"] == res.confidence and d["answer"]["quote"] in d["passages"][d["answer"]["passage"]]["text"]


def test_no_answer_line_without_confidence(retriever, monkeypatch):  # noqa: F811
    retriever.params = dataclasses.replace(retriever.params, min_margin=5.0)
    res = retriever.search("Hoe verleng ik mijn rijbewijs?", k=3)
    assert res.confidence == "none" and not res.answerable and res.answer is None
    assert res.to_dict()["answer"] is None


def test_a_bare_reference_shows_only_its_own_passages(retriever):  # noqa: F811
    res = retriever.search("art. 43 Vw", k=5)
    assert res.hits and all(h.reference_match > 0 for h in res.hits)
    assert res.hits[0].passage.citation == "Vreemdelingenwet 2000, art. 43 lid 1"
    assert res.confidence == "high" and not res.missing_references


def test_a_reference_not_in_the_corpus_is_said_with_the_nearest_existing_ones(retriever):  # noqa: F811
    res = retriever.search("art. 44 Vw", k=5)
    assert res.hits == [] and res.confidence == "none" and res.answer is None
    [missing] = res.missing_references
    assert missing.reference.text == "art. 44 Vw"
    assert missing.suggestions[:2] == ("art. 43 Vw", "art. 45 Vw")
    assert res.to_dict()["missing_references"] == [{"reference": "art. 44 Vw", "suggestions": list(missing.suggestions)}]


def test_a_question_about_a_missing_reference_is_at_most_possibly_relevant(retriever):  # noqa: F811
    retriever.params = dataclasses.replace(retriever.params, min_margin=-5.0)  # the margin alone would answer
    res = retriever.search("Wat zegt art. 44 Vw over de termijn die wordt verlengd?", k=3)
    assert res.missing_references and res.hits
    assert res.confidence == "low"


@pytest.fixture(scope="module")
def letters(tmp_path_factory):
    """A fake-encoder index of the Kamerbrief that extends the BVM and the IND news item."""
    import shutil

    from indexer.build import build
    from indexer.encoders.fake import FakeEncoder
    from retrieval.retriever import Retriever
    from tests.conftest import REPO

    root = tmp_path_factory.mktemp("letters")
    (root / "c").mkdir()
    for name in ("kamerbrief-2022-12-13-kst-19637-3018.txt", "ind-nieuws-2022-12-28-bvm-verlengd.txt"):
        shutil.copy(REPO / "corpus" / name, root / "c" / name)
    build([root / "c"], root / "ix", FakeEncoder())
    return Retriever(root / "ix", FakeEncoder())


@pytest.mark.parametrize("question", ["Tot wanneer geldt het BVM?", "Until when does the departure moratorium apply?"])
def test_a_question_about_when_the_bvm_applies_gets_the_rules_period_from_its_source(letters, question):
    res = letters.search(question, k=3)
    a = res.answer
    assert res.confidence == "high" and a is not None and a.rule["id"] == "bvm-dienstplichtigen"
    assert (a.rule["from"], a.rule["until"]) == ("2022-06-29", "2023-06-29")
    assert "van 29-06-2022 tot 29-06-2023 (na verlenging)" in a.text
    cited = res.hits[a.passage].passage
    assert cited.doc_id == "kamerbrief-2022-12-13-kst-19637-3018" and a.quote in cited.text
    assert a.quote == "te verlengen voor de duur van een half jaar tot 29 juni 2023"  # the rule's until_source phrase
    assert len(res.hits) <= 3 and res.to_dict()["answer"]["rule"]["id"] == "bvm-dienstplichtigen"


def test_other_questions_about_the_bvm_get_no_rule_answer(letters):
    res = letters.search("Wat houdt het BVM in voor Russische dienstplichtigen?", k=3)
    assert res.answer is None or res.answer.rule is None


def test_a_question_that_asks_more_than_the_period_keeps_its_passages(letters, monkeypatch):
    import retrieval.retriever as retriever_module

    alone = letters.search("Tot wanneer geldt het BVM?", k=1)
    assert alone.hits[0].passage.doc_id == "kamerbrief-2022-12-13-kst-19637-3018"  # put first: it states the end
    question = "Met hoeveel tijd adviseert de staatssecretaris het BVM te verlengen, en tot wanneer?"
    more = letters.search(question, k=1)
    monkeypatch.setattr(retriever_module, "asks_period", lambda q: None)  # the same search without the rule
    plain = letters.search(question, k=1)
    assert plain.hits[0].passage.doc_id != "kamerbrief-2022-12-13-kst-19637-3018"  # the rule's passage was not found
    assert [h.passage.passage_id for h in more.hits] == [h.passage.passage_id for h in plain.hits]  # nor put in
    if more.answer is not None and more.answer.rule is not None:  # the rule's passage was found by the search itself
        assert more.hits[more.answer.passage].passage.doc_id == "kamerbrief-2022-12-13-kst-19637-3018"


@pytest.mark.parametrize("question", ["Wat gebeurt er met opvang als een vertrekmoratorium afloopt?",
                                      "Hoe lang wordt de beslistermijn verlengd bij een besluitmoratorium?"])
def test_questions_that_name_a_moratorium_without_asking_its_period_get_no_rule_answer(question):
    from rules.suggest import asks_period

    assert asks_period(question) is None
