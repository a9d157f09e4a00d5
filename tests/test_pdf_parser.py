"""PdfParser on the seed note (pages, sections, sizes, verbatim text, offsets), on a generated
PDF with running header, footer and footnotes, and on bad input."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from indexer.parsers import UnreadableDocument
from indexer.parsers.chunking import Block, Piece, chunk_blocks
from indexer.parsers.pdf import PdfParser, page_texts
from tests import hostile
from tests.conftest import NOTE_PDF

DOC_ID = "beleidsconsequenties-mobilisatie-rusland"
ADVIES_1 = (
    "3. Kernpunten > Advies 1: Geen besluit- en vertrekmoratorium afkondigen voor iedereen die "
    "onder het mobilisatiedecreet valt"
)
ADVIES_2 = (
    "3. Kernpunten > Advies 2: Het huidige besluit- en vertrekmoratorium voor dienstplichtigen in "
    "de leeftijd van 18 tot 27 jaar verlengen totdat nieuw landgebonden asielbeleid is ingesteld "
    "naar aanleiding van de publicatie van het aankomende Algemene Ambtsbericht in Q1 2023."
)


def squash(text: str) -> str:
    """Text without any whitespace: compares words and their order, not line breaks."""
    return re.sub(r"\s+", "", text)


def one_space(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def parsed():
    return PdfParser().parse(NOTE_PDF, NOTE_PDF.name)


@pytest.fixture(scope="module")
def passages(parsed):
    return parsed[1]


@pytest.fixture(scope="module")
def raw_pages():
    return page_texts(NOTE_PDF)


def find(passages, phrase: str):
    hits = [p for p in passages if phrase in one_space(p.text)]
    assert len(hits) == 1, f"{phrase!r} in {len(hits)} passages"
    return hits[0]


# --- the seed note -----------------------------------------------------------------------------

# phrase -> the page it is printed on (checked against the page text below as well)
PHRASE_PAGES = {
    "Op 21 september jl. hebben de Russische autoriteiten": 1,
    "U wordt geadviseerd om akkoord te gaan met de volgende twee adviezen:": 1,
    "Op 29 juni jl. is er een besluit- en vertrekmoratorium (BVM)": 1,
    "Een oproep voor mobilisatie kan op twee manieren plaatsvinden": 2,
    "Dit formele proces is weliswaar helder ingericht": 2,
    "Uit paragraaf C2/3.2 Vc volgt dat de IND eerst toetst": 2,
    "Om op grond van punt 1 in aanmerking te komen": 3,
    "Inmiddels heeft TOELT1 bevestigd gekregen": 3,
    "Hoewel er een mobilisatiestop geldt": 4,
    "Het mobilisatiedecreet strekt er niet enkel toe": 4,
    "Echter gebleken is dat dit beeld in de praktijk wat diffuser is": 5,
    "Er is in de Kamer volop aandacht geweest": 5,
    "Uitgezonderd van het huidige BVM inzake Russische dienstplichtigen": 6,
    "Op 24 november 2022 zitten er ca 110 vreemdelingen": 7,
    "Indien u er voor kiest om het huidige BVM te verlengen": 7,
    "De informatie hieronder is vertrouwelijk gekregen": 8,
}


@pytest.mark.parametrize("phrase,page", PHRASE_PAGES.items())
def test_phrase_is_on_its_physical_page(passages, raw_pages, phrase, page):
    assert phrase in one_space(raw_pages[page - 1])  # the expectation itself is right
    passage = find(passages, phrase)
    assert page in passage.pages
    if one_space(passage.text).startswith(phrase):
        assert passage.pages[0] == page


@pytest.mark.parametrize(
    "phrase,pages",
    [
        ("Inmiddels is er meer inzicht in de groep", (1, 2)),  # "...kwamen," | "geldt dat..."
        ("Indien u er voor kiest om wel een besluitmoratorium", (5, 6)),
        ("Indien ervoor wordt gekozen om geen BVM af te kondigen", (6, 7)),
    ],
)
def test_paragraph_across_a_page_break_records_both_pages(passages, phrase, pages):
    passage = find(passages, phrase)
    assert one_space(passage.text).startswith(phrase)
    assert passage.pages == pages


@pytest.mark.parametrize(
    "phrase,section",
    [
        ("Op 21 september jl.", "1. Aanleiding"),
        ("U wordt geadviseerd om akkoord", "2. Geadviseerd besluit"),
        (
            "Op 29 juni jl. is er een besluit- en vertrekmoratorium",
            "3. Kernpunten > Huidige besluit- en vertrekmoratorium voor dienstplichtigen",
        ),
        ("Toen de gedeeltelijke mobilisatie werd aangekondigd", "3. Kernpunten > Gevolgen van de gedeeltelijke mobilisatie"),
        ("Gelet op alle beschikbare informatie", ADVIES_1),
        ("Echter gebleken is dat dit beeld", ADVIES_2),
        ("Er is in de Kamer volop aandacht", "4. Toelichting > 4.1 Politieke context"),
        ("op grond van artikel 43 van de Vreemdelingenwet 2000", "4. Toelichting > 4.2 Juridische overwegingen"),
        ("Recentelijk is er een lichte stijging", "4. Toelichting > 4.3 Uitvoering > IND"),
        ("Op 24 november 2022 zitten er", "4. Toelichting > 4.3 Uitvoering > DT&V"),
        ("De informatie hieronder is vertrouwelijk", "5. Informatie die niet openbaar gemaakt kan worden > 5.1 Toelichting"),
    ],
)
def test_section_paths(passages, phrase, section):
    assert find(passages, phrase).section == section


def test_sections_in_reading_order(passages):
    sections = list(dict.fromkeys(p.section for p in passages if p.kind != "footnote"))
    assert sections == [
        "Beleidsconsequenties mobilisatie Rusland",  # letterhead and title before "1. Aanleiding"
        "1. Aanleiding",
        "2. Geadviseerd besluit",
        "3. Kernpunten > Algemene achtergrond",
        "3. Kernpunten > Huidige besluit- en vertrekmoratorium voor dienstplichtigen",
        "3. Kernpunten > Gevolgen van de gedeeltelijke mobilisatie",
        ADVIES_1,
        ADVIES_2,
        "4. Toelichting > 4.1 Politieke context",
        "4. Toelichting > 4.2 Juridische overwegingen",
        "4. Toelichting > 4.3 Uitvoering > IND",
        "4. Toelichting > 4.3 Uitvoering > DT&V",
        "4. Toelichting > 4.4 Communicatie",
        "4. Toelichting > 4.5 Ontwikkelingen hiervoor",
        "5. Informatie die niet openbaar gemaakt kan worden > 5.1 Toelichting",
    ]


def test_numbered_list_items_are_not_headings(passages):
    advice = find(passages, "U wordt geadviseerd om akkoord")
    assert advice.kind == "list"
    assert "\n1. Het niet afkondigen van een besluit- en vertrekmoratorium" in advice.text
    assert "\n2. Het verlengen van het huidige" in advice.text
    for item in ("Het niet afkondigen", "Gegronde vrees", "Ernstige, onoverkomelijke", "Er dient sprake"):
        assert not any(item in p.section for p in passages)


def test_lead_in_stays_with_its_list(passages):
    grounds = find(passages, "Op basis van het algemene asielbeleid")
    assert grounds.kind == "list"
    assert "voorwaarden:\n1. Gegronde vrees" in grounds.text
    assert "\n3. Ernstige, onoverkomelijke gewetensbezwaren" in grounds.text


def test_heading_without_text_is_kept(passages):
    bare = [p for p in passages if p.kind == "heading"]
    assert [(p.text, p.section, p.pages) for p in bare] == [
        ("Algemene achtergrond", "3. Kernpunten > Algemene achtergrond", (1,))
    ]


def test_running_header_dropped_single_letterhead_kept(passages):
    assert not any(re.search(r"Pagina \d+ van", p.text) for p in passages)
    first = passages[0]  # "SJenV" is on page 1 only: kept, filed under the document title
    assert first.text == "SJenV\nBeleidsconsequenties mobilisatie Rusland" and first.pages == (1,)
    assert first.section == "Beleidsconsequenties mobilisatie Rusland"


def test_passage_sizes(passages):
    assert all(len(p.text) <= 1200 for p in passages)
    body = [p for p in passages if p.kind in ("paragraph", "list")]
    short = [p for p in body if len(p.text) < 300]
    assert len(short) <= 4, [(p.section, len(p.text)) for p in short]
    assert 25 <= len(body) <= 45


def test_every_passage_is_verbatim_page_text(passages, raw_pages):
    notes = [squash(p.text) for p in passages if p.kind == "footnote"]
    for p in passages:
        source = squash(
            "".join(re.sub(r"^Pagina \d+ van \d+\n", "", raw_pages[n - 1]) for n in range(p.pages[0], p.pages[-1] + 1))
        )
        if p.kind != "footnote":  # a paragraph may continue after the footnotes of its page
            for note in notes:
                source = source.replace(note, "")
        for part in p.text.split("\n"):  # list items and merged paragraphs are on their own line
            assert squash(part) in source, (p.seq, part[:60])


def assert_offsets(p, raw_pages):
    """char_start: where the passage starts on pages[0]; char_end: where it ends on pages[-1]."""
    first, last = raw_pages[p.pages[0] - 1], raw_pages[p.pages[-1] - 1]
    first_line = first[p.char_start :].split("\n", 1)[0]
    last_line = last[: p.char_end].rsplit("\n", 1)[-1]
    assert first_line and (p.char_start == 0 or first[p.char_start - 1].isspace()), p.seq
    assert p.text.startswith(first_line), (p.seq, first_line)
    assert squash(p.text).endswith(squash(last_line)), (p.seq, last_line)
    if len(p.pages) == 1:
        assert squash(first[p.char_start : p.char_end]) == squash(p.text), p.seq


def test_offsets_point_at_the_passage(passages, raw_pages):
    for p in passages:
        assert_offsets(p, raw_pages)


def test_page_texts_are_pypdf_extract_text():
    assert page_texts(NOTE_PDF) == [page.extract_text() for page in PdfReader(NOTE_PDF).pages]


def test_hyphen_at_line_end_kept_in_compound(passages):
    assert "als eerste EU-lidstaat (zie ook punt 5.2)" in find(passages, "Het wél afkondigen").text


def test_footnotes_of_the_note(passages):
    notes = [p for p in passages if p.kind == "footnote"]
    assert [(p.footnotes, p.pages) for p in notes] == [(("1",), (3,)), (("2",), (4,)), (("3",), (6,))]
    assert notes[0].text.startswith("1 Het hoofddoel van het IND-expertisecentrum")
    assert notes[0].citation.endswith("voetnoot 1")
    assert find(passages, "Inmiddels heeft TOELT1 bevestigd").footnotes == ("1",)
    assert find(passages, "na de stop gemobiliseerd zijn.2").footnotes == ("2",)
    assert find(passages, "uit de Russische Federatie.3 Te verwachten").footnotes == ("3",)
    body = [p for p in passages if p.kind != "footnote"]
    assert not any("Het hoofddoel van het IND-expertisecentrum" in p.text for p in body)
    assert sum(1 for p in body if p.footnotes) == 3  # "Q1 2023" or "4.3" are no footnote marks


def test_seq_meta_and_metadata(parsed):
    meta, passages = parsed
    assert [p.seq for p in passages] == list(range(len(passages)))
    assert all(p.meta is meta and p.doc_id == DOC_ID for p in passages)
    assert meta.doc_id == DOC_ID and meta.file == NOTE_PDF.name
    assert meta.title == "Beleidsconsequenties mobilisatie Rusland"
    assert meta.source == "Ministerie van Justitie en Veiligheid"
    assert meta.date == "2022-11-24"  # from the shipped sidecar, not /CreationDate (when the PDF was made)


# --- sidecar metadata --------------------------------------------------------------------------


@pytest.fixture
def note_copy(tmp_path) -> Path:
    return Path(shutil.copy(NOTE_PDF, tmp_path / "nota.pdf"))


def test_sidecar_overrides_pdf_metadata(note_copy):
    (note_copy.parent / "nota.pdf.yaml").write_text(
        "title: Nota mobilisatie Rusland\nidentifier: NOTA-2022-11\ndate: 2022-11-24\n"
        "valid_until: null\nstatus: current\ndoctype: beleidsnota\n",
        encoding="utf-8",
    )
    meta, passages = PdfParser().parse(note_copy, "nota.pdf")
    assert meta.doc_id == "nota" and meta.identifier == "NOTA-2022-11"  # doc_id is always the file stem
    assert meta.title == "Nota mobilisatie Rusland"
    assert meta.date == "2022-11-24"  # YAML reads a date object; stored as ISO text
    assert meta.doctype == "beleidsnota" and meta.status == "current"
    assert meta.source == "Ministerie van Justitie en Veiligheid"  # not in the sidecar: from the PDF
    assert passages[0].doc_id == "nota"


def test_sidecar_with_bad_yaml(note_copy):
    (note_copy.parent / "nota.pdf.yaml").write_text("title: Nota\ndate: [2022\n", encoding="utf-8")
    with pytest.raises(UnreadableDocument) as err:
        PdfParser().parse(note_copy, "nota.pdf")
    assert "nota.pdf.yaml" in err.value.reason and "line 3" in err.value.reason
    assert "Fix" in err.value.remedy


@pytest.mark.parametrize(
    "sidecar, reason",
    [
        ("title: &t [a, a, a]\nsource: [*t, *t, *t]\n", "metadata file nota.pdf.yaml uses an anchor or alias"),
        ("title: Nota\n" + "# opmerking\n" * 40_000, "more than the 16,384 allowed"),
        ("title: Nota\ndate: 2022-13-01\n", "date: '2022-13-01', which is not a date in the form YYYY-MM-DD"),
    ],
)
def test_hostile_sidecar_is_refused(note_copy, sidecar, reason):
    (note_copy.parent / "nota.pdf.yaml").write_text(sidecar, encoding="utf-8")
    with pytest.raises(UnreadableDocument) as err:
        PdfParser().parse(note_copy, "nota.pdf")
    assert reason in err.value.reason


def test_sidecar_with_unknown_key(note_copy):
    (note_copy.parent / "nota.pdf.yaml").write_text("titel: Nota\n", encoding="utf-8")
    with pytest.raises(UnreadableDocument) as err:
        PdfParser().parse(note_copy, "nota.pdf")
    assert "titel" in err.value.reason
    assert "title" in err.value.remedy and "valid_until" in err.value.remedy


def test_title_falls_back_to_file_stem(tmp_path):
    path = tmp_path / "werkinstructie.pdf"
    make_footnote_pdf(path, title=None)
    meta, _ = PdfParser().parse(path, path.name)
    assert meta.title == "werkinstructie" and meta.doc_id == "werkinstructie"


# --- a generated PDF: running header and footer, headings, a list, footnotes -------------------

LONG = (
    "Deze alinea loopt door over de paginagrens heen en beschrijft de toets uitgebreid, zodat de "
    "lezer ziet hoe de beoordeling in de praktijk verloopt bij de behandeling van de aanvraag. "
)


def make_footnote_pdf(path: Path, title: str | None = "Werkinstructie voorbeeld") -> Path:
    """Three pages: a header on every page, "- N -" footers, superscript markers with their
    footnotes at the page bottom, numbered and unnumbered headings, a list, a page-crossing
    paragraph."""
    fpdf = pytest.importorskip("fpdf")

    class Doc(fpdf.FPDF):
        notes: dict[int, list[tuple[str, str]]] = {}

        def header(self):
            self.set_font("Helvetica", size=8)
            self.set_y(10)
            self.cell(0, 5, "Ministerie van Justitie en Veiligheid", align="R")
            self.set_y(25)

        def footer(self):
            self.set_y(-45)
            self.set_font("Helvetica", size=8)
            for number, text in self.notes.get(self.page_no(), []):
                self.multi_cell(0, 4, f"{number} {text}")
            self.set_y(-15)
            self.cell(0, 5, f"- {self.page_no()} -", align="C")

        def heading(self, text):
            self.set_font("Helvetica", "B", 11)
            self.write(6, text)
            self.ln(6)

        def para(self, *parts, gap=4):
            self.set_font("Helvetica", size=11)
            for part in parts:
                if isinstance(part, tuple):  # (number, footnote text): a superscript mark
                    self.notes.setdefault(self.page_no(), []).append(part)
                    self.char_vpos = "SUP"
                    self.write(6, part[0])
                    self.char_vpos = "LINE"
                else:
                    self.write(6, part)
            self.ln(6 + gap)

    doc = Doc(format="A4")
    doc.notes = {}
    doc.set_margins(25, 25, 25)
    doc.set_auto_page_break(True, margin=50)
    if title:
        doc.set_title(title)
    doc.add_page()
    doc.para("Werkinstructie voorbeeld")
    doc.heading("1.     Inleiding")
    doc.para(
        "Deze werkinstructie beschrijft de toets bij aanvragen uit het voorbeeldland volgens de "
        "Vreemdelingencirculaire", ("1", "Zie paragraaf C2/3.2 van de Vreemdelingencirculaire 2000."),
        " en de jurisprudentie van de Afdeling bestuursrechtspraak van de Raad van State. "
        "De instructie geldt voor alle medewerkers die beslissen op asielaanvragen.",
    )
    doc.para("Achtergrond")
    doc.para(
        "In het voorbeeldland is de situatie sinds het voorjaar verslechterd. Berichten van "
        "organisaties ter plaatse wijzen op willekeurige arrestaties van terugkeerders en op "
        "langdurige detentie zonder proces."
    )
    doc.add_page()
    doc.heading("2.     Beoordeling")
    doc.heading("2.1 Eerste stap")
    doc.para("De volgende voorwaarden gelden:", gap=0)
    doc.para("a) de vreemdeling heeft zijn identiteit aannemelijk gemaakt met documenten;", gap=0)
    doc.para("b) de vreemdeling heeft verklaard over de reden van vertrek uit het voorbeeldland.")
    doc.para(
        "Bij twijfel over de identiteit wordt een taalanalyse verricht",
        ("2", "Taalanalyse door Bureau Land en Taal."),
        ". " + LONG * 20 + "Zo blijft de toets zorgvuldig.",
    )
    doc.heading("3.     Slot")
    doc.para("Deze werkinstructie treedt in werking op de dag na publicatie.")
    doc.output(str(path))
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = make_footnote_pdf(tmp_path_factory.mktemp("gen") / "werkinstructie.pdf")
    meta, passages = PdfParser().parse(path, path.name)
    return path, meta, passages


def test_generated_pdf_running_header_and_footer_dropped(generated):
    path, _, passages = generated
    assert len(PdfReader(path).pages) == 3
    for p in passages:
        assert "Ministerie van Justitie" not in p.text
        assert not re.search(r"-\s*\d\s*-", p.text)


def test_generated_pdf_sections(generated):
    _, meta, passages = generated
    assert meta.title == "Werkinstructie voorbeeld"
    assert find(passages, "Deze werkinstructie beschrijft").section == "1. Inleiding"
    assert find(passages, "In het voorbeeldland").section == "1. Inleiding > Achtergrond"
    assert find(passages, "De volgende voorwaarden gelden:").section == "2. Beoordeling > 2.1 Eerste stap"
    assert find(passages, "treedt in werking").section == "3. Slot"
    listing = find(passages, "De volgende voorwaarden gelden:")
    assert listing.kind == "list" and "gelden:\na) de vreemdeling" in listing.text and "\nb) de" in listing.text


def test_generated_pdf_footnotes(generated):
    _, _, passages = generated
    notes = [p for p in passages if p.kind == "footnote"]
    assert [(p.text, p.pages, p.footnotes) for p in notes] == [
        ("1 Zie paragraaf C2/3.2 van de Vreemdelingencirculaire 2000.", (1,), ("1",)),
        ("2 Taalanalyse door Bureau Land en Taal.", (2,), ("2",)),
    ]
    assert notes[0].section == "1. Inleiding"  # the section of the text that cites it
    assert find(passages, "volgens de Vreemdelingencirculaire1 en").footnotes == ("1",)
    assert find(passages, "een taalanalyse verricht2.").footnotes == ("2",)
    # a footnote comes after the body text of its page, before the next page
    order = [(p.kind, p.pages[0]) for p in passages]
    assert order.index(("footnote", 1)) < order.index(("list", 2))


def test_generated_pdf_page_crossing_and_splitting(generated):
    path, _, passages = generated
    raw = page_texts(path)
    long = [p for p in passages if "Deze alinea loopt door" in p.text]
    assert len(long) >= 3 and all(len(p.text) <= 1200 for p in long)
    assert any(p.pages == (2, 3) for p in long)
    for p in long:
        assert p.text.endswith((".", "zorgvuldig."))  # split at sentence ends
        assert_offsets(p, raw)


# --- bad input ---------------------------------------------------------------------------------


def blank_pdf(path: Path, pages: int = 1, password: str | None = None) -> Path:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="eigenaar", algorithm="RC4-128")
    writer.write(path)
    return path


def parse_error(path: Path) -> UnreadableDocument:
    with pytest.raises(UnreadableDocument) as err:
        PdfParser().parse(path, path.name)
    assert err.value.file == path.name
    return err.value


def test_encrypted_pdf(tmp_path):
    err = parse_error(blank_pdf(tmp_path / "geheim.pdf", password="geheim"))
    assert err.reason == "the PDF is password-protected."
    assert "Save an unprotected copy" in err.remedy and "instead" in err.remedy


def test_aes_encrypted_pdf_opens_and_with_a_password_is_refused(tmp_path):
    _, passages = PdfParser().parse(hostile.aes_pdf(tmp_path / "aes.pdf"), "aes.pdf")
    assert passages[0].text == hostile.TEXT
    assert parse_error(hostile.aes_pdf(tmp_path / "aes-geheim.pdf", "geheim")).reason == "the PDF is password-protected."


def test_aes_without_cryptography_says_what_to_install(tmp_path, monkeypatch):
    from pypdf.errors import DependencyError

    def missing(self, password):
        raise DependencyError("cryptography>=3.1 is required for AES algorithm")

    monkeypatch.setattr(PdfReader, "decrypt", missing)
    err = parse_error(hostile.aes_pdf(tmp_path / "aes.pdf"))
    assert "package cryptography" in err.reason and "pip install -r requirements.txt" in err.remedy


@pytest.mark.parametrize("declared", [None, 1])  # the root's /Count tells the truth, or says 1
def test_more_pages_than_the_limit_is_refused(tmp_path, declared):
    path = hostile.page_tree_pdf(tmp_path / "boom.pdf", 3_000, declared=declared)
    parser = PdfParser()
    parser.max_pages = 2_000
    with pytest.raises(UnreadableDocument) as err:
        parser.parse(path, path.name)
    assert err.value.reason == "the PDF has 3,000 pages, more than the limit of 2,000 pages per file."
    assert "BELEIDSWIJZER_PARSE_PAGES" in err.value.remedy


def test_a_page_tree_past_the_readers_depth_limit_is_refused(tmp_path):
    err = parse_error(hostile.deep_tree_pdf(tmp_path / "diep.pdf", depth=500))
    assert "its page tree goes past a safety limit of the PDF reader (Maximum page tree depth" in err.reason


def test_content_over_the_decompression_limit_is_said_so(tmp_path):
    err = parse_error(hostile.form_bomb_pdf(tmp_path / "bom.pdf"))
    assert "page 1 holds content over the PDF reader's limit for decompressed data" in err.reason
    assert "scanned" not in err.reason and "OCR" not in err.remedy


def test_pdf_protected_only_against_editing_is_read(tmp_path, generated):
    writer = PdfWriter(clone_from=generated[0])
    writer.encrypt(user_password="", owner_password="eigenaar", algorithm="RC4-128")
    path = tmp_path / "alleen-lezen.pdf"
    writer.write(path)
    _, passages = PdfParser().parse(path, path.name)
    assert any("Deze werkinstructie beschrijft" in p.text for p in passages)


def test_not_a_pdf(tmp_path):
    path = tmp_path / "kapot.pdf"
    path.write_bytes(b"Dit is geen PDF maar platte tekst.\n" * 20)
    err = parse_error(path)
    assert "not a readable PDF" in err.reason and "PDF viewer" in err.remedy


def test_truncated_pdf(tmp_path):
    path = tmp_path / "afgebroken.pdf"
    path.write_bytes(NOTE_PDF.read_bytes()[:3000])
    assert "not a readable PDF" in parse_error(path).reason


def test_empty_file(tmp_path):
    path = tmp_path / "leeg.pdf"
    path.write_bytes(b"")
    assert "0 bytes" in parse_error(path).reason


def test_pdf_without_pages(tmp_path):
    assert "no pages" in parse_error(blank_pdf(tmp_path / "nul.pdf", pages=0)).reason


def test_image_only_pdf_without_ocr(tmp_path):
    path = blank_pdf(tmp_path / "scan.pdf", pages=2)
    parser = PdfParser()
    parser.ocr = None  # with OCR (the default) see tests/test_ocr.py
    with pytest.raises(UnreadableDocument) as err:
        parser.parse(path, path.name)
    assert "no extractable text" in err.value.reason and "scanned" in err.value.reason
    assert "OCR" in err.value.remedy


# --- the shared chunker ------------------------------------------------------------------------


def test_chunker_merges_short_and_splits_long_blocks_keeping_offsets():
    sentence = "Dit is een zin van ongeveer zestig tekens lang, ter controle. "
    long_text = (sentence * 30).strip()  # 1,859 characters, starting at offset 5 of page 2
    blocks = [
        Block([Piece("Kort.", 1, 0)], section="A"),
        Block([Piece("Ook", 1, 10), Piece("kort.", 1, 14)], section="A"),
        Block([Piece("Andere sectie.", 1, 30)], section="B"),
        Block([Piece(long_text, 2, 5)], section="B"),
    ]
    chunks = chunk_blocks(blocks)
    assert chunks[0].text == "Kort.\nOok kort."  # same section, both short: merged
    assert chunks[0].spans == ((1, 0, 5), (1, 10, 13), (1, 14, 19))
    assert chunks[1].text == "Andere sectie."  # too big to merge with the long one
    parts = chunks[2:]
    assert len(parts) == 2 and " ".join(c.text for c in parts) == long_text
    for chunk in parts:
        assert len(chunk.text) <= 1200 and chunk.text.endswith("controle.")
        assert chunk.pages == (2,)
        assert long_text[chunk.char_start - 5 : chunk.char_end - 5] == chunk.text
