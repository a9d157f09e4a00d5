"""The officer's Dutch words for the codes of a rule's trace, one table for the CLI, the app and the
case file: each step's result ("true", "false", "unknown", "not-tested") and the values a term's
steps compute ("months", "deadline", ...); the codes themselves stay in JSON. `plain_value` writes
a value as the officer reads it (ja / nee, dd-mm-jjjj), for the trace's presets and the case file."""
from __future__ import annotations

import datetime as dt
from typing import Any

RESULT_WORDS = {"true": "voldaan", "false": "niet voldaan", "unknown": "onbekend", "not-tested": "niet getoetst"}


VALUE_WORDS = {"months": "maanden", "deadline": "uiterste datum", "months_added": "maanden erbij",
               "maximum_months": "maximum maanden", "capped": "begrensd", "non_working_day": "geen werkdag"}  # fmt: skip


def result_word(code: str) -> str:
    """The Dutch word for a step's result code; a code outside the table as it is."""
    return RESULT_WORDS.get(code, code)


def plain_value(value: Any, null_label: str | None = None) -> str:
    """A value as an officer reads it: ja/nee, dd-mm-yyyy, lists joined, None as its meaning."""
    if value is None:
        return null_label or "onbekend"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain_value(v) for v in value) if value else "geen"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {plain_value(v)}" for k, v in value.items())
    if isinstance(value, dt.date):
        value = value.isoformat()
    return dutch_date(value) if isinstance(value, str) and len(value) == 10 and value[4] == "-" else str(value)


def dutch_date(value: Any) -> str:
    """An ISO date as dd-mm-yyyy; anything else as it is."""
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10]).strftime("%d-%m-%Y") if len(text) >= 10 else text
    except ValueError:
        return text
