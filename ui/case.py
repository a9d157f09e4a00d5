"""Under an answer or a rule check: 'export for the case file' (Markdown and PDF, built from the
same CaseFile) and feedback (useful / not useful, optional comment) stored by ui.feedback."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from functools import partial
from typing import Mapping

import streamlit as st

from casefile import CaseFile, RuleCheck, case_markdown, case_pdf, pdf_problem
from ui import feedback, resources
from ui.i18n import t
from ui.settings import Settings

log = logging.getLogger("beleidswijzer.app")
MESSAGES = "messages"  # the chat's session key (app_pages/chat.py)


def answer_case(state: Mapping, message_id: int) -> CaseFile | None:
    """The case of chat answer `message_id`: its question, passages and the rule checks run
    from it; None when the conversation no longer holds it."""
    messages = state[MESSAGES] if MESSAGES in state else []
    question = next((m["text"] for m in messages if m["role"] == "user" and m["id"] == message_id), None)
    answer = next((m for m in messages if m["role"] == "assistant" and m["id"] == message_id), None)
    if answer is None:
        return None
    return CaseFile.from_search(answer.get("result"), question, (answer.get("checks") or {}).values())


def rule_case(state: Mapping, check: RuleCheck, origin: Mapping | None) -> CaseFile:
    """The case of a rule check: with the question and passages of the chat answer it was
    opened from, if that answer is still in the conversation."""
    case = answer_case(state, origin["message_id"]) if origin else None
    if case is None:
        return CaseFile(question=origin.get("question") if origin else None, checks=[check])
    case.checks = [c for c in case.checks if c.result["rule"] != check.result["rule"]] + [check]
    return case


def attach_check(state: Mapping, origin: Mapping | None, check: RuleCheck) -> None:
    """Remember a check with the chat answer it was opened from (its export then includes it)."""
    if not origin or MESSAGES not in state:
        return
    for m in state[MESSAGES]:
        if m["role"] == "assistant" and m["id"] == origin["message_id"]:
            m.setdefault("checks", {})[check.result["rule"]] = check


def export_buttons(case: CaseFile, *, key: str, name: str) -> None:
    """The case number (V-nummer, only in the export: the app never stores it) and download buttons
    for the case as Markdown and PDF (rendered when clicked)."""
    number = st.text_input(t("export_case_number"), key=f"{key}_vnr", max_chars=40, width=180,
                           placeholder=t("export_case_number_placeholder"), help=t("export_case_number_help"))  # fmt: skip
    case = dataclasses.replace(case, case_number=number)
    stem = f"beleidswijzer-{dt.date.today().isoformat()}-{re.sub(r'[^a-z0-9-]+', '-', name.lower()).strip('-')}"
    st.download_button(t("export_md"), data=partial(case_markdown, case), file_name=f"{stem}.md",
                       mime="text/markdown", key=f"{key}_md", on_click="ignore", icon=":material/description:",
                       help=t("export_help"))  # fmt: skip
    problem = pdf_problem()
    if problem:
        st.button(t("export_pdf"), key=f"{key}_pdf", disabled=True, icon=":material/picture_as_pdf:", help=problem)
        return
    st.download_button(t("export_pdf"), data=partial(case_pdf, case), file_name=f"{stem}.pdf",
                       mime="application/pdf", key=f"{key}_pdf", on_click="ignore", icon=":material/picture_as_pdf:",
                       help=t("export_help"))  # fmt: skip


def feedback_form(cfg: Settings, *, key: str, kind: str, question: str | None, citations: list[str],
                  rule_id: str | None = None, outcome: str | None = None) -> None:  # fmt: skip
    """Useful / not useful and an optional comment, stored where the settings say (ui.feedback); once per answer."""
    sent = f"{key}_sent"
    if st.session_state.get(sent):
        st.caption(t("feedback_thanks"))
        return
    with st.popover(t("feedback_button"), icon=":material/thumbs_up_down:"):
        with st.form(f"{key}_form", border=False):
            score = st.feedback("thumbs", key=f"{key}_score")
            comment = st.text_area(t("feedback_comment"), key=f"{key}_comment", max_chars=feedback.MAX_COMMENT,
                                   help=t("feedback_comment_help"))  # fmt: skip
            st.caption(t("feedback_questions_stored") if cfg.store_questions else t("feedback_questions_not_stored"))
            if st.form_submit_button(t("feedback_send")):
                if score is None:
                    st.warning(t("feedback_pick"))
                    return
                try:
                    feedback.record(cfg.feedback_db, kind=kind, useful=score == 1, comment=comment, question=question,
                                    store_question=cfg.store_questions, citations=citations, rule_id=rule_id,
                                    outcome=outcome, index_build=resources.current_build(cfg))  # fmt: skip
                except Exception:  # a read-only disk must not break the answer; the reason goes to the log
                    log.exception("feedback could not be stored in %s", feedback.describe(cfg.feedback_db))
                    st.error(t("feedback_failed"))
                    return
                st.session_state[sent] = True
                st.success(t("feedback_thanks"))
