"""The app's settings, each from an environment variable with a default.

    BELEIDSWIJZER_INDEX          index folder (default: ./index, see indexer.config)
    BELEIDSWIJZER_CORPUS         corpus folder(s), separated by os.pathsep (default: ./corpus);
                                 uploads go to the first
    BELEIDSWIJZER_MODEL          encoder spec for building; default: the model that built the
                                 index, or e5-small for a new one (see indexer.encoders)
    BELEIDSWIJZER_MANAGEMENT     on/off: show the index management page (default on)
    BELEIDSWIJZER_MAX_UPLOAD_MB  largest document an operator may upload (default 50; the
                                 server limit in .streamlit/config.toml caps it)
    BELEIDSWIJZER_STORE          a postgresql:// DSN: the database that holds what all replicas of
                                 the app share: the index (PostgreSQL + pgvector; builds are made in
                                 the index folder and published there), and by default the feedback
                                 and the audit trail (each in tables of its own). Empty (default):
                                 all of them are files in the index folder, one per server
    BELEIDSWIJZER_FEEDBACK_DB    officers' feedback: a SQLite file, or a postgresql:// DSN (table
                                 beleidswijzer_feedback); default: BELEIDSWIJZER_STORE when set,
                                 else feedback.sqlite in the index folder
    BELEIDSWIJZER_STORE_QUESTIONS on/off: store the question text with feedback (default off:
                                 a question may hold personal data)
    BELEIDSWIJZER_AUTH           none (default: no login, Beheer only from 127.0.0.1) or oidc
                                 (login through the OpenID Connect provider of .streamlit/secrets.toml)
    BELEIDSWIJZER_ROLES_CLAIM    the ID-token claim that holds the user's groups or roles (default
                                 groups; a dotted path such as realm_access.roles reaches a nested one)
    BELEIDSWIJZER_OFFICER_GROUP  the claim value that makes a user an officer (default officer)
    BELEIDSWIJZER_BEHEERDER_GROUP the claim value that makes a user a beheerder, who is also an
                                 officer (default beheerder)
    BELEIDSWIJZER_AUDIT_LOG      the audit trail: a JSON Lines file, or a postgresql:// DSN (tables
                                 beleidswijzer_audit and _head); default: BELEIDSWIJZER_STORE when
                                 set, else audit.jsonl in the index folder; see audit/

An explicit BELEIDSWIJZER_FEEDBACK_DB or BELEIDSWIJZER_AUDIT_LOG wins over BELEIDSWIJZER_STORE. A
DSN is kept as a string (shown only without its password), a file as a Path.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from audit.store import AUDIT_FILE
from indexer.config import DEFAULT_CORPUS, SettingError, default_index_dir, default_store, shared_location
from indexer.contract import is_dsn
from indexer.pgstore import redact

SWITCH_VALUES = {
    "on": True, "true": True, "1": True, "yes": True, "aan": True, "ja": True,
    "off": False, "false": False, "0": False, "no": False, "uit": False, "nee": False,
}  # fmt: skip
DEFAULT_MAX_UPLOAD_MB = 50
AUTH_MODES = ("none", "oidc")  # none: no login, the app serves 127.0.0.1 only; oidc: st.login
DEFAULT_ROLES_CLAIM = "groups"
DEFAULT_OFFICER_GROUP = "officer"
DEFAULT_BEHEERDER_GROUP = "beheerder"
FEEDBACK_FILE = "feedback.sqlite"  # in the index folder, beside CURRENT (builds never touch it); so is AUDIT_FILE


class SettingsError(ValueError):
    """An environment variable has a value the app cannot use; the message names the allowed values."""


@dataclass(frozen=True)
class Settings:
    index_dir: Path
    corpora: tuple[Path, ...]
    model: str | None  # None: the index's own model (or the default for a first build)
    management: bool
    max_upload_mb: int
    feedback_db: Path | str = Path(FEEDBACK_FILE)  # a SQLite file, or a postgresql:// DSN
    store_questions: bool = False
    auth: str = "none"  # one of AUTH_MODES
    roles_claim: str = DEFAULT_ROLES_CLAIM
    officer_group: str = DEFAULT_OFFICER_GROUP
    beheerder_group: str = DEFAULT_BEHEERDER_GROUP
    audit_log: Path | str = Path(AUDIT_FILE)  # a JSON Lines file, or a postgresql:// DSN
    store: str | None = None  # BELEIDSWIJZER_STORE: the shared database, or None (files in the index folder)

    @property
    def location(self) -> str:
        """Where the app reads the index: the PostgreSQL DSN, else the index folder."""
        return self.store or str(self.index_dir)

    def __repr__(self) -> str:
        """As a dataclass shows itself, but a DSN without its password (a Settings may reach a log)."""
        shown = (f"{f.name}={_shown(getattr(self, f.name))!r}" for f in fields(self))
        return f"Settings({', '.join(shown)})"

    @property
    def upload_dir(self) -> Path:
        """Where uploaded documents are stored: the first corpus folder."""
        return self.corpora[0]


def _shown(value: object) -> object:
    return redact(value) if is_dsn(value) else value


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in SWITCH_VALUES:
        raise SettingsError(f"{name}={env[name]!r} is not a switch; use one of {', '.join(SWITCH_VALUES)}.")
    return SWITCH_VALUES[raw]


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name}={raw!r} must be a whole number of megabytes, at least 1 (default {default}).")
    return value


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return allowed[0]
    if raw not in allowed:
        raise SettingsError(f"{name}={env[name]!r} is not allowed; use one of {', '.join(allowed)} (default {allowed[0]}).")
    return raw


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    """A name such as a claim or a group: surrounding spaces are dropped; blank means the default."""
    return env.get(name, "").strip() or default


def _groups(env: Mapping[str, str]) -> tuple[str, str]:
    officer = _text(env, "BELEIDSWIJZER_OFFICER_GROUP", DEFAULT_OFFICER_GROUP)
    beheerder = _text(env, "BELEIDSWIJZER_BEHEERDER_GROUP", DEFAULT_BEHEERDER_GROUP)
    if officer == beheerder:
        raise SettingsError(
            f"BELEIDSWIJZER_OFFICER_GROUP and BELEIDSWIJZER_BEHEERDER_GROUP are both {officer!r}: every officer "
            f"would be a beheerder; give them different values (defaults {DEFAULT_OFFICER_GROUP}, {DEFAULT_BEHEERDER_GROUP})."
        )
    return officer, beheerder


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the environment (read on every script run, so tests can set them)."""
    env = os.environ if env is None else env
    corpus_raw = env.get("BELEIDSWIJZER_CORPUS", "").strip()
    corpora = tuple(Path(p).expanduser() for p in corpus_raw.split(os.pathsep) if p.strip()) or (DEFAULT_CORPUS,)
    index = env.get("BELEIDSWIJZER_INDEX", "").strip()
    index_dir = Path(index).expanduser() if index else default_index_dir()
    officer_group, beheerder_group = _groups(env)
    try:
        store = default_store(env)
    except SettingError as exc:
        raise SettingsError(str(exc)) from None
    return Settings(
        index_dir=index_dir,
        corpora=corpora,
        model=env.get("BELEIDSWIJZER_MODEL", "").strip() or None,
        management=_switch(env, "BELEIDSWIJZER_MANAGEMENT", True),
        max_upload_mb=_positive_int(env, "BELEIDSWIJZER_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB),
        feedback_db=shared_location(env.get("BELEIDSWIJZER_FEEDBACK_DB"), store, index_dir / FEEDBACK_FILE),
        store_questions=_switch(env, "BELEIDSWIJZER_STORE_QUESTIONS", False),
        auth=_choice(env, "BELEIDSWIJZER_AUTH", AUTH_MODES),
        roles_claim=_text(env, "BELEIDSWIJZER_ROLES_CLAIM", DEFAULT_ROLES_CLAIM),
        officer_group=officer_group,
        beheerder_group=beheerder_group,
        audit_log=shared_location(env.get("BELEIDSWIJZER_AUDIT_LOG"), store, index_dir / AUDIT_FILE),
        store=store,
    )
