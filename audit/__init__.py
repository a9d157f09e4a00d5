"""The audit trail: an append-only, hash-chained record of who changed the corpus or the index,
what they did and when (upload, replacement, removal, rebuild, a beheerder's login).

Each record holds the sha256 of the record before it and its own, so `verify()` finds a record
that was edited, removed, inserted or moved. A store keeps the records: a JSON Lines file in the
index folder (`jsonl.py`), or, for several app replicas, two tables of a PostgreSQL database
(`pg.py`, connections in `pgconn.py`); any store offers `prepare`, `append`, `events` and
`verify`, see `store.py`. `events.py` builds the only events there are, so no question or rule
fact of an applicant can reach the trail.
"""
from audit.record import Event, Record
from audit.store import AuditStore, open_store
from audit.verify import Problem, Verification

__all__ = ["AuditStore", "Event", "Problem", "Record", "Verification", "open_store"]
