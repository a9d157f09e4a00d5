"""A trail for download: JSON Lines (each record as stored, so the export can be verified with
`python -m audit verify FILE`) or CSV (one row per record, its details as JSON)."""
from __future__ import annotations

import csv
import io
import json

from audit.record import FIELDS, Record


def to_jsonl(records: list[Record]) -> bytes:
    return "".join(r.to_json() + "\n" for r in records).encode("utf-8")


def to_csv(records: list[Record]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(FIELDS)
    for r in records:
        row = r.to_dict()
        row["details"] = json.dumps(r.details, ensure_ascii=False, sort_keys=True)
        writer.writerow([_cell(row[name]) for name in FIELDS])
    return buf.getvalue().encode("utf-8")


def _cell(value: object) -> object:
    """A spreadsheet never runs a cell as a formula (a file name or title may start with '=')."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value
