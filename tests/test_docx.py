"""Word (.docx): headings as sections, paragraphs, numbered and bulleted lists with their labels,
tables as rows of cells, offsets into the document's plain text, metadata from the core
properties (and the sidecar), protected, old and damaged files reported and skipped, and the
in-context view of a Word passage. The documents are made here with python-docx."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from indexer.parsers import UnreadableDocument, parser_for
from indexer.parsers.docx import OLE_MAGIC, DocxParser
from indexer.store import IndexReader
from retrieval.retriever import Retriever


def werkinstructie(path: Path) -> Path:
    """A work instruction with a title, two heading levels, a numbered and a bulleted list and a table."""
    import docx

    d = docx.Document()
    props = d.core_properties
    props.title = "Werkinstructie aanmelding"
    props.author = "IND Uitvoeringsbeleid"
    props.created = dt.datetime(2023, 1, 10, 9, 0)
    props.modified = dt.datetime(2024, 3, 1, 12, 0)
    d.add_heading("Werkinstructie aanmelding", level=0)
    d.add_paragraph("Deze werkinstructie beschrijft de aanmelding van een asielzoeker in het aanmeldcentrum.")
    d.add_heading("1 Ontvangst", level=1)
    d.add_paragraph("De medewerker controleert bij de ontvangst de volgende punten:")
    d.add_paragraph("de identiteit van de vreemdeling;", style="List Number")
    d.add_paragraph("de vingerafdrukken in Eurodac;", style="List Number")
    d.add_paragraph("eerdere aanvragen in INDiGO.", style="List Number")
    d.add_paragraph("Bij twijfel overlegt hij met de senior.", style="List Bullet")
    d.add_heading("1.1 Termijnen", level=2)
    table = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Stap", "Termijn"), ("Aanmeldgehoor", "binnen 3 dagen"), ("Nader gehoor", "binnen 6 dagen")]):
        table.cell(r, 0).text, table.cell(r, 1).text = a, b
    d.add_paragraph("Na het nader gehoor volgt het voornemen.")
    d.save(str(path))
    return path


def _parse(path: Path):
    return DocxParser().parse_document(path, path.name)


def test_headings_lists_and_tables_become_sectioned_passages(tmp_path):
    meta, passages, pages = _parse(werkinstructie(tmp_path / "wi-aanmelding.docx"))
    assert len(pages) == 1 and all(p.pages == () for p in passages)  # one "page": the plain text
    body = pages[0]
    by_section = {p.section: p for p in passages}
    assert set(by_section) == {
        "Werkinstructie aanmelding",
        "Werkinstructie aanmelding > 1 Ontvangst",
        "Werkinstructie aanmelding > 1 Ontvangst > 1.1 Termijnen",
    }
    lists = by_section["Werkinstructie aanmelding > 1 Ontvangst"]
    assert lists.kind == "list"
    assert lists.text == (
        "De medewerker controleert bij de ontvangst de volgende punten:\n1. de identiteit van de vreemdeling;\n"
        "2. de vingerafdrukken in Eurodac;\n3. eerdere aanvragen in INDiGO.\n• Bij twijfel overlegt hij met de senior."
    )
    table = by_section["Werkinstructie aanmelding > 1 Ontvangst > 1.1 Termijnen"]
    assert table.text.splitlines()[:3] == ["Stap | Termijn", "Aanmeldgehoor | binnen 3 dagen", "Nader gehoor | binnen 6 dagen"]
    assert table.text.endswith("Na het nader gehoor volgt het voornemen.")  # in document order, after the table
    for p in passages:
        assert " ".join(body[p.char_start : p.char_end].split()) == " ".join(p.text.split())
    assert [p.seq for p in passages] == list(range(len(passages)))


def test_metadata_from_the_core_properties_and_the_sidecar(tmp_path):
    path = werkinstructie(tmp_path / "wi-aanmelding.docx")
    meta, _, _ = _parse(path)
    assert (meta.doc_id, meta.title, meta.date, meta.source, meta.doctype) == (
        "wi-aanmelding", "Werkinstructie aanmelding", "2023-01-10", "IND Uitvoeringsbeleid", "werkinstructie")
    assert meta.valid_from is None and meta.validity_window()[0] == dt.date(2023, 1, 10)  # created, not last saved
    (tmp_path / "wi-aanmelding.docx.yaml").write_text("doctype: werkinstructie\nvalid_from: 2024-04-01\ntitle: WI 2024/3\n")
    meta, passages, _ = _parse(path)
    assert (meta.title, meta.valid_from) == ("WI 2024/3", "2024-04-01")
    assert passages[0].section == "Werkinstructie aanmelding"  # the Title style heads the sections


def test_a_document_without_title_is_a_document_named_after_its_file(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = ""
    d.add_paragraph("Een korte notitie zonder kopjes over de planning van gehoren in de regio Noord.")
    d.save(str(tmp_path / "notitie.docx"))
    meta, passages, _ = _parse(tmp_path / "notitie.docx")
    assert (meta.title, meta.doctype) == ("notitie", "document")
    assert [(p.section, p.kind) for p in passages] == [("notitie", "paragraph")]


def test_content_controls_and_tracked_insertions_are_read_deleted_text_is_not(tmp_path):
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    d = docx.Document()
    d.add_paragraph("De termijn is ")  # then a tracked change: 'vier' deleted, 'zes' inserted
    d.paragraphs[-1]._p.append(parse_xml(f'<w:del {w} w:id="1" w:author="a"><w:r><w:delText>vier</w:delText></w:r></w:del>'))
    d.paragraphs[-1]._p.append(parse_xml(f'<w:ins {w} w:id="2" w:author="a"><w:r><w:t>zes weken.</w:t></w:r></w:ins>'))
    d.element.body.insert(0, parse_xml(  # a block content control, as templates put a cover text in
        f'<w:sdt {w}><w:sdtContent><w:p><w:r><w:t>Tekst in een inhoudsbesturingselement.</w:t></w:r></w:p>'
        '</w:sdtContent></w:sdt>'))
    d.save(str(tmp_path / "wijziging.docx"))
    _, passages, pages = _parse(tmp_path / "wijziging.docx")
    assert pages[0] == "Tekst in een inhoudsbesturingselement.\n\nDe termijn is zes weken."
    assert passages[0].text == "Tekst in een inhoudsbesturingselement.\nDe termijn is zes weken."


def test_hyphens_and_symbols_keep_the_text_as_word_shows_it(tmp_path):
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    d = docx.Document()
    d.add_paragraph()._p.append(parse_xml(
        f'<w:r {w}><w:t xml:space="preserve">Een A</w:t><w:noBreakHyphen/><w:t xml:space="preserve">status voor </w:t>'
        '<w:t>asiel</w:t><w:softHyphen/><w:t>zoekers</w:t><w:t xml:space="preserve"> van </w:t>'
        '<w:sym w:font="Symbol" w:char="F0B3"/><w:t xml:space="preserve"> 18 jaar, </w:t>'
        '<w:sym w:font="Calibri" w:char="20AC"/><w:t xml:space="preserve"> 50 leges.</w:t></w:r>'))  # fmt: skip
    d.save(str(tmp_path / "tekens.docx"))
    _, passages, pages = _parse(tmp_path / "tekens.docx")
    assert pages[0] == passages[0].text == "Een A-status voor asielzoekers van \u2265 18 jaar, \u20ac 50 leges."


def test_a_list_continued_under_another_num_goes_on_counting_unless_it_restarts(tmp_path):
    """Word keeps one counter per abstract list definition: a w:num that shares it continues the
    numbering ("3."), one with a w:startOverride starts again where it is first used."""
    import docx
    from docx.oxml import parse_xml

    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    w = f'xmlns:w="{ns}"'
    d = docx.Document()
    numbering = d.part.numbering_part.element
    style_num = d.styles["List Number"].element.pPr.numPr.numId.val
    abstract = next(n for n in numbering.iter(f"{{{ns}}}num") if n.numId == style_num).abstractNumId.val
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="{abstract}"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {w} w:numId="91"><w:abstractNumId w:val="{abstract}"/>'
                               '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'))

    def item(text: str, num_id: int | None = None) -> None:
        p = d.add_paragraph(text, style="List Number")
        if num_id is not None:
            p._p.get_or_add_pPr().insert(0, parse_xml(f'<w:numPr {w}><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>'))

    item("de aanvraag;")
    item("het gehoor;")
    d.add_paragraph("Een toelichting onderbreekt de lijst.")
    item("het voornemen;", 90)
    item("de beschikking.", 90)
    d.add_paragraph("Een nieuwe lijst:")
    item("de zienswijze;", 91)
    item("het besluit.", 91)
    d.save(str(tmp_path / "lijsten.docx"))
    _, _, pages = _parse(tmp_path / "lijsten.docx")
    labels = [line.split(" ", 1)[0] for line in pages[0].splitlines() if line[:1].isdigit()]
    assert labels == ["1.", "2.", "3.", "4.", "1.", "2."]


def _encrypted(path: Path) -> Path:
    """What Word writes for a password-protected .docx, reduced to what tells it apart: a compound
    file (OLE header) whose directory names the EncryptedPackage stream."""
    directory = "EncryptionInfo".encode("utf-16-le").ljust(64, b"\0") + "EncryptedPackage".encode("utf-16-le")
    path.write_bytes(OLE_MAGIC + b"\0" * 504 + directory.ljust(512, b"\0"))
    return path


@pytest.mark.parametrize(
    "make, reason, remedy",
    [
        (_encrypted, "password-protected", "save a copy without one"),
        (lambda p: (p.write_bytes(OLE_MAGIC + b"\0" * 1024), p)[1], "Word 97-2003", "save it as a Word document (.docx)"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty", "save it again"),
        (lambda p: (p.write_bytes(b"%PDF-1.7 niet echt"), p)[1], "not a readable Word document", "save it again"),
    ],
)
def test_unreadable_word_files_say_why_and_what_to_do(tmp_path, make, reason, remedy):
    path = make(tmp_path / "stuk.docx")
    with pytest.raises(UnreadableDocument) as exc:
        _parse(path)
    assert reason in exc.value.reason and remedy in exc.value.remedy and exc.value.file == "stuk.docx"


def test_a_damaged_or_foreign_package_is_reported(tmp_path):
    good = werkinstructie(tmp_path / "goed.docx").read_bytes()
    (tmp_path / "afgebroken.docx").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile(tmp_path / "rekenblad.docx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'/>")
    for name in ("afgebroken.docx", "rekenblad.docx"):
        with pytest.raises(UnreadableDocument) as exc:
            parser_for(tmp_path / name).parse_document(tmp_path / name, name)
        assert "Word document" in exc.value.reason and "save it again as a Word document" in exc.value.remedy


def test_protected_and_damaged_word_files_are_skipped_and_the_rest_indexed(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    werkinstructie(corpus / "wi-aanmelding.docx")
    _encrypted(corpus / "geheim.docx")
    (corpus / "kapot.docx").write_bytes(b"PK\x03\x04 afgebroken")
    (corpus / "notitie.md").write_text("# Notitie\n\nHet nader gehoor wordt gepland door de regie.\n", encoding="utf-8")
    report = build([corpus], tmp_path / "ix", FakeEncoder())
    assert report.documents == 2 and sorted(report.added) == ["notitie.md", "wi-aanmelding.docx"]
    reasons = {s.file: s.reason for s in report.skipped}
    assert set(reasons) == {"geheim.docx", "kapot.docx"}
    assert "password-protected" in reasons["geheim.docx"] and "Word document" in reasons["kapot.docx"]
    hits = Retriever(tmp_path / "ix", FakeEncoder()).search("termijn nader gehoor binnen 6 dagen", k=3).hits
    best = hits[0].passage
    assert (best.doc_id, best.page, best.meta.file) == ("wi-aanmelding", None, "wi-aanmelding.docx")
    assert "Nader gehoor | binnen 6 dagen" in best.text


def test_a_word_passage_opens_in_context_within_the_document_text(tmp_path):
    from streamlit.testing.v1 import AppTest

    corpus = tmp_path / "c"
    corpus.mkdir()
    werkinstructie(corpus / "wi-aanmelding.docx")
    build([corpus], tmp_path / "ix", FakeEncoder())
    passages = IndexReader(tmp_path / "ix").passages()
    seq = next(p.seq for p in passages if p.kind == "list")

    def view(index: str, seq: int) -> None:
        from indexer.store import IndexReader
        from retrieval.library import Library
        from ui.context import context_view

        reader = IndexReader(index)
        passages = reader.passages()
        context_view(Library(reader, passages), next(p for p in passages if p.seq == seq), None)

    at = AppTest.from_function(view, args=(str(tmp_path / "ix"), seq)).run()
    assert not at.exception, [e.value for e in at.exception]
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "<mark" in html and "2. de vingerafdrukken in Eurodac;" in html
    assert not at.warning and not at.info  # neither 'file missing' nor 'context unavailable'


def test_an_upload_named_docx_must_be_a_word_package(tmp_path):
    from ui import uploads

    assert uploads.check("wi.docx", werkinstructie(tmp_path / "wi.docx").read_bytes(), 5) is None
    assert uploads.check("geheim.docx", _encrypted(tmp_path / "geheim.docx").read_bytes(), 5) is None  # the build says why
    assert uploads.check("wi.docx", b"Platte tekst met een verkeerde naam", 5).key == "manage_not_docx"
