"""When a measure applies, apart from whether a document's text is current.

A document's validity (retrieval.validity) is about its text: the current text, an older
version, a superseded one. The measure a document describes (the BVM for Russian conscripts)
has a period of its own, stated in the corpus and written once, as the validity periods of the
rule that checks it (with their cited sources). `measures.yaml` names the measures and the
documents about them; `for_document` gives the measure of a document, with its period.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import rules
from retrieval.yamlfile import read_yaml
from rules.vocabulary import dutch_date

MEASURES = Path(__file__).with_name("measures.yaml")


def period_span(start: str | None, until: str | None) -> str:
    """'van 29-06-2022 tot 29-06-2023' for ISO dates, an open end left out; '' when both are open
    (the answer line, the measure badge of the CLI and the case file say it alike)."""
    return " ".join(part for part in (f"van {dutch_date(start)}" if start else "", f"tot {dutch_date(until)}" if until else "") if part)


@dataclass(frozen=True)
class Measure:
    """A measure and the period in which it applies: [start, until), `until` the first day it no
    longer applies; `sources` cite where the start and the end are stated."""

    id: str
    label: str
    start: dt.date | None
    until: dt.date | None
    rule: str
    sources: tuple[str, ...]  # 'citation: "phrase"' of the start and the end

    def applies_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.until is None or day < self.until)

    def period_text(self) -> str:
        """'BVM Russische dienstplichtigen: van 29-06-2022 tot 29-06-2023' (the officer's Dutch)."""
        span = period_span(self.start and self.start.isoformat(), self.until and self.until.isoformat())
        return f"{self.label}: {span or 'zonder einddatum'}"

    def to_dict(self, on: dt.date | None = None) -> dict:
        day = on or dt.date.today()
        return {"id": self.id, "label": self.label, "from": self.start.isoformat() if self.start else None,
                "until": self.until.isoformat() if self.until else None, "applies": self.applies_on(day),
                "on": day.isoformat(), "rule": self.rule, "sources": list(self.sources)}  # fmt: skip


def _cited(source) -> str:
    return f'{source.citation}: "{source.phrase}"' if source.phrase else source.citation


@lru_cache(maxsize=1)
def _by_document(path: Path = MEASURES) -> dict[str, Measure]:
    data = read_yaml(path) if path.is_file() else {}
    items = (data or {}).get("measures") or []
    out: dict[str, Measure] = {}
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not {"id", "label", "rule", "documents"} <= set(item):
            raise ValueError(f"{path}: measure {n} needs id, label, rule and documents")
        try:
            rule = rules.get_rule(item["rule"])
        except rules.UnknownRuleError as exc:
            raise ValueError(f"{path}: measure {item['id']}: {exc}") from None
        if not rule.validity:
            raise ValueError(f"{path}: measure {item['id']}: rule {rule.id} states no validity period")
        first, last = rule.validity[0], rule.validity[-1]
        sources = tuple(dict.fromkeys(_cited(s) for s in (first.source, last.until_source or last.source) if s))
        measure = Measure(str(item["id"]), str(item["label"]), first.start, last.until, rule.id, sources)
        for doc_id in item["documents"]:
            out[str(doc_id)] = measure
    return out


def for_document(doc_id: str) -> Measure | None:
    """The measure the document is about, when the corpus states its period; else None."""
    return _by_document().get(doc_id)
