"""The officer's Dutch word for each result code of a rule step, one table for the CLI, the app
and the case file; the codes themselves ("true", "false", "unknown", "not-tested") stay in JSON."""
from __future__ import annotations

RESULT_WORDS = {"true": "voldaan", "false": "niet voldaan", "unknown": "onbekend", "not-tested": "niet getoetst"}


def result_word(code: str) -> str:
    """The Dutch word for a step's result code; a code outside the table as it is."""
    return RESULT_WORDS.get(code, code)
