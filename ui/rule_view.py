"""Rule checks in the app: the form built from a rule's fact definitions, the result (the outcome
in one sentence, the questions still to ask, consequences, the numbered trace with each step's
source opening its passage in context), the decision diagram and the term timeline; and the
offer of a rule check under a chat answer.

All logic stays in `rules` and `retrieval`: this module turns widgets into facts, calls
`rules.check`, and shows what comes back.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import streamlit as st

import rules
from casefile import RuleCheck, fact_value, input_label, named, plain_value
from rules.diagram import rule_dot
from rules.errors import FactError, RuleError
from rules.facts import coerce_fact
from rules.vocabulary import VALUE_WORDS
from rules.timeline import term_timeline
from indexer.text import fold
from retrieval.hits import Hit
from retrieval.places import default_gazetteer
from retrieval.retriever import Retriever
from retrieval.sources import HEADING_MATCH, PHRASE_MATCH, find_source_passage, trace_passages
from ui import charts, context, navigation
from ui.i18n import fmt_date, t
from ui.text import escape, md_escape

PREFILL = "rule_prefill"  # session key: facts offered by the chat, applied when the rule page opens
NONE_APPLY = "__none__"  # the "none of these" option of a list-of-enum fact
DATE_RANGE = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))
RESULT_STYLE = {  # trace result -> (icon, colour) of its badge
    "true": (":material/check_circle:", "green"),
    "false": (":material/cancel:", "red"),
    "unknown": (":material/help:", "orange"),
    "not-tested": (":material/remove_circle_outline:", "gray"),
}
UNDECIDED = ("insufficient-facts", "not-in-force")
PHRASE_STYLE = "border-left:3px solid #ced4da;padding:2px 8px;color:#495057;font-style:italic;white-space:pre-wrap"


def fact_key(rule_id: str, name: str) -> str:
    return f"fact_{rule_id}_{name}"


def null_key(rule_id: str, name: str) -> str:
    return f"fact_{rule_id}_{name}__null"


def result_key(rule_id: str) -> str:
    return f"rule_result_{rule_id}"


def origin_key(rule_id: str) -> str:
    return f"rule_origin_{rule_id}"


def reference_key(rule_id: str) -> str:
    return f"rule_reference_{rule_id}"


# --------------------------------------------------------------------------- from the chat


def reference_of(suggestion: dict, policy_on: dt.date | None) -> dict:
    """The reference date of a check opened from the chat, and where it comes from: the date the
    question names, else the chat's 'policy in force on' date, else today."""
    if suggestion.get("reference_date"):
        return {"date": suggestion["reference_date"], "origin": "question", "words": suggestion.get("reference_words", "")}
    if policy_on is not None:
        return {"date": policy_on.isoformat(), "origin": "setting", "words": ""}
    return {"date": dt.date.today().isoformat(), "origin": "today", "words": ""}


def reference_caption(reference: dict) -> str:
    """Which reference date was used, in the officer's words."""
    return t(f"reference_{'today' if reference['origin'] == 'today' else 'from_' + reference['origin']}",
             date=fmt_date(reference["date"]), words=md_escape(reference["words"]))  # fmt: skip


def offer(suggestion: dict, *, question: str, message_id: int, key: str, policy_on: dt.date | None = None) -> None:
    """Under a chat answer: the rule check that fits the question, the facts pre-filled from it
    and the words they came from, the reference date it will use, and a button that opens the
    check (which the officer runs)."""
    rule = rules.get_rule(suggestion["rule_id"])
    facts, evidence = suggestion.get("facts") or {}, suggestion.get("evidence") or {}
    reference = reference_of(suggestion, policy_on)
    with st.container(border=True):
        st.markdown(f":material/rule: **{t('offer_title', title=md_escape(rule.title))}**")
        st.caption(t("offer_intro"))
        if facts:
            lines = [t("offer_fact", label=md_escape(rule.fact(n).label), value=md_escape(fact_value(rule.fact(n), v)),
                       words=md_escape(evidence.get(n, ""))) for n, v in facts.items()]  # fmt: skip
            st.markdown(f"{t('offer_prefilled')}\n\n" + "\n".join(f"- {line}" for line in lines))
        else:
            st.caption(t("offer_nothing_prefilled"))
        still = [md_escape(f.label) for f in rule.facts if f.name not in facts]
        if still:
            st.caption(t("offer_still_open", facts=", ".join(still)))
        st.caption(reference_caption(reference))
        if st.button(t("offer_open"), key=key, icon=":material/fact_check:", type="primary"):
            st.session_state[PREFILL] = {"rule_id": rule.id, "facts": dict(facts), "evidence": dict(evidence),
                                         "question": question, "message_id": message_id,
                                         "reference": reference}  # fmt: skip
            navigation.switch_to_rule(rule.id)


def apply_prefill(rule: rules.Rule) -> dict | None:
    """On opening the rule page from the chat: a fresh form holding the offered facts. Returns
    where the facts came from (question, evidence, message id), or None when typed here."""
    offered = st.session_state.get(PREFILL)
    if offered and offered.get("rule_id") == rule.id:
        del st.session_state[PREFILL]
        for fact in rule.facts:
            st.session_state.pop(fact_key(rule.id, fact.name), None)
            st.session_state.pop(null_key(rule.id, fact.name), None)
        for name, value in offered["facts"].items():
            st.session_state[fact_key(rule.id, name)] = _widget_value(rule.fact(name), value)
        if offered.get("reference"):
            st.session_state[reference_key(rule.id)] = dt.date.fromisoformat(offered["reference"]["date"])
        st.session_state[origin_key(rule.id)] = offered
        st.session_state.pop(result_key(rule.id), None)
    return st.session_state.get(origin_key(rule.id))


def forget_checks() -> None:
    """A new conversation is a new case: drop the rule checks, their results and where they came from."""
    st.session_state.pop(PREFILL, None)
    for rule_id in rules.load_rules():
        st.session_state.pop(origin_key(rule_id), None)
        st.session_state.pop(result_key(rule_id), None)


def _widget_value(fact: rules.FactDef, value: Any) -> Any:
    if fact.type == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if fact.type == "list-of-enum":
        return list(value) or [NONE_APPLY]
    return value


# --------------------------------------------------------------------------- the form


def fact_form(rule: rules.Rule, origin: dict | None, presets: list[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """One widget per fact, two columns, each with its question, the words it was pre-filled
    from and what a chosen preset says about it. Returns the facts given (left out: unknown)
    and the names of facts whose input is invalid."""
    facts: dict[str, Any] = {}
    invalid: list[str] = []
    evidence = (origin or {}).get("evidence") or {}
    from_presets = [pf for p in rule.presets if p.id in presets for pf in p.facts]
    columns = st.columns(2)
    for i, fact in enumerate(rule.facts):
        with columns[i % 2]:
            given, value, problem = fact_input(rule.id, fact)
            st.caption(md_escape(fact.question))
            if fact.name in evidence and fact.name in (origin or {}).get("facts", {}):
                st.caption(t("prefilled_from", words=md_escape(evidence[fact.name])))
            for pf in (pf for pf in from_presets if pf.fact == fact.name):
                if pf.kind == "prefill":
                    st.caption(t("preset_prefill", value=md_escape(fact_value(fact, pf.value)),
                                 citation=md_escape(pf.source.citation)))  # fmt: skip
                else:
                    st.caption(t("preset_hint", note=md_escape(pf.note), citation=md_escape(pf.source.citation)))
            if problem:
                st.error(problem)
                invalid.append(fact.name)
            elif given:
                facts[fact.name] = value
    return facts, invalid


def fact_input(rule_id: str, fact: rules.FactDef) -> tuple[bool, Any, str | None]:
    """The widget for one fact, enforcing its type and allowed values: (given, value, problem)."""
    key = fact_key(rule_id, fact.name)
    help_text = md_escape(fact.help) if fact.help else None
    if fact.type == "bool":
        value = st.radio(fact.label, [None, True, False], key=key, horizontal=True, help=help_text,
                         format_func=lambda v: t("value_unknown") if v is None else t("yes") if v else t("no"))  # fmt: skip
        return value is not None, value, None
    if fact.type == "int":
        value = st.number_input(fact.label, min_value=fact.minimum, max_value=fact.maximum, value=None, step=1,
                                key=key, help=help_text, placeholder=t("value_unknown"))  # fmt: skip
        return value is not None, None if value is None else int(value), None
    if fact.type == "date":
        is_null = bool(fact.null_label) and st.checkbox(fact.null_label, key=null_key(rule_id, fact.name))
        value = st.date_input(fact.label, value=None, min_value=fact.earliest or DATE_RANGE[0],
                              max_value=fact.latest_on(dt.date.today()) or DATE_RANGE[1], format="DD-MM-YYYY",
                              key=key, help=help_text, disabled=is_null)  # fmt: skip
        if is_null:
            return True, None, None
        return value is not None, value, None
    if fact.options == "states":
        labels = state_labels()
        value = st.selectbox(fact.label, [None, *labels], key=key, help=help_text,
                             format_func=lambda v: t("value_unknown") if v is None else labels.get(v, v))  # fmt: skip
        return value is not None, None if value is None else coerce_fact(fact, value), None
    if fact.type == "enum":
        labels = {c.value: c.label for c in fact.choices}
        value = st.selectbox(fact.label, [None, *labels], key=key, help=help_text,
                             format_func=lambda v: t("value_unknown") if v is None else labels[v])  # fmt: skip
        return value is not None, value, None
    if fact.type == "list-of-enum":
        labels = {NONE_APPLY: t("none_apply"), **{c.value: c.label for c in fact.choices}}
        chosen = st.multiselect(fact.label, list(labels), key=key, help=help_text, format_func=labels.get,
                                placeholder=t("value_unknown"))  # fmt: skip
        if not chosen:
            return False, None, None
        values = [v for v in chosen if v != NONE_APPLY]
        if values and NONE_APPLY in chosen:
            return False, None, t("fact_none_and_some", label=md_escape(fact.label))
        return True, values, None
    text = st.text_input(fact.label, key=key, help=help_text, placeholder=t("value_unknown"))
    if not text.strip():
        return False, None, None
    try:
        return True, coerce_fact(fact, text), None
    except FactError:
        return False, None, t("fact_invalid", label=md_escape(fact.label), help=md_escape(fact.help or fact.question))


def state_labels() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> 'Dutch name (code)', by name: the states of retrieval/places.yaml."""
    gazetteer = default_gazetteer()
    states = gazetteer.states if gazetteer else {}
    return {code: f"{forms[0]} ({code})" for code, forms in sorted(states.items(), key=lambda kv: fold(kv[1][0]))}


def preset_picker(rule: rules.Rule) -> list[str]:
    """The rule's cited presets (never applied unless chosen), with what they fill in."""
    if not rule.presets:
        return []
    labels = {p.id: p.label for p in rule.presets}
    chosen = st.multiselect(t("rule_presets"), list(labels), format_func=labels.get, key=f"presets_{rule.id}",
                            help=t("rule_presets_help"), placeholder=t("rule_presets_none"))  # fmt: skip
    for preset in rule.presets:
        if preset.id in chosen:
            st.caption(md_escape(preset.description))
    return chosen


# --------------------------------------------------------------------------- running


def run_check(rule: rules.Rule, facts: dict[str, Any], on: dt.date, presets: list[str], invalid: list[str]) -> None:
    """Run the check and keep the result with the input it was made from (shown until the next
    check). Nothing about the applicant is logged."""
    if invalid:
        st.error(t("rule_fix_first"))
        return
    try:
        result = rules.check(rule.id, facts, reference_date=on, presets=presets).to_dict()
    except (FactError, RuleError) as exc:
        st.error(t("rule_failed"))
        st.caption(md_escape(str(exc)))
        return
    runs = (st.session_state.get(result_key(rule.id)) or {}).get("run", 0) + 1
    st.session_state[result_key(rule.id)] = {"result": result, "input": _snapshot(facts, on, presets), "run": runs}


def _snapshot(facts: dict[str, Any], on: dt.date, presets: list[str]) -> str:
    return json.dumps({"facts": facts, "on": on, "presets": presets}, default=str, sort_keys=True)


def stored_result(rule_id: str) -> dict | None:
    return st.session_state.get(result_key(rule_id))


def is_stale(stored: dict, facts: dict[str, Any], on: dt.date, presets: list[str]) -> bool:
    """Whether the form changed since the shown result was computed."""
    return stored["input"] != _snapshot(facts, on, presets)


# --------------------------------------------------------------------------- the result


def result_view(rule: rules.Rule, result: dict, retriever: Retriever | None, origin: dict | None) -> RuleCheck:
    """The result of a check; returns it as a RuleCheck (with each step's indexed passage) for
    the case export."""
    on = dt.date.fromisoformat(result["reference_date"])
    hits = trace_passages(retriever.library, result, on) if retriever is not None else {}
    outcome_sentence(result)
    if result.get("explanation"):
        st.markdown(md_escape(result["explanation"]))
    if result.get("missing_facts"):
        st.markdown(f"**{t('rule_missing_title')}**")
        st.markdown("\n".join(f"{i}. {md_escape(rule.fact(n).question)} *({md_escape(rule.fact(n).label)})*"
                              for i, n in enumerate(result["missing_facts"], 1)))  # fmt: skip
    timeline = term_timeline(result) if rule.term is not None else None
    if timeline is not None:
        st.markdown(f"**{t('rule_timeline')}**")
        st.caption(t("rule_timeline_help"))
        st.altair_chart(charts.term_timeline_chart(timeline), width="stretch", height=charts.timeline_height(timeline))
        with st.expander(t("rule_timeline_text")):
            st.markdown("\n".join(f"- {md_escape(line)}" for line in charts.timeline_lines(timeline)))
    for i, item in enumerate(result.get("consequences") or []):
        if i == 0:
            st.markdown(f"**{t('rule_consequences')}**")
        with st.container(border=True):
            st.markdown(md_escape(item["text"]))
            source_view(retriever, item["source"], on, key=f"{rule.id}_cons{i}")
    for i, note in enumerate(result.get("notes") or []):
        with st.container(border=True):
            st.markdown(f":material/info: {md_escape(note['text'])}")
            source_view(retriever, note["source"], on, key=f"{rule.id}_note{i}")
    steps, diagram = st.tabs([t("rule_steps"), t("rule_diagram")])
    with steps:
        for step in result.get("trace") or []:
            step_view(rule, step, hits.get(step["step"]), key=f"{rule.id}_step{step['step']}")
    with diagram:
        st.caption(t("rule_diagram_help"))
        st.caption(t("rule_diagram_text"))
        st.graphviz_chart(rule_dot(rule, result), width="stretch")
    prefilled = {n: w for n, w in ((origin or {}).get("evidence") or {}).items()
                 if n in result["facts"] and _same(rule.fact(n), result["facts"][n], (origin or {}).get("facts", {}).get(n))}  # fmt: skip
    return RuleCheck(result, {n: h.passage.citation for n, h in hits.items()}, prefilled)


def _same(fact: rules.FactDef, value: Any, offered: Any) -> bool:
    try:
        return offered is not None and coerce_fact(fact, offered) == coerce_fact(fact, value)
    except FactError:
        return False


def outcome_sentence(result: dict) -> None:
    """The outcome in one sentence (with the deadline for a term), and what it rests on."""
    sentence = t("rule_outcome", label=md_escape(result["outcome_label"]))
    if result.get("deadline"):
        start = result["facts"].get("application_date")
        sentence = t("rule_deadline", deadline=fmt_date(result["deadline"]), months=result.get("months"),
                     start=fmt_date(start) if start else "?")  # fmt: skip
    if result.get("grounds_met"):
        sentence += " " + t("rule_grounds", grounds=", ".join(str(g) for g in result["grounds_met"]))
    box = st.warning if result["outcome"] in UNDECIDED else st.success
    box(sentence, icon=":material/help:" if result["outcome"] in UNDECIDED else ":material/gavel:")
    st.caption(t("rule_meta", date=fmt_date(result["reference_date"])))  # codes and version: JSON and the export's annex


def step_view(rule: rules.Rule, step: dict, hit: Hit | None, *, key: str) -> None:
    """One numbered trace step: its result, what it used, and its source."""
    icon, colour = RESULT_STYLE.get(step["result"], (":material/circle:", "gray"))
    word = t(f"step_{step['result']}") if step["result"] in RESULT_STYLE else step["result"]
    defs = {f.name: f for f in rule.facts}
    with st.container(border=True):
        st.markdown(f"**{step['step']}.** :{colour}-badge[{icon} {word}] {md_escape(step['description'])}")
        details = []
        if step.get("inputs"):
            details.append(t("step_used", values=", ".join(f"{input_label(defs, k)} = {fact_value(defs.get(k), v)}"
                                                            for k, v in step["inputs"].items())))  # fmt: skip
        if step.get("parameters"):
            params = {name: p.description for name, p in rule.parameters.items()}
            details.append(t("step_parameters", values=named(step["parameters"], params)))
        if isinstance(step.get("value"), dict):
            details.append(t("step_value", values=named(step["value"], VALUE_WORDS)))
        if step.get("missing"):
            details.append(t("step_missing", facts=", ".join(input_label(defs, m) for m in step["missing"])))
        if step.get("reason"):
            details.append(t("step_reason", reason=step["reason"]))
        if details:
            st.caption(" · ".join(md_escape(line) for line in details))
        if step.get("source"):
            source_view(None, step["source"], None, key=key, hit=hit)


def source_view(retriever: Retriever | None, source: dict, on: dt.date | None, *, key: str,
                hit: Hit | None = None) -> None:  # fmt: skip
    """A rule source: its citation, the cited phrase, and a button that opens the passage in
    context; or a note that the document is not in the index (or not in the corpus at all)."""
    if hit is None and retriever is not None:
        hit = find_source_passage(retriever.library, source, on)
    with st.container(horizontal=True, vertical_alignment="center", gap="small"):
        st.code(source.get("citation") or source.get("reference") or "", language=None, wrap_lines=True, width="content")
        if hit is not None and source.get("in_corpus") is not False:
            quote = (hit.quote_start, hit.quote_end) if hit.quote_end > hit.quote_start else None
            context.context_button(hit.passage, quote, key=f"{key}_ctx", label=t("open_source"))
    if source.get("phrase"):
        st.html(f'<div style="{PHRASE_STYLE}">“{escape(source["phrase"])}”</div>')
    if source.get("in_corpus") is False:
        st.caption(t("source_outside_corpus"))
    elif hit is None:
        st.caption(t("source_not_indexed", document=md_escape(source.get("document") or "")))
    elif hit.score < PHRASE_MATCH:
        st.caption(t("source_heading" if hit.score >= HEADING_MATCH else "source_place_only",
                     citation=md_escape(hit.passage.citation)))  # fmt: skip
