"""The app's pages: one rule-check page per rule (the same page file under the rule's id as URL
path), so a rule added as YAML gets its page without Python. The chat switches to a rule page
with the same `st.Page` built here."""
from __future__ import annotations

import streamlit as st

import rules

RULE_PAGE = "app_pages/rule.py"
CURRENT_RULE = "current_rule"  # session key: the rule of the rule page being shown


def rule_page(rule: rules.Rule) -> st.Page:
    return st.Page(RULE_PAGE, title=rule.title, icon=":material/rule:", url_path=rule.id)


def rule_pages() -> dict[str, st.Page]:
    """Rule id -> its page, in the order of the rule files."""
    return {rule_id: rule_page(rule) for rule_id, rule in rules.load_rules().items()}


def set_current_rule(page: st.Page) -> None:
    """Tell the rule page which rule it shows (its URL path is the rule id)."""
    if page.url_path in rules.load_rules():
        st.session_state[CURRENT_RULE] = page.url_path


def switch_to_rule(rule_id: str) -> None:
    st.switch_page(rule_page(rules.get_rule(rule_id)))
