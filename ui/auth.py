"""Who is using the app and what they may do: the signed-in user and their roles.

Roles: `officer` (chat, lookup, introduction, rule checks) and `beheerder` (also the management
page: uploads, replacements, removals, rebuilds). With BELEIDSWIJZER_AUTH=none (the local
default of `make app`) the server listens on 127.0.0.1 only and the one local user has both
roles; a session from any other address (a changed server.address) is an anonymous officer.
With `oidc` the user signs in through the configured OpenID Connect provider (st.login) and the
roles come from a claim of the ID token (BELEIDSWIJZER_ROLES_CLAIM).
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from ui import settings
from ui.i18n import t
from ui.settings import Settings
from ui.text import md_escape

OFFICER = "officer"
BEHEERDER = "beheerder"
ROLES = (OFFICER, BEHEERDER)
LOCAL_SUBJECT = "lokaal"  # the subject recorded for the local user of an app without login
REMOTE_SUBJECT = "anoniem"  # the subject of a session from another address in an app without login
# The [auth] keys of .streamlit/secrets.toml that Streamlit's login needs (its default provider).
REQUIRED_SECRETS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")


@dataclass(frozen=True)
class User:
    """A user of the app: `subject` identifies them in the audit trail (the ID token's `sub`)."""

    subject: str
    name: str
    roles: frozenset[str]

    @property
    def is_beheerder(self) -> bool:
        return BEHEERDER in self.roles


LOCAL_USER = User(LOCAL_SUBJECT, "Lokale gebruiker", frozenset(ROLES))
REMOTE_USER = User(REMOTE_SUBJECT, "Anonieme gebruiker", frozenset({OFFICER}))


def is_loopback(address: str | None) -> bool:
    """Whether a client address is this machine. Streamlit reports a loopback peer as None
    (st.context.ip_address); anything that is not an address string that parses is not loopback."""
    if address is None:
        return True
    if not isinstance(address, str):
        return False
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1, an IPv4 peer on a dual-stack socket
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def claim_values(claims: Mapping[str, object], claim: str) -> tuple[str, ...]:
    """The string values of a claim: a list, or one string as a list of one. A dotted name
    (realm_access.roles) reaches a nested claim unless a claim has that exact name."""
    value: object = claims.get(claim)
    if claim not in claims and "." in claim:
        value = claims
        for part in claim.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, (list, tuple)):
        return tuple(v.strip() for v in value if isinstance(v, str))
    return ()


def roles_from_claims(claims: Mapping[str, object], claim: str, officer_group: str, beheerder_group: str) -> frozenset[str]:
    """The roles that the values of `claim` grant: the beheerder group gives both roles, the
    officer group the officer role; values are compared exactly; nothing else grants a role."""
    values = set(claim_values(claims, claim))
    if beheerder_group in values:
        return frozenset(ROLES)
    if officer_group in values:
        return frozenset({OFFICER})
    return frozenset()


def user_from_claims(claims: Mapping[str, object], cfg: Settings) -> User:
    """The signed-in user from the ID token's claims (as st.user shows them)."""
    subject = str(claims.get("sub") or "")
    name = next((str(claims[k]) for k in ("name", "preferred_username", "email") if claims.get(k)), subject)
    roles = roles_from_claims(claims, cfg.roles_claim, cfg.officer_group, cfg.beheerder_group) if subject else frozenset()
    return User(subject, name, roles)


def missing_secrets(section: Mapping[str, object] | None) -> list[str]:
    """The keys of REQUIRED_SECRETS that the [auth] section of secrets.toml lacks or leaves blank."""
    section = section or {}
    return [key for key in REQUIRED_SECRETS if not str(section.get(key) or "").strip()]


def client_address() -> str | None:
    """The session's client address as Streamlit reports it (None for a loopback peer)."""
    return st.context.ip_address


def current_user(cfg: Settings | None = None) -> User | None:
    """The user of this session; None when nobody is signed in (only with a login)."""
    cfg = cfg or settings.load()
    if cfg.auth == "none":
        return LOCAL_USER if is_loopback(client_address()) else REMOTE_USER
    info = st.user.to_dict()
    if not info.get("is_logged_in"):
        return None
    return user_from_claims(info, cfg)


# -- what a session sees


def _auth_secrets() -> Mapping[str, object]:
    try:
        return st.secrets.get("auth") or {}
    except FileNotFoundError:  # no secrets.toml at all, or one that does not parse
        return {}


def gate(cfg: Settings) -> User:
    """The session's user if they have a role; otherwise the login page, the sentence that they
    have no access, or what the operator must configure, and the script stops."""
    if cfg.auth == "oidc" and (missing := missing_secrets(_auth_secrets())):
        st.error(t("auth_not_configured"))
        st.caption(", ".join(missing))
        st.stop()
    user = current_user(cfg)
    if user is None:
        st.title(t("app_title"))
        st.write(t("auth_login_intro"))
        if st.button(t("auth_login_button"), type="primary", icon=":material/login:"):
            st.login()
        st.stop()
    if not user.roles:
        st.title(t("app_title"))
        st.warning(t("auth_no_access", name=md_escape(user.name)))
        if st.button(t("auth_logout"), icon=":material/logout:"):
            st.logout()
        st.stop()
    return user


def sidebar(user: User, cfg: Settings) -> None:
    """Who is signed in and the logout button (oidc); why Beheer is missing (another address, no login)."""
    with st.sidebar:
        if cfg.auth == "oidc":
            roles = ", ".join(t(f"auth_role_{r}") for r in ROLES if r in user.roles)
            st.caption(t("auth_signed_in", name=md_escape(user.name), roles=roles))
            if st.button(t("auth_logout"), key="auth_logout", icon=":material/logout:"):
                st.logout()
        elif not user.is_beheerder:
            st.info(t("auth_local_only"))


def require_beheerder() -> User:
    """The management page's guard: a beheerder goes on; anyone else (a stale link, a session from
    another address) gets a sentence saying why, and the page stops."""
    cfg = settings.load()
    user = current_user(cfg)
    if user is not None and user.is_beheerder:
        return user
    st.warning(t("auth_local_only" if cfg.auth == "none" else "auth_manage_refused"))
    st.stop()
