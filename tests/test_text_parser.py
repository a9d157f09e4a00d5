"""Text/Markdown parsing: front matter, legislation locators, headings, passage sizes, offsets."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.parsers import UnreadableDocument, parser_for
from indexer.parsers.text import MAX_CHARS, TextParser, body_of
from tests import hostile

LAW = """---
title: Testwet 2000 — artikelen 42–43
identifier: BWBR-TEST
doctype: wet
date: 2022-10-01
valid_from: 2022-10-01
valid_until: 2023-09-30
language: nl
---
Artikel 42
1. Op de aanvraag wordt binnen zes maanden na ontvangst beslist.
2. De inwilliging van de aanvraag is mede afgestemd op het belang.
4. De termijn kan met ten hoogste negen maanden worden verlengd, indien:
a. een groot aantal aanvragen is ingediend;
b. het onderzoek complex is.

Artikel 43
1. Bij besluit van Onze Minister kan voor bepaalde categorieën worden bepaald dat de termijn wordt verlengd.
"""


def parse(tmp_path: Path, text: str, name: str = "doc.txt", encoding: str = "utf-8"):
    f = tmp_path / name
    f.write_bytes(text.encode(encoding))
    return TextParser().parse(f, name)


def test_front_matter_becomes_metadata(tmp_path):
    meta, _ = parse(tmp_path, LAW, "testwet.txt")
    assert (meta.doc_id, meta.title, meta.doctype) == ("testwet", "Testwet 2000 — artikelen 42–43", "wet")
    assert (meta.valid_from, meta.valid_until, meta.identifier) == ("2022-10-01", "2023-09-30", "BWBR-TEST")


def test_articles_leden_and_points_become_locators(tmp_path):
    _, ps = parse(tmp_path, LAW)
    assert [p.locator for p in ps] == ["art. 42 lid 1", "art. 42 lid 2", "art. 42 lid 4", "art. 43 lid 1"]
    lid4 = ps[2]
    assert lid4.text.splitlines() == [
        "4. De termijn kan met ten hoogste negen maanden worden verlengd, indien:",
        "a. een groot aantal aanvragen is ingediend;",
        "b. het onderzoek complex is.",
    ]
    assert lid4.citation == "Testwet 2000, art. 42 lid 4"


def test_offsets_index_the_body(tmp_path):
    _, ps = parse(tmp_path, LAW)
    body = body_of(tmp_path / "doc.txt")
    for p in ps:
        assert body[p.char_start : p.char_end] == p.text


def test_convention_sections_cite_as_1F(tmp_path):
    text = "Article 1 - Definition\n\nA. First section.\n\nF. The provisions shall not apply:\n(a) crimes;\n(b) other.\n"
    _, ps = parse(tmp_path, text)
    assert [p.locator for p in ps] == ["art. 1A", "art. 1F"]


def test_headings_form_the_section_path(tmp_path):
    text = (
        "=== C3 Moratoria ===\n\n1 Inleiding\nIn dit hoofdstuk staan de regels.\n\n"
        "2 Besluitmoratorium\nIn artikel 43 Vw staan de redenen.\n"
    )
    _, ps = parse(tmp_path, text)
    assert [p.section for p in ps] == ["C3 Moratoria > 1 Inleiding", "C3 Moratoria > 2 Besluitmoratorium"]


def test_wrapped_markdown_lines_are_joined_as_prose(tmp_path):
    text = (
        "# not a heading marker we know\n\nDit is een lange zin die in de bron over meerdere regels is\n"
        "afgebroken, zoals in Markdown gebruikelijk is, en als proza moet lezen.\n"
    )
    _, ps = parse(tmp_path, text, "note.md")
    assert "regels is afgebroken, zoals" in ps[-1].text


def test_long_paragraphs_are_split_at_sentences_and_short_ones_merged(tmp_path):
    sentence = "Dit is een zin over het besluit- en vertrekmoratorium voor dienstplichtigen. "
    text = "Kop\n" + sentence * 40 + "\n\nKort.\nOok kort.\n"
    _, ps = parse(tmp_path, text)
    assert all(len(p.text) <= MAX_CHARS for p in ps)
    assert len(ps) >= 3
    assert any("Kort.\nOok kort." in p.text for p in ps)  # merged into one passage


@pytest.mark.parametrize(
    "content, encoding, reason",
    [
        ("---\ntitle: [unclosed\n---\nTekst.\n", "utf-8", "not valid YAML at line"),
        ("---\ntitel: Verkeerd\n---\nTekst.\n", "utf-8", "unknown key(s) titel"),
        ("---\ndate: gisteren\n---\nTekst.\n", "utf-8", "not a date"),
        ("Beleid over café en Oekraïne.\n", "latin-1", "not UTF-8"),
        ("---\ntitle: Leeg\n---\n\n", "utf-8", "no text"),
    ],
)
def test_bad_text_files_say_what_and_what_to_do(tmp_path, content, encoding, reason):
    with pytest.raises(UnreadableDocument) as exc:
        parse(tmp_path, content, encoding=encoding)
    assert reason in exc.value.reason
    assert exc.value.remedy  # always says what to do
    assert "doc.txt" in str(exc.value)


@pytest.mark.parametrize(
    "front, reason",
    [
        (hostile.alias_bomb(), "uses an anchor or alias (&name, *name) at line 1"),
        ("title: &t Nota\nsource: *t\n", "uses an anchor or alias"),
        ("title: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 3 levels deep"),
        ("title: " + "x" * 20_000 + "\n", "20,008 characters long, more than the 16,384 allowed"),
    ],
)
def test_hostile_front_matter_is_refused_in_one_sentence(tmp_path, front, reason):
    with pytest.raises(UnreadableDocument) as exc:
        parse(tmp_path, f"---\n{front}---\nTekst van de nota.\n", name="bom.md")
    assert reason in exc.value.reason and exc.value.remedy


@pytest.mark.parametrize("value", ["2022-13-45", "2022-02-30", "1 november 2022", "2022-11"])
def test_a_wrong_date_names_its_key_and_the_form(tmp_path, value):
    with pytest.raises(UnreadableDocument) as exc:
        parse(tmp_path, f"---\ntitle: Nota\nvalid_from: {value}\n---\nTekst.\n")
    assert f"valid_from: '{value}', which is not a date in the form YYYY-MM-DD" in exc.value.reason
    assert "valid_from: 2022-11-01" in exc.value.remedy


@pytest.mark.parametrize(
    "value, iso", [("2022-11-01", "2022-11-01"), ("'2022-11-01'", "2022-11-01"), ("2022-11-01 10:30:00", "2022-11-01"),
                   ("2022-11-01T10:30:00Z", "2022-11-01")],
)  # fmt: skip
def test_dates_and_times_are_read_as_iso_dates(tmp_path, value, iso):
    meta, _ = parse(tmp_path, f"---\ntitle: 2022-10-01\ndate: {value}\n---\nTekst.\n")
    assert (meta.date, meta.title) == (iso, "2022-10-01")


def test_unsupported_type_names_the_supported_ones(tmp_path):
    f = tmp_path / "notes.odt"
    f.write_bytes(b"PK")
    with pytest.raises(UnreadableDocument) as exc:
        parser_for(f)
    assert ".pdf" in exc.value.remedy and ".docx" in exc.value.remedy and ".odt" in exc.value.reason


def test_shared_legislation_carries_article_and_lid(shared_corpus):
    f = shared_corpus / "vreemdelingenwet-2000-art-28-45.txt"
    _, ps = TextParser().parse(f, f.name)
    cites = {p.citation for p in ps}
    assert "Vreemdelingenwet 2000, art. 43 lid 1" in cites
    assert "Vreemdelingenwet 2000, art. 45 lid 4" in cites
    assert all(p.article for p in ps)
    art43 = next(p for p in ps if p.locator == "art. 43 lid 1")
    assert art43.text.startswith("1. Bij besluit van Onze Minister")


def test_a_run_of_short_label_lines_is_text_not_headings(tmp_path):
    text = (
        "Kamervraag 2023Z00468\n\nDe mobilisatie in Rusland\n\nIngediend 18 januari 2023\n"
        "Beantwoord 22 februari 2023 (na 35 dagen)\nIndiener Jasper van Dijk\n"
        "Beantwoord door de minister van Buitenlandse Zaken\n\nVraag 1\n\nWat is uw oordeel over de berichtgeving?\n"
    )
    _, ps = parse(tmp_path, text)
    header = next(p for p in ps if "Indiener Jasper van Dijk" in p.text)
    assert header.section == "De mobilisatie in Rusland"
    assert ps[-1].section == "Vraag 1"
