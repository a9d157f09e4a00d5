"""Readable (Dutch) text for a result and for the rule list; the JSON form is `to_dict()`."""
from __future__ import annotations

from typing import Any

from rules.model import Rule
from rules.vocabulary import RESULT_WORDS, result_word


def render_result(result: dict) -> str:
    """Outcome, outputs, notes and a numbered trace with inputs and sources."""
    lines = [f"{result['rule']} — {result['title']}",
             f"Peildatum: {result['reference_date']}   Regelversie: {result['rule_version']}",
             f"Uitkomst: {result['outcome']} — {result['outcome_label']}"]
    if result.get("explanation"):
        lines.append(f"  Toelichting: {result['explanation']}")
    if result.get("missing_facts"):
        lines.append(f"  Ontbrekende feiten: {', '.join(result['missing_facts'])}")
    for item in result.get("consequences", []):
        lines.append(f"  Gevolg: {item['text']} [{item['source']['citation']}]")
    for key in ("deadline", "months", "grounds_met"):
        if key in result:
            lines.append(f"  {key}: {_value(result[key])}")
    for ext in result.get("extensions") or []:
        lines.append(f"    {ext['kind']} {ext['id']}: {ext['months']:+d} maanden [{ext['source']['citation']}]")
    for note in result.get("notes", []):
        lines.append(f"  Opmerking: {note['text']} [{note['source']['citation']}]")
    lines.append("Stappen:")
    for step in result["trace"]:
        lines.append(f"  {step['step']}. [{result_word(step['result'])}] {step['description']}")
        if step.get("inputs"):
            lines.append("     invoer: " + ", ".join(f"{k}={_value(v)}" for k, v in step["inputs"].items()))
        if step.get("conditions"):
            lines.append("     voorwaarden: " + ", ".join(f"{k}={RESULT_WORDS[v]}" for k, v in step["conditions"].items()))
        if step.get("parameters"):
            lines.append("     parameters: " + ", ".join(f"{k}={_value(v)}" for k, v in step["parameters"].items()))
        if "value" in step:
            value = step["value"]
            shown = ", ".join(f"{k}={_value(v)}" for k, v in value.items()) if isinstance(value, dict) else _value(value)
            lines.append(f"     waarde: {shown}")
        if step.get("missing"):
            lines.append(f"     ontbreekt: {', '.join(step['missing'])}")
        if step.get("reason"):
            lines.append(f"     reden: {step['reason']}")
        source = step.get("source")
        if source:
            quote = f': "{source["phrase"]}"' if source.get("phrase") else ""
            lines.append(f"     bron: {source['citation']}{quote}")
    return "\n".join(lines)


def render_rules(rules: dict[str, Rule]) -> str:
    """One block per rule: id, title, facts with type and allowed values, outcomes."""
    lines = []
    for rule in rules.values():
        lines.append(f"{rule.id} — {rule.title}")
        for fact in rule.facts:
            allowed = f" ({', '.join(fact.allowed_values)})" if fact.choices else ""
            null = f"; null = {fact.null_label}" if fact.null_label else ""
            lines.append(f"  {fact.name}: {fact.type}{allowed}{null} — {fact.question}")
        lines.append(f"  uitkomsten: {', '.join(rule.possible_outcomes)}")
        if rule.presets:
            lines.append(f"  voorinvullingen: {', '.join(p.id for p in rule.presets)}")
        lines.append("")
    return "\n".join(lines).rstrip()


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)
