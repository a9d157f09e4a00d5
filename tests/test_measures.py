"""When a measure applies (retrieval/measures.py), apart from whether a document's text is current."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest

from retrieval import measures
from retrieval.measures import for_document
from tests.conftest import REPO


def test_the_bvm_documents_carry_the_bvm_period_from_its_rule_with_the_sources():
    m = for_document("beleidsconsequenties-mobilisatie-rusland")
    assert m is not None and m.label == "BVM Russische dienstplichtigen" and m.rule == "bvm-dienstplichtigen"
    assert (m.start, m.until) == (dt.date(2022, 6, 29), dt.date(2023, 6, 29))
    assert any("tot 29 juni 2023" in s and "Kamerbrief 13 december 2022" in s for s in m.sources)
    assert m.applies_on(dt.date(2022, 10, 1)) and not m.applies_on(dt.date(2023, 6, 29))
    assert m.period_text() == "BVM Russische dienstplichtigen: van 29-06-2022 tot 29-06-2023"
    assert for_document("ind-nieuws-2022-12-28-bvm-verlengd") is m
    assert for_document("vreemdelingenwet-2000-art-28-45") is None  # a statute: only its text's status


def test_the_json_of_a_passage_says_whether_its_measure_applies_on_the_date(tmp_path):
    from indexer.build import build
    from indexer.encoders.fake import FakeEncoder
    from retrieval.retriever import Retriever

    (tmp_path / "c").mkdir()
    shutil.copy(REPO / "corpus" / "ind-nieuws-2022-12-28-bvm-verlengd.txt", tmp_path / "c")
    build([tmp_path / "c"], tmp_path / "ix", FakeEncoder())
    r = Retriever(tmp_path / "ix", FakeEncoder())
    then = r.search("verlenging moratorium", k=1, on=dt.date(2023, 1, 15)).to_dict()["passages"][0]
    assert then["measure"]["applies"] is True and then["measure"]["until"] == "2023-06-29"
    now = r.search("verlenging moratorium", k=1).to_dict()["passages"][0]
    assert now["measure"]["applies"] is False and now["status"] == "current"  # the text is current, the BVM ended


def test_a_measures_file_naming_an_unknown_rule_says_so(tmp_path):
    bad = tmp_path / "measures.yaml"
    bad.write_text("measures:\n  - {id: x, label: X, rule: geen-regel, documents: [a]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="measure x: .*geen-regel"):
        measures._by_document.__wrapped__(bad)
