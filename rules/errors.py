"""Errors of the rules package; each message names the file or value and the allowed choices."""
from __future__ import annotations

from pathlib import Path


class RuleError(Exception):
    """Base class: a problem the caller can fix (the CLI exits with code 2)."""


class UnknownRuleError(RuleError):
    """A rule id that has no definition file."""

    def __init__(self, rule_id: str, allowed: list[str]):
        self.rule_id = rule_id
        self.allowed = allowed
        super().__init__(f"unknown rule '{rule_id}'; allowed: {', '.join(allowed)}")


class FactError(RuleError):
    """A fact with an unknown name, a wrong type or a value outside its allowed choices."""


class RuleDefinitionError(RuleError):
    """A rule (or calendar) file that does not follow the schema."""

    def __init__(self, path: str | Path, message: str):
        self.path = str(path)
        super().__init__(f"{Path(path).name}: {message}")


def choices(values) -> str:
    """Allowed values as a readable, stable list for error messages."""
    return ", ".join(str(v) for v in values)
