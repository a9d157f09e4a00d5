"""The officer's app through streamlit.testing.v1.AppTest, on indexes built with the fake
encoder in temp folders (no model): answers with citations in Dutch and English, the 'no
answer' message, the date filter, citation lookup, escaping of hostile documents, the
in-context view, first start without an index, and the management page."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from retrieval.fusion import Params
from tests.conftest import NOTE_PDF, REPO
from ui import a11y
from ui.i18n import STRINGS

APP = str(REPO / "app.py")
NL, EN = STRINGS["nl"], STRINGS["en"]

NOTE = """---
title: Nota moratorium dienstplichtigen
date: 2022-11-01
valid_from: 2022-06-29
valid_until: 2023-06-30
---
Kernpunten
Op 29 juni is een besluit- en vertrekmoratorium afgekondigd voor Russische dienstplichtigen van 18 tot en met 27 jaar.

Mobilisatie
De gedeeltelijke mobilisatie in Rusland raakt reservisten met recente militaire ervaring.
"""
DIRECTIVE = """---
title: Asylum Procedures Directive — article 31
language: en
valid_from: 2015-07-20
---
Article 31
3. Member States shall ensure that the examination procedure is concluded within six months of the lodging of the application.
4. Member States may extend the time limit by a further nine months where complex issues of fact arise.
"""
HOSTILE = """---
title: Hostile <b>title</b> **bold** <script>alert(1)</script>
---
Kwaadaardig
Deze tekst bevat <script>alert(1)</script> en <img src=x onerror=alert(2)> en **vet** en [link](javascript:alert(3)) en :red[rood] en $x^2$ over pizzabezorging.
"""


def make_index(root: Path, files: dict[str, str], pdf: bool = False) -> tuple[Path, Path]:
    corpus, index = root / "corpus", root / "index"
    corpus.mkdir(parents=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    if pdf:
        shutil.copy(NOTE_PDF, corpus / NOTE_PDF.name)
    build([corpus], index, FakeEncoder())
    return corpus, index


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> tuple[Path, Path]:
    return make_index(
        tmp_path_factory.mktemp("app"),
        {"nota.txt": NOTE, "directive.txt": DIRECTIVE, "hostile.md": HOSTILE},
        pdf=True,
    )


def thresholds(value: float) -> classmethod:
    """Params.for_model with the abstention threshold (min_margin, formerly min_dense) at `value`."""
    names = ("min_margin", "min_dense")
    return classmethod(lambda cls, model: cls(**{n: value for n in names if n in cls.__dataclass_fields__}))


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    """Retrievers are cached per process; every test starts and ends without them. With the fake
    encoder every question is answerable, whatever the calibration of real models says."""
    monkeypatch.setattr(Params, "for_model", thresholds(-2.0))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_env(monkeypatch, small_index):
    corpus, index = small_index
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    monkeypatch.delenv("BELEIDSWIJZER_MODEL", raising=False)
    monkeypatch.delenv("BELEIDSWIJZER_MANAGEMENT", raising=False)
    return corpus, index


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def citations(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def htmls(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]  # at.html leaves out the dialog


def test_dutch_question_gets_the_cited_passage_with_its_quote(app_env):
    at = ask(start(), "Voor welke Russische dienstplichtigen geldt het besluit- en vertrekmoratorium?")
    assert at.title[0].value == NL["chat_title"]
    assert citations(at)[0] == "Nota moratorium dienstplichtigen, Kernpunten"
    lead = next(h for h in htmls(at) if "<mark" in h)
    assert "<mark" in lead and "Russische dienstplichtigen van 18 tot en met 27 jaar" in lead
    assert not at.warning  # answerable: no 'no answer' message


def test_the_answer_says_how_the_thesaurus_widened_the_word_search(app_env):
    at = ask(start(), "Krijgen Russen die weigeren te vechten bescherming?")
    captions = [c.value.replace("\\", "") for c in at.caption]  # Markdown-escaped
    widened = [c for c in captions if "(thesaurus)" in c]
    assert len(widened) == 1 and "‘weigeren te vechten’ → dienstweigering" in widened[0]
    at = ask(start(), "Voor welke Russische dienstplichtigen geldt het besluit- en vertrekmoratorium?")
    assert not [c for c in at.caption if "(thesaurus)" in c.value.replace("\\", "")]  # the corpus' own words


def test_english_question_and_english_interface(app_env):
    at = start()
    at.selectbox(key="lang").set_value("en").run()
    at = ask(at, "Within how many months must Member States conclude the examination procedure?")
    assert at.title[0].value == EN["chat_title"]
    assert citations(at)[0] == "Asylum Procedures Directive, art. 31 lid 3"
    assert any("within six months" in h for h in htmls(at))


def test_history_is_kept_and_new_conversation_clears_it(app_env):
    at = ask(start(), "besluit- en vertrekmoratorium")
    at = ask(at, "mobilisatie reservisten")
    assert len(at.chat_message) == 4  # two questions, two answers; neither question is a follow-up
    second = at.chat_message[3]
    assert "reservisten" in second.html[1].proto.body.lower()  # html[0] is the date caption's neighbour: the lead
    next(b for b in at.sidebar.button if b.label == NL["new_conversation"]).click().run()
    assert len(at.chat_message) == 0


def test_out_of_scope_question_says_there_is_no_answer(app_env, monkeypatch):
    monkeypatch.setattr(Params, "for_model", thresholds(2.0))  # no cosine (margin) reaches 2
    at = ask(start(), "Hoe bak ik een appeltaart met kaneel?")
    assert [w.value for w in at.warning] == [NL["no_answer"]]
    assert any(NL["nearest"] in m.value for m in at.markdown)
    assert at.expander  # the nearest passages, folded, under that heading


def test_a_question_about_a_state_no_document_mentions_says_so(app_env):
    at = ask(start(), "Geldt er een besluit- en vertrekmoratorium voor asielzoekers uit Jemen?")
    assert [w.value for w in at.warning] == [NL["no_answer"] + " " + NL["unknown_places"].format(places="‘Jemen’")]
    assert any(NL["nearest"] in m.value for m in at.markdown) and at.expander


def test_date_filter_leaves_out_documents_not_in_force(app_env):
    at = start()
    at.date_input(key="on_date").set_value(__import__("datetime").date(2024, 1, 1)).run()
    at = ask(at, "besluit- en vertrekmoratorium Russische dienstplichtigen")
    assert not any(c.startswith("Nota moratorium") for c in citations(at))  # valid until 2023-06-30
    assert any("01-01-2024" in c.value for c in at.caption)


def test_hostile_document_text_is_rendered_escaped(app_env):
    at = ask(start(), "pizzabezorging kwaadaardig")
    assert any("pizzabezorging" in h for h in htmls(at))
    # the one element that runs a script is the app's own, setting the page's language (ui.a11y)
    assert [h.proto.body for h in at.get("html") if h.proto.unsafe_allow_javascript] == [a11y.language_script("nl")]
    for body in htmls(at):
        if body != a11y.language_script("nl"):
            assert "<script" not in body and "<img" not in body and "<b>" not in body
    hostile = next(h for h in htmls(at) if "Deze tekst bevat" in h)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile and "&lt;img src=x onerror=alert(2)&gt;" in hostile
    assert "**vet**" in hostile  # Markdown stays literal: st.html does not interpret it
    # Markdown-rendered labels and captions carry the title only backslash-escaped
    labels = [e.label for e in at.expander] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    for text in labels:
        assert "<script>" not in text and "<b>" not in text and "**bold**" not in text
    assert any("Hostile <b>title</b>" in c for c in citations(at))  # st.code shows it as plain text


def test_pdf_passage_opens_in_context_with_the_page_image(app_env):
    at = ask(start(), "besluit- en vertrekmoratorium BVM afgekondigd voor Russische dienstplichtigen")
    pdf_button = next(
        b for b in at.button if b.label == NL["open_context"] and "Beleidsconsequenties" in _citation_near(at, b.key)
    )
    pdf_button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    images = at.get("image")
    assert images, "the page image is shown"
    assert "Pagina 1 van 8" in images[0].proto.imgs[0].caption.replace("\\", "")
    assert at.number_input[0].value == 1  # page navigation, on the passage's page
    next(b for b in at.button if b.label == NL["context_next"]).click().run()
    assert at.number_input[0].value == 2
    assert NL["context_no_highlight"].format(pages=1) in [i.value for i in at.info]


def test_text_passage_opens_in_context_with_its_article(app_env):
    at = ask(start(), "Within how many months must Member States conclude the examination procedure?")
    next(b for b in at.button if b.label == NL["open_context"]).click().run()
    assert not at.exception, [e.value for e in at.exception]
    bodies = htmls(at)
    title = next(i for i, h in enumerate(bodies) if h.startswith("<b>"))  # the dialog: citation, then text
    assert bodies[title] == "<b>Asylum Procedures Directive, art. 31 lid 3</b>"
    context = bodies[title + 1]
    # the whole article, the passage (here one sentence, so all quote) highlighted, the next lid not
    assert "<mark" in context and "within six months" in context.split("</mark>")[0]
    assert "nine months" in context.split("</mark>")[-1]


def _citation_near(at: AppTest, button_key: str) -> str:
    """The citation of the card a context button belongs to (keys are '<card>_ctx')."""
    card = button_key.removesuffix("_ctx")
    order = [b.key for b in at.button if b.label == NL["open_context"]]
    return citations(at)[order.index(button_key)] if card else ""


def test_lookup_finds_art_43_vw_in_the_regulations(shared_corpus, tmp_path, monkeypatch):
    index = tmp_path / "index"
    build([shared_corpus], index, FakeEncoder())
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(shared_corpus))
    at = start()
    at.switch_page("app_pages/lookup.py").run()
    at.text_input(key="lookup_text").set_value("art. 43 Vw")
    at.form_submit_button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert citations(at)[:2] == ["Vreemdelingenwet 2000, art. 43 lid 1", "Vreemdelingenwet 2000, art. 43 lid 2"]
    assert at.dataframe, "the documents table"


def test_first_start_builds_the_index_then_answers(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "nota.txt").write_text(NOTE, encoding="utf-8")
    (corpus / "kapot.pdf").write_bytes(b"%PDF-1.4 truncated")
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    monkeypatch.setenv("BELEIDSWIJZER_MODEL", "fake")
    at = start()
    assert any("1 document, " in s.value for s in at.success)  # not "1 documenten"
    assert [w.value for w in at.warning] == [NL["index_skipped"].format(n=1)]
    at = ask(at, "besluit- en vertrekmoratorium")
    assert citations(at)[0].startswith("Nota moratorium dienstplichtigen")
    # later starts load the saved index; the management page names the file that was skipped
    at = start()
    assert not at.success
    at.switch_page("app_pages/manage.py").run()
    skipped = next(d.value for d in at.dataframe if d.value.columns[0] == NL["manage_skipped_col_file"])
    assert list(skipped.iloc[:, 0]) == ["kapot.pdf"] and skipped.iloc[0, 1]  # with its reason


def test_management_adds_a_document_and_rebuilds(tmp_path, monkeypatch):
    corpus, index = make_index(tmp_path, {"nota.txt": NOTE})
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    at = start()
    at.switch_page("app_pages/manage.py").run()
    at.file_uploader(key="upload_file").upload("../Nieuw beleid (v2).md", DIRECTIVE.encode(), "text/markdown")
    next(b for b in at.button if b.label == NL["manage_add_button"]).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert (corpus / "Nieuw-beleid-v2.md").is_file()
    assert any("1 toegevoegd" in s.value for s in at.success)
    at.switch_page("app_pages/chat.py").run()
    at = ask(at, "examination procedure six months")
    assert citations(at)[0] == "Asylum Procedures Directive, art. 31 lid 3"


def test_management_says_an_index_from_an_older_version_needs_updating(tmp_path, monkeypatch):
    corpus, index = make_index(tmp_path, {"nota.txt": NOTE})
    manifest_file = next(index.glob("builds/*/manifest.json"))
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    del manifest["lexical_version"]  # as written before compound splitting
    manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    at = start()
    at.switch_page("app_pages/manage.py").run()
    assert [w.value for w in at.warning] == [NL["manage_outdated_terms"]]
    next(b for b in at.button if b.label == NL["manage_rebuild"]).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(s.value.startswith(NL["manage_build_terms"].split("(")[0]) for s in at.success)
    at.switch_page("app_pages/manage.py").run()  # the next visit loads the rewritten index
    assert NL["manage_outdated_terms"] not in [w.value for w in at.warning]


def test_management_refuses_a_fake_pdf(tmp_path, monkeypatch):
    corpus, index = make_index(tmp_path, {"nota.txt": NOTE})
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    at = start()
    at.switch_page("app_pages/manage.py").run()
    at.file_uploader(key="upload_file").upload("virus.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    next(b for b in at.button if b.label == NL["manage_add_button"]).click().run()
    assert [e.value for e in at.error] == [NL["manage_not_pdf"]]
    assert not (corpus / "virus.pdf").exists()


def test_management_page_can_be_turned_off(app_env, monkeypatch):
    monkeypatch.setenv("BELEIDSWIJZER_MANAGEMENT", "off")
    at = start()
    with pytest.raises(ValueError):
        at.switch_page("app_pages/manage.py")


def test_empty_corpus_on_first_start_says_what_to_do(tmp_path, monkeypatch):
    corpus = tmp_path / "empty"
    corpus.mkdir()
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    monkeypatch.setenv("BELEIDSWIJZER_MODEL", "fake")
    at = start()
    from indexer.parsers import SUPPORTED_SUFFIXES

    said = NL["index_nothing"].format(types=", ".join(SUPPORTED_SUFFIXES))
    assert said in [e.value for e in at.error] and ".xml" in said and ".docx" in said


def test_damaged_index_is_a_sentence_not_a_traceback(tmp_path, monkeypatch):
    corpus, index = make_index(tmp_path, {"nota.txt": NOTE})
    manifest = next(index.glob("builds/*/manifest.json"))
    manifest.write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(index))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    at = start()
    assert [e.value for e in at.error] == [NL["index_unusable"]]
    assert any("Rebuild it with" in c.value for c in at.caption)


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("page, title", [("app_pages/lookup.py", "lookup_title"), ("app_pages/manage.py", "manage_title")])
def test_every_page_renders_in_both_languages(app_env, lang, page, title):
    at = start()
    at.selectbox(key="lang").set_value(lang).run()
    at.switch_page(page).run()
    assert not at.exception and not at.error, [e.value for e in at.exception] + [e.value for e in at.error]
    assert at.title[0].value == STRINGS[lang][title]
    assert at.dataframe  # the documents table


def test_a_possibly_relevant_answer_shows_its_answer_line_and_passages_open(app_env, monkeypatch):
    from retrieval.fusion import ConfidenceModel

    between = ConfidenceModel(("margin",), (0.0,), (1.0,), (0.0,), 0.0, high=0.9, low=0.1)  # every P is 0.5: 'low'
    monkeypatch.setattr(Params, "for_model", classmethod(lambda cls, model: cls(confidence=between)))
    at = ask(start(), "Voor welke Russische dienstplichtigen geldt het besluit- en vertrekmoratorium?")
    assert any(NL["possibly_relevant"] in i.value for i in at.info)
    assert NL["answer_low"] in [m.value.strip("*") for m in at.markdown]
    assert any("<blockquote" in h for h in htmls(at))
    assert not at.expander or len(at.expander) <= 2  # the best three passages are open, the rest folded


def test_a_follow_up_says_how_it_was_read(app_env):
    at = ask(start(), "Wat is het besluit- en vertrekmoratorium voor dienstplichtigen?")
    at = ask(at, "En tot wanneer?")
    read = [c.value.replace("\\", "") for c in at.caption if "Opgevat als" in c.value.replace("\\", "")]
    assert read and "vertrekmoratorium" in read[-1]
    next(b for b in at.sidebar.button if b.label == NL["new_conversation"]).click().run()
    at = ask(at, "En tot wanneer?")
    assert not [c for c in at.caption if "Opgevat als" in c.value.replace("\\", "")]  # a new conversation forgets


def test_a_reference_not_in_the_corpus_is_said_with_the_nearest_existing(app_env):
    at = ask(start(), "art. 99 Procedurerichtlijn")
    warning = " ".join(w.value.replace("\\", "") for w in at.warning)
    assert "staat niet in het corpus" in warning and "art. 31" in warning


def test_listing_labels_tell_passages_under_one_heading_apart():
    from indexer.passage import DocumentMeta, Passage
    from ui.passages import listing_labels

    vc = DocumentMeta("vc", "Vreemdelingencirculaire 2000 (C)", "vc.txt")
    c23 = "C2/3.2 Artikel 29 Vw > Vervolging wegens dienstweigering of desertie"
    ps = [Passage("vc", i, "tekst", section=c23, meta=vc) for i in range(4)]
    ps += [Passage("vc", 4, "tekst", section="C3 Moratoria > 1 Inleiding", meta=vc),
           Passage("vc", 5, "tekst", section="C3 Moratoria > 2 Besluitmoratorium", meta=vc)]  # fmt: skip
    labels = listing_labels(ps)
    assert len(set(labels)) == 6  # four paragraphs under one sub-heading and two sections: six labels
    assert labels[0] == "Vreemdelingencirculaire 2000 (C), C2/3.2 Artikel 29 Vw › Vervolging wegens dienstweigering of desertie · alinea 1"
    assert labels[5] == "Vreemdelingencirculaire 2000 (C), C3 Moratoria › 2 Besluitmoratorium"
