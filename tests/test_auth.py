"""Login and roles (ui/auth.py) without a browser: the login settings, roles from an ID token's
claims, the loopback rule of an app without login, the [auth] keys the login needs, and what
AppTest shows each kind of user (st.user seeded; the real login is tests/test_login_browser.py)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO
from tests.test_app import APP, NOTE, make_index
from ui import auth, settings
from ui.auth import BEHEERDER, OFFICER
from ui.i18n import STRINGS

NL = STRINGS["nl"]
SECRETS = {"auth": {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "een-lang-willekeurig-geheim",
    "client_id": "beleidswijzer", "client_secret": "geheim",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}}  # fmt: skip


# -- settings


def test_login_settings_default_to_no_login_and_the_groups_claim():
    s = settings.load({})
    assert (s.auth, s.roles_claim, s.officer_group, s.beheerder_group) == ("none", "groups", "officer", "beheerder")


def test_login_settings_from_the_environment():
    s = settings.load({"BELEIDSWIJZER_AUTH": " OIDC ", "BELEIDSWIJZER_ROLES_CLAIM": "roles",
                       "BELEIDSWIJZER_OFFICER_GROUP": " IND-medewerkers ", "BELEIDSWIJZER_BEHEERDER_GROUP": "IND-beheer"})  # fmt: skip
    assert (s.auth, s.roles_claim, s.officer_group, s.beheerder_group) == ("oidc", "roles", "IND-medewerkers", "IND-beheer")
    assert settings.load({"BELEIDSWIJZER_AUTH": "", "BELEIDSWIJZER_ROLES_CLAIM": "  "}).roles_claim == "groups"


def test_an_unknown_login_mode_names_the_allowed_values():
    with pytest.raises(settings.SettingsError) as err:
        settings.load({"BELEIDSWIJZER_AUTH": "ldap"})
    assert str(err.value) == "BELEIDSWIJZER_AUTH='ldap' is not allowed; use one of none, oidc (default none)."


def test_one_group_for_both_roles_is_refused():
    with pytest.raises(settings.SettingsError, match="BELEIDSWIJZER_OFFICER_GROUP and BELEIDSWIJZER_BEHEERDER_GROUP are both 'ind'"):
        settings.load({"BELEIDSWIJZER_OFFICER_GROUP": "ind", "BELEIDSWIJZER_BEHEERDER_GROUP": "ind"})


# -- roles from claims


def roles(claims: dict, claim: str = "groups") -> frozenset[str]:
    return auth.roles_from_claims(claims, claim, "officer", "beheerder")


def test_the_beheerder_group_gives_both_roles_and_the_officer_group_one():
    assert roles({"groups": ["beheerder"]}) == {OFFICER, BEHEERDER}
    assert roles({"groups": ["officer", "beheerder"]}) == {OFFICER, BEHEERDER}
    assert roles({"groups": ["andere", "officer"]}) == {OFFICER}


def test_no_role_without_a_matching_value():
    assert roles({}) == frozenset()
    assert roles({"groups": []}) == frozenset()
    assert roles({"groups": ["Beheerder", "officers", "/beheerder"]}) == frozenset()  # exact values only
    assert roles({"groups": "beheerder"}, claim="roles") == frozenset()  # another claim
    assert roles({"groups": [{"name": "beheerder"}, 7, None]}) == frozenset()  # only strings count
    assert roles({"groups": {"beheerder": True}}) == frozenset()


def test_a_single_string_nested_and_namespaced_claims():
    assert roles({"groups": "officer"}) == {OFFICER}
    assert roles({"realm_access": {"roles": ["beheerder"]}}, claim="realm_access.roles") == {OFFICER, BEHEERDER}
    assert roles({"realm_access": ["beheerder"]}, claim="realm_access.roles") == frozenset()
    # a claim whose name has dots (an Auth0-style namespace) is taken as it is
    assert roles({"https://ind.example/roles": ["officer"]}, claim="https://ind.example/roles") == {OFFICER}


def test_the_user_from_an_id_token():
    cfg = settings.load({"BELEIDSWIJZER_AUTH": "oidc"})
    user = auth.user_from_claims({"sub": "u-17", "name": "Anna de Vries", "groups": ["beheerder"], "is_logged_in": True}, cfg)
    assert user == auth.User("u-17", "Anna de Vries", frozenset({OFFICER, BEHEERDER})) and user.is_beheerder
    assert auth.user_from_claims({"sub": "u-2", "email": "b@ind.example", "groups": ["officer"]}, cfg).name == "b@ind.example"
    assert auth.user_from_claims({"sub": "u-3"}, cfg) == auth.User("u-3", "u-3", frozenset())
    assert auth.user_from_claims({"name": "Zonder sub", "groups": ["beheerder"]}, cfg).roles == frozenset()


# -- the loopback rule of an app without login


@pytest.mark.parametrize("address", [None, "127.0.0.1", "127.4.5.6", "::1", "::ffff:127.0.0.1", " 127.0.0.1 "])
def test_loopback_addresses(address):
    assert auth.is_loopback(address)


@pytest.mark.parametrize("address", ["10.0.0.7", "192.168.1.20", "145.12.3.4", "::ffff:10.0.0.7", "fe80::1", "2001:db8::1",
                                     "0.0.0.0", "", "localhost", "127.0.0.1.evil.example"])  # fmt: skip
def test_other_addresses_are_not_loopback(address):
    assert not auth.is_loopback(address)


def test_an_address_that_is_not_a_string_is_not_loopback():
    from unittest.mock import MagicMock

    assert not auth.is_loopback(MagicMock())  # what AppTest's stand-in runtime reports (tests/conftest.py)
    assert not auth.is_loopback(b"127.0.0.1")


def test_without_login_another_address_is_an_anonymous_officer(monkeypatch):
    cfg = settings.load({})
    monkeypatch.setattr(auth, "client_address", lambda: None)
    assert auth.current_user(cfg) == auth.LOCAL_USER and auth.LOCAL_USER.is_beheerder
    monkeypatch.setattr(auth, "client_address", lambda: "10.0.0.7")
    user = auth.current_user(cfg)
    assert user == auth.REMOTE_USER and user.roles == {OFFICER} and not user.is_beheerder


def test_the_auth_keys_the_login_needs():
    assert auth.missing_secrets(None) == list(auth.REQUIRED_SECRETS)
    assert auth.missing_secrets(SECRETS["auth"]) == []
    assert auth.missing_secrets({**SECRETS["auth"], "client_secret": " ", "cookie_secret": None}) == ["cookie_secret", "client_secret"]


# -- what each user sees (AppTest, st.user seeded as a login would leave it)


@pytest.fixture
def login_env(monkeypatch, tmp_path) -> Path:
    corpus, index = make_index(tmp_path, {"nota.txt": NOTE})
    for name, value in {"BELEIDSWIJZER_INDEX": index, "BELEIDSWIJZER_CORPUS": corpus, "BELEIDSWIJZER_AUTH": "oidc"}.items():
        monkeypatch.setenv(name, str(value))
    for name in ("BELEIDSWIJZER_MODEL", "BELEIDSWIJZER_MANAGEMENT", "BELEIDSWIJZER_ROLES_CLAIM",
                 "BELEIDSWIJZER_OFFICER_GROUP", "BELEIDSWIJZER_BEHEERDER_GROUP"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    st.cache_resource.clear()
    yield corpus
    st.cache_resource.clear()


def app_as(user: dict | None, secrets: dict = SECRETS) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets = {k: dict(v) for k, v in secrets.items()}
    at.user = {"is_logged_in": False} if user is None else {"is_logged_in": True, **user}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def test_an_anonymous_visitor_sees_only_the_login_page(login_env):
    at = app_as(None)
    assert [t.value for t in at.title] == [NL["app_title"]]
    assert NL["auth_login_intro"] in [m.value for m in at.markdown]
    assert labels(at) == [NL["auth_login_button"]]
    assert not at.chat_input and not at.sidebar.caption


def test_an_officer_gets_the_officer_pages_and_not_beheer(login_env):
    at = app_as({"sub": "u-1", "name": "Olga Officier", "groups": ["officer"]})
    assert at.title[0].value == NL["chat_title"] and at.chat_input
    assert [c.value for c in at.sidebar.caption] == ["Ingelogd als Olga Officier (medewerker)"]
    assert NL["auth_logout"] in [b.label for b in at.sidebar.button]
    at.switch_page("app_pages/manage.py").run()  # a stale link: the page is hidden, its guard refuses
    assert [w.value for w in at.warning] == [NL["auth_manage_refused"]]
    assert NL["manage_title"] not in [t.value for t in at.title] and not at.file_uploader


def test_a_beheerder_gets_beheer(login_env):
    at = app_as({"sub": "u-2", "name": "Bert Beheerder", "groups": ["beheerder"]})
    assert [c.value for c in at.sidebar.caption] == ["Ingelogd als Bert Beheerder (medewerker, beheerder)"]
    at.switch_page("app_pages/manage.py").run()
    assert not at.exception and at.title[0].value == NL["manage_title"] and at.file_uploader


def test_a_beheerders_login_goes_into_the_audit_trail_once_an_officers_not(login_env, tmp_path, monkeypatch):
    from audit import open_store

    trail = tmp_path / "audit.jsonl"
    monkeypatch.setenv("BELEIDSWIJZER_AUDIT_LOG", str(trail))
    app_as({"sub": "u-1", "name": "Olga Officier", "groups": ["officer"]})
    assert not trail.exists() or not list(open_store(trail).events())
    at = app_as({"sub": "u-2", "name": "Bert Beheerder", "groups": ["beheerder"]})
    at.run()  # the same session again: recorded once
    logins = [e for e in open_store(trail).events() if e.action == "login"]
    assert [(e.subject, e.action) for e in logins] == [("u-2", "login")]
    assert open_store(trail).verify().problems == ()


def test_a_signed_in_user_without_a_role_is_told_so(login_env):
    at = app_as({"sub": "u-3", "name": "Gijs *Geen* Rol", "groups": ["andere"]})
    assert [w.value for w in at.warning] == [NL["auth_no_access"].format(name=r"Gijs \*Geen\* Rol")]
    assert labels(at) == [NL["auth_logout"]] and not at.chat_input


def test_roles_from_another_claim_and_group_names(login_env, monkeypatch):
    monkeypatch.setenv("BELEIDSWIJZER_ROLES_CLAIM", "roles")
    monkeypatch.setenv("BELEIDSWIJZER_BEHEERDER_GROUP", "IND-beheer")
    at = app_as({"sub": "u-4", "name": "Bea", "roles": ["IND-beheer"], "groups": ["officer"]})
    at.switch_page("app_pages/manage.py").run()
    assert at.title[0].value == NL["manage_title"]


def test_login_without_its_secrets_says_which_keys_are_missing(login_env):
    at = app_as(None, secrets={"auth": {"redirect_uri": "http://127.0.0.1:8501/oauth2callback"}})
    assert [e.value for e in at.error] == [NL["auth_not_configured"]]
    assert [c.value for c in at.caption] == ["cookie_secret, client_id, client_secret, server_metadata_url"]
    assert not at.button


def test_without_login_another_address_gets_no_beheer(login_env, monkeypatch):
    monkeypatch.setenv("BELEIDSWIJZER_AUTH", "none")
    monkeypatch.setattr(auth, "client_address", lambda: "192.168.1.20")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == NL["chat_title"]
    assert [i.value for i in at.sidebar.info] == [NL["auth_local_only"]]
    at.switch_page("app_pages/manage.py").run()
    assert [w.value for w in at.warning] == [NL["auth_local_only"]] and not at.file_uploader


def test_the_readme_secrets_example_has_every_key_the_login_needs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(# \.streamlit/secrets\.toml.*?)```", readme, re.S).group(1)
    assert auth.missing_secrets(tomllib.loads(block)["auth"]) == []
