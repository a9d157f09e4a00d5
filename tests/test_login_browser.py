"""The login through a real OpenID Connect provider in headless Chromium: oauth2-mock-server
(npm, installed at test time into a cache folder outside the repo, run on Node.js by
tests/oidc_provider.cjs on 127.0.0.1) and `streamlit run app.py` with BELEIDSWIJZER_AUTH=oidc and
a secrets.toml written to the test's temp folder. An anonymous visitor sees only the login page;
an officer signs in and gets the officer pages but not Beheer (a direct link is refused); a
beheerder gets Beheer; a user with neither role is told so. Screenshots as in test_browser.py."""
from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import rules
from indexer.build import build
from indexer.encoders.fake import FakeEncoder
from tests.conftest import REPO, stop_process_group
from tests.npm_packages import install, require_node
from tests.test_app import NOTE
from tests.test_browser import STARTUP_SECONDS, _wait, browser, free_port, require_chromium, shots_dir  # noqa: F401
from ui.i18n import STRINGS

pytestmark = pytest.mark.integration

NL = STRINGS["nl"]
OIDC_PACKAGE, OIDC_VERSION = "oauth2-mock-server", "7.2.1"  # 7.x runs on Debian's Node.js 18 and on 20
NODE_MIN = (18, 12)
PROVIDER_SCRIPT = Path(__file__).with_name("oidc_provider.cjs")
CLIENT_ID = "beleidswijzer"
USERS = {  # the logins the provider's page offers, with the claims of their ID tokens
    "officer": {"sub": "officer-1", "name": "Olga Officier", "groups": ["officer"]},
    "beheerder": {"sub": "beheerder-1", "name": "Bert Beheerder", "groups": ["beheerder"]},
    "geen-rol": {"sub": "andere-1", "name": "Gijs Geen Rol", "groups": ["stagiairs"]},
}
MAIN = "[data-testid='stMainBlockContainer']"
NAV = "[data-testid='stSidebarNav']"


@contextmanager
def started(args: list[str], log_path: Path, **popen) -> Iterator[subprocess.Popen]:
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **popen)
        try:
            yield proc
        finally:
            stop_process_group(proc)


def wait_for(ready, proc: subprocess.Popen, log_path: Path, what: str, seconds: float = STARTUP_SECONDS):
    """Poll `ready()` until it returns something; fail with the log's tail if the process ends or time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        value = ready()
        if value:
            return value
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start: {log_path.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Iterator[str]:
    """The OpenID Connect provider on 127.0.0.1; its issuer URL."""
    require_chromium()
    node, npm = require_node(NODE_MIN, f"{OIDC_PACKAGE} {OIDC_VERSION}")
    modules = install(npm, OIDC_PACKAGE, OIDC_VERSION)
    folder = tmp_path_factory.mktemp("oidc-provider")
    (folder / "users.json").write_text(json.dumps(USERS), encoding="utf-8")
    log = folder / "provider.log"
    env = {**os.environ, "NODE_PATH": str(modules)}
    with started([node, str(PROVIDER_SCRIPT), str(folder / "users.json")], log, cwd=folder, env=env) as proc:
        def issuer() -> str | None:
            found = re.search(r"^ISSUER (\S+)$", log.read_text(errors="replace"), re.M)
            return found.group(1) if found else None

        yield wait_for(issuer, proc, log, "the OpenID Connect provider")


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def login_app(provider, tmp_path_factory) -> Iterator[tuple[str, int]]:
    """`streamlit run app.py` with BELEIDSWIJZER_AUTH=oidc against the provider, with the project's
    .streamlit/config.toml (no --server.address: the default binding is under test too) and a
    secrets.toml of its own; the app's URL and the server's process id."""
    folder = tmp_path_factory.mktemp("login-app")
    corpus, index = folder / "corpus", folder / "index"
    corpus.mkdir()
    (corpus / "nota.txt").write_text(NOTE, encoding="utf-8")
    build([corpus], index, FakeEncoder())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets_toml = folder / "secrets.toml"
    secrets_toml.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "BELEIDSWIJZER_INDEX": str(index), "BELEIDSWIJZER_CORPUS": str(corpus), "BELEIDSWIJZER_AUTH": "oidc"}
    for name in ("BELEIDSWIJZER_MODEL", "BELEIDSWIJZER_MANAGEMENT", "BELEIDSWIJZER_ROLES_CLAIM",
                 "BELEIDSWIJZER_OFFICER_GROUP", "BELEIDSWIJZER_BEHEERDER_GROUP"):  # fmt: skip
        env.pop(name, None)
    args = [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false", "--secrets.files", str(secrets_toml)]  # fmt: skip
    log = folder / "server.log"
    with started(args, log, cwd=REPO, env=env) as proc:
        wait_for(lambda: healthy(url), proc, log, "streamlit")
        yield url, proc.pid


# -- helpers


def main_text(browser) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, MAIN).text


def main_lines(browser) -> list[str]:
    """The main area's lines of text, without the names of Material icons (rendered as text)."""
    from selenium.webdriver.common.by import By

    icons = {i.text for i in browser.find_elements(By.CSS_SELECTOR, f"{MAIN} [data-testid='stIconMaterial']")}
    return [line for line in main_text(browser).splitlines() if line not in icons]


def nav_titles(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.text.strip().splitlines()[-1] for a in browser.find_elements(By.CSS_SELECTOR, f"{NAV} a") if a.text.strip()]


def button(browser, label: str, seconds: float = STARTUP_SECONDS):
    from selenium.webdriver.common.by import By

    return _wait(browser, seconds).until(
        lambda d: next((b for b in d.find_elements(By.TAG_NAME, "button") if label in b.text.splitlines() and b.is_enabled()), None)
    )


def login_page(browser, app: str, path: str = "") -> None:
    """Open the app (at `path`) and wait for the login page."""
    browser.get(app + path)
    button(browser, NL["auth_login_button"])
    time.sleep(0.5)  # let the page settle: nothing else may appear


def sign_in(browser, app: str, provider: str, login: str) -> None:
    """The real flow: the app's login button, the provider's page, back to the app signed in."""
    from selenium.webdriver.common.by import By

    login_page(browser, app)
    button(browser, NL["auth_login_button"]).click()
    choice = _wait(browser, 30).until(lambda d: d.current_url.startswith(provider) and d.find_elements(By.ID, f"login-{login}"))
    choice[0].click()
    name = USERS[login]["name"]
    _wait(browser, STARTUP_SECONDS).until(lambda d: d.current_url.startswith(app) and name in d.find_element(By.TAG_NAME, "body").text)


def officer_page_titles() -> list[str]:
    return [NL["nav_chat"], NL["nav_lookup"], NL["nav_onboarding"], *(r.title for r in rules.load_rules().values())]


# -- tests


def test_the_server_listens_on_127_0_0_1_only(login_app):
    psutil = pytest.importorskip("psutil")
    _, pid = login_app
    listening = [c.laddr for c in psutil.Process(pid).net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening and {a.ip for a in listening} == {"127.0.0.1"}, listening


def test_an_anonymous_visitor_sees_only_the_login_page(login_app, browser, tmp_path):
    from selenium.webdriver.common.by import By

    app, _ = login_app
    for path in ("", "/manage", "/lookup"):
        login_page(browser, app, path)
        assert main_lines(browser) == [NL["app_title"], NL["auth_login_intro"], NL["auth_login_button"]]
        assert not browser.find_elements(By.CSS_SELECTOR, NAV) and not nav_titles(browser)
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")
    assert browser.save_screenshot(str(shots_dir(tmp_path) / "login-anonymous.png"))


def test_the_login_page_has_no_serious_accessibility_violation(login_app, browser):
    """axe-core's WCAG 2.1 A/AA rules on the login page, which is in Dutch and says so (issue #25)."""
    from tests import axe

    app, _ = login_app
    login_page(browser, app)
    assert browser.execute_script("return document.documentElement.lang") == "nl"
    assert axe.violations(browser, "login page") == []


def test_an_officer_signs_in_and_gets_the_officer_pages_but_not_beheer(login_app, provider, browser, tmp_path):
    from selenium.webdriver.common.by import By

    app, _ = login_app
    sign_in(browser, app, provider, "officer")
    _wait(browser, STARTUP_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']"))
    sidebar = browser.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
    assert "Ingelogd als Olga Officier (medewerker)" in sidebar
    _wait(browser, 10).until(lambda d: nav_titles(d))
    assert nav_titles(browser) == officer_page_titles()  # no Beheer
    assert browser.save_screenshot(str(shots_dir(tmp_path) / "login-officer.png"))

    browser.get(app + "/manage")  # a stale link to Beheer
    _wait(browser, STARTUP_SECONDS).until(lambda d: NL["auth_manage_refused"] in main_text(d))
    assert NL["manage_title"] not in main_text(browser)
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stFileUploader']")
    assert NL["nav_manage"] not in nav_titles(browser)
    assert browser.save_screenshot(str(shots_dir(tmp_path) / "login-officer-manage-refused.png"))

    button(browser, NL["auth_logout"]).click()  # back to the login page, through the provider's logout
    _wait(browser, STARTUP_SECONDS).until(lambda d: NL["auth_login_intro"] in main_text(d))
    assert not nav_titles(browser)


def test_a_beheerder_signs_in_and_gets_beheer(login_app, provider, browser, tmp_path):
    from selenium.webdriver.common.by import By

    app, _ = login_app
    sign_in(browser, app, provider, "beheerder")
    _wait(browser, STARTUP_SECONDS).until(lambda d: NL["nav_manage"] in nav_titles(d))
    assert nav_titles(browser) == [*officer_page_titles()[:3], NL["nav_manage"], *officer_page_titles()[3:]]
    assert "Ingelogd als Bert Beheerder (medewerker, beheerder)" in browser.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text
    next(a for a in browser.find_elements(By.CSS_SELECTOR, f"{NAV} a") if a.text.strip().endswith(NL["nav_manage"])).click()
    _wait(browser, STARTUP_SECONDS).until(lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid='stFileUploader']"))
    assert NL["manage_title"] in main_text(browser) and NL["auth_manage_refused"] not in main_text(browser)
    assert browser.save_screenshot(str(shots_dir(tmp_path) / "login-beheerder-manage.png"))


def test_a_user_without_a_role_is_told_so(login_app, provider, browser, tmp_path):
    from selenium.webdriver.common.by import By

    app, _ = login_app
    sign_in(browser, app, provider, "geen-rol")
    _wait(browser, 30).until(lambda d: NL["auth_no_access"].format(name="Gijs Geen Rol") in main_text(d))
    button(browser, NL["auth_logout"])
    assert not nav_titles(browser) and not browser.find_elements(By.CSS_SELECTOR, "[data-testid='stChatInputTextArea']")
    assert browser.save_screenshot(str(shots_dir(tmp_path) / "login-no-role.png"))
