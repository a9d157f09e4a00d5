"""The engine: check a rule against facts on a reference date and return the outcome with a
trace that is data (every step with its inputs, result and source)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Mapping, Sequence

from rules.errors import FactError, RuleError, choices
from rules.facts import parse_reference_date, validate_facts
from rules.logic import Context, Reading, Tri, evaluate
from rules.model import Condition, Period, Rule, Source
from rules.term import evaluate_term
from rules.vocabulary import plain_value

RESULT_NAMES = {True: "true", False: "false", None: "unknown"}


def jsonable(value: Any) -> Any:
    """Dates as ISO strings, tuples and sets as lists, recursively."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(jsonable(v) for v in value)
    return value


@dataclass
class RuleResult:
    """The outcome of one check, reproducible from `rule_version`, `reference_date` and `facts`."""

    rule: str
    title: str
    rule_version: str
    reference_date: date
    outcome: str
    outcome_label: str
    explanation: str = ""
    missing_facts: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    presets_applied: list[dict] = field(default_factory=list)
    consequences: list[dict] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    notes: list[dict] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    trace: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready dict; the rule's outputs (e.g. `deadline`, `grounds_met`) sit at top level."""
        out = {
            "rule": self.rule, "title": self.title, "rule_version": self.rule_version,
            "reference_date": self.reference_date.isoformat(), "outcome": self.outcome,
            "outcome_label": self.outcome_label, "explanation": self.explanation,
            "missing_facts": self.missing_facts, "facts": self.facts,
            "presets_applied": self.presets_applied, "consequences": self.consequences,
        }
        out.update(self.outputs)
        out.update({"notes": self.notes, "parameters": self.parameters, "trace": self.trace})
        return jsonable(out)


class Run:
    """State of one check: the evaluation context and the growing trace."""

    def __init__(self, rule: Rule, facts: dict[str, Any], reference_date: date):
        self.rule = rule
        self.reference_date = reference_date
        self.trace: list[dict] = []
        self.parameters: dict[str, Any] = {}
        self.ctx = Context(facts=facts, param=self.param, reference_date=reference_date)

    def param(self, name: str) -> Any:
        """The value of a parameter on the reference date; RuleError if it has none then."""
        entry = self.rule.parameters[name].at(self.reference_date)
        if entry is None:
            raise RuleError(f"rule '{self.rule.id}': parameter '{name}' has no value on "
                            f"{self.reference_date.isoformat()}; {self._param_dates(name)}")
        self.parameters[name] = {"value": entry.value, "from": entry.start,
                                 "description": self.rule.parameters[name].description,
                                 "source": entry.source.to_dict()}
        return entry.value

    def param_not_in_force(self, node: Any) -> str | None:
        """A reason when `node` is {param: X} and X has no value on the reference date."""
        if isinstance(node, dict) and "param" in node:
            name = node["param"]
            if self.rule.parameters[name].at(self.reference_date) is None:
                starts = ", ".join(v.start.strftime("%d-%m-%Y") if v.start else "het begin"
                                   for v in self.rule.parameters[name].values)  # fmt: skip
                return (f"{self.rule.parameters[name].description} geldt nog niet of niet meer op de peildatum "
                        f"{self.reference_date.strftime('%d-%m-%Y')} (geldt vanaf {starts})")
        return None

    def _param_dates(self, name: str) -> str:
        values = self.rule.parameters[name].values
        return "values from: " + choices(v.start.isoformat() if v.start else "the beginning" for v in values)

    def evaluate(self, node: Any, reading: Reading) -> tuple[Tri, frozenset[str]]:
        return evaluate(node, self.ctx, reading)

    def step(self, kind: str, step_id: str, description: str, result: Tri | str, source: Source | None,
             reading: Reading | None = None, missing: frozenset[str] = frozenset(), **extra: Any) -> dict:
        """Append one trace step and return it."""
        entry: dict[str, Any] = {"step": len(self.trace) + 1, "kind": kind, "id": step_id,
                                 "description": description,
                                 "result": result if isinstance(result, str) else RESULT_NAMES[result]}
        if reading is not None:
            entry["inputs"] = jsonable(reading.inputs)
            if reading.parameters:
                entry["parameters"] = jsonable(reading.parameters)
            if reading.conditions:
                entry["conditions"] = {k: v if isinstance(v, str) else RESULT_NAMES[v] for k, v in reading.conditions.items()}
        if result is None and missing:
            entry["missing"] = sorted(missing)
        for key, value in extra.items():
            entry[key] = jsonable(value)
        entry["source"] = source.to_dict() if source else None
        self.trace.append(entry)
        return entry


def check_rule(rule: Rule, facts: Mapping[str, Any], reference_date: date | None = None,
               presets: Sequence[str] = ()) -> RuleResult:
    """Check `rule` against `facts` on `reference_date` (default: the facts' reference_date, else today)."""
    given = dict(facts)
    ref = _reference_date(given.pop("reference_date", None), reference_date)
    known = validate_facts(rule, given)
    run = Run(rule, known, ref)
    applied = _apply_presets(rule, known, presets, run)  # fills `known` in place, traced
    result = RuleResult(rule=rule.id, title=rule.title, rule_version=rule.version, reference_date=ref,
                        outcome="", outcome_label="", facts=jsonable(known), presets_applied=applied)

    if not _in_force(rule, ref, run):
        return _finish(result, run, "not-in-force", rule.not_in_force_label)

    for cond in rule.conditions:
        _condition(cond, run)

    term = evaluate_term(rule.term, run) if rule.term else None
    if term is not None and term.known:
        result.outputs.update(deadline=term.deadline, months=term.months, extensions=term.extensions)
        result.notes.extend(term.notes)
    elif term is not None:
        result.outputs.update(deadline=None, months=None, extensions=[])

    for name, items in rule.outputs.items():
        result.outputs[name] = [value for node, value in items if run.evaluate(node, Reading())[0] is True]

    if term is not None and not term.known:
        return _insufficient(result, run, term.missing)
    return _decide(rule, result, run)


def _decide(rule: Rule, result: RuleResult, run: Run) -> RuleResult:
    """Walk the decision list. An unknown entry does not stop the walk: the outcome is decided
    only if every way the open entries could turn out leads to the same outcome."""
    possible: list[str] = []
    missing: set[str] = set()
    for entry in rule.outcomes:
        reading = Reading()
        if entry.otherwise:
            holds, why = True, frozenset()
        else:
            holds, why = run.evaluate(entry.when, reading)
        if holds is False:
            continue
        possible.append(entry.outcome)
        if holds is None:
            missing |= why
            run.step("decision", entry.id, f"Uitkomst? {entry.label}", None, entry.source,
                     reading, why)
            continue
        if set(possible) != {entry.outcome}:
            return _insufficient(result, run, frozenset(missing))
        run.step("decision", entry.id, f"Uitkomst: {entry.label}", True, entry.source,
                 reading, outcome=entry.outcome)  # the code stays in the step's 'outcome' 
        result.explanation = entry.explanation
        result.consequences = [{"text": c.text, "source": c.source.to_dict()} for c in entry.consequences]
        return _finish(result, run, entry.outcome, entry.label)
    raise RuleError(f"rule '{rule.id}': no outcome matched; end the decision list with 'otherwise: true'")


def _reference_date(from_facts: Any, explicit: date | None) -> date:
    if from_facts is not None:
        parsed = parse_reference_date(from_facts)
        if explicit is not None and explicit != parsed:
            raise FactError(f"reference date given twice and different: facts say {parsed.isoformat()}, "
                            f"the option says {explicit.isoformat()}; give one")
        return parsed
    if explicit is not None:
        return parse_reference_date(explicit)
    return date.today()


def _apply_presets(rule: Rule, known: dict[str, Any], preset_ids: Sequence[str], run: Run) -> list[dict]:
    """Fill facts the caller left open from the named presets (prefill kind only), traced."""
    applied = []
    allowed = [p.id for p in rule.presets]
    for preset_id in preset_ids:
        if preset_id not in allowed:
            raise FactError(f"unknown preset '{preset_id}' for rule '{rule.id}'; allowed: {choices(allowed) or '(none)'}")
        preset = rule.preset(preset_id)
        for pf in preset.facts:
            if pf.kind != "prefill":
                continue
            overridden = pf.fact in known
            if not overridden:
                known[pf.fact] = pf.value
            run.step("preset", f"{preset.id}:{pf.fact}",
                     f"Voorinvulling '{preset.label}': {run.rule.fact(pf.fact).label} = {plain_value(pf.value)}"
                     + (" (overschreven door opgegeven feit)" if overridden else ""),
                     not overridden, pf.source, value=known[pf.fact])
            applied.append({"preset": preset.id, "fact": pf.fact, "value": jsonable(pf.value),
                            "used": not overridden, "source": pf.source.to_dict()})
    return applied


def _in_force(rule: Rule, ref: date, run: Run) -> bool:
    """Add the validity step; True when a period contains the reference date (or none are given)."""
    if not rule.validity:
        return True
    reading = Reading(inputs={"reference_date": ref})
    for period in rule.validity:
        if period.contains(ref):
            run.step("validity", "in-force", "Regel in werking op de peildatum", True, period.source, reading,
                     period=_period_dict(period), label=period.label)
            return True
    before = [p for p in rule.validity if p.until is not None and p.until <= ref]
    if before:
        last = max(before, key=lambda p: p.until)
        source, why = last.until_source or last.source, f"verlopen: geldig tot {last.until.isoformat()} (niet meer op die dag)"
    else:
        first = min(rule.validity, key=lambda p: p.start or date.min)
        source, why = first.source, f"nog niet in werking: geldig vanaf {first.start.isoformat() if first.start else '?'}"
    run.step("validity", "in-force", "Regel in werking op de peildatum", False, source, reading,
             periods=[_period_dict(p) for p in rule.validity], reason=why)
    return False


def _period_dict(period: Period) -> dict:
    return {"from": period.start, "until": period.until}


def _condition(cond: Condition, run: Run) -> None:
    """Evaluate one named condition (respecting its guard), record it in the context and trace."""
    ctx = run.ctx
    reading = Reading()
    guard: Tri = True
    guard_missing: frozenset[str] = frozenset()
    if cond.only_if is not None:
        guard, guard_missing = run.evaluate(cond.only_if.when, Reading())
        if guard is False:
            ctx.results[cond.id] = (False, frozenset())
            ctx.not_tested.add(cond.id)
            run.step("condition", cond.id, cond.description, "not-tested", cond.source,
                     reason=cond.only_if.reason, reason_source=cond.only_if.source.to_dict() if cond.only_if.source else None)
            return
    result, missing = run.evaluate(cond.test, reading)
    extra = {}
    if guard is None:
        # The guard is open: the condition only counts once the guard is known to hold.
        result = False if result is False else None
        missing = missing | guard_missing if result is None else frozenset()
        extra["reason"] = f"{cond.only_if.reason} (nog onbekend)"
    ctx.results[cond.id] = (result, missing)
    run.step("condition", cond.id, cond.description, result, cond.source, reading, missing, **extra)


def _insufficient(result: RuleResult, run: Run, missing: frozenset[str]) -> RuleResult:
    """Outcome insufficient-facts, listing the missing facts that keep the outcome open."""
    order = run.rule.fact_names
    result.missing_facts = sorted(missing, key=lambda n: order.index(n) if n in order else len(order))
    label = "Onvoldoende feiten: " + ", ".join(run.rule.fact(n).label for n in result.missing_facts)  # codes: missing_facts
    run.step("decision", "insufficient-facts", label, None, None, missing=missing, outcome="insufficient-facts")
    return _finish(result, run, "insufficient-facts", label)


def _finish(result: RuleResult, run: Run, outcome: str, label: str) -> RuleResult:
    for name in run.rule.output_names:  # a stable shape: every output key, even when not computed
        result.outputs.setdefault(name, [] if name == "extensions" or name in run.rule.outputs else None)
    result.outcome = outcome
    result.outcome_label = label
    result.trace = run.trace
    result.parameters = jsonable(run.parameters)
    return result
