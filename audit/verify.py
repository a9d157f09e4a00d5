"""Checking a trail: every record's hash, its link to the record before it, the numbering, and
the end of the trail against the last append (the head). Pure: any store hands its lines here.

Each problem names the record (`seq`) and the line it is on, so an operator knows from where
on the trail can no longer be trusted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from audit.record import GENESIS, Record, content_hash

# what a problem means, in one sentence (the app shows its own translation of each kind)
KINDS = {
    "unreadable": "line {line} is not an audit record ({detail}).",
    "edited": "record {seq} (line {line}) was edited: its content does not match its hash.",
    "removed": "records {seq}-{last} were removed (they belong before line {line}).",
    "duplicate": "record {seq} appears again on line {line}: a record was inserted.",
    "out_of_order": "record {seq} (line {line}) comes after record {last}: records were moved or inserted.",
    "broken_link": "record {seq} (line {line}) does not follow record {last}: one of them was replaced or inserted.",
    "truncated": "records {seq}-{last} were removed from the end of the trail.",
    "head": "the trail does not end with the record last appended ({detail}): records were added or replaced outside the app.",
}


@dataclass(frozen=True)
class Problem:
    kind: str  # a key of KINDS
    line: int = 0  # 1-based line in the store; 0 when it concerns the end of the trail
    seq: int = 0
    last: int = 0  # the end of a range of records, or the record a link or order refers to
    detail: str = ""

    def __str__(self) -> str:
        return KINDS[self.kind].format(line=self.line, seq=self.seq, last=self.last, detail=self.detail)


@dataclass(frozen=True)
class Verification:
    records: int  # readable records
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    last_hash: str = ""  # the hash of the last record ('' for an empty trail)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_lines(lines: list[str], head: dict | None = None) -> Verification:
    """Check the trail's lines (in stored order) and, when given, the head written by the last
    append ({"seq", "hash"})."""
    problems: list[Problem] = []
    records: list[tuple[int, Record]] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip() and number == len(lines):
            continue
        try:
            rec = Record.from_dict(json.loads(text))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append(Problem("unreadable", line=number, detail=str(exc)))
            continue
        records.append((number, rec))
        if content_hash(rec) != rec.hash:
            problems.append(Problem("edited", line=number, seq=rec.seq))

    by_seq: dict[int, tuple[int, Record]] = {}
    highest = 0
    for number, rec in records:
        if rec.seq in by_seq:
            problems.append(Problem("duplicate", line=number, seq=rec.seq))
            continue
        by_seq[rec.seq] = (number, rec)
        if rec.seq < highest:
            problems.append(Problem("out_of_order", line=number, seq=rec.seq, last=highest))
        highest = max(highest, rec.seq)

    # records missing from the numbering, each run of them reported once
    missing = [s for s in range(1, highest + 1) if s not in by_seq]
    for first, last in _runs(missing):
        after = by_seq.get(last + 1)
        problems.append(Problem("removed", line=after[0] if after else 0, seq=first, last=last))

    for seq, (number, rec) in sorted(by_seq.items()):
        expected = GENESIS if seq == 1 else (by_seq[seq - 1][1].hash if seq - 1 in by_seq else None)
        if expected is not None and rec.prev != expected:
            problems.append(Problem("broken_link", line=number, seq=seq, last=seq - 1))

    last = by_seq[highest][1] if highest else None
    if head:
        head_seq, head_hash = head.get("seq", 0), head.get("hash", "")
        if isinstance(head_seq, int) and head_seq > highest:
            problems.append(Problem("truncated", seq=highest + 1, last=head_seq))
        elif last is None or head_seq != last.seq or head_hash != last.hash:
            problems.append(Problem("head", detail=f"last append: record {head_seq}, the trail ends at record {highest}"))
    problems.sort(key=lambda p: (p.line or len(lines) + 1, p.seq))
    return Verification(records=len(records), problems=tuple(problems), last_hash=last.hash if last else "")


def verify_stored(lines: list[str], head: dict | None) -> Verification:
    """Check a store's own trail: its head is written with every append, so a trail that has
    records but no head lost it (an export has no head: verify_lines(lines) checks that)."""
    if head is None and lines:
        head = {"seq": 0, "hash": "missing"}
    return verify_lines(lines, head)


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """[2, 3, 5] -> [(2, 3), (5, 5)]."""
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
