"""Chat: a question in Dutch or English (a follow-up read with the questions before it) -> an answer
line quoted from the corpus and the retrieved passages with citations (no generated
text); under them the matching rule check, if the question is about one (pre-filled, run only
after the officer confirms), export for the case file and feedback."""
from __future__ import annotations

import logging
from dataclasses import asdict

import streamlit as st

from casefile import case_citations
from rules.suggest import suggest
from ui import case, context, index_guard, passages, rule_view, settings
from ui.i18n import t
from ui.text import md_escape, plain

log = logging.getLogger("beleidswijzer.app")
cfg = settings.load()

st.title(t("chat_title"))
st.caption(t("chat_intro"))
retriever = index_guard.retriever_or_stop(cfg)

messages: list[dict] = st.session_state.setdefault("messages", [])
with st.sidebar:
    on = st.date_input(t("policy_on"), value=None, format="DD-MM-YYYY", help=t("policy_on_help"), key="on_date")
    k = st.slider(t("k_passages"), min_value=1, max_value=10, value=5, key="k")
    if st.button(t("new_conversation"), icon=":material/add_comment:", width="stretch"):
        messages.clear()
        rule_view.forget_checks()
        st.session_state.pop("next_id", None)
        st.session_state.pop(context.CONTEXT_KEY, None)


def show(message: dict) -> None:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            plain(message["text"])
            return
        n = message["id"]
        if message.get("result") is not None:
            passages.search_result(message["result"], key=f"m{n}")
        else:
            st.error(t("search_failed"))
        question = next((m["text"] for m in messages if m["role"] == "user" and m["id"] == n), "")
        if message.get("suggestion"):
            rule_view.offer(message["suggestion"], question=question, message_id=n, key=f"m{n}_offer",
                            policy_on=message.get("on"))
            for check in (message.get("checks") or {}).values():
                st.caption(t("offer_done", title=md_escape(check.result["title"]),
                             outcome=md_escape(check.result["outcome_label"])))  # fmt: skip
        answer = case.answer_case(st.session_state, n)
        with st.container(horizontal=True, vertical_alignment="center"):
            case.export_buttons(answer, key=f"m{n}_export", name="antwoord")
            case.feedback_form(cfg, key=f"m{n}_feedback", kind="answer", question=question,
                               citations=case_citations(answer))  # fmt: skip


for message in messages:
    show(message)

question = st.chat_input(t("chat_placeholder"))
if question and question.strip():
    n = st.session_state["next_id"] = st.session_state.get("next_id", 0) + 1
    messages.append({"role": "user", "text": question, "id": n})
    show(messages[-1])
    history = [m["text"] for m in messages[:-1] if m["role"] == "user"]  # this conversation's earlier questions
    with st.spinner(t("searching")):
        try:
            result = retriever.search(question, k=k, on=on, history=history)
        except Exception:
            log.exception("search failed for a question of %d characters", len(question))
            result = None
    offered = suggest(result.interpreted_as if result is not None else question)
    messages.append({"role": "assistant", "result": result, "id": n, "on": on,
                     "suggestion": asdict(offered) if offered else None, "checks": {}})  # fmt: skip
    show(messages[-1])

context.context_dialog(retriever.library)
