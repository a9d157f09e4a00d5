"""Who is using the app and what they may do: the signed-in user and their roles.

Roles: `officer` (chat, lookup, introduction, rule checks) and `beheerder` (also the management
page: uploads, replacements, removals, rebuilds). With BELEIDSWIJZER_AUTH=none (the local
default of `make app`) the server listens on 127.0.0.1 only and the one local user has both
roles; with `oidc` the user signs in through the configured OpenID Connect provider and the
roles come from a claim of the ID token.
"""
from __future__ import annotations

from dataclasses import dataclass

OFFICER = "officer"
BEHEERDER = "beheerder"
ROLES = (OFFICER, BEHEERDER)
LOCAL_SUBJECT = "lokaal"  # the subject recorded for the local user of an app without login


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


def current_user() -> User | None:
    """The user of this session; None when nobody is signed in (only with a login)."""
    return LOCAL_USER
