"""The rule as data: facts, dated parameters, validity periods, conditions, a term, outcomes
and presets, each citing the passage it rests on. Built by `rules.loader`, read by the engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

FACT_TYPES = ("int", "bool", "date", "enum", "list-of-enum", "str")
BUILTIN_OUTCOMES = ("insufficient-facts", "not-in-force")


@dataclass(frozen=True)
class Source:
    """Where a condition, parameter or period comes from: document, page or article, and the
    verbatim phrase (or, for a text outside the corpus, a plain reference)."""

    document: str | None
    title: str = ""
    phrase: str | None = None
    pages: tuple[int, ...] = ()
    article: str | None = None
    lid: str | None = None
    point: str | None = None
    section: str | None = None
    reference: str | None = None
    in_corpus: bool = True

    @property
    def citation(self) -> str:
        """The reference an officer would write, e.g. 'Vreemdelingenwet 2000, art. 42 lid 1'."""
        if not self.in_corpus:
            return self.reference or ""
        parts = [self.title or self.document or ""]
        if self.pages:
            pages = self.pages
            parts.append(f"p. {pages[0]}" if len(pages) == 1 else f"p. {pages[0]}-{pages[-1]}")
        if self.article:
            loc = f"art. {self.article}"
            if self.lid:
                loc += f" lid {self.lid}"
            if self.point:
                loc += f" onder {self.point}"
            parts.append(loc)
        if self.section:
            parts.append(self.section)
        return ", ".join(p for p in parts if p)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"document": self.document, "citation": self.citation}
        if self.pages:
            out["page"] = self.pages[0]
            if len(self.pages) > 1:
                out["pages"] = list(self.pages)
        for key in ("article", "lid", "point", "section", "phrase", "reference"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if not self.in_corpus:
            out["in_corpus"] = False
        return out


@dataclass(frozen=True)
class Choice:
    """One allowed value of an enum fact, with its Dutch label."""

    value: str
    label: str


@dataclass(frozen=True)
class FactDef:
    """A fact a rule needs, with what a form needs to ask for it."""

    name: str
    type: str
    label: str
    question: str
    help: str = ""
    choices: tuple[Choice, ...] = ()
    pattern: str | None = None
    normalize: str | None = None  # "upper" | "lower"
    minimum: int | None = None
    maximum: int | None = None
    null_label: str | None = None  # set: null is a real value (e.g. "nog niet beslist"), not "unknown"
    # plausible dates: none before `earliest`, none after `latest` (a date, or "today": the day of
    # the check), and none before the date fact named by `not_before`
    earliest: date | None = None
    latest: date | str | None = None
    not_before: str | None = None
    options: str | None = None  # "states": a form offers the world's states (ISO code, Dutch name)

    def latest_on(self, today: date) -> date | None:
        """The latest plausible date, with "today" as `today`."""
        return today if self.latest == "today" else self.latest  # type: ignore[return-value]

    @property
    def allowed_values(self) -> list[str]:
        return [c.value for c in self.choices]

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "label": self.label,
                               "question": self.question}
        if self.help:
            out["help"] = self.help
        if self.choices:
            out["allowed_values"] = self.allowed_values
            out["choices"] = [{"value": c.value, "label": c.label} for c in self.choices]
        if self.pattern:
            out["pattern"] = self.pattern
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        out["nullable"] = self.null_label is not None
        if self.null_label:
            out["null_label"] = self.null_label
        if self.earliest is not None:
            out["earliest"] = self.earliest.isoformat()
        if self.latest is not None:
            out["latest"] = self.latest if isinstance(self.latest, str) else self.latest.isoformat()
        if self.not_before:
            out["not_before"] = self.not_before
        if self.options:
            out["options"] = self.options
        return out


@dataclass(frozen=True)
class ParamValue:
    """A parameter's value from a date on (None: from the beginning), with its source."""

    start: date | None
    value: Any
    source: Source


@dataclass(frozen=True)
class Parameter:
    """A dated parameter (OpenFisca style): the value in force on a date, each with its source."""

    name: str
    description: str
    unit: str
    values: tuple[ParamValue, ...]  # sorted by start; a value of None ends the parameter

    def at(self, day: date) -> ParamValue | None:
        """The entry in force on `day`, or None when the parameter has no value then."""
        current = None
        for entry in self.values:
            if entry.start is None or entry.start <= day:
                current = entry
        if current is None or current.value is None:
            return None
        return current


@dataclass(frozen=True)
class Period:
    """A validity period [start, until): `until` is the first day the rule no longer applies."""

    start: date | None
    until: date | None
    source: Source
    until_source: Source | None = None
    label: str = ""

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.until is None or day < self.until)


@dataclass(frozen=True)
class Guard:
    """Test a condition only when `when` holds (e.g. grounds 2 and 3 only if ground 1 fails)."""

    when: Any
    reason: str
    source: Source | None = None


@dataclass(frozen=True)
class Condition:
    """A named test over facts, parameters and earlier conditions, evaluated in order."""

    id: str
    description: str
    test: Any  # condition node (see rules.logic)
    source: Source
    only_if: Guard | None = None


@dataclass(frozen=True)
class Consequence:
    """What follows from an outcome, with its source."""

    text: str
    source: Source


@dataclass(frozen=True)
class OutcomeRule:
    """One entry of the decision list: the first entry whose `when` is true gives the outcome."""

    id: str
    outcome: str
    label: str
    when: Any = None
    otherwise: bool = False
    explanation: str = ""
    source: Source | None = None
    consequences: tuple[Consequence, ...] = ()


@dataclass(frozen=True)
class Extension:
    """A term extension: `months` added when `when` holds."""

    id: str
    description: str
    months: Any  # operand
    when: Any
    source: Source


@dataclass(frozen=True)
class Cap:
    """A maximum on the total term (in months from the start), applied when `when` holds."""

    id: str
    description: str
    months: Any
    when: Any
    source: Source


@dataclass(frozen=True)
class WorkingDayNote:
    """A note (not a shift) when the deadline falls on a weekend day or public holiday."""

    calendar: str
    text: str
    source: Source


@dataclass(frozen=True)
class Term:
    """A legal term: start date plus base months plus applicable extensions, capped."""

    start: Any
    start_description: str
    base_months: Any
    base_description: str
    base_source: Source
    extensions: tuple[Extension, ...] = ()
    caps: tuple[Cap, ...] = ()
    working_day_note: WorkingDayNote | None = None


@dataclass(frozen=True)
class PresetFact:
    """A pre-filled value (kind 'prefill') or a hint shown beside the question (kind 'hint')."""

    fact: str
    value: Any
    kind: str
    source: Source
    note: str = ""


@dataclass(frozen=True)
class Preset:
    """A named set of cited, overridable fact values; applied only when asked for by id."""

    id: str
    label: str
    description: str
    facts: tuple[PresetFact, ...]

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "description": self.description,
                "facts": [{"fact": f.fact, "value": f.value, "kind": f.kind, "note": f.note,
                           "source": f.source.to_dict()} for f in self.facts]}


@dataclass(frozen=True)
class Rule:
    """One rule file, parsed and validated."""

    id: str
    title: str
    description: str
    path: Path
    version: str
    facts: tuple[FactDef, ...]
    parameters: dict[str, Parameter]
    validity: tuple[Period, ...]
    conditions: tuple[Condition, ...]
    outcomes: tuple[OutcomeRule, ...]
    term: Term | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    presets: tuple[Preset, ...] = ()
    not_in_force_label: str = "De regel is niet in werking op de peildatum"

    def fact(self, name: str) -> FactDef:
        return {f.name: f for f in self.facts}[name]

    @property
    def fact_names(self) -> list[str]:
        return [f.name for f in self.facts]

    @property
    def possible_outcomes(self) -> list[str]:
        """Every outcome this rule can give, in decision-list order, then the built-in ones."""
        out: list[str] = []
        for entry in self.outcomes:
            if entry.outcome not in out:
                out.append(entry.outcome)
        out.append("insufficient-facts")
        if any(p.start is not None or p.until is not None for p in self.validity):
            out.append("not-in-force")
        return out

    def sources(self) -> list[tuple[str, Source]]:
        """Every source in the rule with the place it is cited from (for checks and indexes)."""
        out: list[tuple[str, Source]] = []
        for name, param in self.parameters.items():
            out += [(f"parameters.{name}[{v.start}]", v.source) for v in param.values]
        for i, period in enumerate(self.validity):
            out.append((f"validity[{i}]", period.source))
            if period.until_source:
                out.append((f"validity[{i}].until", period.until_source))
        for cond in self.conditions:
            out.append((f"conditions.{cond.id}", cond.source))
            if cond.only_if and cond.only_if.source:
                out.append((f"conditions.{cond.id}.only_if", cond.only_if.source))
        if self.term:
            out.append(("term.base", self.term.base_source))
            out += [(f"term.{part.id}", part.source) for part in self.term.extensions + self.term.caps]
            if self.term.working_day_note:
                out.append(("term.working_day_note", self.term.working_day_note.source))
        for entry in self.outcomes:
            if entry.source:
                out.append((f"outcomes.{entry.id}", entry.source))
            out += [(f"outcomes.{entry.id}.consequences[{i}]", c.source) for i, c in enumerate(entry.consequences)]
        for preset in self.presets:
            out += [(f"presets.{preset.id}.{f.fact}", f.source) for f in preset.facts]
        return out

    @property
    def output_names(self) -> list[str]:
        names = list(self.outputs)
        if self.term:
            names = ["deadline", "months", "extensions"] + names
        return names

    def preset(self, preset_id: str) -> Preset:
        return {p.id: p for p in self.presets}[preset_id]

    def to_dict(self) -> dict:
        """The rule's public description (for `list --json` and for building forms)."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "rule_version": self.version,
            "facts": [f.to_dict() for f in self.facts],
            "outcomes": self.possible_outcomes,
            "outputs": self.output_names,
            "validity": [{"from": p.start.isoformat() if p.start else None,
                          "until": p.until.isoformat() if p.until else None,
                          "source": p.source.to_dict()} for p in self.validity],
            "presets": [p.to_dict() for p in self.presets],
        }
