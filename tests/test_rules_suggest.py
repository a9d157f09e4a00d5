"""Chat questions -> the rule to offer and the facts the question states unambiguously."""
from __future__ import annotations

import pytest

import rules
from rules.suggest import detection, suggest


def test_bvm_question_offers_bvm_with_age_nationality_and_desertion():
    s = suggest("Valt een 25-jarige Russische deserteur onder het moratorium?")
    assert s.rule_id == "bvm-dienstplichtigen"
    assert s.facts == {"age": 25, "nationality": "RU", "refused_or_deserted": True}
    assert s.evidence["age"] == "25-jarige" and s.evidence["refused_or_deserted"] == "deserteur"
    assert "category" not in s.facts  # a deserter may be a conscript or a soldier: not stated


def test_beslistermijn_question_offers_deadline_with_application_date():
    s = suggest("Wat is de beslistermijn voor een aanvraag van 1 juni 2022?")
    assert s.rule_id == "beslistermijn"
    assert s.facts == {"application_date": "2022-06-01"}
    assert s.evidence == {"application_date": "1 juni 2022"}


@pytest.mark.parametrize(
    "question, facts",
    [
        ("What is the decision deadline for an application filed on 2022-10-03?", {"application_date": "2022-10-03"}),
        ("Beslistermijn bij een besluitmoratorium, aanvraag ingediend 01-03-2022?",
         {"application_date": "2022-03-01", "moratorium": True}),
        ("Beslistermijn voor een aanvraag van 1 juni 2022 of 3 juli 2022?", {}),  # two dates: ambiguous
        ("Wat is de beslistermijn op 1 juni 2022?", {}),  # a date, but not said to be the application's
    ],
)
def test_dates_are_prefilled_only_when_unambiguous(question, facts):
    s = suggest(question)
    assert s.rule_id == "beslistermijn" and s.facts == facts


def test_english_bvm_question_and_category():
    s = suggest("Does the moratorium apply to a 30-year-old Russian conscript who deserted?")
    assert s.rule_id == "bvm-dienstplichtigen"
    assert s.facts == {"age": 30, "nationality": "RU", "category": "dienstplichtige", "refused_or_deserted": True}


def test_refugee_ground_question_offers_dienstweigering():
    assert suggest("Is a Russian deserter a refugee?").rule_id == "dienstweigering-vluchteling"


@pytest.mark.parametrize(
    "question",
    ["Wat is de hoofdstad van Frankrijk?", "Wat staat er in art. 43 Vw?", "How do I renew a driving licence?",
     "Wanneer is de mobilisatie afgerond?"],
)
def test_unrelated_questions_offer_no_rule(question):
    assert suggest(question) is None


def test_detection_names_existing_rules_and_facts():
    defined = rules.load_rules()
    for rule_id, spec in detection().items():
        assert rule_id in defined
        names = {f.name for f in defined[rule_id].facts}
        assert set(spec.get("facts") or {}) <= names


def test_prefilled_facts_are_valid_rule_input():
    s = suggest("Valt een 25-jarige Russische deserteur onder het moratorium?")
    result = rules.check(s.rule_id, s.facts, reference_date=__import__("datetime").date(2022, 10, 1)).to_dict()
    assert result["outcome"] == "insufficient-facts"  # category, war link, exclusions still to ask
    assert {"category", "related_to_ukraine_war"} <= set(result["missing_facts"])


@pytest.mark.parametrize("question, date, words", [
    ("Geldt het BVM voor een 25-jarige Russische deserteur die in oktober 2022 vertrok?", "2022-10-01", "oktober 2022"),
    ("Geldt het BVM op 15 maart 2023 nog voor een Russische deserteur?", "2023-03-15", "15 maart 2023"),
    ("Geldt het moratorium voor een 22-jarige Russische dienstweigeraar?", None, ""),
    ("Wat is de beslistermijn voor een aanvraag ingediend op 1 juni 2022?", None, ""),  # the date is the application's
])  # fmt: skip
def test_the_date_a_question_is_about_becomes_the_reference_date(question, date, words):
    s = suggest(question)
    assert (s.reference_date, s.reference_words) == (date, words)
