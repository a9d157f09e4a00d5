"""WCAG 2.1 AA in headless Chromium (issue #25): axe-core on every page of the app with what an
officer sees there (an answer, a passage in context, a lookup result, the introduction, each rule
check with its result, Beheer), in Dutch and in English; the page's language following the
language switch; and an officer's whole errand with key presses only, focus always visible.
One app server and one browser for the module. The login page: test_login_browser.py."""
from __future__ import annotations

import re
import time

import pytest

import rules
from tests import axe
from tests.test_browser import ANSWER_SECONDS, STARTUP_SECONDS, _wait, app_server, chromium, require_chromium, shots_dir
from ui import feedback
from ui.i18n import STRINGS

pytestmark = pytest.mark.integration

NL, EN = STRINGS["nl"], STRINGS["en"]
MAIN = "[data-testid='stMainBlockContainer']"
CHAT_INPUT = "[data-testid='stChatInputTextArea']"
QUESTION = "Valt een 25-jarige Russische deserteur die in oktober 2022 vertrok onder het moratorium?"
BVM = "bvm-dienstplichtigen"
MAX_TABS = 250  # key presses to reach a control before the test gives up


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_chromium()
    axe.axe_script()  # installed (or skipped / failed for want of npm) before the server starts
    folder = tmp_path_factory.mktemp("a11y-app")
    with app_server(folder) as url:
        yield url, folder


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    require_chromium()
    with chromium(tmp_path_factory.mktemp("a11y-browser")) as d:
        yield d


# -- helpers


def main_text(d) -> str:
    from selenium.webdriver.common.by import By

    return d.find_element(By.CSS_SELECTOR, MAIN).text


def shows(d, text: str, seconds: float = 30) -> None:
    """Wait until the main area shows `text`; on a timeout, fail with what it shows instead."""
    from selenium.common.exceptions import TimeoutException

    try:
        _wait(d, seconds).until(lambda d: text in main_text(d))
    except TimeoutException:
        pytest.fail(f"{text!r} did not appear; the page shows:\n{main_text(d)[-3000:]}")


def button(d, label: str, seconds: float = 30):
    """The first enabled button whose text ends with `label` (after its icon's name)."""
    from selenium.webdriver.common.by import By

    return _wait(d, seconds).until(
        lambda d: next((b for b in d.find_elements(By.TAG_NAME, "button") if b.text.strip().endswith(label) and b.is_enabled()), None)
    )  # fmt: skip


def page_lang(d) -> str:
    return d.execute_script("return document.documentElement.lang")


def ask(d, url: str, question: str = QUESTION) -> None:
    """Open the chat, ask `question` and wait for the answer with its rule-check offer."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d.get(url)
    box = _wait(d, STARTUP_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, CHAT_INPUT))[0]
    box.send_keys(question + Keys.ENTER)
    button(d, NL["offer_open"], ANSWER_SECONDS)
    time.sleep(1)  # the last elements of the answer


def settled(d, seconds: float = 1.0) -> None:
    """Let Streamlit finish the rerun a key press or a page load started (its running icon gone)."""
    from selenium.webdriver.common.by import By

    time.sleep(0.3)
    _wait(d, 30).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget'] [data-testid='stStatusWidgetRunningIcon']"))
    time.sleep(seconds)


# -- axe-core on every page


def test_axe_finds_no_serious_or_critical_violation_on_any_page(app, driver):
    from selenium.webdriver.common.by import By

    url, _ = app
    found: list[str] = []

    ask(driver, url)
    found += axe.violations(driver, "chat with an answer")
    button(driver, NL["open_context"]).click()
    dialog = _wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[role='dialog']"))[0]
    image = _wait(driver, 30).until(lambda d: dialog.find_elements(By.TAG_NAME, "img"))[0]
    page = re.search(r"Pagina (\d) van 8", dialog.text).group(1)  # the page the quote is on
    assert image.get_attribute("alt") == NL["context_page_alt"].format(page=page, pages=8, title="Beleidsconsequenties mobilisatie Rusland")
    found += axe.violations(driver, "a passage in context")

    driver.get(url + "/lookup")
    box = _wait(driver, STARTUP_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{MAIN} input[type='text']"))[0]
    box.send_keys("p. 3 nota\n")
    shows(driver, NL["lookup_exact"])
    found += axe.violations(driver, "lookup with a result")

    driver.get(url + "/introductie")
    _wait(driver, STARTUP_SECONDS).until(lambda d: NL["onboarding_glossary"] in main_text(d))
    _wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{MAIN} [data-testid='stDataFrame']"))
    found += axe.violations(driver, "introduction")

    for rule_id, rule in rules.load_rules().items():
        driver.get(f"{url}/{rule_id}")
        if rule.term is not None:  # a term rule: an application date, so the result has its timeline
            fill_term(driver)
        button(driver, NL["rule_check"], STARTUP_SECONDS).click()
        _wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{MAIN} [role='tab']"))
        if rule.term is not None:
            _wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{MAIN} [data-testid='stVegaLiteChart']"))
        time.sleep(1.5)
        found += axe.violations(driver, f"rule check {rule_id} with its result")
        next(t for t in driver.find_elements(By.CSS_SELECTOR, "[role='tab']") if NL["rule_diagram"] in t.text).click()
        _wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{MAIN} [data-testid='stGraphVizChart'] svg"))
        found += axe.violations(driver, f"rule check {rule_id}, the diagram")

    driver.get(url + "/manage")
    _wait(driver, STARTUP_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stFileUploader']"))
    time.sleep(1.5)
    found += axe.violations(driver, "Beheer")

    ask(driver, url)
    choose_language(driver, "English")
    _wait(driver, 30).until(lambda d: page_lang(d) == "en" and EN["chat_title"] in main_text(d))
    found += axe.violations(driver, "chat in English")

    assert found == [], "\n".join(found)


def fill_term(d) -> None:
    """The decision-period check's application date (typed into the date field's parts), no decision yet, no moratorium."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    day = _wait(d, STARTUP_SECONDS).until(
        lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, "[role='spinbutton']") if e.accessible_name.startswith("day, Datum aanvraag")), None)
    )  # fmt: skip
    day.click()
    ActionChains(d).send_keys("01062022").perform()
    settled(d, 0.5)
    for label in ("nog niet beslist", "nee"):
        option = next(e for e in d.find_elements(By.CSS_SELECTOR, f"{MAIN} label") if e.text.strip() == label)
        option.click()
        settled(d, 0.5)


def choose_language(d, name: str) -> None:
    from selenium.webdriver.common.by import By

    box = next(w for w in d.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebar'] [data-testid='stSelectbox']")
               if "Language" in w.text)  # fmt: skip
    box.find_element(By.CSS_SELECTOR, "input").click()
    _wait(d, 10).until(lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text.strip() == name), None)).click()


def test_the_page_language_follows_the_language_switch(app, driver):
    url, _ = app
    driver.get(url + "/lookup")
    _wait(driver, STARTUP_SECONDS).until(lambda d: NL["lookup_title"] in main_text(d))
    assert page_lang(driver) == "nl"  # Streamlit's page says "en"; the app's script corrects it
    choose_language(driver, "English")
    _wait(driver, 30).until(lambda d: EN["lookup_title"] in main_text(d))
    _wait(driver, 10).until(lambda d: page_lang(d) == "en")
    choose_language(driver, "Nederlands")
    _wait(driver, 30).until(lambda d: NL["lookup_title"] in main_text(d))
    _wait(driver, 10).until(lambda d: page_lang(d) == "nl")


# -- the keyboard only


def press(d, *keys) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(d).send_keys(*keys).perform()


def focused(d):
    return d.switch_to.active_element


def focus_is_visible(d) -> bool:
    """The focused element matches :focus-visible and draws an outline of at least 2 pixels."""
    return d.execute_script(
        "const e = document.activeElement; if (!e || e === document.body || !e.matches(':focus-visible')) return false;"
        "const s = getComputedStyle(e); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;"
    )  # fmt: skip


def tab_to(d, wanted, what: str):
    """Press TAB until the focused element satisfies `wanted`; it must show its focus. Fails after
    MAX_TABS presses."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.keys import Keys

    for _ in range(MAX_TABS):
        press(d, Keys.TAB)
        try:
            element = focused(d)
            if wanted(element):
                assert focus_is_visible(d), f"{what} has the focus but does not show it"
                return element
        except StaleElementReferenceException:
            time.sleep(0.2)
    pytest.fail(f"{what} not reached with {MAX_TABS} presses of TAB; the focus is on {focused(d).get_attribute('outerHTML')[:200]}")


def named(name: str):
    """A predicate: the element's accessible name is `name` (not 'Help for <name>', its help button)."""
    return lambda e: (e.accessible_name or "").strip() == name


def test_an_officer_does_the_whole_errand_with_the_keyboard_only(app, driver, tmp_path):
    """Ask, open a passage in context, open and run the offered rule check, export it and give
    feedback: TAB, SHIFT+TAB, ENTER, SPACE, arrows and typing; no clicks."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, folder = app
    driver.get(url)
    _wait(driver, STARTUP_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, CHAT_INPUT))
    settled(driver)
    tab_to(driver, lambda e: e.get_attribute("data-testid") == "stChatInputTextArea", "the question field")
    press(driver, QUESTION, Keys.ENTER)
    shows(driver, NL["offer_open"], ANSWER_SECONDS)
    settled(driver)

    # the passage in context: the first 'Toon in context', its next page, then ESC
    tab_to(driver, named(NL["open_context"]), "the first 'open in context' button")
    press(driver, Keys.ENTER)
    dialog = _wait(driver, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[role='dialog']"))[0]
    _wait(driver, 30).until(lambda d: dialog.find_elements(By.TAG_NAME, "img"))
    page = int(re.search(r"Pagina (\d) van 8", dialog.text).group(1))
    tab_to(driver, named(NL["context_next"]), "the dialog's 'next page' button")
    press(driver, Keys.ENTER)
    _wait(driver, 30).until(lambda d: f"Pagina {page + 1} van 8" in d.find_element(By.CSS_SELECTOR, "[role='dialog']").text)
    press(driver, Keys.ESCAPE)
    _wait(driver, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[role='dialog']"))
    settled(driver)

    # the offered rule check, opened and completed with the keyboard
    tab_to(driver, named(NL["offer_open"]), "the offered rule check")
    press(driver, Keys.ENTER)
    shows(driver, "Voorgevuld uit uw vraag")
    settled(driver)
    tab_to(driver, named("Categorie"), "the category field")
    press(driver, "Dienstplichtige")
    press(driver, Keys.ENTER)
    settled(driver)
    tab_to(driver, named("Uitzonderingsgronden"), "the exception grounds field")
    press(driver, "geen")
    press(driver, Keys.ENTER)
    settled(driver)
    press(driver, Keys.ESCAPE)  # close the multiselect's list
    radio = tab_to(driver, lambda e: e.get_attribute("type") == "radio" and "Oekraïne" in radio_group(e), "the war-link question")
    for _ in range(3):  # the arrows move the choice within the group: onbekend, ja, nee
        if radio.accessible_name.strip() == "ja" and radio.is_selected():
            break
        press(driver, Keys.ARROW_RIGHT)
        settled(driver, 0.5)
        radio = focused(driver)
    assert radio.accessible_name.strip() == "ja" and radio.is_selected()
    tab_to(driver, named(NL["rule_check"]), "the check button")
    assert driver.save_screenshot(str(shots_dir(tmp_path) / "keyboard-focus-rule-check.png"))  # the focus ring
    press(driver, Keys.ENTER)
    shows(driver, "Uitkomst: Het BVM voor Russische dienstplichtigen is van toepassing.")
    settled(driver)

    # the export for the case file
    tab_to(driver, named(NL["export_md"]), "the Markdown export")
    press(driver, Keys.ENTER)
    export = _wait(driver, 30).until(lambda d: next(iter(sorted(driver.downloads.glob("*.md"))), None))
    time.sleep(0.5)
    assert "Het BVM voor Russische dienstplichtigen is van toepassing" in export.read_text(encoding="utf-8")

    # feedback: the popover, thumbs up with SPACE, send
    tab_to(driver, named(NL["feedback_button"]), "the feedback button")
    press(driver, Keys.ENTER)
    _wait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stFeedbackButton']"))
    tab_to(driver, lambda e: e.get_attribute("data-testid") == "stFeedbackButton", "the thumbs up")
    press(driver, Keys.SPACE)
    settled(driver, 0.5)
    tab_to(driver, named(NL["feedback_send"]), "the feedback's send button")
    press(driver, Keys.ENTER)
    _wait(driver, 30).until(lambda d: NL["feedback_thanks"] in d.find_element(By.TAG_NAME, "body").text)
    stored = feedback.rows(folder / "index" / "feedback.sqlite")
    assert [(r["kind"], r["rule_id"], r["useful"]) for r in stored] == [("rule", BVM, 1)]


def radio_group(element) -> str:
    """The label of the radio group an option belongs to."""
    return element.find_element("xpath", "ancestor::*[@data-testid='stRadio'][1]").text
