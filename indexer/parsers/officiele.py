"""Publications of officielebekendmakingen.nl (Kamerstukken, Staatscourant) as XML or HTML.

XML: `<officiele-publicatie>` with `<metadata><meta name="DC.identifier" content="kst-19637-3018"/>`
and a body such as `<kamerstuk>` (dossier number, `<stuk>` with its number `ondernummer`, title
and date `<datum isodatum=...>`) or a Staatscourant publication; its divisions (`divisie` with
a `kop`), paragraphs (`al`), lists and articles are read with the structure BWB XML shares
(indexer.parsers.markup.Walker).

HTML: the page the site serves for the same publication: its `<meta name="DC.*">` /
`OVERHEIDop.*` tags give the metadata, headings (h1-h6) the sections, paragraphs, list items
and table rows the text. Any HTML page is read this way; one without those meta tags keeps its
<title> as title.

The title says what an officer cites: "Kamerstuk 19 637, nr. 3018 — Brief van ..." (its
identifier "Kamerstuk 19 637, nr. 3018", which the reference lookup finds), "Staatscourant
2023, 1234 — ...". A sidecar NAME.yaml overrides any field.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

from indexer.parsers import DocumentParser, UnreadableDocument
from indexer.parsers.frontmatter import make_meta, read_sidecar
from indexer.parsers.markup import REDOWNLOAD, Body, Part, Walker, clean, iso_date, local, text_of
from indexer.passage import DocumentMeta, Passage

DATE_META = ("DCTERMS.issued", "OVERHEIDop.datumOndertekening", "OVERHEIDop.datumBrief", "DCTERMS.available",
             "DCTERMS.modified")  # fmt: skip
MAX_HTML_CHARS = 20_000_000  # a publication page is at most a few MB; the child's memory limit applies too


class OfficieleParser(DocumentParser):
    """officielebekendmakingen XML (chosen by indexer.parsers.xmldoc) and HTML (by suffix)."""

    suffixes = (".html", ".htm")

    def parse_root(self, root: ET.Element, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        metas = {m.get("name", ""): m.get("content", "") for m in root.iter() if local(m.tag) == "meta"}
        found = _from_body(root)
        meta = _meta({**found, **{k: v for k, v in metas.items() if v}}, path, display_name)
        body = Body()
        Walker(body, display_name, meta.title).walk(root, [], (None, None))
        return _done(meta, body, display_name)

    def parse_document(self, path: Path, display_name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
        """An HTML page: metadata, passages and [plain text]."""
        path = Path(path)
        raw = path.read_bytes()
        if len(raw) > MAX_HTML_CHARS:
            raise UnreadableDocument(
                display_name, f"the HTML page is {len(raw):,} bytes, more than the {MAX_HTML_CHARS:,} allowed.",
                "Check where the file comes from; save a genuine document as PDF.",
            )  # fmt: skip
        page = _Html()
        page.feed(_decode(raw))
        page.close()
        metas = {k: v for k, v in page.metas.items() if v}
        if "DC.title" not in metas and page.title:
            metas["DC.title"] = page.title
        meta = _meta(metas, path, display_name)
        return _done(meta, page.body(meta.title), display_name)


_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode(raw: bytes) -> str:
    """The page's text in the encoding it declares (a byte-order mark, or <meta charset> /
    http-equiv in its first 4 KB); UTF-8 when it declares none or one Python does not know."""
    import codecs

    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", "replace")
    declared = _CHARSET.search(raw[:4096])
    encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    if encoding in ("iso-8859-1", "latin-1", "us-ascii", "ascii"):
        encoding = "cp1252"  # what browsers read for these labels (WHATWG encoding standard)
    return raw.decode(encoding, "replace")


def _done(meta: DocumentMeta, body: Body, name: str) -> tuple[DocumentMeta, list[Passage], list[str]]:
    if not body.parts:
        raise UnreadableDocument(name, "the publication holds no text.", REDOWNLOAD)
    return meta, body.passages(meta), [body.text]


def _from_body(root: ET.Element) -> dict[str, str]:
    """Dossier, number, title and date from a Kamerstuk's own elements (metadata wins)."""
    out: dict[str, str] = {}
    for el in root.iter():
        tag = local(el.tag)
        if tag == "dossiernr" and "OVERHEIDop.dossiernummer" not in out:
            out["OVERHEIDop.dossiernummer"] = text_of(el)
        elif tag == "ondernummer" and "OVERHEIDop.ondernummer" not in out:
            out["OVERHEIDop.ondernummer"] = text_of(el)
        elif tag == "datum" and el.get("isodatum") and "DCTERMS.issued" not in out:
            out["DCTERMS.issued"] = el.get("isodatum", "")
        elif tag == "stuk" and el.find("titel") is not None and "stuk.titel" not in out:
            out["stuk.titel"] = text_of(el.find("titel"), frozenset({"noot"}))
    if "kamerstuk" in {local(e.tag) for e in root}:
        out["kind"] = "kamerstuk"
    return out


def _dossier(number: str) -> str:
    """'19637' -> '19 637' (how Kamerstukken are cited); '19 637' and '36180-VIII' kept."""
    number = clean(number)
    if number.isdigit() and len(number) > 3:
        return f"{number[:-3]} {number[-3:]}"
    return number


def _meta(m: dict[str, str], path: Path, name: str) -> DocumentMeta:
    fields: dict = {"language": (m.get("DC.language") or "nl")[:2].lower()}
    ident = clean(m.get("DC.identifier", ""))
    dossier, nr = m.get("OVERHEIDop.dossiernummer", ""), clean(m.get("OVERHEIDop.ondernummer", ""))
    kst = re.fullmatch(r"kst-(\d+(?:-[A-Z]+)?)-(\d+)", ident)
    stcrt = re.fullmatch(r"(stcrt|stb|trb|gmb|prb|wsb)-(\d{4})-(\d+)", ident)
    if kst and not dossier:
        dossier, nr = kst.group(1), kst.group(2)
    own_title = clean(m.get("stuk.titel") or m.get("DC.title", ""))
    if dossier and nr:
        cite = f"Kamerstuk {_dossier(dossier)}, nr. {nr.removeprefix('Nr. ')}"
        fields["doctype"] = "kamerbrief" if own_title.lower().startswith("brief") else "kamerstuk"
    elif stcrt:
        names = {"stcrt": "Staatscourant", "stb": "Staatsblad", "trb": "Tractatenblad", "gmb": "Gemeenteblad",
                 "prb": "Provinciaal blad", "wsb": "Waterschapsblad"}  # fmt: skip
        cite = f"{names[stcrt.group(1)]} {stcrt.group(2)}, {stcrt.group(3)}"
        fields["doctype"] = names[stcrt.group(1)].lower()
    else:
        cite = ident
    if cite:
        fields["identifier"] = cite
        fields["source"] = f"https://zoek.officielebekendmakingen.nl/{ident}" if ident else "officielebekendmakingen.nl"
    if own_title and cite and own_title != cite:
        fields["title"] = f"{cite} — {own_title[:1].upper()}{own_title[1:].lower() if own_title.isupper() else own_title[1:]}"
    elif own_title or cite:
        fields["title"] = own_title or cite
    for key in DATE_META:
        if m.get(key):
            fields["date"] = iso_date(m[key], name, f"the metadata {key}")
            break
    fields.update(read_sidecar(path, name))
    return make_meta(fields, path.stem, name)


# ---------------------------------------------------------------------------------------------
# HTML


class _Html(HTMLParser):
    """The parts of an HTML page: meta tags, title, and headings, paragraphs, list items and
    table rows in document order (script, style, navigation, header and footer left out)."""

    SKIP = {"script", "style", "nav", "header", "footer", "noscript", "template", "head", "svg", "button", "form"}
    VOID = {"br", "img", "meta", "link", "hr", "input", "wbr", "source", "area", "base", "col", "embed", "param"}
    BLOCKS = {"p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "blockquote", "pre"}
    INNER = ("p", "blockquote", "pre", "dt", "dd")  # blocks that a list item or a cell may hold

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.metas: dict[str, str] = {}
        self.title = ""
        self.items: list[tuple[str, str]] = []  # (tag, text)
        self._skip = 0
        self._in_title = False
        self._block: str | None = None
        self._buf: list[str] = []
        self._cells: list[str] = []
        self._in_cell = False
        self._list_counters: list[int | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("name"):
            self.metas[a["name"]] = a.get("content") or ""
        if tag == "title":
            self._in_title = True
        if tag == "br" and not self._skip:
            self._buf.append(" ")  # a line break inside a paragraph separates words
        if tag in self.VOID:
            return
        if tag in self.SKIP:
            self._skip += 1
            return
        if self._skip:
            return
        if tag in ("ul", "ol"):
            self._list_counters.append(0 if tag == "ol" else None)
        elif tag in ("td", "th") and self._block == "tr":
            if self._in_cell:  # the previous cell had no end tag
                self._end_cell()
            self._buf, self._in_cell = [], True
        elif tag in self.BLOCKS and not (tag in self.INNER and self._holds_blocks()):
            self._end_block()
            self._block = tag
            if tag == "li" and self._list_counters and self._list_counters[-1] is not None:
                self._list_counters[-1] += 1
                self._buf.append(f"{self._list_counters[-1]}. ")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag in ("td", "th") and self._in_cell:
            self._end_cell()
        elif tag in ("ul", "ol"):
            self._end_block()
            if self._list_counters:
                self._list_counters.pop()
        elif self._holds_blocks() and tag in self.INNER + ("div",):
            self._buf.append(" ")  # a paragraph inside a list item or a cell: the item goes on
        elif tag == self._block or tag in ("div", "section", "article", "table", "body"):
            self._end_block()

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self._buf.append(data)

    def _holds_blocks(self) -> bool:
        """Inside a list item or a table cell, whose paragraphs are part of it."""
        return self._in_cell or self._block == "li"

    def _end_cell(self) -> None:
        self._cells.append(clean("".join(self._buf)))
        self._buf, self._in_cell = [], False

    def _end_block(self) -> None:
        if self._block == "tr":
            if self._in_cell:
                self._end_cell()
            text = " | ".join(self._cells) if any(self._cells) else ""
        else:
            text = clean("".join(self._buf))
        if text:
            self.items.append((self._block or "p", text))
        self._block, self._buf, self._cells, self._in_cell = None, [], [], False

    def close(self) -> None:
        super().close()
        self._end_block()
        self.title = clean(self.title)

    def body(self, title: str) -> Body:
        body = Body()
        headings: list[tuple[int, str]] = []
        for tag, text in self.items:
            if tag[0] == "h" and tag[1:].isdigit():
                level = int(tag[1:])
                headings = [h for h in headings if h[0] < level] + [(level, text)]
                body.heading(text)
                continue
            section = " > ".join(h for _, h in headings) or title
            kind = "list" if tag == "li" else "paragraph"
            body.add(Part([text], section, kind))
        return body
