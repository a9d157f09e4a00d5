"""Read and validate rule files (rules/definitions/<id>.yaml) into `Rule` objects.

Every error names the file, the place in it and the allowed choices. The rule version is a
hash of the file's bytes, so a result can be traced to the exact rule text that produced it.
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from rules.errors import RuleDefinitionError, RuleError, choices
from rules.logic import Scope, check_node, check_operand
from rules.model import (
    BUILTIN_OUTCOMES, FACT_TYPES, Cap, Choice, Condition, Consequence, Extension, FactDef, Guard,
    OutcomeRule, Parameter, ParamValue, Period, Preset, PresetFact, Rule, Source, Term,
    WorkingDayNote,
)

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"

RULE_KEYS = {"id", "title", "description", "documents", "facts", "parameters", "validity",
             "conditions", "term", "outcomes", "outputs", "presets", "not_in_force_label"}
SOURCE_KEYS = {"document", "page", "pages", "article", "lid", "point", "section", "phrase",
               "reference", "in_corpus"}
FACT_KEYS = {"name", "type", "label", "question", "help", "values", "pattern", "normalize",
             "minimum", "maximum", "null_label", "earliest", "latest", "not_before", "options"}
FACT_OPTIONS = ("states",)  # lists a form may offer for a 'str' fact
RESERVED_FACTS = {"reference_date"}
PRESET_KINDS = ("prefill", "hint")


def rule_version(path: Path) -> str:
    """'sha256:' plus the first 16 hex digits of the file's SHA-256."""
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]


class _Reader:
    """Parses one rule file; `fail` raises with the file name and the place in it."""

    def __init__(self, path: Path):
        self.path = path
        self.documents: dict[str, str] = {}

    def fail(self, where: str, message: str) -> None:
        raise RuleDefinitionError(self.path, f"{where}: {message}")

    def keys(self, raw: Any, allowed: set[str], where: str, required: tuple[str, ...] = ()) -> dict:
        if not isinstance(raw, dict):
            self.fail(where, f"expected a mapping with keys from {choices(sorted(allowed))}; got {raw!r}")
        unknown = set(raw) - allowed
        if unknown:
            self.fail(where, f"unknown key(s) {choices(sorted(unknown))}; allowed: {choices(sorted(allowed))}")
        for key in required:
            if raw.get(key) in (None, ""):
                self.fail(where, f"'{key}' is required")
        return raw

    def date_or_none(self, value: Any, where: str) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(where, f"expected an ISO date (YYYY-MM-DD) or null; got {value!r}")

    def source(self, raw: Any, where: str) -> Source:
        raw = self.keys(raw, SOURCE_KEYS, where)
        if raw.get("in_corpus", True) is False:
            if not raw.get("reference"):
                self.fail(where, "a source outside the corpus (in_corpus: false) needs a 'reference'")
            return Source(document=raw.get("document"), reference=raw["reference"], in_corpus=False)
        document = raw.get("document")
        if document not in self.documents:
            self.fail(where, f"document '{document}' is not listed under 'documents'; allowed: {choices(self.documents)}")
        if not raw.get("phrase"):
            self.fail(where, "'phrase' (verbatim text from the document) is required")
        pages = raw.get("pages") or ([raw["page"]] if raw.get("page") is not None else [])
        if document.endswith(".pdf") and not pages:
            self.fail(where, f"a source in '{document}' needs 'page' (or 'pages' for a phrase across a page break)")
        return Source(
            document=document, title=self.documents[document], phrase=str(raw["phrase"]),
            pages=tuple(int(p) for p in pages),
            article=_str_or_none(raw.get("article")), lid=_str_or_none(raw.get("lid")),
            point=_str_or_none(raw.get("point")), section=raw.get("section"),
        )

    def fact(self, raw: Any, where: str) -> FactDef:
        raw = self.keys(raw, FACT_KEYS, where, ("name", "type", "label", "question"))
        name, kind = raw["name"], raw["type"]
        where = f"{where} ({name})"
        if kind not in FACT_TYPES:
            self.fail(where, f"unknown type '{kind}'; allowed: {choices(FACT_TYPES)}")
        if name in RESERVED_FACTS:
            self.fail(where, f"'{name}' is reserved (every rule accepts it)")
        values = raw.get("values") or []
        if kind in ("enum", "list-of-enum") and not values:
            self.fail(where, f"type '{kind}' needs 'values' (a list of {{value, label}})")
        parsed = []
        for i, item in enumerate(values):
            item = self.keys(item, {"value", "label"}, f"{where}.values[{i}]", ("value", "label"))
            parsed.append(Choice(value=str(item["value"]), label=str(item["label"])))
        if raw.get("normalize") not in (None, "upper", "lower"):
            self.fail(where, f"normalize '{raw['normalize']}' unknown; allowed: upper, lower")
        bounds = [k for k in ("earliest", "latest", "not_before") if raw.get(k) is not None]
        if bounds and kind != "date":
            self.fail(where, f"{', '.join(bounds)} only apply to a fact of type 'date'")
        if raw.get("options") is not None and (kind != "str" or raw["options"] not in FACT_OPTIONS):
            self.fail(where, f"options '{raw['options']}' needs type 'str' and one of: {choices(FACT_OPTIONS)}")
        earliest, latest = raw.get("earliest"), raw.get("latest")
        if earliest is not None and not isinstance(earliest, date):
            self.fail(where, f"earliest must be a date (YYYY-MM-DD), got {earliest!r}")
        if latest is not None and not isinstance(latest, date) and latest != "today":
            self.fail(where, f"latest must be a date (YYYY-MM-DD) or 'today', got {latest!r}")
        return FactDef(name=name, type=kind, label=raw["label"], question=raw["question"],
                       help=raw.get("help", ""), choices=tuple(parsed), pattern=raw.get("pattern"),
                       normalize=raw.get("normalize"), minimum=raw.get("minimum"),
                       maximum=raw.get("maximum"), null_label=raw.get("null_label"), earliest=earliest,
                       latest=latest, not_before=raw.get("not_before"), options=raw.get("options"))  # fmt: skip

    def parameter(self, name: str, raw: Any) -> Parameter:
        where = f"parameters.{name}"
        raw = self.keys(raw, {"description", "unit", "values"}, where, ("description", "values"))
        entries = []
        for i, item in enumerate(raw["values"]):
            w = f"{where}.values[{i}]"
            item = self.keys(item, {"from", "value", "source"}, w, ("source",))
            if "value" not in item:
                self.fail(w, "'value' is required (null ends the parameter)")
            entries.append(ParamValue(start=self.date_or_none(item.get("from"), w + ".from"),
                                      value=item["value"], source=self.source(item["source"], w + ".source")))
        entries.sort(key=lambda e: e.start or date.min)
        return Parameter(name=name, description=raw["description"], unit=raw.get("unit", ""), values=tuple(entries))

    def period(self, raw: Any, where: str) -> Period:
        raw = self.keys(raw, {"from", "until", "source", "until_source", "label"}, where, ("source",))
        start = self.date_or_none(raw.get("from"), where + ".from")
        until = self.date_or_none(raw.get("until"), where + ".until")
        if start and until and until <= start:
            self.fail(where, f"'until' ({until}) must be after 'from' ({start})")
        until_source = raw.get("until_source")
        return Period(start=start, until=until, source=self.source(raw["source"], where + ".source"),
                      until_source=self.source(until_source, where + ".until_source") if until_source else None,
                      label=raw.get("label", ""))

    def node(self, node: Any, scope: Scope, where: str) -> Any:
        try:
            check_node(node, scope, where)
        except RuleDefinitionError:
            raise
        except RuleError as exc:
            raise RuleDefinitionError(self.path, str(exc)) from None
        return node

    def operand(self, node: Any, scope: Scope, where: str) -> Any:
        try:
            check_operand(node, scope, where)
        except RuleError as exc:
            raise RuleDefinitionError(self.path, str(exc)) from None
        return node


def load_rule(path: Path) -> Rule:
    """Parse and validate one rule file."""
    reader = _Reader(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleDefinitionError(path, f"not valid YAML: {exc}") from None
    raw = reader.keys(raw, RULE_KEYS, "rule", ("id", "title", "facts", "outcomes"))
    if raw["id"] != path.stem:
        reader.fail("id", f"'{raw['id']}' must equal the file name '{path.stem}'")
    reader.documents = {str(k): str(v) for k, v in (raw.get("documents") or {}).items()}

    facts = tuple(reader.fact(f, f"facts[{i}]") for i, f in enumerate(raw["facts"]))
    fact_map = {f.name: f for f in facts}
    if len(fact_map) != len(facts):
        reader.fail("facts", "fact names must be unique")
    for i, f in enumerate(facts):
        if f.not_before and (f.not_before not in fact_map or fact_map[f.not_before].type != "date"):
            dates = [g.name for g in facts if g.type == "date" and g.name != f.name]
            reader.fail(f"facts[{i}]", f"not_before '{f.not_before}' must name another date fact; allowed: {choices(dates)}")
    params = {name: reader.parameter(name, p) for name, p in (raw.get("parameters") or {}).items()}
    clash = set(params) & set(fact_map)
    if clash:
        reader.fail("parameters", f"names also used as facts: {choices(sorted(clash))}")
    validity = tuple(reader.period(p, f"validity[{i}]") for i, p in enumerate(raw.get("validity") or []))
    scope = Scope(facts=fact_map, params=set(params), conditions=set())

    conditions = []
    for i, item in enumerate(raw.get("conditions") or []):
        where = f"conditions[{i}]"
        item = reader.keys(item, {"id", "description", "test", "source", "only_if"}, where,
                           ("id", "description", "test", "source"))
        where = f"conditions[{i}] ({item['id']})"
        if item["id"] in scope.conditions:
            reader.fail(where, "condition ids must be unique")
        guard = None
        if item.get("only_if"):
            g = reader.keys(item["only_if"], {"when", "reason", "source"}, where + ".only_if", ("when", "reason"))
            guard = Guard(when=reader.node(g["when"], scope, where + ".only_if.when"), reason=g["reason"],
                          source=reader.source(g["source"], where + ".only_if.source") if g.get("source") else None)
        conditions.append(Condition(id=item["id"], description=item["description"],
                                    test=reader.node(item["test"], scope, where + ".test"),
                                    source=reader.source(item["source"], where + ".source"), only_if=guard))
        scope.conditions.add(item["id"])

    term = _term(reader, raw["term"], scope) if raw.get("term") else None
    outcomes = _outcomes(reader, raw["outcomes"], scope)
    outputs = _outputs(reader, raw.get("outputs") or {}, scope)
    presets = _presets(reader, raw.get("presets") or [], fact_map)
    return Rule(id=raw["id"], title=raw["title"], description=raw.get("description", ""), path=path,
                version=rule_version(path), facts=facts, parameters=params, validity=validity,
                conditions=tuple(conditions), outcomes=outcomes, term=term, outputs=outputs,
                presets=presets, not_in_force_label=raw.get("not_in_force_label", Rule.not_in_force_label))


def _term(reader: _Reader, raw: Any, scope: Scope) -> Term:
    where = "term"
    raw = reader.keys(raw, {"start", "start_description", "base", "extensions", "caps", "working_day_note"},
                      where, ("start", "base"))
    term_scope = Scope(facts=scope.facts, params=scope.params, conditions=scope.conditions, term=True)
    base = reader.keys(raw["base"], {"months", "description", "source"}, "term.base", ("months", "description", "source"))
    extensions, caps = [], []
    for kind, target, cls in (("extensions", extensions, Extension), ("caps", caps, Cap)):
        for i, item in enumerate(raw.get(kind) or []):
            w = f"term.{kind}[{i}]"
            item = reader.keys(item, {"id", "description", "months", "when", "source"}, w,
                               ("id", "description", "months", "when", "source"))
            w = f"{w} ({item['id']})"
            target.append(cls(id=item["id"], description=item["description"],
                              months=reader.operand(item["months"], term_scope, w + ".months"),
                              when=reader.node(item["when"], term_scope, w + ".when"),
                              source=reader.source(item["source"], w + ".source")))
    note = None
    if raw.get("working_day_note"):
        n = reader.keys(raw["working_day_note"], {"calendar", "text", "source"}, "term.working_day_note",
                        ("calendar", "text", "source"))
        note = WorkingDayNote(calendar=n["calendar"], text=n["text"],
                              source=reader.source(n["source"], "term.working_day_note.source"))
    return Term(start=reader.operand(raw["start"], scope, "term.start"),
                start_description=raw.get("start_description", "Begin van de termijn"),
                base_months=reader.operand(base["months"], scope, "term.base.months"),
                base_description=base["description"], base_source=reader.source(base["source"], "term.base.source"),
                extensions=tuple(extensions), caps=tuple(caps), working_day_note=note)


def _outcomes(reader: _Reader, raw: Any, scope: Scope) -> tuple[OutcomeRule, ...]:
    if not isinstance(raw, list) or not raw:
        reader.fail("outcomes", "expected a non-empty list (the decision list)")
    out = []
    allowed = {"id", "outcome", "label", "when", "otherwise", "explanation", "source", "consequences"}
    for i, item in enumerate(raw):
        where = f"outcomes[{i}]"
        item = reader.keys(item, allowed, where, ("id", "outcome", "label"))
        where = f"{where} ({item['id']})"
        if item["outcome"] in BUILTIN_OUTCOMES:
            reader.fail(where, f"'{item['outcome']}' is given by the engine itself; do not list it")
        if bool(item.get("when")) == bool(item.get("otherwise")):
            reader.fail(where, "give exactly one of 'when' (a condition) or 'otherwise: true'")
        if item.get("otherwise") and i != len(raw) - 1:
            reader.fail(where, "'otherwise' must be the last entry of the decision list")
        consequences = []
        for j, c in enumerate(item.get("consequences") or []):
            c = reader.keys(c, {"text", "source"}, f"{where}.consequences[{j}]", ("text", "source"))
            consequences.append(Consequence(text=c["text"], source=reader.source(c["source"], f"{where}.consequences[{j}].source")))
        out.append(OutcomeRule(
            id=item["id"], outcome=item["outcome"], label=item["label"],
            when=reader.node(item["when"], scope, where + ".when") if item.get("when") else None,
            otherwise=bool(item.get("otherwise")), explanation=item.get("explanation", ""),
            source=reader.source(item["source"], where + ".source") if item.get("source") else None,
            consequences=tuple(consequences)))
    return tuple(out)


def _outputs(reader: _Reader, raw: Any, scope: Scope) -> dict[str, Any]:
    out = {}
    for name, spec in raw.items():
        where = f"outputs.{name}"
        if name in ("deadline", "months", "extensions"):
            reader.fail(where, "this name is reserved for the term's outputs")
        spec = reader.keys(spec, {"description", "collect"}, where, ("collect",))
        items = []
        for i, item in enumerate(spec["collect"]):
            item = reader.keys(item, {"when", "value"}, f"{where}.collect[{i}]", ("when",))
            items.append((reader.node(item["when"], scope, f"{where}.collect[{i}].when"), item.get("value")))
        out[name] = tuple(items)
    return out


def _presets(reader: _Reader, raw: Any, facts: dict[str, FactDef]) -> tuple[Preset, ...]:
    from rules.facts import coerce_fact  # local: facts imports model only, no cycle at import time

    out = []
    for i, item in enumerate(raw):
        where = f"presets[{i}]"
        item = reader.keys(item, {"id", "label", "description", "facts"}, where, ("id", "label", "facts"))
        where = f"{where} ({item['id']})"
        pfacts = []
        for j, f in enumerate(item["facts"]):
            w = f"{where}.facts[{j}]"
            f = reader.keys(f, {"fact", "value", "kind", "note", "source"}, w, ("fact", "kind", "source"))
            if f["fact"] not in facts:
                reader.fail(w, f"unknown fact '{f['fact']}'; allowed: {choices(facts)}")
            if f["kind"] not in PRESET_KINDS:
                reader.fail(w, f"unknown kind '{f['kind']}'; allowed: {choices(PRESET_KINDS)}")
            try:
                value = coerce_fact(facts[f["fact"]], f.get("value"))
            except RuleError as exc:
                reader.fail(w, str(exc))
            pfacts.append(PresetFact(fact=f["fact"], value=value, kind=f["kind"], note=f.get("note", ""),
                                     source=reader.source(f["source"], w + ".source")))
        out.append(Preset(id=item["id"], label=item["label"], description=item.get("description", ""),
                          facts=tuple(pfacts)))
    return tuple(out)


def load_rules(directory: Path | None = None) -> dict[str, Rule]:
    """All rules in `directory` (default: rules/definitions), by id, sorted."""
    directory = directory or DEFINITIONS_DIR
    rules = [load_rule(p) for p in sorted(directory.glob("*.yaml"))]
    return {r.id: r for r in rules}


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
