"""The case as a list of (kind, text) blocks, from which the Markdown and the PDF are both
rendered, so they hold the same text; every citation of the case (`case_citations`) is in them.
The text is in Dutch, the language of the file it goes into, and so are the helpers that show a
fact's value as the officer reads it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import rules
from casefile.model import CaseFile, RuleCheck
from retrieval.validity import STATUS_WORDS
from rules.vocabulary import VALUE_WORDS, dutch_date, plain_value, result_word

QUOTE_OPEN, QUOTE_CLOSE = "\ue000", "\ue001"  # mark the quote inside a "cited" block (private-use characters)
DISCLAIMER = ("Beleidsondersteuning, geen besluit: hieronder staan letterlijke passages uit het corpus en de "
              "uitkomst van een regelcheck met haar stappen en bronnen.")  # fmt: skip


INPUT_LABELS = {"reference_date": "Peildatum", "deadline_so_far": "Termijn tot dan toe",
                "months_so_far": "Maanden tot dan toe"}  # fmt: skip


def fact_value(fact: Any, value: Any) -> str:
    """A fact's value as the form shows it: an enum by its label, null by its meaning."""
    if fact is None:
        return plain_value(value)
    labels = {c.value: c.label for c in fact.choices}
    if labels and isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value) if value else "geen"
    if labels and value in labels:
        return labels[value]
    return plain_value(value, fact.null_label)


def input_label(defs: dict, name: str) -> str:
    """The label of a fact (or of an engine input such as the reference date) for display."""
    return defs[name].label if name in defs else INPUT_LABELS.get(name, name)


def named(values: dict, names: dict[str, str]) -> str:
    """'name = value, ...' with each code replaced by its word in `names` (a value as plain_value)."""
    return ", ".join(f"{names.get(k, k)} = {plain_value(v)}" for k, v in values.items())


def parameter_names(rule_id: str) -> dict[str, str]:
    """Parameter name -> its description in the rule file ({} for a rule no longer defined)."""
    try:
        return {name: p.description for name, p in rules.get_rule(rule_id).parameters.items()}
    except rules.UnknownRuleError:
        return {}


def fact_defs(rule_id: str) -> dict:
    """Fact name -> FactDef of a rule ({} for a rule no longer defined: the names stand in for labels)."""
    try:
        rule = rules.get_rule(rule_id)
    except rules.UnknownRuleError:
        return {}
    return {f.name: f for f in rule.facts}


def _source_line(source: dict | None) -> str:
    if not source:
        return ""
    phrase = f': "{source["phrase"]}"' if source.get("phrase") else ""
    return f"{source.get('citation', '')}{phrase}"


def blocks(case: CaseFile) -> list[tuple[str, str]]:
    """The case as (kind, text) blocks: h1, h2, h3, p, meta, quote, item, sub."""
    out: list[tuple[str, str]] = [("h1", "Beleidswijzer — export voor het dossier")]
    if case.case_number.strip():
        out.append(("p", f"V-nummer: {' '.join(case.case_number.split())}"))
    out += [("meta", f"Aangemaakt op {case.created.strftime('%d-%m-%Y %H:%M')}"), ("meta", DISCLAIMER)]
    if case.question:
        out += [("h2", "Vraag"), ("quote", case.question)]
        out.append(("meta", f"Beleid geldend op {case.on.strftime('%d-%m-%Y')}" if case.on
                    else "Alle documenten, ongeacht geldigheid"))  # fmt: skip
    if case.passages:
        out.append(("h2", "Geciteerde passages"))
        for i, p in enumerate(case.passages, 1):
            out.append(("h3", f"{i}. {p.citation}"))
            meta = [STATUS_WORDS.get(p.status, p.status)] if p.status else []
            if p.measure:
                meta.append(p.measure)
            if p.title:
                meta.append(p.title)
            if meta:
                out.append(("meta", " · ".join(meta)))
            if p.quote and p.quote.strip() != p.text.strip() and p.quote in p.text:
                a = p.text.index(p.quote)  # the passage once, its quote marked (shown bold)
                out.append(("cited", p.text[:a] + QUOTE_OPEN + p.quote + QUOTE_CLOSE + p.text[a + len(p.quote):]))
            else:
                out.append(("quote", p.text))
    for check in case.checks:
        out += _check_blocks(check)
    if case.checks:  # the codes that make a check reproducible, apart from the officer's text
        out.append(("h2", "Technische bijlage"))
        for check in case.checks:
            r = check.result
            out.append(("item", f"{r['title']}: regel {r['rule']}, versie {r['rule_version']}, uitkomstcode {r['outcome']}"))
    return out


def _check_blocks(check: RuleCheck) -> list[tuple[str, str]]:
    r = check.result
    defs = fact_defs(r["rule"])
    out = [("h2", f"Regelcheck: {r['title']}"),
           ("item", f"Peildatum: {dutch_date(r['reference_date'])}"),
           ("item", f"Uitkomst: {r['outcome_label']}")]  # fmt: skip
    if r.get("deadline"):
        out.append(("item", f"Uiterste beslisdatum: {dutch_date(r['deadline'])} ({r.get('months')} maanden)"))
    if r.get("grounds_met"):
        out.append(("item", "Vervulde gronden: " + ", ".join(str(g) for g in r["grounds_met"])))
    if r.get("explanation"):
        out.append(("p", r["explanation"]))
    out.append(("h3", "Feiten"))
    if not r.get("facts"):
        out.append(("p", "Geen feiten opgegeven."))
    for name, value in (r.get("facts") or {}).items():
        line = f"{input_label(defs, name)}: {fact_value(defs.get(name), value)}"
        if name in check.prefilled:
            line += f' (voorgevuld uit de vraag: "{check.prefilled[name]}")'
        out.append(("item", line))
    for item in r.get("presets_applied") or []:
        out.append(("item", f"Voorinvulling {item['preset']}: {item['fact']} = {plain_value(item['value'])}"
                            f"{'' if item.get('used') else ' (niet gebruikt: feit opgegeven)'}"
                            f" — {_source_line(item.get('source'))}"))  # fmt: skip
    if r.get("missing_facts"):
        out.append(("h3", "Nog te vragen aan de vreemdeling"))
        for name in r["missing_facts"]:
            fact = defs.get(name)
            out.append(("item", f"{fact.question} ({fact.label})" if fact else name))
    if r.get("consequences"):
        out.append(("h3", "Gevolgen"))
        for c in r["consequences"]:
            out.append(("item", c["text"]))
            out.append(("sub", f"Bron: {_source_line(c.get('source'))}"))
    if r.get("notes"):
        out.append(("h3", "Opmerkingen"))
        for n in r["notes"]:
            out.append(("item", n["text"]))
            out.append(("sub", f"Bron: {_source_line(n.get('source'))}"))
    out.append(("h3", "Stappen"))
    for step in r.get("trace") or []:
        out.append(("item", f"{step['step']}. [{result_word(step['result'])}] {step['description']}"))
        used = {**(step.get("inputs") or {})}
        if used:
            shown = ", ".join(f"{input_label(defs, k)} = {fact_value(defs.get(k), v)}" for k, v in used.items())
            out.append(("sub", f"Gebruikt: {shown}"))
        if step.get("parameters"):
            out.append(("sub", "Parameters: " + named(step["parameters"], parameter_names(r["rule"]))))
        if isinstance(step.get("value"), dict):
            out.append(("sub", "Waarde: " + named(step["value"], VALUE_WORDS)))
        if step.get("missing"):
            out.append(("sub", "Ontbreekt: " + ", ".join(input_label(defs, m) for m in step["missing"])))
        if step.get("reason"):
            out.append(("sub", f"Reden: {step['reason']}"))
        source = step.get("source")
        if source:
            out.append(("sub", f"Bron: {_source_line(source)}"))
            if source.get("in_corpus") is False:
                out.append(("sub", "Deze bron staat niet in het corpus."))
            elif step["step"] in check.step_passages:
                out.append(("sub", f"Passage in de index: {check.step_passages[step['step']]}"))
            else:
                out.append(("sub", "Het brondocument staat niet in de index."))
    return out


def case_citations(case: CaseFile) -> list[str]:
    """Every citation the case holds: the passages', and each rule step's and consequence's
    source and indexed passage (in order, without repeats)."""
    found = [p.citation for p in case.passages]
    for check in case.checks:
        r = check.result
        for step in r.get("trace") or []:
            if step.get("source"):
                found.append(step["source"].get("citation", ""))
        found += list(check.step_passages.values())
        found += [(c.get("source") or {}).get("citation", "") for c in r.get("consequences") or []]
        found += [(n.get("source") or {}).get("citation", "") for n in r.get("notes") or []]
    return [c for c in dict.fromkeys(found) if c]
