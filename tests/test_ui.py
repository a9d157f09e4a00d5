"""The app's helpers without Streamlit: escaping and highlighting, quote placement, PDF
highlight boxes, upload checks, settings and the string tables."""
from __future__ import annotations

import os

import pytest

from tests.conftest import NOTE_PDF
from ui import pdf_view, settings, uploads
from ui.i18n import STRINGS
from ui.text import STYLE_QUOTE, locate, marked_html, md_escape, quote_html


def test_marked_html_escapes_everything_and_nests_spans():
    html = marked_html("a<b>&c", [(0, 6, "P"), (1, 4, "Q")])
    assert html.endswith('<mark style="P">a</mark><mark style="Q">&lt;b&gt;</mark><mark style="P">&amp;c</mark></div>')


def test_quote_html_marks_exactly_the_quote():
    text = "Eerste zin. <script>x</script> Tweede zin."
    html = quote_html(text, 12, 30)
    assert f'<mark style="{STYLE_QUOTE}">&lt;script&gt;x&lt;/script&gt;</mark>' in html
    assert "<script>" not in html


def test_md_escape_neutralises_markdown_html_and_directives():
    assert md_escape("**b** <i>x</i> :red[r] $x$ [l](javascript:y)") == (
        r"\*\*b\*\* \<i\>x\</i\> \:red\[r\] \$x\$ \[l\]\(javascript\:y\)"
    )


def test_locate_ignores_line_breaks_hyphenation_and_case():
    page = "Het besluit- en vertrek-\nmoratorium werd\n  verlengd tot eind juni."
    a, b = locate("het besluit- en vertrekmoratorium werd verlengd", page)
    assert page[a:b] == "Het besluit- en vertrek-\nmoratorium werd\n  verlengd"
    assert locate("niet aanwezig", page) is None


def test_locate_falls_back_to_first_and_last_characters():
    head = "De eerste ruim veertig tekens van een lange zin,"
    tail = "en dan nog de laatste ruim veertig tekens ervan."
    page = f"begin {head} ver-\nbroken midden, {tail} eind"
    needle = f"{head} verbroken midden dat anders gelezen is, {tail}"  # e.g. another extraction of the middle
    a, b = locate(needle, page)
    assert page[a:b] == page[6:-5]


def test_pdf_highlight_covers_the_passage_lines_on_the_page():
    tp = __import__("pypdfium2").PdfDocument(str(NOTE_PDF))[0].get_textpage()
    boxes = pdf_view.line_boxes(
        tp, "Op 29 juni jl. is er een besluit- en vertrekmoratorium (BVM) afgekondigd voor Russische dienstplichtigen"
    )
    assert len(boxes) == 2  # the sentence wraps once
    assert all(b.top > b.bottom and b.right > b.left for b in boxes)
    assert boxes[0].bottom > boxes[1].bottom  # top line first (PDF y grows upwards)
    assert pdf_view.line_boxes(tp, "dit staat nergens op de pagina") == []


def test_render_page_is_a_png():
    png = pdf_view.render_page(NOTE_PDF, 1, [("Op 29 juni jl. is er een besluit", "quote")], scale=0.5)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("Nota (v2) — déf.PDF", "Nota-v2-def.pdf"),
        ("..\\windows\\evil.md", "evil.md"),
        (".hidden.txt", "hidden.txt"),
        ("noextension", None),
        ("<script>.txt", "script.txt"),
        ("???.pdf", None),
    ],
)
def test_upload_names_are_sanitised(name, safe):
    assert uploads.sanitise_name(name) == safe


def test_upload_checks_type_size_and_content():
    assert uploads.check("a.exe", b"MZ", 1).key == "manage_bad_type"
    assert uploads.check("a.pdf.yaml", b"x: 1", 1).key == "manage_bad_type"  # a sidecar is not a document
    assert uploads.check("a.txt", b"x" * (1024 * 1024 + 1), 1).key == "manage_too_big"
    assert uploads.check("a.pdf", b"<html>", 1).key == "manage_not_pdf"
    assert uploads.check("a.txt", "é".encode("latin-1"), 1).key == "manage_not_utf8"
    assert uploads.check("a.pdf", NOTE_PDF.read_bytes(), 5) is None
    assert uploads.check("a.md", "# Titel\nTekst".encode(), 1) is None
    # XML and HTML declare their encoding: a Latin-1 regulation is read by its parser, not refused here
    assert uploads.check("vb.xml", '<?xml version="1.0" encoding="ISO-8859-1"?><toestand>é</toestand>'.encode("latin-1"), 1) is None


def test_upload_is_stored_once_and_never_over_an_existing_file(tmp_path):
    first = uploads.store([tmp_path], "Nota 1.txt", b"een")
    assert first == tmp_path / "Nota-1.txt" and first.read_bytes() == b"een"
    again = uploads.store([tmp_path], "Nota 1.txt", b"twee")
    assert again.key == "manage_exists_id" and again.values == {"id": "Nota-1", "files": "Nota-1.txt"}
    assert first.read_bytes() == b"een"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Nota-1.txt"]  # no temp file left


def test_settings_defaults_and_environment(tmp_path):
    s = settings.load({})
    assert s.management is True and s.max_upload_mb == settings.DEFAULT_MAX_UPLOAD_MB and s.model is None
    assert s.corpora[0].name == "corpus"
    env = {
        "BELEIDSWIJZER_INDEX": str(tmp_path / "ix"),
        "BELEIDSWIJZER_CORPUS": os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")]),
        "BELEIDSWIJZER_MODEL": "fake",
        "BELEIDSWIJZER_MANAGEMENT": "off",
        "BELEIDSWIJZER_MAX_UPLOAD_MB": "5",
    }
    s = settings.load(env)
    assert (s.index_dir, s.corpora, s.upload_dir) == (tmp_path / "ix", (tmp_path / "a", tmp_path / "b"), tmp_path / "a")
    assert (s.model, s.management, s.max_upload_mb) == ("fake", False, 5)


def test_a_shared_store_becomes_the_default_of_the_feedback_and_the_audit_trail(tmp_path):
    dsn = "postgresql://beleidswijzer:geheim@db.example:5432/beleidswijzer"
    s = settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path)})
    assert (s.store, s.feedback_db, s.audit_log) == (None, tmp_path / "feedback.sqlite", tmp_path / "audit.jsonl")
    s = settings.load({"BELEIDSWIJZER_INDEX": str(tmp_path), "BELEIDSWIJZER_STORE": dsn})
    assert s.store == s.feedback_db == s.audit_log == dsn
    assert "geheim" not in repr(s) and "***" in repr(s)  # a Settings in a log shows no password
    other = "postgresql://audit@db.example/trail"
    s = settings.load({"BELEIDSWIJZER_STORE": dsn, "BELEIDSWIJZER_FEEDBACK_DB": str(tmp_path / "f.db"),
                       "BELEIDSWIJZER_AUDIT_LOG": other})  # fmt: skip
    assert (s.feedback_db, s.audit_log) == (tmp_path / "f.db", other)  # an explicit setting wins, and may be a DSN
    with pytest.raises(settings.SettingsError, match="BELEIDSWIJZER_STORE=.*set it to a PostgreSQL DSN"):
        settings.load({"BELEIDSWIJZER_STORE": str(tmp_path)})


@pytest.mark.parametrize(
    "name, value, allowed",
    [("BELEIDSWIJZER_MANAGEMENT", "misschien", "on, true"), ("BELEIDSWIJZER_MAX_UPLOAD_MB", "0", "at least 1")],
)
def test_invalid_settings_name_the_allowed_values(name, value, allowed):
    with pytest.raises(settings.SettingsError, match=name) as err:
        settings.load({name: value})
    assert allowed in str(err.value)


def test_both_languages_have_the_same_strings_and_placeholders():
    import string

    nl, en = STRINGS["nl"], STRINGS["en"]
    assert nl.keys() == en.keys()
    fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
    assert {k: fields(v) for k, v in nl.items()} == {k: fields(v) for k, v in en.items()}


def test_a_count_takes_the_singular_for_one():
    from ui.i18n import count

    assert count("n_documents", 1) == "1 document" and count("n_documents", 12) == "12 documenten"
    assert count("n_passages", 1) == "1 passage"
