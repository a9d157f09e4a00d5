"""Command line: `python -m rules list [--json]` and
`python -m rules check RULE_ID --facts FILE.json|- [--on DATE] [--preset ID] [--json]`.

Scripts and evaluation depend on this interface; errors print one line and exit with code 2.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import rules
from rules.errors import RuleError
from rules.facts import parse_reference_date
from rules.render import render_result, render_rules

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rules", description="Deterministic rule checks with a cited trace.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list the rules, their facts and allowed values")
    p_list.add_argument("--json", action="store_true", help="print JSON")
    p_check = sub.add_parser("check", help="check one rule against facts")
    p_check.add_argument("rule_id", help="rule id (see `list`)")
    p_check.add_argument("--facts", required=True, help="JSON file with the facts, or - for standard input")
    p_check.add_argument("--on", dest="on", help="reference date YYYY-MM-DD (default: facts' reference_date, else today)")
    p_check.add_argument("--preset", action="append", default=[], help="apply a preset's cited values to facts left open")
    p_check.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            loaded = rules.load_rules()
            if args.json:
                print(json.dumps([r.to_dict() for r in loaded.values()], ensure_ascii=False, indent=2))
            else:
                print(render_rules(loaded))
            return 0
        facts = _read_facts(args.facts)
        on = parse_reference_date(args.on) if args.on else None
        result = rules.check(args.rule_id, facts, on, presets=args.preset).to_dict()
    except RuleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(render_result(result))
    return 0


def _read_facts(name: str) -> dict[str, Any]:
    """The facts object from a JSON file or standard input; RuleError naming the file."""
    label = "standard input" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"--facts {label}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RuleError(f"--facts {label}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise RuleError(f"--facts {label}: nested too deeply; give one JSON object of facts and values") from None
    if not isinstance(data, dict):
        raise RuleError(f"--facts {label}: expected a JSON object {{\"fact\": value, ...}}, got {type(data).__name__}")
    return data


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
