"""Deterministic rule checks: rules as dated data (rules/definitions/*.yaml), a small generic
engine with three-valued logic, and a trace that cites its sources.

    import rules
    rules.load_rules()                       # {rule_id: Rule}
    rules.check("beslistermijn", {"application_date": "2022-06-01", "decision_date": None,
                                  "moratorium": False}, date(2022, 10, 1)).to_dict()
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence

from rules.engine import RuleResult, check_rule
from rules.errors import FactError, RuleDefinitionError, RuleError, UnknownRuleError
from rules.loader import DEFINITIONS_DIR, load_rule
from rules.loader import load_rules as _load_rules
from rules.model import FactDef, Preset, Rule, Source

__all__ = ["load_rules", "get_rule", "check", "Rule", "RuleResult", "FactDef", "Preset", "Source",
           "RuleError", "FactError", "UnknownRuleError", "RuleDefinitionError", "DEFINITIONS_DIR", "load_rule"]


@lru_cache(maxsize=8)
def _cached(directory: Path) -> dict[str, Rule]:
    return _load_rules(directory)


def load_rules(directory: Path | None = None) -> dict[str, Rule]:
    """All rules by id (default folder: rules/definitions), parsed and validated once."""
    return dict(_cached(Path(directory or DEFINITIONS_DIR).resolve()))


def get_rule(rule_id: str, directory: Path | None = None) -> Rule:
    """One rule by id; UnknownRuleError lists the ids that exist."""
    rules = load_rules(directory)
    if rule_id not in rules:
        raise UnknownRuleError(rule_id, sorted(rules))
    return rules[rule_id]


def check(rule_id: str, facts: Mapping[str, Any], reference_date: date | None = None,
          presets: Sequence[str] = (), directory: Path | None = None) -> RuleResult:
    """Check rule `rule_id` against `facts` on `reference_date` (default: facts' reference_date, else today).

    `presets` names preset ids whose cited values fill facts left open (never applied unasked).
    """
    return check_rule(get_rule(rule_id, directory), facts, reference_date, presets)
