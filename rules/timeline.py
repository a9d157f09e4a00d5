"""A computed term as a timeline: from the start date, the base term and each extension as a
segment labelled by its legal basis (a cap as the part it cuts off), plus the dates to mark
(start, deadline, decision, reference date, today). Built from RuleResult.to_dict() only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rules.dates import add_months


@dataclass(frozen=True)
class Segment:
    kind: str  # "base" | "extension" | "cap"
    id: str
    label: str  # what it is, e.g. "WBV 2022/22 verlengt de termijn met negen maanden"
    basis: str  # its legal basis: the source's citation
    start: date
    end: date
    months: int  # signed: a cap is negative


@dataclass(frozen=True)
class Marker:
    id: str  # "start" | "deadline" | "decision" | "reference" | "today"
    label: str
    day: date


@dataclass(frozen=True)
class Timeline:
    start: date
    deadline: date
    months: int
    segments: tuple[Segment, ...]
    markers: tuple[Marker, ...]


def _day(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _label(description: str) -> str:
    """The part of a description that names the step: after 'Begin: ...;', before ': details'."""
    text = " ".join(description.split()).split("; ")[-1]
    head = text.split(": ", 1)[0]
    return head[:1].upper() + head[1:]


def term_timeline(result: dict, today: date | None = None, start_fact: str = "application_date",
                  decision_fact: str = "decision_date") -> Timeline | None:  # fmt: skip
    """The timeline of a result with a computed term; None when the term is not known."""
    deadline = _day(result.get("deadline"))
    start = _day((result.get("facts") or {}).get(start_fact))
    if deadline is None or start is None:
        return None
    base = next((s for s in result.get("trace", []) if s["kind"] == "term" and s["id"] == "base"), None)
    base_months = int(((base or {}).get("value") or {}).get("months") or 0)
    segments = [Segment("base", "base", _label(base["description"]) if base else "Termijn",
                        ((base or {}).get("source") or {}).get("citation", ""), start,
                        add_months(start, base_months), base_months)]  # fmt: skip
    total = base_months
    for ext in result.get("extensions") or []:
        months = int(ext["months"])
        before, total = total, total + months
        a, b = add_months(start, before), add_months(start, total)
        segments.append(Segment(ext.get("kind", "extension"), ext["id"], _label(ext.get("description", ext["id"])),
                                (ext.get("source") or {}).get("citation", ""), min(a, b), max(a, b), months))  # fmt: skip
    markers = [Marker("start", "Aanvraag", start), Marker("deadline", "Uiterste beslisdatum", deadline)]
    decided = _day((result.get("facts") or {}).get(decision_fact))
    if decided is not None:
        markers.append(Marker("decision", "Beslissing", decided))
    reference = _day(result.get("reference_date"))
    if reference is not None:
        markers.append(Marker("reference", "Peildatum", reference))
    markers.append(Marker("today", "Vandaag", today or date.today()))
    return Timeline(start, deadline, int(result.get("months") or total), tuple(segments), tuple(markers))
