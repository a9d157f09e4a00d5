"""Rule checks, onboarding, export and feedback in the app (AppTest, fake-encoder index with the
shipped note PDF): the BVM and beslistermijn pages, the rule offered under a chat answer with
its facts pre-filled, exports holding every citation on screen, the onboarding page and the
feedback counts on the management page."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.util import calc_hash

from casefile import case_citations
from tests.test_app import APP, app_env, fresh_caches, small_index  # noqa: F401  (fixtures)
from ui import case, feedback, navigation, rule_view
from ui.i18n import STRINGS

NL, EN = STRINGS["nl"], STRINGS["en"]
BVM, TERM = "bvm-dienstplichtigen", "beslistermijn"
BVM_QUESTION = "Valt een 25-jarige Russische deserteur onder het moratorium?"
TERM_QUESTION = "Wat is de beslistermijn voor een aanvraag van 1 juni 2022?"


@pytest.fixture
def downloads(monkeypatch) -> dict:
    """file id -> the callable behind a deferred download button (AppTest's media manager keeps
    them only during a run)."""
    made: dict = {}
    original = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, *args, **kwargs):
        file_id = original(self, data_callable, *args, **kwargs)
        made[file_id] = data_callable
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return made


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def start() -> AppTest:
    return ok(AppTest.from_file(APP, default_timeout=60).run())


def open_rule(at: AppTest, rule_id: str) -> AppTest:
    """Switch to a rule's page. The one page file is registered under each rule's id as URL path,
    and AppTest.switch_page matches files, so the page is named by its URL path's hash."""
    at.switch_page(navigation.RULE_PAGE)
    at._page_hash = calc_hash(rule_id)
    return ok(at.run())


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return ok(at.run())


def fill_bvm(at: AppTest, **overrides) -> AppTest:
    values = {"nationality": "RU", "category": "dienstplichtige", "age": 25, "refused_or_deserted": True,
              "related_to_ukraine_war": True, "exclusions": [rule_view.NONE_APPLY], **overrides}  # fmt: skip
    for name, value in values.items():
        key = rule_view.fact_key(BVM, name)
        widget = next(w for kind in ("text_input", "selectbox", "number_input", "radio", "multiselect")
                      for w in getattr(at, kind) if w.key == key)  # fmt: skip
        widget.set_value(value)
    return at


def check(at: AppTest, rule_id: str, on: dt.date) -> AppTest:
    at.date_input(key=rule_view.reference_key(rule_id)).set_value(on)
    at.button(key=f"check_{rule_id}").click()
    return ok(at.run())


def codes(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def exports(at: AppTest, downloads: dict, prefix: str) -> tuple[str, str]:
    """The Markdown and the PDF text behind the export buttons whose key starts with `prefix`."""
    from pypdf import PdfReader

    buttons = {b.key.removeprefix(prefix): b for b in at.download_button if b.key.startswith(prefix)}
    md = downloads[buttons["_md"].proto.deferred_file_id]()
    pdf = downloads[buttons["_pdf"].proto.deferred_file_id]()
    assert pdf.startswith(b"%PDF")
    return md, "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def squeezed(text: str) -> str:
    return "".join(text.split())


def test_bvm_check_for_a_25_year_old_russian_conscript_who_deserted_applies(app_env):
    at = open_rule(start(), BVM)
    assert at.title[0].value == "Besluit- en vertrekmoratorium Russische dienstplichtigen"
    at = check(fill_bvm(at), BVM, dt.date(2022, 10, 1))
    assert [s.value for s in at.success] == ["Uitkomst: Het BVM voor Russische dienstplichtigen is van toepassing."]
    meta = next(c.value for c in at.caption if c.value.startswith("Peildatum 01-10-2022"))
    assert "applies" not in meta and "sha256" not in meta  # codes stay in the JSON and the export's annex
    # the numbered steps, each with its result and its source
    steps = [m.value for m in at.markdown if m.value.startswith("**") and "badge[" in m.value]
    assert steps[0].startswith("**1.** :green-badge[") and "Regel in werking op de peildatum" in steps[0]
    assert any(":red-badge[" in s and "gemobiliseerd" in s for s in steps)  # not mobilised: not met
    assert "Nota Beleidsconsequenties mobilisatie Rusland, p. 1" in codes(at)
    assert at.get("graphviz_chart"), "the decision diagram"
    # a step's source opens the note's page in context, the cited phrase highlighted
    at.button(key=f"{BVM}_step2_ctx").click()
    at = ok(at.run())
    image = at.get("image")[0].proto.imgs[0]
    assert "Pagina 1 van 8" in image.caption.replace("\\", "")


def test_bvm_missing_facts_are_questions_to_ask(app_env):
    at = open_rule(start(), BVM)
    at = check(fill_bvm(at, category=None, related_to_ukraine_war=None), BVM, dt.date(2022, 10, 1))
    assert NL["rule_missing_title"] in [m.value.strip("*") for m in at.markdown]
    questions = next(m.value for m in at.markdown if m.value.startswith("1. "))
    assert "Tot welke categorie behoort de vreemdeling?" in questions
    assert "verband met de oorlog in Oekraïne?" in questions
    assert at.warning and "Onvoldoende feiten" in at.warning[0].value


def test_the_nationality_is_chosen_from_the_states_by_their_dutch_names(app_env):
    at = open_rule(start(), BVM)
    box = at.selectbox(key=rule_view.fact_key(BVM, "nationality"))
    assert "RU" in box.options or "Rusland (RU)" in box.options
    labels = rule_view.state_labels()
    assert labels["RU"] == "Rusland (RU)" and labels["DE"] == "Duitsland (DE)" and len(labels) > 190
    at = check(fill_bvm(at, nationality="UA"), BVM, dt.date(2022, 10, 1))
    assert at.success  # a check runs; Oekraïne is not Russian, so the BVM does not apply
    assert "Oekraïne (UA)" in labels.values()


def test_beslistermijn_for_1_june_2022_is_1_september_2023_with_a_timeline(app_env):
    at = open_rule(start(), TERM)
    at.date_input(key=rule_view.fact_key(TERM, "application_date")).set_value(dt.date(2022, 6, 1))
    at.checkbox(key=rule_view.null_key(TERM, "decision_date")).check()
    at.radio(key=rule_view.fact_key(TERM, "moratorium")).set_value(False)
    at = check(at, TERM, dt.date(2022, 10, 1))
    assert [s.value for s in at.success] == [
        "De uiterste beslisdatum is 01-09-2023: 15 maanden na de aanvraag van 01-06-2022."]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1, "the timeline"
    spec = charts[0].proto.spec
    assert "WBV 2022/22 verlengt de termijn met negen maanden" in spec and "2023-09-01" in spec
    assert "Vreemdelingenwet 2000, art. 42 lid 1" in spec  # each bar labelled by its legal basis
    # the chart's text alternative: the same parts and dates, announced above the chart
    assert NL["rule_timeline_help"] in [c.value for c in at.caption]
    assert at.expander[-1].label == NL["rule_timeline_text"]
    lines = re.sub(r"\\(.)", r"\1", at.expander[-1].markdown[0].value).splitlines()  # as read, without Markdown escapes
    assert lines[0].startswith("- 1. Beslistermijn van zes maanden") and "(Vreemdelingenwet 2000, art. 42 lid 1)" in lines[0]
    assert any("WBV 2022/22 verlengt de termijn met negen maanden" in line and "+9 mnd" in line for line in lines)
    assert "- Aanvraag: 01-06-2022" in lines and "- Uiterste beslisdatum: 01-09-2023" in lines
    # the Algemene termijnenwet note is outside the corpus; the Vw is not in this index
    captions = [c.value for c in at.caption]
    assert NL["source_outside_corpus"] in captions
    assert any(c.startswith("Niet in de index") and "vreemdelingenwet" in c for c in captions)


def test_the_chat_offers_the_bvm_check_with_the_facts_pre_filled(app_env):
    at = ask(start(), BVM_QUESTION)
    offer = next(m.value for m in at.markdown if m.value.startswith(NL["offer_prefilled"]))
    assert "Leeftijd op de peildatum: **25** (uit “25\\-jarige”)" in offer
    assert "Dienstweigering of desertie: **ja** (uit “deserteur”)" in offer
    assert "Nationaliteit: **RU**" in offer and "Categorie" not in offer
    assert not at.success and not at.get("graphviz_chart")  # nothing runs before the officer confirms
    at.button(key="m1_offer").click()
    at = ok(at.run())
    assert at.title[0].value == "Besluit- en vertrekmoratorium Russische dienstplichtigen"
    assert at.number_input(key=rule_view.fact_key(BVM, "age")).value == 25
    assert at.selectbox(key=rule_view.fact_key(BVM, "nationality")).value == "RU"
    assert at.radio(key=rule_view.fact_key(BVM, "refused_or_deserted")).value is True
    assert at.selectbox(key=rule_view.fact_key(BVM, "category")).value is None  # not stated: left open
    captions = [c.value for c in at.caption]
    assert any("Voorgevuld uit uw vraag: “25\\-jarige”" in c for c in captions)
    assert any(BVM_QUESTION.replace("-", "\\-") in i.value for i in at.info)
    assert not at.success  # still not run
    # completed and run, the check is remembered with the chat answer
    at = check(fill_bvm(at), BVM, dt.date(2022, 10, 1))
    assert at.success
    at.switch_page("app_pages/chat.py")
    at = ok(at.run())
    assert any("Regelcheck uitgevoerd" in c.value for c in at.caption)


def test_the_chat_offers_the_deadline_check_with_the_application_date(app_env):
    at = ask(start(), TERM_QUESTION)
    offer = next(m.value for m in at.markdown if m.value.startswith(NL["offer_prefilled"]))
    assert "Datum aanvraag: **01\\-06\\-2022** (uit “1 juni 2022”)" in offer
    at.button(key="m1_offer").click()
    at = ok(at.run())
    assert at.title[0].value == "Wettelijke beslistermijn asielaanvraag"
    assert at.date_input(key=rule_view.fact_key(TERM, "application_date")).value == dt.date(2022, 6, 1)
    assert at.radio(key=rule_view.fact_key(TERM, "moratorium")).value is None


def test_the_chat_offers_no_rule_for_an_unrelated_question(app_env):
    at = ask(start(), "Wat is de hoofdstad van Frankrijk?")
    assert not any(b.key and b.key.endswith("_offer") for b in at.button)
    assert not any(m.value.startswith(":material/rule:") for m in at.markdown)


def test_rule_export_holds_every_citation_on_screen(app_env, downloads):
    at = ask(start(), BVM_QUESTION)
    shown_in_chat = codes(at)
    at.button(key="m1_offer").click()
    at = check(fill_bvm(ok(at.run())), BVM, dt.date(2022, 10, 1))
    shown = codes(at)
    md, pdf = exports(at, downloads, f"{BVM}_export")
    assert len(set(shown)) >= 5
    for citation in shown + shown_in_chat:  # the rule's steps and consequences, and the answer's passages
        assert citation in md, citation
        assert squeezed(citation) in squeezed(pdf), citation
    for text in (BVM_QUESTION, "Peildatum: 01-10-2022", "regel bvm-dienstplichtigen, versie sha256:"):
        assert text in md and squeezed(text) in squeezed(pdf)
    # the same case as the library builds it from the session
    check_ = next(iter(next(m for m in at.session_state["messages"] if m["role"] == "assistant")["checks"].values()))
    assert set(case_citations(case.rule_case(at.session_state, check_, at.session_state[rule_view.origin_key(BVM)]))) >= set(shown)


def test_answer_export_holds_every_citation_on_screen(app_env, downloads):
    at = ask(start(), "Voor welke Russische dienstplichtigen geldt het besluit- en vertrekmoratorium?")
    shown = codes(at)
    assert shown
    md, pdf = exports(at, downloads, "m1_export")
    for citation in shown:
        assert citation in md and squeezed(citation) in squeezed(pdf), citation


def test_feedback_is_stored_without_the_question_and_counted_on_the_management_page(app_env, tmp_path, monkeypatch):
    db = tmp_path / "feedback.sqlite"
    monkeypatch.setenv("BELEIDSWIJZER_FEEDBACK_DB", str(db))
    at = ask(start(), BVM_QUESTION)
    at.feedback(key="m1_feedback_score").set_value(1)
    at.text_area(key="m1_feedback_comment").set_value("Precies de goede passage.")
    next(b for b in at.button if b.label == NL["feedback_send"]).click()
    at = ok(at.run())
    assert NL["feedback_thanks"] in [s.value for s in at.success]
    (row,) = feedback.rows(db)
    assert (row["kind"], row["useful"], row["comment"], row["question"]) == ("answer", 1, "Precies de goede passage.", None)
    at = ok(at.run())
    assert NL["feedback_thanks"] in [c.value for c in at.caption]  # once per answer
    at.switch_page("app_pages/manage.py")
    at = ok(at.run())
    assert NL["manage_feedback"] in [s.value for s in at.subheader]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[NL["manage_feedback_total"]] == "1" and metrics[NL["manage_feedback_useful"]] == "1"


def test_question_is_stored_when_the_setting_allows_it(app_env, tmp_path, monkeypatch):
    db = tmp_path / "feedback.sqlite"
    monkeypatch.setenv("BELEIDSWIJZER_FEEDBACK_DB", str(db))
    monkeypatch.setenv("BELEIDSWIJZER_STORE_QUESTIONS", "on")
    at = ask(start(), TERM_QUESTION)
    at.feedback(key="m1_feedback_score").set_value(0)
    next(b for b in at.button if b.label == NL["feedback_send"]).click()
    ok(at.run())
    (row,) = feedback.rows(db)
    assert (row["useful"], row["question"]) == (0, TERM_QUESTION)


def test_onboarding_page_has_documents_outline_and_glossary(app_env):
    at = start()
    at.switch_page("app_pages/onboarding.py")
    at = ok(at.run())
    assert at.title[0].value == NL["onboarding_title"]
    table = at.dataframe[0].value
    assert list(table.columns) == [NL["col_title"], NL["col_type"], NL["col_date"], NL["col_validity"], NL["col_status"],
                                   NL["col_measure"]]  # the text's status apart from when the measure applies
    assert "Beleidsconsequenties mobilisatie Rusland" in list(table[NL["col_title"]])
    note = list(table[NL["col_title"]]).index("Beleidsconsequenties mobilisatie Rusland")
    assert table[NL["col_measure"]][note] == "BVM Russische dienstplichtigen: 29-06-2022 tot 29-06-2023"
    assert at.selectbox(key="onboarding_doc").value == "beleidsconsequenties-mobilisatie-rusland"  # the note
    outline = [e.label for e in at.expander]
    assert outline.index("3\\. Kernpunten") < outline.index("4\\. Toelichting")
    glossary = {e.label.split(" — ")[0].replace("\\", ""): e for e in at.expander if " — " in e.label or e.label.isupper()}
    assert "BVM" in glossary and "besluit" in glossary["BVM"].label
    assert "DT&V" in glossary and "TOELT" in glossary
    at.text_input(key="glossary_filter").set_value("spoor")
    at = ok(at.run())
    assert [e.label for e in at.expander if "spoor 2" in e.label]
    assert not [e.label for e in at.expander if e.label.startswith("BVM")]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_new_pages_render_in_both_languages(app_env, lang):
    at = start()
    at.selectbox(key="lang").set_value(lang)
    at = ok(at.run())
    at.switch_page("app_pages/onboarding.py")
    at = ok(at.run())
    assert at.title[0].value == STRINGS[lang]["onboarding_title"] and not at.error
    at = open_rule(at, TERM)
    assert [b.label for b in at.button if b.key == f"check_{TERM}"] == [STRINGS[lang]["rule_check"]]


def test_dienstweigering_with_the_cited_preset_of_the_note(app_env):
    rule_id = "dienstweigering-vluchteling"
    at = open_rule(start(), rule_id)
    at.multiselect(key=f"presets_{rule_id}").set_value(["russische-gemobiliseerde-oekraine"])
    at = ok(at.run())
    captions = [c.value for c in at.caption]
    assert any(c.startswith(":material/auto_fix_high:") and "p\\. 3" in c for c in captions)  # a and b, cited
    assert any(c.startswith(":material/lightbulb:") for c in captions)  # the hint for c, not filled in
    at.radio(key=rule_view.fact_key(rule_id, "g1_no_alternative")).set_value(True)
    at = check(at, rule_id, dt.date(2022, 10, 1))
    assert at.success and "Ten minste één grond" in at.success[0].value and "grond(en): 1" in at.success[0].value
    steps = [m.value for m in at.markdown if m.value.startswith("**") and "badge[" in m.value]
    assert sum("Voorinvulling" in s for s in steps) == 2
    assert any(":gray-badge[" in s and "Grond 2" in s for s in steps)  # not tested once ground 1 holds


def test_a_new_conversation_forgets_the_rule_checks(app_env):
    at = ask(start(), BVM_QUESTION)
    at.button(key="m1_offer").click()
    at = check(fill_bvm(ok(at.run())), BVM, dt.date(2022, 10, 1))
    assert rule_view.result_key(BVM) in at.session_state and rule_view.origin_key(BVM) in at.session_state
    at.switch_page("app_pages/chat.py")
    at = ok(at.run())
    next(b for b in at.sidebar.button if b.label == NL["new_conversation"]).click()
    at = ok(at.run())
    assert rule_view.result_key(BVM) not in at.session_state and rule_view.origin_key(BVM) not in at.session_state


def test_a_check_opened_from_a_2022_question_takes_its_date_and_says_so(app_env):
    question = "Geldt het BVM voor een 25-jarige Russische deserteur die in oktober 2022 vertrok?"
    at = ask(start(), question)
    assert any("Peildatum 01-10-2022, uit uw vraag" in c.value for c in at.caption)
    at.button(key="m1_offer").click()
    at = ok(at.run())
    assert at.date_input(key=rule_view.reference_key(BVM)).value == dt.date(2022, 10, 1)
    assert any("Peildatum 01-10-2022, uit uw vraag (“oktober 2022”)" in c.value for c in at.caption)


def test_without_a_date_in_the_question_the_chats_policy_date_and_else_today_is_the_reference(app_env):
    at = start()
    at.sidebar.date_input(key="on_date").set_value(dt.date(2023, 3, 1)).run()
    at = ask(at, BVM_QUESTION)
    assert any("Peildatum 01-03-2023, uit ‘Beleid geldend op’" in c.value for c in at.caption)
    at = ask(start(), BVM_QUESTION)
    today = dt.date.today().strftime("%d-%m-%Y")
    assert any(f"Peildatum {today}: vandaag" in c.value for c in at.caption)
