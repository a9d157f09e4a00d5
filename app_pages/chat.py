"""Chat: a question in Dutch or English -> the retrieved passages with citations (no generated text)."""
from __future__ import annotations

import logging

import streamlit as st

from ui import components, settings
from ui.i18n import t

log = logging.getLogger("beleidswijzer.app")
cfg = settings.load()

st.title(t("chat_title"))
st.caption(t("chat_intro"))
retriever = components.retriever_or_stop(cfg)

messages: list[dict] = st.session_state.setdefault("messages", [])
with st.sidebar:
    on = st.date_input(t("policy_on"), value=None, format="DD-MM-YYYY", help=t("policy_on_help"), key="on_date")
    k = st.slider(t("k_passages"), min_value=1, max_value=10, value=5, key="k")
    if st.button(t("new_conversation"), icon=":material/add_comment:", width="stretch"):
        messages.clear()
        st.session_state.pop("next_id", None)
        st.session_state.pop(components.CONTEXT_KEY, None)


def show(message: dict) -> None:
    with st.chat_message(message["role"]):
        if message["role"] == "user":
            components.plain(message["text"])
        elif message.get("result") is not None:
            components.search_result(message["result"], key=f"m{message['id']}")
        else:
            st.error(t("search_failed"))


for message in messages:
    show(message)

question = st.chat_input(t("chat_placeholder"))
if question and question.strip():
    n = st.session_state["next_id"] = st.session_state.get("next_id", 0) + 1
    messages.append({"role": "user", "text": question, "id": n})
    show(messages[-1])
    with st.spinner(t("searching")):
        try:
            result = retriever.search(question, k=k, on=on)
        except Exception:
            log.exception("search failed for a question of %d characters", len(question))
            result = None
    messages.append({"role": "assistant", "result": result, "id": n})
    show(messages[-1])

components.context_dialog(retriever)
