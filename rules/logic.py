"""Conditions as data, evaluated with three-valued (Kleene) logic: True, False or None (unknown).

A condition node is a mapping with exactly one shape:
  {all: [node, ...]}  {any: [node, ...]}  {not: node}  {ref: condition_id}
  {fact: NAME, OP: operand}  or  {value: operand, OP: operand}
with OP one of COMPARATORS. An operand is a literal (str, int, bool, date, list) or one of
  {fact: NAME}  {param: NAME}  {term: NAME}  {add_months: [operand, operand]}  {reference_date: true}
A missing fact makes every comparison that reads it unknown; the evaluation reports which facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable

from rules.dates import add_months
from rules.errors import RuleError, choices

Tri = bool | None


class _Unknown:
    """Marker for an operand whose value is not known (a missing fact)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def _ordered(op: str) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        _same_kind(op, left, right)
        return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]
    return compare


def _dated(op: str) -> Callable[[Any, Any], bool]:
    base = {"before": "lt", "on_or_before": "lte", "after": "gt", "on_or_after": "gte"}[op]

    def compare(left: Any, right: Any) -> bool:
        if left is None or right is None:
            return False
        if not isinstance(left, date) or not isinstance(right, date):
            raise RuleError(f"'{op}' compares dates; got {left!r} and {right!r}")
        return _ordered(base)(left, right)
    return compare


def _same_kind(op: str, left: Any, right: Any) -> None:
    numeric = (int, float)
    ok = (isinstance(left, date) and isinstance(right, date)) or (
        isinstance(left, numeric) and isinstance(right, numeric)
        and not isinstance(left, bool) and not isinstance(right, bool))
    if not ok:
        raise RuleError(f"'{op}' compares two numbers or two dates; got {left!r} and {right!r}")


def _between(left: Any, bounds: Any) -> bool:
    low, high = bounds
    return _ordered("gte")(left, low) and _ordered("lte")(left, high)


def _as_set(value: Any, op: str) -> set:
    if value is None:
        return set()
    if not isinstance(value, (list, tuple, set)):
        raise RuleError(f"'{op}' needs a list; got {value!r}")
    return set(value)


COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda left, right: left == right,
    "ne": lambda left, right: left != right,
    "in": lambda left, right: left in right,
    "not_in": lambda left, right: left not in right,
    "gt": _ordered("gt"),
    "gte": _ordered("gte"),
    "lt": _ordered("lt"),
    "lte": _ordered("lte"),
    "between": _between,  # inclusive: [low, high]
    "before": _dated("before"),
    "on_or_before": _dated("on_or_before"),
    "after": _dated("after"),
    "on_or_after": _dated("on_or_after"),
    "contains_any": lambda left, right: bool(_as_set(left, "contains_any") & set(right)),
    "contains_all": lambda left, right: set(right) <= _as_set(left, "contains_all"),
    "is_null": lambda left, right: (left is None) == bool(right),
}
LOGICAL = ("all", "any", "not", "ref")
SUBJECTS = ("fact", "value")
OPERAND_KINDS = ("fact", "param", "term", "add_months", "reference_date")
TERM_VALUES = ("deadline_so_far", "months_so_far")
LIST_OPERATORS = ("in", "not_in", "between", "contains_any", "contains_all")


def k_and(values: list[Tri]) -> Tri:
    """Kleene AND: False if any is False, else unknown if any is unknown, else True."""
    if any(v is False for v in values):
        return False
    if any(v is None for v in values):
        return None
    return True


def k_or(values: list[Tri]) -> Tri:
    """Kleene OR: True if any is True, else unknown if any is unknown, else False."""
    if any(v is True for v in values):
        return True
    if any(v is None for v in values):
        return None
    return False


def k_not(value: Tri) -> Tri:
    return None if value is None else not value


@dataclass
class Context:
    """What a condition can read: facts, parameters, earlier results, the running term."""

    facts: dict[str, Any]  # known facts only; an absent name is a missing fact
    param: Callable[[str], Any]  # name -> value in force on the reference date
    reference_date: date
    results: dict[str, tuple[Tri, frozenset[str]]] = field(default_factory=dict)
    term: dict[str, Any] = field(default_factory=dict)
    term_missing: frozenset[str] = frozenset()
    not_tested: set[str] = field(default_factory=set)  # conditions skipped by their guard (count as false)


@dataclass
class Reading:
    """What one step read: fact inputs and parameter values, for the trace."""

    inputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Tri | str] = field(default_factory=dict)  # referenced conditions' results


def operand(node: Any, ctx: Context, reading: Reading) -> tuple[Any, frozenset[str]]:
    """The value of an operand (or UNKNOWN) and the missing facts that made it unknown."""
    if isinstance(node, list):
        values = [operand(item, ctx, reading) for item in node]
        missing = frozenset().union(*(m for _, m in values)) if values else frozenset()
        if any(v is UNKNOWN for v, _ in values):
            return UNKNOWN, missing
        return [v for v, _ in values], frozenset()
    if not isinstance(node, dict):
        return node, frozenset()
    (kind, arg), = node.items()
    if kind == "fact":
        if arg not in ctx.facts:
            reading.inputs[arg] = None
            return UNKNOWN, frozenset([arg])
        reading.inputs[arg] = ctx.facts[arg]
        return ctx.facts[arg], frozenset()
    if kind == "param":
        value = ctx.param(arg)
        reading.parameters[arg] = value
        return value, frozenset()
    if kind == "term":
        value = ctx.term.get(arg, UNKNOWN)
        reading.inputs[arg] = None if value is UNKNOWN else value
        return value, (ctx.term_missing if value is UNKNOWN else frozenset())
    if kind == "reference_date":
        reading.inputs["reference_date"] = ctx.reference_date
        return ctx.reference_date, frozenset()
    if kind == "add_months":
        (start, start_missing), (months, months_missing) = (operand(x, ctx, reading) for x in arg)
        if start is UNKNOWN or months is UNKNOWN:
            return UNKNOWN, start_missing | months_missing
        return (None if start is None else add_months(start, int(months))), frozenset()
    raise RuleError(f"unknown operand kind '{kind}'; allowed: {choices(OPERAND_KINDS)}")


def evaluate(node: dict, ctx: Context, reading: Reading) -> tuple[Tri, frozenset[str]]:
    """Evaluate a condition node: (True/False/None, missing facts when None)."""
    if "all" in node or "any" in node:
        parts = [evaluate(child, ctx, reading) for child in node.get("all", node.get("any"))]
        result = (k_and if "all" in node else k_or)([r for r, _ in parts])
        return result, _missing_if_unknown(result, parts)
    if "not" in node:
        result, missing = evaluate(node["not"], ctx, reading)
        return k_not(result), missing
    if "ref" in node:
        result = ctx.results[node["ref"]]
        reading.conditions[node["ref"]] = "not-tested" if node["ref"] in ctx.not_tested else result[0]
        return result
    subject_key = "fact" if "fact" in node else "value"
    (op, rhs), = ((k, v) for k, v in node.items() if k != subject_key)
    left, left_missing = operand(node[subject_key] if subject_key == "value" else {"fact": node["fact"]}, ctx, reading)
    right, right_missing = operand(rhs, ctx, reading)
    if left is UNKNOWN or right is UNKNOWN:
        return None, left_missing | right_missing
    return COMPARATORS[op](left, right), frozenset()


def _missing_if_unknown(result: Tri, parts: list[tuple[Tri, frozenset[str]]]) -> frozenset[str]:
    if result is not None:
        return frozenset()
    return frozenset().union(*(m for r, m in parts if r is None))


@dataclass
class Scope:
    """What a node may refer to, for checking a rule file when it is loaded."""

    facts: dict[str, Any]  # name -> FactDef
    params: set[str]
    conditions: set[str]
    term: bool = False


def check_node(node: Any, scope: Scope, where: str) -> None:
    """Raise RuleError naming `where` and the allowed choices if `node` is not a valid condition."""
    if not isinstance(node, dict) or not node:
        raise RuleError(f"{where}: a condition must be a mapping such as {{fact: age, gte: 18}}; got {node!r}")
    logical = [k for k in node if k in LOGICAL]
    if logical:
        if len(node) != 1:
            raise RuleError(f"{where}: '{logical[0]}' must stand alone; got keys {sorted(node)}")
        key, arg = next(iter(node.items()))
        if key in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                raise RuleError(f"{where}: '{key}' needs a non-empty list of conditions")
            for i, child in enumerate(arg):
                check_node(child, scope, f"{where}.{key}[{i}]")
        elif key == "not":
            check_node(arg, scope, f"{where}.not")
        elif arg not in scope.conditions:
            raise RuleError(f"{where}: ref '{arg}' is not an earlier condition; allowed: {choices(sorted(scope.conditions)) or '(none yet)'}")
        return
    subjects = [k for k in node if k in SUBJECTS]
    ops = [k for k in node if k in COMPARATORS]
    other = [k for k in node if k not in SUBJECTS and k not in COMPARATORS]
    if len(subjects) != 1 or len(ops) != 1 or other:
        raise RuleError(
            f"{where}: expected one of {choices(SUBJECTS)} and one operator; got keys {sorted(node)}. "
            f"Operators: {choices(COMPARATORS)}; logical: {choices(LOGICAL)}")
    op = ops[0]
    if subjects[0] == "fact":
        _check_fact_name(node["fact"], scope, where)
    else:
        check_operand(node["value"], scope, where + ".value")
    rhs = node[op]
    if op in LIST_OPERATORS and not isinstance(rhs, list):
        raise RuleError(f"{where}: '{op}' needs a list; got {rhs!r}")
    if op == "between" and len(rhs) != 2:
        raise RuleError(f"{where}: 'between' needs [low, high]; got {rhs!r}")
    check_operand(rhs, scope, f"{where}.{op}")
    if subjects[0] == "fact":
        _check_enum_literals(scope.facts[node["fact"]], op, rhs, where)


def check_operand(node: Any, scope: Scope, where: str) -> None:
    """Raise RuleError if an operand refers to an unknown fact, parameter or term value."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            check_operand(item, scope, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    if len(node) != 1 or next(iter(node)) not in OPERAND_KINDS:
        raise RuleError(f"{where}: unknown operand {node!r}; allowed: {choices(OPERAND_KINDS)} or a literal")
    (kind, arg), = node.items()
    if kind == "fact":
        _check_fact_name(arg, scope, where)
    elif kind == "param" and arg not in scope.params:
        raise RuleError(f"{where}: unknown parameter '{arg}'; allowed: {choices(sorted(scope.params))}")
    elif kind == "term":
        if not scope.term:
            raise RuleError(f"{where}: '{{term: {arg}}}' is only allowed inside a term's extensions and caps")
        if arg not in TERM_VALUES:
            raise RuleError(f"{where}: unknown term value '{arg}'; allowed: {choices(TERM_VALUES)}")
    elif kind == "add_months":
        if not isinstance(arg, list) or len(arg) != 2:
            raise RuleError(f"{where}: add_months needs [date operand, months operand]")
        check_operand(arg, scope, where + ".add_months")


def _check_fact_name(name: Any, scope: Scope, where: str) -> None:
    if name not in scope.facts:
        raise RuleError(f"{where}: unknown fact '{name}'; allowed: {choices(scope.facts)}")


def _check_enum_literals(fact: Any, op: str, rhs: Any, where: str) -> None:
    if fact.type not in ("enum", "list-of-enum") or op not in ("eq", "ne", "in", "not_in", "contains_any", "contains_all"):
        return
    for literal in rhs if isinstance(rhs, list) else [rhs]:
        if not isinstance(literal, dict) and literal not in fact.allowed_values:
            raise RuleError(f"{where}: '{literal}' is not a value of fact '{fact.name}'; allowed: {choices(fact.allowed_values)}")
