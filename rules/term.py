"""The generic term evaluator: start date + base months + applicable extensions, capped.

Months are counted from the start date in one go (start + total months, clamped to the month's
end), never chained step by step, so 31 August + 15 months is 30 November, not 28 November.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from rules.dates import WEEKDAYS_NL, add_months, load_calendar
from rules.logic import UNKNOWN, Reading, operand

if TYPE_CHECKING:
    from rules.engine import Run
    from rules.model import Term


@dataclass
class TermResult:
    """The computed term; `known` is False when a missing fact leaves it open."""

    known: bool
    start: date | None = None
    months: int | None = None
    deadline: date | None = None
    extensions: list[dict] = field(default_factory=list)
    missing: frozenset[str] = frozenset()
    notes: list[dict] = field(default_factory=list)


def evaluate_term(term: Term, run: Run) -> TermResult:
    """Evaluate `term` for the run's facts, adding one trace step per part."""
    ctx = run.ctx
    reading = Reading()
    start, missing = operand(term.start, ctx, reading)
    base, _ = operand(term.base_months, ctx, reading)
    months: Any = base
    known_start = start is not UNKNOWN
    run.step("term", "base", f"{term.start_description}; {term.base_description}",
             True if known_start else None, term.base_source, reading, missing,
             value={"months": base, "deadline": add_months(start, base) if known_start else None})
    ext_missing: frozenset[str] = frozenset()
    months_known = True
    applied: list[dict] = []

    for ext in term.extensions:
        not_in_force = run.param_not_in_force(ext.months)
        if not_in_force:
            run.step("extension", ext.id, ext.description, "not-tested", ext.source, reason=not_in_force)
            continue
        _set_running(ctx, start, months, months_known, missing | ext_missing)
        reading = Reading()
        ext_months, _ = operand(ext.months, ctx, reading)
        result, why = run.evaluate(ext.when, reading)
        if result is True and months_known:
            months += ext_months
            applied.append({"id": ext.id, "kind": "extension", "months": ext_months, "description": ext.description,
                            "source": ext.source.to_dict()})
        elif result is None:
            months_known = False
            ext_missing |= why
        run.step("extension", ext.id, ext.description, result, ext.source, reading, why,
                 value={"months_added": ext_months if result else 0, "months": months if months_known else None})

    for cap in term.caps:
        _set_running(ctx, start, months, months_known, missing | ext_missing)
        reading = Reading()
        cap_months, _ = operand(cap.months, ctx, reading)
        result, why = run.evaluate(cap.when, reading)
        capped = bool(result) and months_known and months > cap_months
        if capped:
            applied.append({"id": cap.id, "kind": "cap", "months": cap_months - months, "description": cap.description,
                            "source": cap.source.to_dict()})
            months = cap_months
        elif result is None:
            months_known = False
            ext_missing |= why
        run.step("cap", cap.id, cap.description, result, cap.source, reading, why,
                 value={"maximum_months": cap_months, "capped": capped, "months": months if months_known else None})

    all_missing = missing | ext_missing
    if not (known_start and months_known):
        return TermResult(known=False, missing=all_missing, extensions=applied)
    deadline = add_months(start, months)
    result = TermResult(known=True, start=start, months=months, deadline=deadline, extensions=applied)
    if term.working_day_note:
        note = _working_day_note(term, deadline)
        run.step("note", "working-day", "Einddatum op een zaterdag, zondag of feestdag?",
                 note is not None, term.working_day_note.source, value={"deadline": deadline,
                 "non_working_day": note["reason"] if note else False})
        if note:
            result.notes.append(note)
    return result


def _set_running(ctx: Any, start: Any, months: Any, months_known: bool, missing: frozenset[str]) -> None:
    """Expose the term so far to extension and cap conditions as {term: deadline_so_far} etc."""
    ctx.term = {}
    if months_known:
        ctx.term["months_so_far"] = months
        if start is not UNKNOWN:
            ctx.term["deadline_so_far"] = add_months(start, months)
    ctx.term_missing = missing


def _working_day_note(term: Term, deadline: date) -> dict | None:
    """A note when the deadline is no working day; the deadline itself is not moved."""
    spec = term.working_day_note
    calendar = load_calendar(spec.calendar)
    reason = calendar.non_working_reason(deadline)
    if reason is None:
        return None
    following = calendar.next_working_day(deadline)
    text = spec.text.format(deadline=deadline.isoformat(), reason=reason,
                            next_working_day=following.isoformat(),
                            next_weekday=WEEKDAYS_NL[following.weekday()])
    return {"id": "working-day", "text": text, "reason": reason, "deadline": deadline.isoformat(),
            "next_working_day": following.isoformat(), "source": spec.source.to_dict()}
