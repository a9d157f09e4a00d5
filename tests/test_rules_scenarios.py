"""YAML scenarios per rule (tests/rules_scenarios/<rule>.yaml), run by one parametrised test.

A scenario gives facts, a reference date and optional presets, and expects an outcome plus any
outputs (deadline, months, grounds_met, missing_facts, ...), the ids of applied extensions, text
fragments of the notes ([] = no notes) and key trace steps (step id -> result, or a mapping compared as a subset).
"""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import rules
from rules.engine import jsonable
from rules.render import render_result

SCENARIO_DIR = Path(__file__).resolve().parent / "rules_scenarios"


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[tuple[str, dict, Path | None]]:
    """(test id, scenario, rule directory or None for rules/definitions) for every scenario file."""
    out = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for scenario in data["scenarios"]:
            scenario = {"rule": data["rule"], **scenario}
            out.append((f"{data['rule']}: {scenario['name']}", scenario, None))
    return out


def run_scenario(scenario: dict, directory: Path | None = None) -> dict:
    """Check the scenario's rule and compare every expected key; returns the result dict."""
    result = rules.check(scenario["rule"], scenario.get("facts") or {}, scenario.get("reference_date"),
                         presets=scenario.get("presets") or [], directory=directory).to_dict()
    expect = dict(scenario["expect"])
    label = f"{scenario['rule']} / {scenario['name']}"
    assert result["outcome"] == expect.pop("outcome"), f"{label}: outcome\n{_steps(result)}"
    for key, wanted in expect.items():
        if key == "trace":
            _check_trace(result, wanted, label)
        elif key == "extensions":
            assert [e["id"] for e in result["extensions"]] == wanted, f"{label}: extensions"
        elif key == "notes":
            text = " ".join(n["text"] for n in result["notes"])
            assert bool(text) == bool(wanted), f"{label}: notes {text!r}, expected fragments {wanted}"
            for fragment in wanted:
                assert fragment in text, f"{label}: notes {text!r} lack {fragment!r}"
        else:
            assert result[key] == jsonable(wanted), f"{label}: {key} = {result[key]!r}, expected {wanted!r}"
    return result


def _check_trace(result: dict, wanted: dict[str, Any], label: str) -> None:
    steps = {step["id"]: step for step in result["trace"]}
    for step_id, expected in wanted.items():
        assert step_id in steps, f"{label}: no trace step '{step_id}'; steps: {list(steps)}"
        step = steps[step_id]
        if isinstance(expected, dict):
            for key, value in expected.items():
                assert step.get(key) == jsonable(value), f"{label}: step {step_id}.{key} = {step.get(key)!r}"
        else:
            assert step["result"] == expected, f"{label}: step {step_id} = {step['result']}, expected {expected}"


def _steps(result: dict) -> str:
    return "\n".join(f"  {s['id']}: {s['result']}" for s in result["trace"])


SCENARIOS = load_scenarios()


@pytest.mark.parametrize("scenario", [s for _, s, _ in SCENARIOS], ids=[i for i, _, _ in SCENARIOS])
def test_scenario(scenario: dict) -> None:
    result = run_scenario(scenario)
    text = render_result(result)  # the readable form renders every scenario too
    assert f"Uitkomst: {result['outcome']} — " in text


def test_every_rule_has_scenarios() -> None:
    covered = {s["rule"] for _, s, _ in SCENARIOS}
    assert covered == set(rules.load_rules())


# --- coverage of date and age boundaries: the day before, on and after each one -------------

def _reference_dates(rule_id: str) -> set[date]:
    out = set()
    for _, s, _ in SCENARIOS:
        if s["rule"] == rule_id:
            ref = s.get("reference_date") or (s.get("facts") or {}).get("reference_date")
            if ref:
                out.add(date.fromisoformat(str(ref)))
    return out


def _fact_values(rule_id: str) -> set:
    out = set()
    for _, s, _ in SCENARIOS:
        if s["rule"] == rule_id:
            for value in (s.get("facts") or {}).values():
                out.add(date.fromisoformat(str(value)) if _is_iso(value) else value if not isinstance(value, list) else None)
    return out


def _is_iso(value: Any) -> bool:
    if isinstance(value, date):
        return True
    try:
        date.fromisoformat(str(value))
        return isinstance(value, str)
    except ValueError:
        return False


def _boundaries(rule: rules.Rule) -> list[tuple[str, str, Any]]:
    """(what, kind, value): validity and parameter start dates (reference date), date-valued
    parameters (a date fact), integer parameters compared with an integer fact."""
    out = []
    for period in rule.validity:
        for day in (period.start, period.until):
            if day:
                out.append((f"validity {day}", "reference", day))
    for name, param in rule.parameters.items():
        for entry in param.values:
            if entry.start:
                out.append((f"{name} from {entry.start}", "reference", entry.start))
            if isinstance(entry.value, date):
                out.append((f"{name} = {entry.value}", "fact", entry.value))
    int_facts = {f.name for f in rule.facts if f.type == "int"}
    for cond in rule.conditions:
        test = cond.test
        if test.get("fact") in int_facts:
            for op in ("between", "gte", "lte", "gt", "lt"):
                operands = test.get(op)
                for operand in operands if isinstance(operands, list) else [operands]:
                    if isinstance(operand, dict) and "param" in operand:
                        for entry in rule.parameters[operand["param"]].values:
                            out.append((f"{operand['param']} = {entry.value}", "int", entry.value))
    return out


BOUNDARIES = [(rule, what, kind, value) for rule in rules.load_rules().values()
              for what, kind, value in _boundaries(rule)]


@pytest.mark.parametrize("rule,what,kind,value", BOUNDARIES, ids=[f"{r.id}: {w}" for r, w, _, _ in BOUNDARIES])
def test_boundary_is_covered_on_both_sides(rule: rules.Rule, what: str, kind: str, value: Any) -> None:
    if kind == "int":
        wanted, seen = {value - 1, value, value + 1}, _fact_values(rule.id)
    else:
        wanted = {value - timedelta(days=1), value, value + timedelta(days=1)}
        seen = _reference_dates(rule.id) if kind == "reference" else _fact_values(rule.id)
    assert wanted <= seen, f"{rule.id}: {what}: scenarios lack {sorted(map(str, wanted - seen))}"
