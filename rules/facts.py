"""Check and convert the facts given for a rule; errors name the fact, the value and what is allowed."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Mapping

from rules.errors import FactError, choices
from rules.model import FactDef, Rule

TYPE_NAMES = {"int": "an integer", "bool": "true or false", "date": "an ISO date (YYYY-MM-DD)",
              "enum": "one of the allowed values", "list-of-enum": "a list of allowed values",
              "str": "a string"}


def coerce_fact(fact: FactDef, value: Any) -> Any:
    """The value converted to the fact's type; FactError if it does not fit."""
    if value is None:
        return None
    kind = fact.type
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(fact, value)
        if fact.minimum is not None and value < fact.minimum or fact.maximum is not None and value > fact.maximum:
            raise FactError(f"fact '{fact.name}': {value} is out of range; allowed: {fact.minimum} to {fact.maximum}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _type_error(fact, value)
        return value
    if kind == "date":
        return _plausible(fact, _date(fact, value))
    if kind == "enum":
        if not isinstance(value, str) or value not in fact.allowed_values:
            raise _choice_error(fact, value)
        return value
    if kind == "list-of-enum":
        if not isinstance(value, (list, tuple)):
            raise _type_error(fact, value)
        out: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in fact.allowed_values:
                raise _choice_error(fact, item)
            if item not in out:
                out.append(item)
        return out
    if not isinstance(value, str):
        raise _type_error(fact, value)
    value = value.strip()
    if fact.normalize == "upper":
        value = value.upper()
    elif fact.normalize == "lower":
        value = value.lower()
    if fact.pattern and not re.fullmatch(fact.pattern, value):
        raise FactError(f"fact '{fact.name}': '{value}' does not match the pattern {fact.pattern} ({fact.help or fact.label})")
    return value


def validate_facts(rule: Rule, given: Mapping[str, Any]) -> dict[str, Any]:
    """Known facts by name; a fact left out, or null without a null meaning, is missing (absent)."""
    defs = {f.name: f for f in rule.facts}
    known: dict[str, Any] = {}
    for name, value in given.items():
        if name not in defs:
            raise FactError(f"unknown fact '{name}' for rule '{rule.id}'; allowed: {choices(list(defs) + ['reference_date'])}")
        fact = defs[name]
        value = coerce_fact(fact, value)
        if value is None and fact.null_label is None:
            continue  # null means "not known": the fact stays missing
        known[name] = value
    for name, value in known.items():
        earlier = defs[name].not_before
        if earlier and value is not None and known.get(earlier) is not None and value < known[earlier]:
            raise FactError(f"fact '{name}' ({defs[name].label}): {value.isoformat()} lies before '{earlier}' "
                            f"({known[earlier].isoformat()}); allowed: {known[earlier].isoformat()} or later")  # fmt: skip
    return known


def parse_reference_date(value: Any) -> date:
    """A reference date from a date or an ISO string; FactError naming the expected format."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FactError(f"fact 'reference_date': expected an ISO date (YYYY-MM-DD), got {value!r}")


def _date(fact: FactDef, value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _type_error(fact, value)


def _plausible(fact: FactDef, value: date) -> date:
    """The date, when it lies in the fact's plausible range (rule file: earliest, latest)."""
    latest = fact.latest_on(date.today())
    if fact.earliest is not None and value < fact.earliest or latest is not None and value > latest:
        low = fact.earliest.isoformat() if fact.earliest else "any date"
        high = "today" if fact.latest == "today" else latest.isoformat() if latest else "any date"
        raise FactError(f"fact '{fact.name}' ({fact.label}): {value.isoformat()} lies outside the plausible range; "
                        f"allowed: {low} to {high}")  # fmt: skip
    return value


def _type_error(fact: FactDef, value: Any) -> FactError:
    extra = f"; allowed: {choices(fact.allowed_values)}" if fact.choices else ""
    nullable = " or null" if fact.type != "list-of-enum" else ""
    return FactError(f"fact '{fact.name}': expected {TYPE_NAMES[fact.type]}{nullable}, got {value!r} "
                     f"({type(value).__name__}){extra}")


def _choice_error(fact: FactDef, value: Any) -> FactError:
    return FactError(f"fact '{fact.name}': {value!r} is not allowed; allowed: {choices(fact.allowed_values)}")
