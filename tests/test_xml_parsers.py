"""BWB toestand XML (wetten.overheid.nl) and officielebekendmakingen XML/HTML: passages with
their citations, section paths, list numbering, validity per article; the reference lookup and
the date filter on them; malformed and foreign XML reported and skipped, the rest indexed.

The fixtures are written here, in the formats' element names (a few articles each); no
document is copied from elsewhere."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from indexer.parsers import UnreadableDocument, parser_for
from retrieval.references import EXACT
from retrieval.retriever import Retriever
from tests.conftest import REPO

VB = """<?xml version="1.0" encoding="UTF-8"?>
<toestand bwb-id="BWBR0011825" inwerkingtreding="2022-10-01">
  <wetgeving soort="AMvB">
    <intitule>Besluit van 23 november 2000 tot uitvoering van de Vreemdelingenwet 2000</intitule>
    <citeertitel status="officieel">Vreemdelingenbesluit 2000</citeertitel>
    <wet-besluit><wettekst>
      <hoofdstuk><kop><label>Hoofdstuk</label><nr>3</nr><titel>Toelating</titel></kop>
        <afdeling><kop><label>Afdeling</label><nr>6</nr><titel>Asiel</titel></kop>
          <artikel inwerking="2001-04-01"><kop><label>Artikel</label><nr>3.37</nr>
              <meta-data><jcis><jci verwijzing="x"/></jcis></meta-data></kop>
            <lid><lidnr>1</lidnr><al>Een verblijfsvergunning asiel voor bepaalde tijd wordt niet verleend indien
              de vreemdeling:</al>
              <lijst><li><li.nr>a.</li.nr><al>een gevaar vormt voor de <extref doc="jci1.3:c:BWBR0011823">openbare orde</extref>;</al></li>
                <li><li.nr>b.</li.nr><al>een gevaar vormt voor de nationale veiligheid.</al></li></lijst></lid>
            <lid><lidnr>2</lidnr><al>Bij ministeriële regeling worden regels gesteld over de belangenafweging.</al>
              <redactie>[Red: gewijzigd bij Stb. 2013, 200.]</redactie></lid>
          </artikel>
          <artikel inwerking="2001-04-01" einddatum="2013-12-31"><kop><label>Artikel</label><nr>3.38</nr>
              <titel>Tijdelijke huisvesting</titel></kop>
            <al>De opvang van de asielzoeker duurt voort tot de kermisweek van Oudewater.</al>
          </artikel>
          <artikel status="vervallen"><kop><label>Artikel</label><nr>3.39</nr></kop>
            <al>[Vervallen per 01-01-2014]</al></artikel>
          <artikel status="vervallen" inwerking="2014-01-01"><kop><label>Artikel</label><nr>3.40</nr></kop>
            <al>De staatssecretaris wijst een opvanglocatie aan in de gemeente Oudewater.</al></artikel>
          <artikel inwerking="2001-04-01"><kop><label>Artikel</label><nr>3.41</nr></kop>
            <al>Dit artikel regelt de melding.</al>
            <lid><lidnr>1</lidnr><al>De vreemdeling meldt zich bij de korpschef.</al></lid>
            <lid status="vervallen" inwerking="2019-07-01"><lidnr>2</lidnr><al>De melding geschiedt wekelijks.</al></lid>
            <al>Slotzin buiten de leden.</al></artikel>
          <tussenkop>Overgangsbepalingen voor <nadruk type="vet">lopende</nadruk> aanvragen</tussenkop>
        </afdeling>
      </hoofdstuk>
    </wettekst></wet-besluit>
  </wetgeving>
</toestand>
"""

VC = """<?xml version="1.0" encoding="UTF-8"?>
<toestand bwb-id="BWBR0012289" inwerkingtreding="2022-11-01">
  <wetgeving soort="circulaire"><citeertitel>Vreemdelingencirculaire 2000 (C)</citeertitel>
    <circulaire><circulaire-tekst>
      <circulaire.divisie><kop><label>Hoofdstuk</label><nr>C2</nr><titel>De asielprocedure</titel></kop>
        <circulaire.divisie><kop><nr>3</nr><titel>Gronden voor verlening</titel></kop>
          <circulaire.divisie><kop><nr>3.2</nr><titel>Artikel 29, eerste lid, aanhef en onder a, Vw</titel></kop>
            <tekst><al>De IND verleent een verblijfsvergunning asiel aan de vreemdeling die verdragsvluchteling is.</al>
              <al>Dienstweigeraars worden beoordeeld op de gevolgen van hun weigering in het land van herkomst.</al></tekst>
          </circulaire.divisie>
          <circulaire.divisie><kop><nr>3.3</nr><titel>Artikel 29, eerste lid, aanhef en onder b, Vw</titel></kop>
            <tekst><al>De IND verleent subsidiaire bescherming bij een reëel risico op ernstige schade.</al></tekst>
            <tabel><kop><titel>Termijnen</titel></kop><tgroup cols="2"><tbody>
              <row><entry><al>beslistermijn</al></entry><entry><al>zes maanden</al></entry></row>
              <row><entry><al>verlenging</al></entry><entry><al>negen maanden</al></entry></row></tbody></tgroup></tabel>
          </circulaire.divisie>
        </circulaire.divisie>
      </circulaire.divisie>
    </circulaire-tekst></circulaire>
  </wetgeving>
</toestand>
"""

KAMERSTUK = """<?xml version="1.0" encoding="utf-8"?>
<officiele-publicatie>
  <metadata>
    <meta name="DC.identifier" content="kst-19637-3018"/>
    <meta name="DC.type" content="Kamerstuk"/>
    <meta name="DCTERMS.issued" content="2022-12-13"/>
  </metadata>
  <kamerstuk>
    <kamerstukkop><tekstregel inhoud="vergaderjaar">Vergaderjaar 2022-2023</tekstregel></kamerstukkop>
    <dossier><dossiernummer><dossiernr>19 637</dossiernr></dossiernummer><titel>Vreemdelingenbeleid</titel></dossier>
    <stuk><stuknr>Nr. <ondernummer>3018</ondernummer></stuknr>
      <titel>BRIEF VAN DE STAATSSECRETARIS VAN JUSTITIE EN VEILIGHEID</titel>
      <algemeen><vrije-tekst><tekst>
        <al>Met deze brief informeer ik uw Kamer over het besluit- en vertrekmoratorium.</al>
        <divisie><kop><titel>Verlenging van het moratorium</titel></kop>
          <al>Het besluit- en vertrekmoratorium voor Russische dienstplichtigen wordt met een half jaar verlengd.<noot id="n1" type="voet"><noot.nr>1</noot.nr><noot.al>Kamerstuk 19 637, nr. 2990.</noot.al></noot></al>
          <lijst><li><li.nr>–</li.nr><al>de beslistermijn wordt opgeschort;</al></li>
            <li><li.nr>–</li.nr><al>de vertrektermijn wordt niet gehandhaafd.</al></li></lijst>
        </divisie>
      </tekst></vrije-tekst></algemeen>
    </stuk>
  </kamerstuk>
</officiele-publicatie>
"""

HTML = """<!DOCTYPE html>
<html lang="nl"><head><title>Staatscourant 2023, 1234 | Overheid.nl</title>
<meta name="DC.identifier" content="stcrt-2023-1234">
<meta name="DC.title" content="Besluit van de Staatssecretaris van Justitie en Veiligheid tot wijziging van de Vreemdelingencirculaire 2000">
<meta name="DCTERMS.issued" content="2023-02-01">
<script>var tracking = "niet indexeren";</script>
</head><body><nav><a href="/">Home</a> Menu-item dat niet in de tekst hoort</nav>
<h1>Besluit tot wijziging van de Vreemdelingencirculaire 2000</h1>
<h2>Artikel I</h2>
<p>De Vreemdelingencirculaire 2000 wordt als volgt gewijzigd: paragraaf C1/2.13 komt te luiden.</p>
<ol><li>De beslistermijn kan worden verlengd met ten hoogste negen maanden.</li>
<li><p>Het verlengingsbesluit wordt bekendgemaakt in de Staatscourant.</p></li></ol>
<p>Deze regeling treedt in werking<br>met ingang van de dag na bekendmaking.</p>
<h2>Toelichting</h2>
<table><tr><th>Termijn</th><th>Duur</th></tr><tr><td><p>wettelijke beslistermijn</p></td><td><p>zes maanden</p></td></tr></table>
<footer>Cookiebeleid</footer>
</body></html>
"""


def _parse(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parser_for(path).parse_document(path, name)


def test_bwb_articles_and_leden_are_passages_with_their_citation_and_hierarchy(tmp_path):
    meta, passages, pages = _parse(tmp_path, "vb.xml", VB)
    assert (meta.title, meta.identifier, meta.doctype, meta.valid_from) == (
        "Vreemdelingenbesluit 2000", "BWBR0011825", "amvb", "2022-10-01")
    cited = {p.citation: p for p in passages}
    assert [p.citation for p in passages] == [
        "Vreemdelingenbesluit 2000, art. 3.37 lid 1",
        "Vreemdelingenbesluit 2000, art. 3.37 lid 2",
        "Vreemdelingenbesluit 2000, art. 3.38",
        "Vreemdelingenbesluit 2000, art. 3.40",
        "Vreemdelingenbesluit 2000, art. 3.41",
        "Vreemdelingenbesluit 2000, art. 3.41 lid 1",
        "Vreemdelingenbesluit 2000, art. 3.41 lid 2",
        "Vreemdelingenbesluit 2000, art. 3.41",
        "Vreemdelingenbesluit 2000, Hoofdstuk 3 Toelating",
    ]  # 3.39 is repealed without dates: left out
    # a part repealed on a date was valid until the day before it
    art40 = cited["Vreemdelingenbesluit 2000, art. 3.40"]
    assert art40.valid_until == "2013-12-31" and art40.validity_window() is None  # before the consolidation
    lid2 = next(p for p in passages if p.citation == "Vreemdelingenbesluit 2000, art. 3.41 lid 2")
    assert (lid2.valid_from, lid2.valid_until) == ("2001-04-01", "2019-06-30")
    # text outside the leden and in elements the parser has no rule for is kept, in document order
    art41 = [p.text for p in passages if p.article == "3.41"]
    assert art41[0] == "Dit artikel regelt de melding." and art41[-1] == "Slotzin buiten de leden."
    assert passages[-1].text == "Overgangsbepalingen voor lopende aanvragen"
    lid1 = cited["Vreemdelingenbesluit 2000, art. 3.37 lid 1"]
    assert lid1.section == "Hoofdstuk 3 Toelating > Afdeling 6 Asiel"
    assert lid1.text.startswith("1. Een verblijfsvergunning asiel voor bepaalde tijd wordt niet verleend indien de vreemdeling:")
    assert "\na. een gevaar vormt voor de openbare orde;\nb. een gevaar" in lid1.text  # the list keeps its numbering
    lid2 = cited["Vreemdelingenbesluit 2000, art. 3.37 lid 2"]
    assert "Red:" not in lid2.text and "jci" not in lid1.text  # editorial notes and metadata are not text
    art38 = cited["Vreemdelingenbesluit 2000, art. 3.38"]
    assert art38.section.endswith("Artikel 3.38 Tijdelijke huisvesting")
    assert (art38.valid_from, art38.valid_until) == ("2001-04-01", "2013-12-31")
    for p in passages:  # every passage is the text at its offsets in the document's plain text
        assert pages[0][p.char_start : p.char_end] == p.text


def test_bwb_validity_per_article_inside_the_documents():
    from indexer.passage import DocumentMeta, Passage

    meta = DocumentMeta("d", "t", "f", valid_from="2022-10-01")
    repealed = Passage("d", 0, "x", valid_from="2001-04-01", valid_until="2013-12-31", meta=meta)
    assert repealed.validity_window() is None  # its last day lies before the consolidation's first
    assert not repealed.valid_on(dt.date(2023, 1, 1))
    open_doc = DocumentMeta("d", "t", "f")
    repealed = Passage("d", 0, "x", valid_from="2001-04-01", valid_until="2013-12-31", meta=open_doc)
    assert repealed.valid_on(dt.date(2010, 1, 1)) and not repealed.valid_on(dt.date(2020, 1, 1))
    later = Passage("d", 0, "x", valid_from="2024-01-01", meta=meta)
    assert later.validity_window() == (dt.date(2024, 1, 1), None)


def test_circular_divisions_become_the_section_path_the_vc_lookup_finds(tmp_path):
    meta, passages, _ = _parse(tmp_path, "vc.xml", VC)
    assert meta.doctype == "beleidsregel" and meta.title == "Vreemdelingencirculaire 2000 (C)"
    first = passages[0]
    # a circular's divisions are cited by number alone ("C2", "3.2"), as the Vc lookup expects
    assert first.section == "C2 De asielprocedure > 3 Gronden voor verlening > 3.2 Artikel 29, eerste lid, aanhef en onder a, Vw"
    assert "verdragsvluchteling is.\nDienstweigeraars" in first.text  # two short paragraphs merged
    assert passages[1].section.endswith("3.3 Artikel 29, eerste lid, aanhef en onder b, Vw")
    assert "ernstige schade.\nbeslistermijn | zes maanden\nverlenging | negen maanden" in passages[1].text  # a table, row by row


def test_kamerstuk_xml_has_its_citation_date_sections_and_footnotes_out_of_the_text(tmp_path):
    meta, passages, _ = _parse(tmp_path, "kst.xml", KAMERSTUK)
    assert meta.identifier == "Kamerstuk 19 637, nr. 3018"
    assert meta.title == "Kamerstuk 19 637, nr. 3018 — Brief van de staatssecretaris van justitie en veiligheid"
    assert (meta.date, meta.doctype, meta.source) == (
        "2022-12-13", "kamerbrief", "https://zoek.officielebekendmakingen.nl/kst-19637-3018")
    moratorium = next(p for p in passages if "half jaar verlengd" in p.text)
    assert moratorium.section == "Verlenging van het moratorium"
    assert "2990" not in moratorium.text  # the footnote is not part of the sentence
    assert "\n– de beslistermijn wordt opgeschort;" in moratorium.text
    assert not any("Vergaderjaar" in p.text or "Vreemdelingenbeleid" == p.text for p in passages)


def test_officielebekendmakingen_html_reads_meta_tags_headings_lists_and_tables(tmp_path):
    meta, passages, _ = _parse(tmp_path, "stcrt.html", HTML)
    assert meta.identifier == "Staatscourant 2023, 1234" and meta.date == "2023-02-01"
    assert meta.title.startswith("Staatscourant 2023, 1234 — Besluit van de Staatssecretaris")
    text = "\n".join(p.text for p in passages)
    assert "niet indexeren" not in text and "Menu-item" not in text and "Cookiebeleid" not in text
    art = next(p for p in passages if "als volgt gewijzigd" in p.text)
    assert art.section == "Besluit tot wijziging van de Vreemdelingencirculaire 2000 > Artikel I"
    assert "\n1. De beslistermijn kan worden verlengd" in art.text and "\n2. Het verlengingsbesluit" in art.text
    assert any("wettelijke beslistermijn | zes maanden" in p.text for p in passages)  # paragraphs in cells
    assert "in werking met ingang van de dag" in text  # a line break separates words


def test_html_in_the_encoding_it_declares(tmp_path):
    page = HTML.replace("<head>", '<head><meta charset="windows-1252">').replace("negen", "reële negen")
    path = tmp_path / "oud.html"
    path.write_bytes(page.encode("cp1252"))
    _, passages, _ = parser_for(path).parse_document(path, "oud.html")
    assert any("reële negen maanden" in p.text for p in passages)


def test_a_sidecar_overrides_the_files_own_metadata(tmp_path):
    (tmp_path / "vb.xml.yaml").write_text("title: Vb 2000 (geconsolideerd)\nvalid_until: 2023-06-30\n", encoding="utf-8")
    meta, _, _ = _parse(tmp_path, "vb.xml", VB)
    assert (meta.title, meta.identifier, meta.valid_until) == ("Vb 2000 (geconsolideerd)", "BWBR0011825", "2023-06-30")


@pytest.mark.parametrize(
    "text, says",
    [
        ("<toestand><wetgeving><artikel>", "not well-formed XML"),
        ("<?xml version='1.0'?><rss><channel><title>Nieuws</title></channel></rss>", "XML of another kind (its root element is <rss>)"),
        ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><toestand>&b;</toestand>',
         "declares XML entities"),
        ("<toestand>" + "<lijst><li>" * 300 + "x" + "</li></lijst>" * 300 + "</toestand>", "nested more than 200 levels deep"),
        ('<toestand inwerkingtreding="1 januari 2023"><artikel><al>x</al></artikel></toestand>',
         "the toestand (attribute inwerkingtreding) has the date '1 januari 2023', which is not a date"),
    ],
)
def test_unreadable_xml_says_what_is_wrong_and_what_to_do(tmp_path, text, says):
    path = tmp_path / "bad.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnreadableDocument) as err:
        parser_for(path).parse_document(path, "bad.xml")
    assert says in err.value.reason
    assert err.value.remedy


@pytest.fixture(scope="module")
def xml_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("xml")
    corpus = root / "c"
    corpus.mkdir()
    for name, text in {"vb.xml": VB, "vc.xml": VC, "kst.xml": KAMERSTUK, "stcrt.html": HTML,
                       "kapot.xml": "<toestand><artikel>", "rss.xml": "<rss/>"}.items():  # fmt: skip
        (corpus / name).write_text(text, encoding="utf-8")
    report = build([corpus], root / "ix", FakeEncoder())
    return root / "ix", report


def test_malformed_and_foreign_xml_are_reported_and_skipped_the_rest_indexed(xml_index):
    index, report = xml_index
    skipped = {s.file: s.reason for s in report.skipped}
    assert set(skipped) == {"kapot.xml", "rss.xml"}
    docs = Retriever(index, FakeEncoder()).library.metas()
    assert {m.file for m in docs.values()} == {"vb.xml", "vc.xml", "kst.xml", "stcrt.html"}


def test_reference_lookup_on_the_xml_documents(xml_index):
    retriever = Retriever(xml_index[0], FakeEncoder())
    _, hits = retriever.lookup("art. 3.37 lid 1 Vb")
    assert hits[0].passage.citation == "Vreemdelingenbesluit 2000, art. 3.37 lid 1" and hits[0].reference_match == EXACT
    _, hits = retriever.lookup("C2/3.2 Vc")
    assert hits[0].reference_match == EXACT and "verdragsvluchteling" in hits[0].passage.text
    assert all("3.3 Artikel 29" not in h.passage.section for h in hits if h.reference_match == EXACT)
    _, hits = retriever.lookup("Kamerstuk 19 637, nr. 3018")
    assert hits and hits[0].passage.doc_id == "kst" and hits[0].reference_match == EXACT


def _ask(*args):
    return subprocess.run([sys.executable, "-m", "retrieval", "ask", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)  # fmt: skip


def test_a_repealed_article_is_excluded_by_on_outside_its_validity(xml_index, tmp_path):
    index = xml_index[0]

    def cited(question, on, index=index):
        out = _ask(question, "--index", str(index), "--k", "10", "--json", "--on", on)
        assert out.returncode == 0, out.stderr
        return [p["citation"] for p in json.loads(out.stdout)["passages"]]

    # the consolidation of 2022 holds the article with its own dates (2001-2013): outside both windows
    assert "Vreemdelingenbesluit 2000, art. 3.38" not in cited("art. 3.38 Vb", "2023-01-01")
    assert "Vreemdelingenbesluit 2000, art. 3.37 lid 1" in cited("art. 3.37 Vb", "2023-01-01")
    # an undated consolidation: the article is found on a date of 2010, not on one of 2020
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "vb.xml").write_text(VB.replace(' inwerkingtreding="2022-10-01"', ""), encoding="utf-8")
    build([folder], tmp_path / "ix", FakeEncoder())
    assert "Vreemdelingenbesluit 2000, art. 3.38" in cited("art. 3.38 Vb", "2010-06-01", tmp_path / "ix")
    assert "Vreemdelingenbesluit 2000, art. 3.38" not in cited("art. 3.38 Vb", "2020-06-01", tmp_path / "ix")
    assert "Vreemdelingenbesluit 2000, art. 3.37 lid 1" in cited("art. 3.37 Vb", "2020-06-01", tmp_path / "ix")


def test_the_app_looks_up_a_lid_of_the_xml_regulation_and_opens_it_in_context(xml_index, monkeypatch):
    import streamlit as st

    from tests.test_app import NL, citations, htmls, start

    index = xml_index[0]
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(index.parent / "c"))
    monkeypatch.delenv("BELEIDSWIJZER_MODEL", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        at = start()
        at.switch_page("app_pages/lookup.py").run()
        at.text_input(key="lookup_text").set_value("art. 3.37 lid 1 Vb")
        at.form_submit_button[0].click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert citations(at)[0] == "Vreemdelingenbesluit 2000, art. 3.37 lid 1"
        next(b for b in at.button if b.label == NL["open_context"]).click().run()
        assert not at.exception, [e.value for e in at.exception]
        bodies = htmls(at)
        title = next(i for i, h in enumerate(bodies) if h.startswith("<b>"))
        assert bodies[title] == "<b>Vreemdelingenbesluit 2000, art. 3.37 lid 1</b>"
        context = bodies[title + 1]  # the whole article, lid 1 highlighted, lid 2 not
        highlighted_to = context.rindex("</mark>")
        assert "openbare orde" in context[:highlighted_to] and "belangenafweging" in context[highlighted_to:]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def test_the_validity_badge_of_an_article_with_its_own_dates(tmp_path):
    from ui.i18n import STRINGS
    from ui.passages import passage_validity_text

    def badge(text):
        _, passages, _ = _parse(tmp_path, "vb.xml", text)
        return passage_validity_text(next(p for p in passages if p.citation == "Vreemdelingenbesluit 2000, art. 3.38"))

    assert badge(VB.replace(' inwerkingtreding="2022-10-01"', "")) == "geldig 01-04-2001 t/m 31-12-2013"
    # in the consolidation of 2022 the article's own dates lie before the document's
    assert badge(VB) == STRINGS["nl"]["validity_never"]
