"""Unit tests of the rules engine: three-valued logic, operators, calendar arithmetic, fact and
rule-file validation, the result's JSON shape, and the README's fourth-rule example."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

import rules
from rules.dates import add_months, easter_sunday, load_calendar
from rules.errors import FactError, RuleDefinitionError, RuleError, UnknownRuleError
from rules.loader import load_rule
from rules.logic import Context, Reading, evaluate, k_and, k_not, k_or
from tests.conftest import REPO

T, F, U = True, False, None


# --- three-valued logic ---------------------------------------------------------------------

@pytest.mark.parametrize("values,expected", [
    ([T, T], T), ([T, F], F), ([F, U], F), ([T, U], U), ([U, U], U), ([], T)])
def test_kleene_and(values, expected):
    assert k_and(values) is expected


@pytest.mark.parametrize("values,expected", [
    ([F, F], F), ([T, F], T), ([T, U], T), ([F, U], U), ([U, U], U), ([], F)])
def test_kleene_or(values, expected):
    assert k_or(values) is expected


def test_kleene_not():
    assert (k_not(T), k_not(F), k_not(U)) == (F, T, U)


def _ctx(**facts) -> Context:
    return Context(facts=facts, param=lambda name: {"low": 18, "high": 27, "start": date(2022, 9, 27)}[name],
                   reference_date=date(2022, 10, 1))


def _eval(node, **facts):
    return evaluate(node, _ctx(**facts), Reading())


def test_missing_fact_is_unknown_and_named():
    assert _eval({"fact": "age", "gte": 18}) == (None, frozenset({"age"}))


def test_known_true_decides_any_despite_unknown():
    node = {"any": [{"fact": "age", "gte": 18}, {"fact": "flag", "eq": True}]}
    assert _eval(node, flag=True) == (True, frozenset())
    assert _eval(node, flag=False) == (None, frozenset({"age"}))


def test_known_false_decides_all_despite_unknown():
    node = {"all": [{"fact": "age", "gte": 18}, {"fact": "flag", "eq": True}]}
    assert _eval(node, flag=False) == (False, frozenset())
    assert _eval({"not": node}, flag=False) == (True, frozenset())


def test_ref_carries_missing_facts():
    ctx = _ctx()
    ctx.results["adult"] = (None, frozenset({"age"}))
    assert evaluate({"not": {"ref": "adult"}}, ctx, Reading()) == (None, frozenset({"age"}))


@pytest.mark.parametrize("node,facts,expected", [
    ({"fact": "age", "between": [{"param": "low"}, {"param": "high"}]}, {"age": 18}, True),
    ({"fact": "age", "between": [{"param": "low"}, {"param": "high"}]}, {"age": 27}, True),
    ({"fact": "age", "between": [{"param": "low"}, {"param": "high"}]}, {"age": 28}, False),
    ({"fact": "age", "between": [{"param": "low"}, {"param": "high"}]}, {"age": 17}, False),
    ({"fact": "x", "in": ["a", "b"]}, {"x": "b"}, True),
    ({"fact": "x", "not_in": ["a", "b"]}, {"x": "b"}, False),
    ({"fact": "xs", "contains_any": ["1F"]}, {"xs": []}, False),
    ({"fact": "xs", "contains_any": ["1F", "spoor-2"]}, {"xs": ["spoor-2"]}, True),
    ({"fact": "xs", "contains_all": ["a", "b"]}, {"xs": ["a"]}, False),
    ({"fact": "d", "is_null": True}, {"d": None}, True),
    ({"fact": "d", "is_null": True}, {"d": date(2022, 1, 1)}, False),
    ({"fact": "d", "after": {"param": "start"}}, {"d": None}, False),
    ({"fact": "d", "after": {"param": "start"}}, {"d": date(2022, 9, 27)}, False),
    ({"fact": "d", "on_or_after": {"param": "start"}}, {"d": date(2022, 9, 27)}, True),
    ({"fact": "d", "before": {"param": "start"}}, {"d": date(2022, 9, 26)}, True),
    ({"value": {"add_months": [{"fact": "d"}, 6]}, "eq": date(2023, 2, 28)}, {"d": date(2022, 8, 31)}, True),
    ({"value": {"reference_date": True}, "eq": date(2022, 10, 1)}, {}, True),
])
def test_operators(node, facts, expected):
    assert _eval(node, **facts)[0] is expected


def test_ordered_comparison_rejects_mixed_types():
    with pytest.raises(RuleError, match="two numbers or two dates"):
        _eval({"fact": "age", "gte": "18"}, age=20)
    with pytest.raises(RuleError, match="compares dates"):
        _eval({"fact": "age", "after": 18}, age=20)


# --- calendar arithmetic --------------------------------------------------------------------

@pytest.mark.parametrize("start,months,expected", [
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2022, 8, 31), 6, date(2023, 2, 28)),
    (date(2023, 8, 31), 6, date(2024, 2, 29)),
    (date(2022, 8, 31), 15, date(2023, 11, 30)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2022, 6, 1), 15, date(2023, 9, 1)),
    (date(2022, 12, 31), 0, date(2022, 12, 31)),
])
def test_add_months_clamps_to_month_end(start, months, expected):
    assert add_months(start, months) == expected


@pytest.mark.parametrize("year,expected", [
    (2019, date(2019, 4, 21)), (2022, date(2022, 4, 17)), (2023, date(2023, 4, 9)),
    (2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2038, date(2038, 4, 25))])
def test_easter(year, expected):
    assert easter_sunday(year) == expected


def test_dutch_holidays():
    cal = load_calendar("nl-feestdagen")
    h2024, h2025 = cal.holidays_in(2024), cal.holidays_in(2025)
    assert h2024[date(2024, 4, 1)] == "Tweede Paasdag"
    assert h2024[date(2024, 5, 9)] == "Hemelvaartsdag"
    assert h2024[date(2024, 5, 20)] == "Tweede Pinksterdag"
    assert h2024[date(2024, 4, 27)] == "Koningsdag"
    assert h2025[date(2025, 4, 26)] == "Koningsdag"  # 27 April 2025 is a Sunday
    assert date(2025, 4, 27) not in h2025
    assert cal.holidays_in(2006)[date(2006, 4, 29)] == "Koninginnedag"  # 30 April 2006 was a Sunday
    assert h2025[date(2025, 5, 5)] == "Bevrijdingsdag"
    assert cal.holidays_in(2026)[date(2026, 5, 5)] == "Bevrijdingsdag"  # every year (art. 3 Atw)
    assert {date(2024, 1, 1), date(2024, 12, 25), date(2024, 12, 26)} <= set(h2024)
    assert date(2024, 3, 29) not in h2024  # Goede Vrijdag is no algemeen erkende feestdag


def test_next_working_day_skips_weekend_and_holidays():
    cal = load_calendar("nl-feestdagen")
    assert cal.next_working_day(date(2024, 3, 30)) == date(2024, 4, 2)  # Sat, Easter Sun, Easter Mon
    assert cal.non_working_reason(date(2024, 3, 31)) == "zondag, Eerste Paasdag"
    assert cal.non_working_reason(date(2024, 3, 28)) is None


# --- facts: clear errors naming the fact, the value and the allowed choices --------------------

GOOD_BVM = {"nationality": "RUS", "category": "dienstplichtige", "age": 22, "refused_or_deserted": True,
            "related_to_ukraine_war": True, "exclusions": []}


@pytest.mark.parametrize("fact,value,pattern", [
    ("age", "22", r"fact 'age': expected an integer"),
    ("age", True, r"fact 'age': expected an integer"),
    ("age", -1, r"fact 'age': -1 is out of range; allowed: 0 to 130"),
    ("refused_or_deserted", "yes", r"fact 'refused_or_deserted': expected true or false"),
    ("category", "soldaat", r"fact 'category': 'soldaat' is not allowed; allowed: dienstplichtige, gemobiliseerde, beroepsmilitair, anders"),
    ("exclusions", ["1f"], r"fact 'exclusions': '1f' is not allowed; allowed: spoor-2, openbare-orde, 1F"),
    ("exclusions", "1F", r"fact 'exclusions': expected a list of allowed values"),
    ("nationality", "Russia", r"fact 'nationality': 'RUSSIA' does not match"),
    ("nationality", 643, r"fact 'nationality': expected a string"),
])
def test_fact_errors(fact, value, pattern):
    with pytest.raises(FactError, match=pattern):
        rules.check("bvm-dienstplichtigen", {**GOOD_BVM, fact: value}, date(2022, 10, 1))


@pytest.mark.parametrize("value", ["01-06-2022", "2022-6-1", "2022-02-30", 20220601])
def test_date_fact_errors(value):
    with pytest.raises(FactError, match=r"fact 'application_date': expected an ISO date \(YYYY-MM-DD\)"):
        rules.check("beslistermijn", {"application_date": value}, date(2022, 10, 1))


def test_unknown_fact_lists_allowed_names():
    with pytest.raises(FactError) as info:
        rules.check("beslistermijn", {"aplication_date": "2022-06-01"})
    assert str(info.value) == ("unknown fact 'aplication_date' for rule 'beslistermijn'; allowed: "
                               "application_date, decision_date, moratorium, reference_date")


def test_unknown_rule_lists_ids():
    with pytest.raises(UnknownRuleError) as info:
        rules.check("bvm", {})
    assert str(info.value) == "unknown rule 'bvm'; allowed: beslistermijn, bvm-dienstplichtigen, dienstweigering-vluchteling"


def test_unknown_preset_lists_ids():
    with pytest.raises(FactError, match="unknown preset 'x' for rule 'dienstweigering-vluchteling'; allowed: russische-gemobiliseerde-oekraine"):
        rules.check("dienstweigering-vluchteling", {}, presets=["x"])


def test_reference_date_given_twice_must_agree():
    facts = {**GOOD_BVM, "reference_date": "2022-10-01"}
    assert rules.check("bvm-dienstplichtigen", facts, date(2022, 10, 1)).outcome == "applies"
    with pytest.raises(FactError, match="reference date given twice"):
        rules.check("bvm-dienstplichtigen", facts, date(2023, 10, 1))
    with pytest.raises(FactError, match="reference_date': expected an ISO date"):
        rules.check("bvm-dienstplichtigen", {**GOOD_BVM, "reference_date": "1-10-2022"})


def test_reference_date_defaults_to_today():
    result = rules.check("dienstweigering-vluchteling", {})
    assert result.reference_date == date.today()


def test_caller_facts_are_not_modified():
    facts = {"g1_no_alternative": True}
    rules.check("dienstweigering-vluchteling", facts, presets=["russische-gemobiliseerde-oekraine"])
    assert facts == {"g1_no_alternative": True}


# --- the result as data ------------------------------------------------------------------

RESULT_KEYS = {"rule", "title", "rule_version", "reference_date", "outcome", "outcome_label", "explanation",
               "missing_facts", "facts", "presets_applied", "consequences", "notes", "parameters", "trace"}
STEP_RESULTS = {"true", "false", "unknown", "not-tested"}


@pytest.mark.parametrize("rule_id,facts,outputs", [
    ("bvm-dienstplichtigen", GOOD_BVM, set()),
    ("beslistermijn", {"application_date": "2022-06-01", "decision_date": None, "moratorium": False},
     {"deadline", "months", "extensions"}),
    ("dienstweigering-vluchteling", {"g1_conflict_war_crimes": False}, {"grounds_met"}),
])
def test_result_json_shape(rule_id, facts, outputs):
    out = rules.check(rule_id, facts, date(2022, 10, 1)).to_dict()
    assert set(out) == RESULT_KEYS | outputs
    assert json.loads(json.dumps(out)) == out
    assert re.fullmatch(r"sha256:[0-9a-f]{16}", out["rule_version"])
    assert out["reference_date"] == "2022-10-01"
    assert [s["step"] for s in out["trace"]] == list(range(1, len(out["trace"]) + 1))
    for step in out["trace"]:
        assert {"step", "kind", "id", "description", "result", "source"} <= set(step)
        assert step["result"] in STEP_RESULTS
        if step["source"]:
            assert step["source"]["citation"]
    assert out["trace"][-1]["kind"] == "decision"


def test_outputs_present_even_when_insufficient():
    out = rules.check("beslistermijn", {}, date(2022, 10, 1)).to_dict()
    assert (out["outcome"], out["deadline"], out["months"], out["extensions"]) == ("insufficient-facts", None, None, [])
    out = rules.check("dienstweigering-vluchteling", {}, date(2022, 10, 1)).to_dict()
    assert out["grounds_met"] == []


def test_same_input_same_output():
    facts = {"application_date": "2022-06-01", "decision_date": None, "moratorium": True}
    assert rules.check("beslistermijn", facts, date(2022, 10, 1)).to_dict() == \
        rules.check("beslistermijn", facts, date(2022, 10, 1)).to_dict()


def test_rule_version_is_the_file_hash(tmp_path: Path):
    import hashlib

    rule = rules.get_rule("beslistermijn")
    assert rule.version == "sha256:" + hashlib.sha256(rule.path.read_bytes()).hexdigest()[:16]
    copy = tmp_path / "beslistermijn.yaml"
    shutil.copy(rule.path, copy)
    assert load_rule(copy).version == rule.version
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert load_rule(copy).version != rule.version


def test_rule_describes_its_facts_for_forms():
    described = {r["id"]: r for r in (rule.to_dict() for rule in rules.load_rules().values())}
    bvm = {f["name"]: f for f in described["bvm-dienstplichtigen"]["facts"]}
    assert bvm["category"]["allowed_values"] == ["dienstplichtige", "gemobiliseerde", "beroepsmilitair", "anders"]
    assert bvm["category"]["question"].endswith("?")
    assert bvm["exclusions"]["type"] == "list-of-enum"
    decision = {f["name"]: f for f in described["beslistermijn"]["facts"]}["decision_date"]
    assert decision["nullable"] and decision["null_label"] == "nog niet beslist"
    preset = described["dienstweigering-vluchteling"]["presets"][0]
    assert [(f["fact"], f["value"], f["kind"]) for f in preset["facts"]] == [
        ("g1_conflict_war_crimes", True, "prefill"), ("g1_direct_participation", True, "prefill"),
        ("g1_no_alternative", False, "hint")]
    assert all(f["source"]["page"] == 3 for f in preset["facts"])


def test_presets_are_traced_with_their_source():
    out = rules.check("dienstweigering-vluchteling", {"g1_no_alternative": True}, date(2023, 1, 1),
                      presets=["russische-gemobiliseerde-oekraine"]).to_dict()
    assert [(p["fact"], p["used"]) for p in out["presets_applied"]] == [
        ("g1_conflict_war_crimes", True), ("g1_direct_participation", True)]
    assert out["trace"][0]["kind"] == "preset" and out["trace"][0]["source"]["page"] == 3


# --- rule files: errors name the file, the place and the allowed choices ---------------------

def _mini() -> dict:
    return {
        "id": "mini", "title": "Mini", "documents": {"doc.txt": "Doc", "note.pdf": "Note"},
        "facts": [
            {"name": "age", "type": "int", "label": "Leeftijd", "question": "Hoe oud?"},
            {"name": "kind", "type": "enum", "label": "Soort", "question": "Welke soort?",
             "values": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
        ],
        "conditions": [{"id": "adult", "description": "Meerderjarig", "test": {"fact": "age", "gte": 18},
                        "source": {"document": "doc.txt", "phrase": "achttien jaar"}}],
        "outcomes": [{"id": "ja", "outcome": "adult", "when": {"ref": "adult"}, "label": "Meerderjarig"},
                     {"id": "nee", "outcome": "minor", "otherwise": True, "label": "Minderjarig"}],
    }


def _write(tmp_path: Path, data: dict, name: str = "mini") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_minimal_rule_runs(tmp_path: Path):
    _write(tmp_path, _mini())
    assert rules.check("mini", {"age": 20}, directory=tmp_path).outcome == "adult"
    assert rules.check("mini", {"age": 10}, directory=tmp_path).outcome == "minor"
    result = rules.check("mini", {}, directory=tmp_path)
    assert (result.outcome, result.missing_facts) == ("insufficient-facts", ["age"])


def _break(path: list, value):
    data = _mini()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize("data,pattern", [
    (_break(["conditions", 0, "test"], {"fact": "age", "greater": 18}), r"one operator.*Operators: eq, ne, in"),
    (_break(["conditions", 0, "test"], {"fact": "agee", "gte": 18}), r"unknown fact 'agee'; allowed: age, kind"),
    (_break(["conditions", 0, "test"], {"fact": "kind", "eq": "c"}), r"'c' is not a value of fact 'kind'; allowed: a, b"),
    (_break(["conditions", 0, "test"], {"fact": "age", "gte": {"param": "x"}}), r"unknown parameter 'x'"),
    (_break(["conditions", 0, "test"], {"ref": "later"}), r"ref 'later' is not an earlier condition"),
    (_break(["conditions", 0, "test"], {"fact": "age", "between": 18}), r"'between' needs a list"),
    (_break(["conditions", 0, "source", "document"], "other.txt"), r"document 'other.txt' is not listed.*allowed: doc.txt, note.pdf"),
    (_break(["conditions", 0, "source"], {"document": "doc.txt"}), r"'phrase' .* is required"),
    (_break(["conditions", 0, "source"], {"document": "note.pdf", "phrase": "x"}), r"needs 'page'"),
    (_break(["facts", 0, "type"], "integer"), r"unknown type 'integer'; allowed: int, bool, date, enum, list-of-enum, str"),
    (_break(["id"], "other"), r"'other' must equal the file name 'mini'"),
    (_break(["colour"], "blue"), r"unknown key\(s\) colour; allowed:"),
    (_break(["outcomes", 0, "outcome"], "insufficient-facts"), r"given by the engine itself"),
    (_break(["outcomes"], [{"id": "nee", "outcome": "minor", "otherwise": True, "label": "x"},
                           {"id": "ja", "outcome": "adult", "when": {"ref": "adult"}, "label": "y"}]),
     r"'otherwise' must be the last entry"),
])
def test_rule_file_errors_name_file_and_choices(tmp_path: Path, data: dict, pattern: str):
    with pytest.raises(RuleDefinitionError, match=pattern) as info:
        load_rule(_write(tmp_path, data))
    assert str(info.value).startswith("mini.yaml: ")


def test_parameter_without_value_on_reference_date_is_reported(tmp_path: Path):
    data = _mini()
    data["parameters"] = {"min": {"description": "Minimum", "values": [
        {"from": date(2023, 1, 1), "value": 18, "source": {"document": "doc.txt", "phrase": "achttien"}}]}}
    data["conditions"][0]["test"] = {"fact": "age", "gte": {"param": "min"}}
    _write(tmp_path, data)
    assert rules.check("mini", {"age": 18}, date(2023, 1, 1), directory=tmp_path).outcome == "adult"
    with pytest.raises(RuleError, match=r"parameter 'min' has no value on 2022-12-31; values from: 2023-01-01"):
        rules.check("mini", {"age": 18}, date(2022, 12, 31), directory=tmp_path)


# --- the README's fourth rule: only a YAML file and its scenarios -------------------------

def _readme_blocks() -> list[dict]:
    text = (REPO / "rules" / "README.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]


def test_readme_fourth_rule_example(tmp_path: Path):
    from tests.test_rules_scenarios import run_scenario

    rule_data, scenario_file = _readme_blocks()
    rule = load_rule(_write(tmp_path, rule_data, rule_data["id"]))
    assert scenario_file["rule"] == rule.id
    for scenario in scenario_file["scenarios"]:
        run_scenario({"rule": rule.id, **scenario}, directory=tmp_path)


def test_readme_fourth_rule_phrases_are_verbatim(tmp_path: Path, shared_corpus: Path):
    from tests.test_rules_sources import located_text, normalise

    rule_data, _ = _readme_blocks()
    rule = load_rule(_write(tmp_path, rule_data, rule_data["id"]))
    for where, source in rule.sources():
        assert normalise(source.phrase) in located_text(source, shared_corpus), where


def test_a_rule_file_declares_plausible_dates_and_the_loader_checks_them(tmp_path):
    import datetime as dt

    import rules

    fact = {f.name: f for f in rules.get_rule("beslistermijn").facts}
    assert fact["application_date"].earliest == dt.date(2001, 4, 1) and fact["application_date"].latest == "today"
    assert fact["decision_date"].not_before == "application_date"
    assert fact["application_date"].to_dict()["latest"] == "today"
    src = (rules.DEFINITIONS_DIR / "beslistermijn.yaml").read_text(encoding="utf-8")
    for broken, message in [
        (src.replace("not_before: application_date", "not_before: moratorium"), "not_before 'moratorium' must name another date fact"),
        (src.replace("latest: today         #", "latest: morgen         #"), "latest must be a date (YYYY-MM-DD) or 'today'"),
    ]:
        (tmp_path / "beslistermijn.yaml").write_text(broken, encoding="utf-8")
        with pytest.raises(rules.RuleDefinitionError, match=message.replace("(", r"\(").replace(")", r"\)")):
            rules.load_rule(tmp_path / "beslistermijn.yaml")
