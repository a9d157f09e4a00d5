"""What the app adds to Streamlit's page for WCAG 2.1 AA (README, "Accessibility"): the page's
language for screen readers, which Streamlit leaves at lang="en" (streamlit/streamlit#15726)."""
from __future__ import annotations

import json

import streamlit as st

from ui.i18n import lang


def language_script(code: str) -> str:
    return f"<script>document.documentElement.lang = {json.dumps(code)};</script>"


def declare_language() -> None:
    """Set <html lang> to the session's UI language on every run, so a screen reader reads Dutch
    as Dutch and switches with the language picker (WCAG 3.1.1). The app's only script: document
    text never goes into an element that runs one."""
    st.html(language_script(lang()), unsafe_allow_javascript=True)


FOCUS_COLOUR = "#154273"  # Rijksblauw: 10:1 on white (tests/test_contrast.py)


def focus_ring() -> None:
    """One visible focus indicator for every control reached with the keyboard (WCAG 2.4.7):
    some of Streamlit's controls (the chat field, tabs, expanders) show focus faintly or not at all."""
    st.html(f"<style>:focus-visible{{outline:3px solid {FOCUS_COLOUR} !important;outline-offset:2px !important}}</style>")
