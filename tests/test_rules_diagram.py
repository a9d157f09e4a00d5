"""The decision diagram (DOT) and the term timeline, both built from a rule and its result."""
from __future__ import annotations

import re
from datetime import date

import rules
from rules.diagram import REACHED, STYLES, quote, refs, rule_dot, when_text
from rules.timeline import term_timeline

BVM = "bvm-dienstplichtigen"
CONSCRIPT = {"nationality": "RUS", "category": "dienstplichtige", "age": 25, "refused_or_deserted": True,
             "related_to_ukraine_war": True, "exclusions": []}  # fmt: skip


def node(dot: str, name: str) -> str:
    found = re.search(rf"^\s*{name} \[(.*)\];$", dot, re.M)
    assert found, f"no node {name}"
    return found.group(1)


def edges(dot: str) -> dict[tuple[str, str], str]:
    return {(a, b): attrs or "" for a, b, attrs in re.findall(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?;$", dot, re.M)}


def balanced(dot: str) -> bool:
    depth = 0
    for ch in re.sub(r'"(\\.|[^"\\])*"', "", dot):  # braces inside labels do not count
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def test_without_a_result_every_condition_and_outcome_is_drawn_plain():
    rule = rules.get_rule(BVM)
    dot = rule_dot(rule)
    assert dot.startswith("digraph rule {") and balanced(dot)
    for cond in rule.conditions:
        assert STYLES[None][0] in node(dot, f"c_{cond.id}")
    for entry in rule.outcomes:
        assert f"o_{entry.id.replace('-', '_')}" in dot
    assert "penwidth=2.6" not in dot  # no path yet


def test_the_path_taken_is_highlighted_and_the_outcome_reached_marked():
    rule = rules.get_rule(BVM)
    result = rules.check(BVM, CONSCRIPT, date(2022, 10, 1)).to_dict()
    dot = rule_dot(rule, result)
    assert balanced(dot)
    assert "✔ voldaan" in node(dot, "c_russian") and STYLES["true"][0] in node(dot, "c_russian")
    assert "✘ niet voldaan" in node(dot, "c_mobilised") and STYLES["false"][0] in node(dot, "c_mobilised")
    applies = node(dot, "o_van_toepassing")
    assert REACHED in applies and "penwidth=3" in applies
    e = edges(dot)
    # start -> validity -> not mobilised -> not out of scope -> not excluded -> applies, all on the path
    for a, b in [("start", "validity"), ("validity", "d_gemobiliseerde"), ("d_gemobiliseerde", "d_buiten_bereik"),
                 ("d_buiten_bereik", "d_uitgezonderd"), ("d_uitgezonderd", "o_van_toepassing")]:  # fmt: skip
        assert "penwidth=2.6" in e[(a, b)], (a, b)
    assert "penwidth" not in e[("d_gemobiliseerde", "o_gemobiliseerde")]  # not taken
    assert "style=dashed" in e[("c_age_in_range", "d_buiten_bereik")]  # the conditions a decision reads


def test_unknown_steps_are_dashed_and_lead_to_insufficient_facts():
    rule = rules.get_rule(BVM)
    result = rules.check(BVM, {"nationality": "RUS", "age": 25, "refused_or_deserted": True}, date(2022, 10, 1)).to_dict()
    dot = rule_dot(rule, result)
    conscript = node(dot, "c_conscript")
    assert "? onbekend" in conscript and "dashed" in conscript
    assert "Onvoldoende feiten: Categorie, Verband met de oorlog in Oekraïne, Uitzonderingsgronden" in node(
        dot, "o_insufficient").replace("\\n", " ")  # the officer's labels, not the facts' codes
    assert ("d_gemobiliseerde", "o_insufficient") in edges(dot)
    assert "d_insufficient_facts" not in dot  # no node for the engine's own closing step


def test_not_tested_conditions_and_guards_in_dienstweigering():
    rule = rules.get_rule("dienstweigering-vluchteling")
    facts = {"g1_conflict_war_crimes": True, "g1_direct_participation": True, "g1_no_alternative": True}
    dot = rule_dot(rule, rules.check(rule.id, facts, date(2022, 10, 1)).to_dict())
    assert "niet getoetst" in node(dot, "c_ground_2") and "dotted" in node(dot, "c_ground_2")
    assert "alleen als niet voldaan" in edges(dot)[("c_ground_1", "c_ground_2")]


def test_term_rule_shows_base_extensions_cap_and_deadline():
    rule = rules.get_rule("beslistermijn")
    result = rules.check("beslistermijn", {"application_date": "2022-06-01", "decision_date": None, "moratorium": False},
                         date(2022, 10, 1)).to_dict()  # fmt: skip
    dot = rule_dot(rule, result)
    assert "2023-09-01" in node(dot, "t_deadline")
    assert "✔ voldaan" in node(dot, "t_wbv_2022_22") and "✘ niet voldaan" in node(dot, "t_besluitmoratorium")
    assert "penwidth=2.6" in edges(dot)[("t_deadline", "o_berekend")]


def test_helpers_quote_and_read_conditions():
    assert quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'
    node_ = {"not": {"all": [{"ref": "russian"}, {"fact": "age", "between": [{"param": "min_age"}, 27]}]}}
    assert list(refs(node_)) == ["russian"]
    assert when_text(node_) == "niet (russian en age tussen [min_age, 27])"
    shown = when_text(node_, {"russian": "V1", "age": "Leeftijd"})
    assert shown == "niet (V1 en Leeftijd tussen [min_age, 27])"  # the officer's words for the codes


def test_timeline_of_an_application_of_1_june_2022():
    result = rules.check("beslistermijn", {"application_date": "2022-06-01", "decision_date": None, "moratorium": False},
                         date(2022, 10, 1)).to_dict()  # fmt: skip
    tl = term_timeline(result, today=date(2024, 1, 1))
    assert (tl.start, tl.deadline, tl.months) == (date(2022, 6, 1), date(2023, 9, 1), 15)
    base, wbv = tl.segments
    assert (base.kind, base.start, base.end, base.months) == ("base", date(2022, 6, 1), date(2022, 12, 1), 6)
    assert base.basis == "Vreemdelingenwet 2000, art. 42 lid 1"
    assert base.label == "Beslistermijn van zes maanden (art. 42 lid 1 Vw)"
    assert (wbv.id, wbv.start, wbv.end, wbv.months) == ("wbv-2022-22", date(2022, 12, 1), date(2023, 9, 1), 9)
    assert wbv.label == "WBV 2022/22 verlengt de termijn met negen maanden"
    assert [(m.id, m.day) for m in tl.markers] == [("start", date(2022, 6, 1)), ("deadline", date(2023, 9, 1)),
                                                   ("reference", date(2022, 10, 1)), ("today", date(2024, 1, 1))]


def test_timeline_with_moratorium_shows_the_cap_as_the_part_cut_off():
    result = rules.check("beslistermijn", {"application_date": "2022-06-01", "decision_date": "2023-01-15",
                                           "moratorium": True}, date(2022, 10, 1)).to_dict()  # fmt: skip
    tl = term_timeline(result)
    assert [(s.kind, s.months) for s in tl.segments] == [("base", 6), ("extension", 12), ("extension", 9), ("cap", -6)]
    cap = tl.segments[-1]
    assert (cap.start, cap.end) == (date(2024, 3, 1), date(2024, 9, 1)) and tl.deadline == date(2024, 3, 1)
    assert ("decision", date(2023, 1, 15)) in [(m.id, m.day) for m in tl.markers]


def test_no_timeline_without_a_deadline():
    result = rules.check("beslistermijn", {"moratorium": False}, date(2022, 10, 1)).to_dict()
    assert term_timeline(result) is None


def test_a_rule_not_in_force_stops_at_validity():
    result = rules.check(BVM, CONSCRIPT, date(2024, 1, 1)).to_dict()
    dot = rule_dot(rules.get_rule(BVM), result)
    assert "✘ niet voldaan" in node(dot, "validity")
    assert REACHED in node(dot, "o_not_in_force") and "penwidth=2.6" in edges(dot)[("validity", "o_not_in_force")]
    assert "penwidth" not in edges(dot)[("validity", "d_gemobiliseerde")]
    assert STYLES[None][0] in node(dot, "c_russian")  # conditions were not evaluated
