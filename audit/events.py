"""The events of the trail, each built from exactly the fields it records: file names, document
ids, titles, sha256 hashes and counts. Never a question, a rule fact or an applicant's name:
nothing the officer types reaches these functions.

    upload          a new document stored in a corpus folder
    upload-refused  an upload refused because its document id or file name exists
    replace         a document replaced, after the beheerder saw old and new title and hash
    remove          a document moved out of the corpus (into `.removed/`)
    rebuild         an index build: outcome, counts, and every indexed document's hash
    login           a beheerder signed in
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from audit.record import Event

ACTIONS = ("upload", "upload-refused", "replace", "remove", "rebuild", "login")


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, as `sha256sum` prints it: the hash every event records for a file
    (OSError when it cannot be read)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def document(file: str, sha256: str, title: str | None = None, doc_id: str | None = None) -> dict:
    """How a document appears in an event."""
    out = {"file": file, "sha256": sha256}
    if doc_id is not None:
        out["doc_id"] = doc_id
    if title is not None:
        out["title"] = title
    return out


def upload(subject: str, *, file: str, folder: str, sha256: str, size: int) -> Event:
    return Event("upload", subject, {"file": file, "folder": folder, "sha256": sha256, "bytes": size})


def upload_refused(subject: str, *, file: str, sha256: str, existing: list[str], reason: str) -> Event:
    """`reason`: 'exists' (no replacement chosen), 'not-beheerder', 'id-case' or 'unreadable'."""
    return Event("upload-refused", subject, {"file": file, "sha256": sha256, "existing": existing, "reason": reason})


def replace(subject: str, *, doc_id: str, old: list[dict], new: dict, folder: str, moved_to: str) -> Event:
    """`old` and `new` as made by document(): file, title and sha256 of each; `folder` holds the
    new file, `moved_to` the old one(s)."""
    return Event("replace", subject, {"doc_id": doc_id, "old": old, "new": new, "folder": folder, "moved_to": moved_to})


def remove(subject: str, *, doc: dict, folder: str, moved_to: str) -> Event:
    """`doc` as made by document(); `folder` is where it was, `moved_to` where it is now."""
    return Event("remove", subject, {**doc, "folder": folder, "moved_to": moved_to})


def rebuild(subject: str, *, outcome: str, report: dict | None = None, files: list[dict] | None = None,
            message: str = "") -> Event:  # fmt: skip
    """`outcome`: 'ok', 'nothing-indexed', 'disk-full' or 'failed'; `report` as the indexer's
    BuildReport.to_dict(); `files`: every indexed document as document() makes it."""
    details: dict = {"outcome": outcome}
    if report is not None:
        details.update({
            "documents": int(report.get("documents", 0)), "passages": int(report.get("passages", 0)),
            "added": list(report.get("added", [])), "changed": list(report.get("changed", [])),
            "removed": list(report.get("removed", [])),
            "skipped": [s.get("file", "") for s in report.get("skipped", []) if isinstance(s, dict)],
        })  # fmt: skip
    if files is not None:
        details["files"] = files
    if message:
        details["message"] = message[:500]
    return Event("rebuild", subject, details)


def login(subject: str, *, name: str, roles: list[str]) -> Event:
    return Event("login", subject, {"name": name, "roles": sorted(roles)})
