"""A rule's decision path as a Graphviz DOT string, drawn from the rule's own data: validity,
the conditions (with the conditions they build on), the term and the decision list.

With a result (RuleResult.to_dict()) every step is coloured by its trace result (met, not met,
unknown, not tested), unknown steps are dashed and marked '?', and the path taken through
the decision list to the outcome is drawn bold.
"""
from __future__ import annotations

import textwrap
from typing import Any, Iterator

from rules.model import Rule
from rules.vocabulary import RESULT_WORDS

WRAP = 34  # characters per label line

STYLES = {  # trace result -> (fill, border, style)
    "true": ("#d3f9d8", "#2b8a3e", "rounded,filled"),
    "false": ("#ffe3e3", "#c92a2a", "rounded,filled"),
    "unknown": ("#fff3bf", "#e67700", "rounded,filled,dashed"),
    "not-tested": ("#f1f3f5", "#868e96", "rounded,filled,dotted"),
    None: ("#ffffff", "#495057", "rounded,filled"),
}
SYMBOLS = {"true": "✔", "false": "✘", "unknown": "?", "not-tested": "–"}
MARKS = {code: f"{SYMBOLS[code]} {word}" for code, word in RESULT_WORDS.items()}
REACHED = "● uitkomst"
PATH = 'color="#1c63b7", penwidth=2.6'
LABEL_COLOUR = "#5c636a"  # a grey edge label still 4.5:1 on white (WCAG 2.1 AA, tests/test_contrast.py)
OPS = {"eq": "=", "ne": "≠", "in": "in", "not_in": "niet in", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤",
       "between": "tussen", "before": "vóór", "on_or_before": "op of vóór", "after": "na", "on_or_after": "op of na",
       "contains_any": "bevat een van", "contains_all": "bevat alle", "is_null": "is leeg"}  # fmt: skip


def quote(text: str) -> str:
    """A DOT string literal."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def wrap(text: str, width: int = WRAP) -> str:
    return "\n".join(textwrap.wrap(" ".join(str(text).split()), width, break_long_words=False)) or str(text)


def refs(node: Any) -> Iterator[str]:
    """The condition ids a condition node refers to ({ref: X}), in order."""
    if isinstance(node, dict):
        if "ref" in node:
            yield node["ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


def when_text(node: Any, names: dict[str, str] | None = None) -> str:
    """A compact reading of a condition node: 'niet (V1 en V2)', 'Leeftijd tussen ...'; `names`
    gives the words shown for condition ids and fact names (the officer's V1, V2 and labels)."""
    names = names or {}
    if not isinstance(node, dict):
        return str(node)
    if "all" in node or "any" in node:
        parts = [when_text(n, names) for n in node.get("all", node.get("any"))]
        joined = (" en " if "all" in node else " of ").join(parts)
        return f"({joined})" if len(parts) > 1 else joined
    if "not" in node:
        return f"niet {when_text(node['not'], names)}"
    if "ref" in node:
        return names.get(node["ref"], node["ref"])
    subject = "fact" if "fact" in node else "value"
    (op, rhs), = ((k, v) for k, v in node.items() if k != subject)
    return f"{_operand(node[subject] if subject == 'value' else node['fact'], names)} {OPS.get(op, op)} {_operand(rhs, names)}"


def _operand(value: Any, names: dict[str, str]) -> str:
    if isinstance(value, dict):
        (kind, arg), = value.items()
        return "peildatum" if kind == "reference_date" else names.get(str(arg), str(arg))
    if isinstance(value, list):
        return "[" + ", ".join(_operand(v, names) for v in value) + "]"
    return names.get(str(value), str(value)) if isinstance(value, str) else str(value)


def short(text: str, limit: int = 110) -> str:
    """A long description cut at its first colon, else at `limit` characters."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = text.split(":", 1)[0]
    return head if len(head) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _node(name: str, label: str, result: str | None, shape: str = "box", bold: bool = False,
          mark: str | None = None) -> str:
    fill, border, style = STYLES.get(result, STYLES[None])
    mark = MARKS.get(result or "", "") if mark is None else mark
    text = f"{label}\n{mark}" if mark else label
    extra = ", penwidth=3" if bold else ""
    return (f"  {name} [label={quote(text)}, shape={shape}, style={quote(style)}, "
            f"fillcolor={quote(fill)}, color={quote(border)}{extra}];")


def _edge(a: str, b: str, label: str = "", on_path: bool = False, style: str = "") -> str:
    attrs = []
    if label:
        attrs.append(f"label={quote(label)}")
    if on_path:
        attrs.append(PATH)
    if style:
        attrs.append(style)
    return f"  {a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";"


def _sid(prefix: str, ident: str) -> str:
    return prefix + "".join(c if c.isalnum() else "_" for c in ident)


def rule_dot(rule: Rule, result: dict | None = None) -> str:
    """The DOT source of `rule`'s decision diagram, with `result`'s path when given."""
    trace = (result or {}).get("trace") or []
    by_kind_id = {(s["kind"], s["id"]): s["result"] for s in trace}
    outcome = (result or {}).get("outcome")
    checked = result is not None
    # the officer's words for the rule's codes: V1, V2, ... for its conditions, labels for its facts
    names = {c.id: f"V{i}" for i, c in enumerate(rule.conditions, 1)} | {f.name: f.label for f in rule.facts}

    lines = ["digraph rule {", '  graph [rankdir=TB, nodesep=0.25, ranksep=0.35, fontname="Helvetica"];',
             '  node [fontname="Helvetica", fontsize=10, margin="0.12,0.06"];',
             '  edge [fontname="Helvetica", fontsize=9, color="#868e96"];']  # fmt: skip

    ref_date = (result or {}).get("reference_date")
    shown_date = ".".join(reversed(str(ref_date)[:10].split("-"))).replace(".", "-") if ref_date else ""
    lines.append(_node("start", "Peildatum" + (f" {shown_date}" if ref_date else ""), None, shape="oval"))
    validity = by_kind_id.get(("validity", "in-force"))
    lines.append(_node("validity", "Regel in werking\nop de peildatum?", validity, shape="diamond"))
    lines.append(_edge("start", "validity", on_path=checked))
    if rule.validity and any(p.start or p.until for p in rule.validity):
        reached = outcome == "not-in-force"
        lines.append(_node("o_not_in_force", wrap(rule.not_in_force_label), "true" if reached else None,
                           shape="box", bold=reached, mark=REACHED if reached else ""))  # fmt: skip
        lines.append(_edge("validity", "o_not_in_force", "nee", on_path=reached))
    in_force = validity == "true"

    # -- conditions, each with the conditions it builds on (and its guard)
    if rule.conditions:
        lines.append('  subgraph cluster_conditions { label="Voorwaarden"; color="#dee2e6"; fontsize=10;')
        for cond in rule.conditions:
            res = by_kind_id.get(("condition", cond.id)) if checked else None
            lines.append("  " + _node(_sid("c_", cond.id), f"{names[cond.id]}\n{wrap(short(cond.description))}", res))
        lines.append("  }")
        for cond in rule.conditions:
            for r in dict.fromkeys(refs(cond.test)):
                lines.append(_edge(_sid("c_", r), _sid("c_", cond.id), style="style=dashed, arrowhead=empty"))
            if cond.only_if is not None:
                for r in dict.fromkeys(refs(cond.only_if.when)):
                    lines.append(_edge(_sid("c_", r), _sid("c_", cond.id), "alleen als niet voldaan",
                                       style=f'style=dotted, arrowhead=empty, fontcolor="{LABEL_COLOUR}"'))  # fmt: skip

    previous, previous_label = "validity", "ja"
    # -- the term: start + base + extensions, capped
    if rule.term is not None:
        t = rule.term
        base = by_kind_id.get(("term", "base")) if checked else None
        lines.append(_node("t_base", wrap(f"{t.start_description}; {t.base_description}"), base))
        lines.append(_edge(previous, "t_base", previous_label, on_path=in_force))
        previous, previous_label = "t_base", ""
        for part, kind in [(e, "extension") for e in t.extensions] + [(c, "cap") for c in t.caps]:
            res = by_kind_id.get((kind, part.id)) if checked else None
            name = _sid("t_", part.id)
            title = "Verlenging" if kind == "extension" else "Maximum"
            lines.append(_node(name, f"{title}: {part.id}\n{wrap(short(part.description))}", res))
            lines.append(_edge(previous, name, previous_label, on_path=in_force and base == "true"))
            previous = name
        deadline = (result or {}).get("deadline")
        lines.append(_node("t_deadline", "Uiterste datum" + (f"\n{deadline}" if deadline else ""),
                           "true" if deadline else ("unknown" if checked and in_force else None), shape="oval"))  # fmt: skip
        lines.append(_edge(previous, "t_deadline", on_path=bool(deadline)))
        previous, previous_label = "t_deadline", ""

    # -- the decision list: the first entry whose condition holds gives the outcome
    decided = next((s["id"] for s in trace if s["kind"] == "decision" and s["result"] == "true"), None)
    traced = [s["id"] for s in trace if s["kind"] == "decision" and s["id"] != "insufficient-facts"]
    last_traced = max((i for i, e in enumerate(rule.outcomes) if e.id in traced), default=-1)
    on_path = in_force and (rule.term is None or bool((result or {}).get("deadline")))
    for i, entry in enumerate(rule.outcomes):
        reached = entry.id == decided
        o_name = _sid("o_", entry.id)
        lines.append(_node(o_name, wrap(entry.label), "true" if reached else None, bold=reached,
                           mark=REACHED if reached else ""))  # fmt: skip
        if entry.otherwise:
            lines.append(_edge(previous, o_name, previous_label if previous != "validity" else "ja",
                               on_path=on_path and reached))  # fmt: skip
            break
        res = by_kind_id.get(("decision", entry.id))
        if res is None and checked and in_force and i < last_traced:
            res = "false"  # an entry before the one traced last was false: the walk went past it
        d_name = _sid("d_", entry.id)
        lines.append(_node(d_name, wrap(when_text(entry.when, names), 28) + " ?", res, shape="diamond"))
        lines.append(_edge(previous, d_name, previous_label, on_path=on_path))
        for r in dict.fromkeys(refs(entry.when)):
            lines.append(_edge(_sid("c_", r), d_name, style="style=dashed, arrowhead=empty"))
        lines.append(_edge(d_name, o_name, "ja", on_path=on_path and reached))
        on_path = on_path and res == "false"
        previous, previous_label = d_name, "nee"

    if outcome == "insufficient-facts":
        missing = ", ".join(rule.fact(n).label for n in (result or {}).get("missing_facts") or [])
        lines.append(_node("o_insufficient", wrap(f"Onvoldoende feiten: {missing}"), "unknown", bold=True,
                           mark=REACHED))  # fmt: skip
        for s in trace:
            if s["result"] == "unknown" and s["kind"] in ("decision", "term", "extension", "cap") \
                    and s["id"] != "insufficient-facts":
                src = _sid("d_", s["id"]) if s["kind"] == "decision" else (
                    "t_base" if s["kind"] == "term" else _sid("t_", s["id"]))
                lines.append(_edge(src, "o_insufficient", "?", on_path=True, style="style=dashed"))
    lines.append("}")
    return "\n".join(lines)
