"""A rule check (one page per rule, the rule named by its URL path): the form built from the
rule's facts, a reference date, 'check'; the outcome, the questions still to ask, the cited
trace, the decision diagram and, for a term, the timeline; export and feedback."""
from __future__ import annotations

import streamlit as st

import rules
from casefile import case_citations
from ui import case, context, index_guard, navigation, rule_view, settings
from ui.i18n import t
from ui.text import md_escape

cfg = settings.load()
rule = rules.load_rules().get(st.session_state.get(navigation.CURRENT_RULE, ""))
if rule is None:  # reached only by a stale link: the navigation names every rule
    st.info(t("rule_unknown"))
    st.stop()

st.title(rule.title)
st.caption(md_escape(rule.description))
st.caption(t("rule_support_only"))
retriever = index_guard.retriever_or_none(cfg)

origin = rule_view.apply_prefill(rule)
if origin:
    st.info(t("prefilled_intro", question=md_escape(origin["question"])), icon=":material/chat:")

presets = rule_view.preset_picker(rule)
with st.container(border=True):
    facts, invalid = rule_view.fact_form(rule, origin, presets)
with st.container(horizontal=True, vertical_alignment="bottom"):
    on = st.date_input(t("rule_reference_date"), value="today", format="DD-MM-YYYY", help=t("rule_reference_help"),
                       key=rule_view.reference_key(rule.id), width=220)  # fmt: skip
    if st.button(t("rule_check"), key=f"check_{rule.id}", type="primary", icon=":material/fact_check:"):
        rule_view.run_check(rule, facts, on, presets, invalid)
reference = (origin or {}).get("reference")
if reference and reference["date"] == on.isoformat():  # the date offered, not one typed since
    st.caption(rule_view.reference_caption(reference))

stored = rule_view.stored_result(rule.id)
if stored:
    st.divider()
    if rule_view.is_stale(stored, facts, on, presets):
        st.warning(t("rule_stale"))
    check = rule_view.result_view(rule, stored["result"], retriever, origin)
    case.attach_check(st.session_state, origin, check)
    record = case.rule_case(st.session_state, check, origin)
    with st.container(horizontal=True, vertical_alignment="center"):
        case.export_buttons(record, key=f"{rule.id}_export", name=rule.id)
        case.feedback_form(cfg, key=f"{rule.id}_feedback{stored['run']}", kind="rule",
                           question=origin["question"] if origin else None, citations=case_citations(record),
                           rule_id=rule.id, outcome=stored["result"]["outcome"])  # fmt: skip

if retriever is not None:
    context.context_dialog(retriever.library)
