"""Consolidated regulations as wetten.overheid.nl publishes them: BWB "toestand" XML.

    <toestand bwb-id="BWBR0011825" inwerkingtreding="2023-01-01" [einddatum="..."]>
      <wetgeving soort="AMvB"><citeertitel>Vreemdelingenbesluit 2000</citeertitel>
        <wet-besluit><wettekst>
          <hoofdstuk><kop><label>Hoofdstuk</label><nr>3</nr><titel>Toelating</titel></kop>
            <artikel inwerking="2001-04-01"><kop><label>Artikel</label><nr>3.37</nr></kop>
              <lid><lidnr>1</lidnr><al>...</al><lijst><li><li.nr>a.</li.nr><al>...</al></li></lijst></lid>

Each lid of an article is a passage (an article without leden is one), cited with the
document's citation title ("Vreemdelingenbesluit 2000, art. 3.37 lid 1"); the divisions above
it (hoofdstuk, afdeling, paragraaf, a circular's divisions such as the Vreemdelingencirculaire's
C2 > 3 > 3.2) are its section path; text outside articles (a circular's paragraphs) is merged
into passages per division. Lists keep their numbering ("a.", "1°.") at the start of a line.

Validity: the toestand's `inwerkingtreding` and `einddatum` (its last day) are the document's;
a part's own `inwerking` / `einddatum` (or `inwerkingtreding`) narrow it for that part, so a
repealed article is left out of a search on a date after its last day. A part marked
status="vervallen" or "nogniet" without its own dates is left out: it cannot be shown as valid
on any date (a repealed article's text in the toestand is only "[Vervallen per ...]").
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from indexer.parsers import UnreadableDocument
from indexer.parsers.frontmatter import make_meta, read_sidecar
from indexer.parsers.markup import FROM_ATTRS, REDOWNLOAD, UNTIL_ATTRS, Body, Walker, date_attr, text_of
from indexer.passage import DocumentMeta, Passage

ROOT = "toestand"
DOCTYPES = {"wet": "wet", "amvb": "amvb", "ministeriele-regeling": "ministeriele-regeling",
            "circulaire": "beleidsregel", "beleidsregel": "beleidsregel", "verdrag": "verdrag"}  # fmt: skip


class BwbParser:
    """BWB toestand XML (see the module docstring); chosen by indexer.parsers.xmldoc for its root element."""

    suffixes = (".xml",)

    def parse_root(self, root: ET.Element, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        meta = _meta(root, path, display_name)
        body = Body()
        Walker(body, display_name, meta.title).walk(root, [], (None, None))
        if not body.parts:
            raise UnreadableDocument(display_name, "the BWB XML holds no articles or text.", REDOWNLOAD)
        return meta, body.passages(meta), [body.text]


def _meta(root: ET.Element, path: Path, name: str) -> DocumentMeta:
    fields: dict = {}
    citeertitel = root.find(".//citeertitel")
    intitule = root.find(".//intitule")
    for el in (citeertitel, intitule):
        if el is not None and text_of(el, frozenset({"meta-data"})):
            fields["title"] = text_of(el, frozenset({"meta-data"}))
            break
    bwb_id = root.get("bwb-id", "").strip()
    if bwb_id:
        fields["identifier"] = bwb_id
        fields["source"] = f"https://wetten.overheid.nl/{bwb_id}" + (
            f"/{root.get('inwerkingtreding')}" if root.get("inwerkingtreding") else ""
        )
    wetgeving = root.find("wetgeving")
    soort = (wetgeving.get("soort", "") if wetgeving is not None else "").lower()
    if soort:
        fields["doctype"] = DOCTYPES.get(soort, soort)
    start = date_attr(root, FROM_ATTRS, name, "the toestand")
    end = date_attr(root, UNTIL_ATTRS, name, "the toestand")
    if start:
        fields["date"] = fields["valid_from"] = start
    if end:
        fields["valid_until"] = end
    fields["language"] = "nl"
    fields.update(read_sidecar(path, name))
    return make_meta(fields, path.stem, name)
