"""What the app adds to Streamlit's page for WCAG 2.1 AA (README, "Accessibility"): the page's
language for screen readers, which Streamlit leaves at lang="en" (streamlit/streamlit#15726)."""
from __future__ import annotations

import json

import streamlit as st

from ui.i18n import lang


def declare_language() -> None:
    """Set <html lang> to the session's UI language on every run, so a screen reader reads Dutch
    as Dutch and switches with the language picker (WCAG 3.1.1)."""
    st.html(f"<script>document.documentElement.lang = {json.dumps(lang())};</script>", unsafe_allow_javascript=True)
