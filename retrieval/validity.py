"""Validity of documents on a date, and the status shown beside every passage."""
from __future__ import annotations

import datetime as dt

from indexer.passage import DocumentMeta


def _d(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


def status_on(meta: DocumentMeta | None, on: dt.date | None = None) -> str:
    """'superseded', 'expired', 'not-yet-valid' or 'current' on date `on` (default today).

    A status stated by the document (e.g. superseded) wins over dates.
    """
    if meta is None:
        return "unknown"
    if meta.status and meta.status.lower() not in ("current", "in force", "geldend"):
        return meta.status.lower()
    on = on or dt.date.today()
    start = _d(meta.valid_from) or None
    end = _d(meta.valid_until)
    if end and on > end:
        return "expired"
    if start and on < start:
        return "not-yet-valid"
    return "current"


def valid_on(meta: DocumentMeta | None, on: dt.date) -> bool:
    """Whether a document can be shown as policy valid on `on`.

    Valid from valid_from (else its date) through valid_until inclusive. A document marked
    superseded without dates cannot be shown valid on any date, so it is left out.
    """
    if meta is None:
        return False
    if meta.status and meta.status.lower() == "superseded" and not (meta.valid_from and meta.valid_until):
        return False
    start = _d(meta.valid_from) or _d(meta.date)
    end = _d(meta.valid_until)
    return (start is None or start <= on) and (end is None or on <= end)
