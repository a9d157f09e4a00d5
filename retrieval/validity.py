"""Validity of a document's TEXT on a date, and the status shown beside every passage: whether
the stored text is the current version (a statute's older consolidation, a superseded circular).
When the measure a document describes applies is another matter: retrieval.measures."""
from __future__ import annotations

import datetime as dt

from indexer.passage import DocumentMeta, Passage


# The officer's Dutch words for a text's status (codes of status_on); the case file, the CLI and
# the Dutch interface use these.
STATUS_WORDS = {"current": "huidige tekst", "expired": "oudere versie van de tekst", "superseded": "vervangen tekst",
                "not-yet-valid": "tekst nog niet geldend", "unknown": "status onbekend"}  # fmt: skip


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


def passage_status_on(passage: Passage, on: dt.date | None = None) -> str:
    """status_on for one passage: its document's status, or 'expired' / 'not-yet-valid' when
    the part itself (a repealed or a later article of a consolidated law) is outside its own dates."""
    status = status_on(passage.meta, on)
    if status != "current":
        return status
    on = on or dt.date.today()
    if passage.valid_until and on > _d(passage.valid_until):
        return "expired"
    if passage.valid_from and on < _d(passage.valid_from):
        return "not-yet-valid"
    return "current"
