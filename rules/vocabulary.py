"""The officer's Dutch words for the codes of a rule's trace, one table for the CLI, the app and the
case file: each step's result ("true", "false", "unknown", "not-tested") and the values a term's
steps compute ("months", "deadline", ...); the codes themselves stay in JSON."""
from __future__ import annotations

RESULT_WORDS = {"true": "voldaan", "false": "niet voldaan", "unknown": "onbekend", "not-tested": "niet getoetst"}


VALUE_WORDS = {"months": "maanden", "deadline": "uiterste datum", "months_added": "maanden erbij",
               "maximum_months": "maximum maanden", "capped": "begrensd", "non_working_day": "geen werkdag"}  # fmt: skip


def result_word(code: str) -> str:
    """The Dutch word for a step's result code; a code outside the table as it is."""
    return RESULT_WORDS.get(code, code)
