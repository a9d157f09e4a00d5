"""Document metadata from YAML: a text file's front matter or a PDF's sidecar `NAME.pdf.yaml`."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from indexer.parsers import UnreadableDocument
from indexer.passage import DocumentMeta

META_KEYS = (
    "title",
    "identifier",
    "doctype",
    "date",
    "valid_from",
    "valid_until",
    "status",
    "language",
    "source",
    "completeness",
)
DATE_KEYS = ("date", "valid_from", "valid_until")


def parse_yaml_meta(text: str, file: Path, where: str) -> dict:
    """Parse and validate a YAML metadata mapping; errors name the file, line and allowed keys."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise UnreadableDocument(
            file,
            f"the {where} is not valid YAML{line} ({getattr(exc, 'problem', None) or exc}).",
            "Fix the YAML (key: value per line; quote values that contain ':') and rebuild.",
        ) from None
    if not isinstance(data, dict):
        raise UnreadableDocument(
            file, f"the {where} is not a mapping of key: value lines.", f"Use the keys {', '.join(META_KEYS)}."
        )
    unknown = sorted(str(k) for k in data if k not in META_KEYS)
    if unknown:
        raise UnreadableDocument(
            file,
            f"the {where} has unknown key(s) {', '.join(unknown)}.",
            f"Allowed keys: {', '.join(META_KEYS)}.",
        )
    out: dict = {}
    for key, value in data.items():
        if value is None:
            continue
        if key in DATE_KEYS:
            out[key] = _iso_date(value, key, file, where)
        else:
            out[key] = str(value).strip()
    return out


def _iso_date(value: object, key: str, file: Path, where: str) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise UnreadableDocument(
            file,
            f"the {where} has {key}: {value!r}, which is not a date.",
            f"Write {key} as YYYY-MM-DD, e.g. 2022-11-01.",
        ) from None


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, offset of the body in `text`)."""
    if not text.startswith("---"):
        return None, text, 0
    first_nl = text.find("\n")
    if first_nl < 0 or text[:first_nl].strip() != "---":
        return None, text, 0
    end = text.find("\n---", first_nl)
    while end >= 0:
        line_end = text.find("\n", end + 1)
        line_end = len(text) if line_end < 0 else line_end
        if text[end + 1 : line_end].strip() == "---":
            body_start = min(len(text), line_end + 1)
            return text[first_nl + 1 : end + 1], text[body_start:], body_start
        end = text.find("\n---", end + 1)
    return None, text, 0  # an opening '---' with no closing one: treat as body text


def make_meta(fields: dict, file_stem: str, display_name: str, default_title: str | None = None) -> DocumentMeta:
    """DocumentMeta from validated fields; doc_id is the file stem, title falls back to it."""
    return DocumentMeta(
        doc_id=file_stem,
        title=fields.get("title") or default_title or file_stem,
        file=display_name,
        doctype=fields.get("doctype", ""),
        date=fields.get("date"),
        valid_from=fields.get("valid_from"),
        valid_until=fields.get("valid_until"),
        status=fields.get("status", ""),
        language=fields.get("language", ""),
        source=fields.get("source", ""),
        completeness=fields.get("completeness", ""),
        identifier=fields.get("identifier", ""),
    )
