"""The app in a real headless Chromium (Debian chromium + chromium-driver, driven by Selenium):
`streamlit run app.py` on 127.0.0.1 with a fake-encoder index, a Dutch question, the cited
answer on the page, the passage opened in context; screenshots under the test's temp folder."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from tests.conftest import NOTE_PDF, REPO, stop_process_group
from tests.test_officer_labels import raw_codes

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
QUESTION = "Voor welke Russische dienstplichtigen geldt het besluit- en vertrekmoratorium?"
CITATION = "Beleidsconsequenties mobilisatie Rusland, p. 1, 3. Kernpunten"
HOSTILE = """---
title: Hostile <b>title</b> **bold**
---
Kwaadaardig
Deze tekst over pizzabezorging bevat <script>alert(1)</script> en <img src=x onerror=alert(2)> en **vet**.
"""
STARTUP_SECONDS = 60
ANSWER_SECONDS = 60


def _wait(browser, seconds: float):
    """A WebDriverWait that retries while Streamlit re-renders the page: an element found a
    moment ago may be replaced (stale) or briefly absent, which is not a failure."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))


def require_chromium() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if not missing:
        return
    msg = f"{', '.join(missing)} not found; install the Debian packages chromium and chromium-driver"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " (.ci/run installs them)")
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(folder: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port over a test index built in `folder` (the seed PDF and a
    hostile document); its URL. Stopped at the end, always."""
    corpus, index = folder / "corpus", folder / "index"
    corpus.mkdir()
    shutil.copy(NOTE_PDF, corpus / NOTE_PDF.name)
    sidecar = NOTE_PDF.with_name(NOTE_PDF.name + ".yaml")  # the note's date and type
    if sidecar.is_file():
        shutil.copy(sidecar, corpus / sidecar.name)
    (corpus / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    build([corpus], index, FakeEncoder())
    port = free_port()
    env = {**os.environ, "BELEIDSWIJZER_INDEX": str(index), "BELEIDSWIJZER_CORPUS": str(corpus)}
    env.pop("BELEIDSWIJZER_MODEL", None)
    log = open(folder / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start: {(folder / 'server.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        stop_process_group(proc)
        log.close()


@contextmanager
def chromium(folder: Path):
    """Headless Chromium driven by Selenium, its profile and downloads in `folder`; quit at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        f"--user-data-dir={folder / 'chromium-profile'}", "--window-size=1400,1100",
    ):  # fmt: skip
        options.add_argument(arg)
    downloads = folder / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})  # fmt: skip
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.downloads = downloads  # where an export lands (tests read it)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def server(tmp_path):
    require_chromium()
    with app_server(tmp_path) as url:
        yield url


@pytest.fixture
def browser(tmp_path):
    require_chromium()
    with chromium(tmp_path) as driver:
        yield driver


def test_a_dutch_question_is_answered_with_its_citation_in_chromium(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    browser.get(server)
    box = _wait(browser, STARTUP_SECONDS).until(
        EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']"))
    )
    box.send_keys(QUESTION)
    box.send_keys(Keys.ENTER)
    _wait(browser, ANSWER_SECONDS).until(
        lambda d: CITATION in d.find_element(By.CSS_SELECTOR, "[data-testid='stMainBlockContainer']").text
    )
    if not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stMainBlockContainer'] mark"):
        # the fake encoder's answer may be 'no answer' with the passages folded: open the first
        browser.find_element(By.CSS_SELECTOR, "[data-testid='stExpander'] summary").click()
    _wait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stMainBlockContainer'] mark"))
    time.sleep(0.5)  # let the last elements settle before the screenshot
    main = browser.find_element(By.CSS_SELECTOR, "[data-testid='stMainBlockContainer']").text
    assert CITATION in main
    assert "Russische dienstplichtigen van 18 tot en met 27 jaar" in main
    # the two kinds of validity: the note's text is current, the BVM it describes has ended
    assert "huidige tekst" in main and "BVM Russische dienstplichtigen: 29-06-2022 tot 29-06-2023 (afgelopen)" in main
    assert raw_codes([main]) == []  # the officer's words only
    assert browser.save_screenshot(str(shots_dir(tmp_path) / "chat-answer.png"))

    # open the lead passage in context: the PDF page with the passage highlighted
    buttons = [b for b in browser.find_elements(By.TAG_NAME, "button") if "Toon in context" in b.text]
    buttons[0].click()
    dialog = _wait(browser, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role='dialog']")))
    _wait(browser, 30).until(lambda d: dialog.find_elements(By.TAG_NAME, "img"))
    assert "Pagina 1 van 8" in dialog.text
    time.sleep(0.5)
    assert browser.save_screenshot(str(tmp_path / "in-context.png"))
    nxt = next(b for b in dialog.find_elements(By.TAG_NAME, "button") if "Volgende" in b.text)
    nxt.click()  # page navigation reruns the dialog only; it stays open on page 2
    _wait(browser, 30).until(lambda d: "Pagina 2 van 8" in d.find_element(By.CSS_SELECTOR, "[role='dialog']").text)
    assert browser.save_screenshot(str(tmp_path / "in-context-page2.png"))


def test_document_html_and_script_show_as_text_in_chromium(server, browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    box = _wait(browser, STARTUP_SECONDS).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")
    )[0]
    box.send_keys("pizzabezorging kwaadaardig" + Keys.ENTER)
    main = "[data-testid='stMainBlockContainer']"
    _wait(browser, ANSWER_SECONDS).until(lambda d: "Hostile" in d.find_element(By.CSS_SELECTOR, main).text)
    # with the fake encoder the answer may be the lead card or, as 'no answer', a folded passage
    for summary in browser.find_elements(By.CSS_SELECTOR, f"{main} [data-testid='stExpander'] summary"):
        if "Hostile" in summary.text:
            summary.click()
    _wait(browser, 10).until(lambda d: "Deze tekst over" in d.find_element(By.CSS_SELECTOR, main).text)
    text = browser.find_element(By.CSS_SELECTOR, main).text
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text and "**vet**" in text
    assert "Hostile <b>title</b> **bold**" in text  # the citation, shown as typed
    assert not browser.find_elements(By.CSS_SELECTOR, f"{main} img, {main} script:not([type]), {main} b")
    try:
        browser.switch_to.alert
        pytest.fail("a document's script ran")
    except NoAlertPresentException:
        pass
    assert browser.save_screenshot(str(tmp_path / "hostile-escaped.png"))


SHOTS_ENV = "BELEIDSWIJZER_SCREENSHOTS"  # a folder to keep the screenshots in (default: the test's temp folder)
BVM_QUESTION = "Valt een 25-jarige Russische deserteur onder het moratorium?"
BVM_2022_QUESTION = "Valt een 25-jarige Russische deserteur die in oktober 2022 vertrok onder het moratorium?"


def save_pdf_pages(pdf: Path, stem: Path) -> str:
    """Each page of a downloaded PDF as a PNG beside the screenshots (stem-1.png, ...); its text."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    text = []
    for i, page in enumerate(doc, 1):
        page.render(scale=1.5).to_pil().save(f"{stem}-{i}.png")
        text.append(page.get_textpage().get_text_range())
    return "\n".join(text)


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def full_page_screenshot(browser, path: Path) -> None:
    """The whole page, not only the window: grow the window to the main area's height first."""
    height = browser.execute_script("return document.querySelector(\"[data-testid='stMain']\").scrollHeight")
    browser.set_window_size(1400, min(max(int(height) + 120, 1100), 12000))
    time.sleep(1.5)  # let charts and the diagram lay out again
    assert browser.save_screenshot(str(path))
    browser.set_window_size(1400, 1100)


def retry(action, attempts: int = 4) -> None:
    """Run a UI action again when Streamlit re-rendered its element meanwhile."""
    from selenium.common.exceptions import StaleElementReferenceException

    for attempt in range(attempts):
        try:
            action()
            time.sleep(0.8)  # let the rerun the action caused finish
            return
        except StaleElementReferenceException:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def choose(browser, label: str, option: str) -> None:
    """Pick `option` in the select or multiselect whose label is `label`."""
    from selenium.webdriver.common.by import By

    widget = next(w for w in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stSelectbox'], [data-testid='stMultiSelect']")
                  if w.find_element(By.CSS_SELECTOR, "label").text.strip() == label)  # fmt: skip
    widget.find_element(By.CSS_SELECTOR, "input").click()
    item = _wait(browser, 10).until(
        lambda d: next((o for o in d.find_elements(By.CSS_SELECTOR, "[role='option']") if o.text.strip().startswith(option)), None)
    )  # fmt: skip
    item.click()


def test_a_rule_check_runs_end_to_end_from_the_chat_in_chromium(server, browser, tmp_path):
    """Ask a BVM question, open the offered check (facts pre-filled), complete it, run it: the
    outcome, the cited steps, the diagram; a step's source opens its PDF page in context."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    out = shots_dir(tmp_path)
    main = "[data-testid='stMainBlockContainer']"
    browser.get(server)
    box = _wait(browser, STARTUP_SECONDS).until(
        EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']"))
    )
    box.send_keys(BVM_2022_QUESTION + Keys.ENTER)
    offer = _wait(browser, ANSWER_SECONDS).until(
        lambda d: next((b for b in d.find_elements(By.TAG_NAME, "button") if "Open de regelcheck" in b.text), None)
    )
    assert "25-jarige" in browser.find_element(By.CSS_SELECTOR, main).text  # the words the age came from
    offer.click()

    _wait(browser, 30).until(lambda d: "Voorgevuld uit uw vraag: “25-jarige”" in d.find_element(By.CSS_SELECTOR, main).text)
    _wait(browser, 30).until(lambda d: [w for w in d.find_elements(By.CSS_SELECTOR, "[data-testid='stDateInput']") if "Peildatum" in w.text])
    time.sleep(1)
    assert "Besluit- en vertrekmoratorium Russische dienstplichtigen" in browser.find_element(By.CSS_SELECTOR, main).text
    retry(lambda: choose(browser, "Categorie", "Dienstplichtige"))
    retry(lambda: choose(browser, "Uitzonderingsgronden", "geen"))

    def war_link_yes() -> None:
        radio = next(w for w in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stRadio']")
                     if "Verband met de oorlog in Oekraïne" in w.text)  # fmt: skip
        next(o for o in radio.find_elements(By.CSS_SELECTOR, "label") if o.text.strip() == "ja").click()

    # the reference date comes from the question ("in oktober 2022"), and the page says so
    box = next(w for w in browser.find_elements(By.CSS_SELECTOR, "[data-testid='stDateInput']") if "Peildatum" in w.text)
    assert "01-10-2022" in box.text.replace("\n", "")
    assert "Peildatum 01-10-2022, uit uw vraag (“oktober 2022”)" in browser.find_element(By.CSS_SELECTOR, main).text

    retry(war_link_yes)
    retry(lambda: next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text.strip().endswith("Controleren")).click())

    _wait(browser, 30).until(lambda d: "Uitkomst: Het BVM" in d.find_element(By.CSS_SELECTOR, main).text)
    _wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{main} [data-testid='stGraphVizChart'] svg"))
    text = browser.find_element(By.CSS_SELECTOR, main).text
    assert "Uitkomst: Het BVM voor Russische dienstplichtigen is van toepassing." in text
    assert "Peildatum 01-10-2022" in text and "sha256" not in text
    assert "Nota Beleidsconsequenties mobilisatie Rusland, p. 1" in text  # a step's citation
    assert raw_codes([text]) == []  # no fact, outcome or condition code, no rule version
    full_page_screenshot(browser, out / "rule-check-bvm.png")

    # the export for the case file, as the officer downloads it: Dutch, both kinds of validity kept
    retry(lambda: next(b for b in browser.find_elements(By.TAG_NAME, "button") if "Export (PDF)" in b.text).click())
    pdf = _wait(browser, 30).until(lambda d: next(iter(sorted(browser.downloads.glob("*.pdf"))), None))
    time.sleep(0.5)
    export_text = save_pdf_pages(pdf, out / "export")
    assert "Peildatum: 01-10-2022" in export_text and "Technische bijlage" in export_text
    assert raw_codes([export_text.split("Technische bijlage")[0]]) == []  # codes only in the annex

    # the diagram tab: the decision path drawn by Graphviz
    next(t for t in browser.find_elements(By.CSS_SELECTOR, "[role='tab']") if "Beslisschema" in t.text).click()
    time.sleep(1)
    assert browser.find_elements(By.CSS_SELECTOR, f"{main} [data-testid='stGraphVizChart'] svg g.node")
    full_page_screenshot(browser, out / "rule-check-bvm-diagram.png")
    next(t for t in browser.find_elements(By.CSS_SELECTOR, "[role='tab']") if "Stappen" in t.text).click()

    # the last step's source (the decision, p. 1) opens the note's page with the phrase highlighted
    source = [b for b in browser.find_elements(By.TAG_NAME, "button") if "Toon bron in context" in b.text][-1]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", source)
    source.click()
    dialog = _wait(browser, 30).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "[role='dialog']")))
    _wait(browser, 30).until(lambda d: dialog.find_elements(By.TAG_NAME, "img"))
    assert "Pagina 1 van 8" in dialog.text
    time.sleep(0.5)
    assert browser.save_screenshot(str(out / "rule-step-in-context.png"))


def test_onboarding_page_in_chromium(server, browser, tmp_path):
    """The onboarding page: documents table, the note's outline and the glossary."""
    from selenium.webdriver.common.by import By

    main = "[data-testid='stMainBlockContainer']"
    browser.get(server + "/introductie")
    _wait(browser, STARTUP_SECONDS).until(lambda d: "Begrippen en afkortingen" in d.find_element(By.CSS_SELECTOR, main).text)
    _wait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"{main} [data-testid='stDataFrame']"))
    text = browser.find_element(By.CSS_SELECTOR, main).text
    assert "Opbouw van de nota" in text and "3. Kernpunten" in text
    assert "BVM — besluit- en vertrekmoratorium" in text
    assert raw_codes([text]) == []  # (the table is drawn on a canvas: its columns are checked in test_app_rules)
    full_page_screenshot(browser, shots_dir(tmp_path) / "onboarding.png")
