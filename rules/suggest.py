"""Offer a rule check for a chat question, with the facts the question states unambiguously.

Deterministic: words, phrases and patterns come from rules/detection.yaml. Nothing is run:
the app shows the suggestion, what was pre-filled and from which words, and the officer
confirms before the check runs.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from indexer.text import fold

DETECTION = Path(__file__).with_name("detection.yaml")

MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "february": 2, "feb": 2, "maart": 3, "march": 3,
    "mrt": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7,
    "jul": 7, "augustus": 8, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "oktober": 10,
    "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{4}})\b")  # oktober 2022: the first of the month
_DATE_PATTERNS = (
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),  # ISO
    re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\.?\s+(\d{{4}})\b"),  # 1 juni 2022 / 1 June 2022
    re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b"),  # June 1, 2022
    re.compile(r"\b(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\b"),  # 01-06-2022 (Dutch order: day first)
)


@dataclass
class Suggestion:
    rule_id: str
    facts: dict[str, Any] = field(default_factory=dict)  # pre-filled values
    evidence: dict[str, str] = field(default_factory=dict)  # fact -> the words that gave it
    matched: list[str] = field(default_factory=list)  # trigger words found
    # the date the question is about, when it names one no fact took ("in oktober 2022"): the
    # rule check's reference date, with the words it came from
    reference_date: str | None = None
    reference_words: str = ""


@lru_cache(maxsize=1)
def detection() -> dict:
    return yaml.safe_load(DETECTION.read_text(encoding="utf-8"))["rules"]


def _find(words: list[str], text: str) -> list[str]:
    """The words/phrases (matched at a word start) that occur in folded `text`."""
    return [w for w in words if re.search(rf"(?<!\w){re.escape(fold(w))}", text)]


def suggest(question: str) -> Suggestion | None:
    """The rule the question is about, with pre-filled facts; None when no rule fits."""
    text = fold(question)
    best: Suggestion | None = None
    best_hits = 0
    for rule_id, spec in detection().items():
        groups = [_find(g, text) for g in spec["when"]]
        if not all(groups):
            continue
        hits = sum(len(g) for g in groups)
        if hits > best_hits:
            best = Suggestion(rule_id, matched=[w for g in groups for w in g])
            best_hits = hits
            for name, fact_spec in (spec.get("facts") or {}).items():
                value, evidence = _extract(fact_spec, question, text)
                if value is not None:
                    best.facts[name] = value
                    best.evidence[name] = evidence
    if best is not None:
        taken = set(best.evidence.values())
        days = _dates(text)
        months = {d: w for d, w in _month_years(text).items() if not any(w in day for day in days.values())}
        named = {d: w for d, w in {**months, **days}.items() if w not in taken}
        if len(named) == 1:  # one date, not used for a fact: the day the question is about
            (best.reference_date, best.reference_words), = named.items()
    return best


def _month_years(text: str) -> dict[str, str]:
    """ISO date of the first of the month -> the words, for every 'oktober 2022' in `text`."""
    return {dt.date(int(m.group(2)), MONTHS[m.group(1)], 1).isoformat(): m.group(0) for m in _MONTH_YEAR.finditer(text)}


def asks_period(question: str) -> str | None:
    """The rule whose validity period the question asks for ("Tot wanneer geldt het BVM?"): it
    names the rule's subject and asks for a time (`period` in detection.yaml); None otherwise."""
    text = fold(question)
    for rule_id, spec in detection().items():
        period = spec.get("period")
        if period and _find(period["about"], text) and _find(period["asks"], text):
            return rule_id
    return None


def period_subject_words(rule_id: str) -> list[str]:
    """The words and phrases that name a rule's subject or ask for its period (detection.yaml):
    what a question about the period alone consists of, besides function words."""
    spec = detection().get(rule_id) or {}
    period = spec.get("period") or {}
    return [w for group in spec.get("when") or [] for w in group] + list(period.get("about") or []) + list(period.get("asks") or [])


def _extract(spec: dict, question: str, text: str) -> tuple[Any, str]:
    kind = spec["kind"]
    if kind == "number":
        found = {m.group(1): m.group(0) for p in spec["patterns"] for m in re.finditer(p, text)}
        if len(found) == 1:
            (num, words), = found.items()
            return int(num), words
    elif kind == "keywords":
        hits = {value: _find(words, text) for value, words in spec["values"].items()}
        hits = {v: w for v, w in hits.items() if w}
        if len(hits) == 1:
            (value, words), = hits.items()
            return value, ", ".join(words)
    elif kind == "flag":
        words = _find(spec["words"], text)
        if words:
            return True, ", ".join(words)
    elif kind == "date":
        if spec.get("requires_any") and not _find(spec["requires_any"], text):
            return None, ""
        dates = _dates(text)
        if len(dates) == 1:
            (value, words), = dates.items()
            return value, words
    else:
        raise ValueError(f"unknown extractor kind {kind!r} in {DETECTION}; use number, keywords, flag or date")
    return None, ""


def _dates(text: str) -> dict[str, str]:
    """ISO date -> the words it was read from, for every distinct valid date in `text`."""
    out: dict[str, str] = {}
    for i, pat in enumerate(_DATE_PATTERNS):
        for m in pat.finditer(text):
            g = m.groups()
            try:
                if i == 0:
                    d = dt.date(int(g[0]), int(g[1]), int(g[2]))
                elif i == 1:
                    d = dt.date(int(g[2]), MONTHS[g[1]], int(g[0]))
                elif i == 2:
                    d = dt.date(int(g[2]), MONTHS[g[0]], int(g[1]))
                else:
                    d = dt.date(int(g[2]), int(g[1]), int(g[0]))
            except ValueError:
                continue
            out.setdefault(d.isoformat(), m.group(0))
    return out
