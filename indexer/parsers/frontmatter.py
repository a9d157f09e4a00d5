"""Document metadata from YAML: a text file's front matter or a PDF's sidecar `NAME.pdf.yaml`.

The YAML is read by a loader that refuses anchors and aliases (with them a few hundred bytes of
"billion laughs" expand to gigabytes), nesting deeper than a list, and more than MAX_META_CHARS
characters; dates are read as text and checked here, so a wrong date names its key and the form.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from indexer.parsers import SIDECAR_SUFFIX, UnreadableDocument
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
MAX_META_CHARS = 16_384  # metadata holds a few short lines; the shipped files have under 600
MAX_META_DEPTH = 3  # the mapping, its values, and the items of a list value
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _Refused(yaml.YAMLError):
    def __init__(self, problem: str, mark):
        self.problem, self.problem_mark = problem, mark


class _MetaLoader(yaml.SafeLoader):
    """yaml.SafeLoader without anchors, aliases or deep nesting, and with dates left as text."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _Refused("an anchor or alias (&name, *name)", event.start_mark)
        if self._depth >= MAX_META_DEPTH:
            raise _Refused(f"values nested more than {MAX_META_DEPTH} levels deep", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml_meta(text: str, file: Path, where: str) -> dict:
    """Parse and validate a YAML metadata mapping; errors name the file, line and allowed keys."""
    if len(text) > MAX_META_CHARS:
        raise UnreadableDocument(
            file,
            f"the {where} is {len(text):,} characters long, more than the {MAX_META_CHARS:,} allowed for metadata.",
            f"Keep only the keys {', '.join(META_KEYS)} in it, one short line each.",
        )
    try:
        data = yaml.load(text, Loader=_MetaLoader) or {}
    except _Refused as exc:
        raise UnreadableDocument(
            file,
            f"the {where} uses {exc.problem} at line {exc.problem_mark.line + 1}, which metadata may not.",
            "Write each value out in full on its own key: value line.",
        ) from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:  # ValueError: e.g. an explicit !!int abc
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
    """An ISO date (YYYY-MM-DD) from a date, a date and time, or their text."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    for parse in (dt.date.fromisoformat, lambda t: dt.datetime.fromisoformat(t).date()):
        try:
            return parse(text).isoformat()
        except ValueError:
            pass
    shown = repr(text if len(text) <= 40 else text[:40] + "...")
    raise UnreadableDocument(
        file,
        f"the {where} has {key}: {shown}, which is not a date in the form YYYY-MM-DD.",
        f"Write {key} as YYYY-MM-DD, e.g. {key}: 2022-11-01.",
    )


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


def read_sidecar(path: Path, name: str) -> dict:
    """Validated fields of the metadata file `NAME.yaml` beside a document `NAME` ({} if there
    is none): a PDF's, or an XML, HTML or Word file's, whose own metadata it overrides."""
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    with open(sidecar, "rb") as fh:
        data = fh.read(4 * MAX_META_CHARS + 4)  # enough to tell that it is over the limit
    try:
        text = data.decode("utf-8", "replace" if len(data) > 4 * MAX_META_CHARS else "strict")
    except UnicodeDecodeError:
        raise UnreadableDocument(
            name, f"its metadata file {sidecar.name} is not UTF-8 text.", f"Save {sidecar.name} as UTF-8."
        ) from None
    return parse_yaml_meta(text, Path(name), f"metadata file {sidecar.name}")
