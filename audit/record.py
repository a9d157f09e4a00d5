"""One record of the audit trail and its hash: who (`subject`), what (`action`, `details`), when
(`at`, UTC), its place (`seq`, from 1) and the chain (`prev`: the previous record's hash).

The hash is the sha256 of the record's canonical JSON without the `hash` field (keys sorted, no
spaces, UTF-8), so any store that keeps the fields can recompute and check it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

GENESIS = "0" * 64  # the `prev` of the first record
FIELDS = ("seq", "at", "subject", "action", "details", "prev", "hash")  # the order a record is written in


@dataclass(frozen=True)
class Event:
    """What happened, before it has a place in the trail (see audit.events for the kinds)."""

    action: str
    subject: str
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    seq: int
    at: str  # ISO 8601, UTC, seconds
    subject: str
    action: str
    details: dict
    prev: str
    hash: str

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in FIELDS}

    def to_json(self) -> str:
        """The record as one line of JSON, fields in their written order."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: object) -> Record:
        """A record from parsed JSON; ValueError naming the field that is missing or of the wrong type."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        types = {"seq": int, "at": str, "subject": str, "action": str, "details": dict, "prev": str, "hash": str}
        for name, kind in types.items():
            if not isinstance(data.get(name), kind) or (kind is int and isinstance(data.get(name), bool)):
                raise ValueError(f"field '{name}' is missing or not a {kind.__name__}")
        return cls(**{name: data[name] for name in FIELDS})


def canonical(fields: dict) -> bytes:
    """The bytes a hash is taken of: JSON with sorted keys, no spaces, UTF-8."""
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_hash(record: Record | dict) -> str:
    """sha256 of the record's fields except `hash` itself."""
    data = record.to_dict() if isinstance(record, Record) else record
    return hashlib.sha256(canonical({k: v for k, v in data.items() if k != "hash"})).hexdigest()


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def seal(event: Event, previous: Record | None, at: str | None = None) -> Record:
    """The record that follows `previous` (None: the first) for `event`."""
    unsealed = {
        "seq": previous.seq + 1 if previous else 1, "at": at or now(), "subject": event.subject,
        "action": event.action, "details": event.details, "prev": previous.hash if previous else GENESIS,
    }  # fmt: skip
    return Record(**unsealed, hash=content_hash(unsealed))
