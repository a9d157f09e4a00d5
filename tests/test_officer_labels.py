"""No internal vocabulary in the officer's view: every result of every rule scenario, rendered as the
rule page renders it, and the chat's answers show the officer's words, never a fact's, outcome's or
condition's code or the rule version (those stay in the JSON and the export's technical annex)."""
from __future__ import annotations

import re

import yaml
from streamlit.testing.v1 import AppTest

import rules
from tests.conftest import REPO
from tests.test_app import APP, app_env, fresh_caches, small_index  # noqa: F401  (fixtures)

SCENARIOS = REPO / "tests" / "rules_scenarios"


def codes() -> set[str]:
    """Every code of the rules: fact names, outcome codes, condition and outcome ids, rule ids."""
    found: set[str] = {"sha256:"}
    for rule in rules.load_rules().values():
        found |= {f.name for f in rule.facts} | {c.id for c in rule.conditions}
        found |= {o.outcome for o in rule.outcomes} | {"insufficient-facts", "not-in-force", rule.id}
        found |= set(rule.parameters)
    return {c for c in found if not c.isalpha()}  # a plain word ('computed', 'beslistermijn') may be text


def shown_text(at: AppTest) -> list[str]:
    """The text of every element an officer reads on the page (labels, captions, messages, badges)."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [e.label for e in at.expander] + [b.label for b in at.button]
    out += [h.proto.body for h in at.get("html")]
    out += [label for g in at.get("graphviz_chart") for label in re.findall(r'label="((?:[^"\\]|\\.)*)"', g.proto.spec)]
    return out


def raw_codes(texts: list[str]) -> list[str]:
    pattern = re.compile("|".join(rf"(?<![\w-]){re.escape(c)}" + ("" if c.endswith(":") else r"(?![\w-])")
                                  for c in sorted(codes(), key=len, reverse=True)))  # fmt: skip
    return sorted({m.group(0) for text in texts for m in pattern.finditer(text.replace("\\", ""))})


def render_every_scenario(repo: str) -> None:
    """A page that shows the result of every rule scenario as the rule page does."""
    import datetime as dt
    import sys
    from pathlib import Path

    sys.path.insert(0, repo)
    import yaml

    import rules
    from ui import rule_view

    for path in sorted((Path(repo) / "tests" / "rules_scenarios").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        rule = rules.get_rule(data["rule"])
        for s in data["scenarios"]:
            on = dt.date.fromisoformat(str(s["reference_date"])) if s.get("reference_date") else None
            try:
                result = rules.check(rule.id, s.get("facts") or {}, on, presets=s.get("presets") or ()).to_dict()
            except rules.RuleError:  # a scenario of a refused fact: the form shows its own sentence
                continue
            rule_view.outcome_sentence(result)
            rule_view.result_view(rule, result, None, None)


def test_every_rule_result_shows_the_officers_words_only(app_env):
    n = sum(len(yaml.safe_load(p.read_text(encoding="utf-8"))["scenarios"]) for p in SCENARIOS.glob("*.yaml"))
    at = AppTest.from_function(render_every_scenario, default_timeout=120, args=(str(REPO),))
    at.session_state["lang"] = "nl"
    at.run()
    assert not at.exception, [e.value for e in at.exception][:1]
    texts = shown_text(at)
    assert n > 50 and len(texts) > 20 * n  # every scenario was drawn, with its steps and diagram
    assert raw_codes(texts) == [], [t for t in texts if raw_codes([t])][:6]


def test_the_chats_answers_show_the_officers_words_only(app_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    for question in ("Valt een 25-jarige Russische deserteur onder het moratorium?", "art. 99 Procedurerichtlijn",
                     "Hoe bak ik een appeltaart?", "En tot wanneer?"):  # fmt: skip
        at.chat_input[0].set_value(question).run()
        assert not at.exception
    assert raw_codes(shown_text(at)) == []


def test_the_checker_finds_a_code():
    assert raw_codes(["Onvoldoende feiten: g1_conflict_war_crimes"]) == ["g1_conflict_war_crimes"]
    assert raw_codes(["Uitkomst: insufficient-facts"]) == ["insufficient-facts"]
    assert raw_codes(["Regelversie sha256:2cea"]) == ["sha256:"]
    assert raw_codes(["Uitkomst: Het BVM is van toepassing"]) == []
