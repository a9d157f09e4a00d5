"""The app's audit trail (audit/): the store the settings name (BELEIDSWIJZER_AUDIT_LOG: a file,
or a PostgreSQL database all replicas share, see ui.settings), the subject of the signed-in
user, recording corpus changes, builds and a beheerder's login, and the Beheer section that
shows, verifies and exports the trail (for a database: where it is, without the password).

A change is made only when the trail can be written (`ready` first), so no change goes unrecorded.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from audit import AuditStore, Event, Problem, Record, events, open_store
from audit.events import file_sha256
from audit.export import to_csv, to_jsonl
from audit.pgconn import SharedStateError
from indexer import store as index_store
from indexer.contract import is_dsn
from ui.i18n import t
from ui.settings import Settings
from ui.text import md_escape

if TYPE_CHECKING:
    from ui.auth import User

log = logging.getLogger("beleidswijzer.app")
ANONYMOUS = "anoniem"  # the subject when nobody is signed in
SHOWN = 50  # latest records shown on Beheer
_LOGIN_KEY = "_audit_login_recorded"


class AuditUnavailable(RuntimeError):
    """The audit trail cannot be written; nothing was changed. The message says what to do."""


def trail(cfg: Settings) -> AuditStore:
    return open_store(cfg.audit_log)


def subject(user: User | None) -> str:
    """Who the trail names: the login subject (the ID token's `sub`)."""
    return user.subject if user is not None else ANONYMOUS


def _unavailable(store: AuditStore, exc: OSError) -> AuditUnavailable:
    if isinstance(exc, SharedStateError):  # its message names the database (no password) and what to do
        return AuditUnavailable(str(exc))
    return AuditUnavailable(
        f"The audit trail {store.location} cannot be written ({exc.strerror or exc}). "
        "Let the app's user write that file and its folder, or point BELEIDSWIJZER_AUDIT_LOG at a file it can write."
    )


def ready(cfg: Settings) -> None:
    """AuditUnavailable unless the trail can be appended to (a file is created, mode 0600, if
    new; a database's tables likewise, when the database user may)."""
    store = trail(cfg)
    try:
        store.prepare()
    except OSError as exc:
        raise _unavailable(store, exc) from None


def record(cfg: Settings, event: Event) -> Record:
    """Append `event`; AuditUnavailable when the trail cannot be written."""
    store = trail(cfg)
    try:
        rec = store.append(event)
    except OSError as exc:
        raise _unavailable(store, exc) from None
    log.info("audit %s #%d by %s", rec.action, rec.seq, rec.subject)
    return rec


def record_login(user: User, cfg: Settings | None = None) -> bool:
    """Record a beheerder's login, once per session (the login calls this after every sign-in;
    an officer's login is not recorded). False, with the reason in the server log, when the
    trail cannot be written: the login itself goes on."""
    if user is None or not user.is_beheerder or st.session_state.get(_LOGIN_KEY) == user.subject:
        return False
    from ui import settings

    cfg = cfg or settings.load()
    try:
        record(cfg, events.login(user.subject, name=user.name, roles=sorted(user.roles)))
    except AuditUnavailable as exc:
        log.error("the login of %s was not recorded: %s", user.subject, exc)
        return False
    st.session_state[_LOGIN_KEY] = user.subject
    return True


def indexed_files(cfg: Settings) -> list[dict]:
    """Every document of the published build: file, document id and the sha256 of its bytes."""
    try:
        manifest = index_store.IndexReader(cfg.index_dir).manifest
    except index_store.IndexError_:
        return []
    return [events.document(str(f.get("file", "")), _sha256(Path(str(f.get("path", "")))), doc_id=f.get("doc_id"))
            for f in manifest.get("files", [])]  # fmt: skip


def _sha256(path: Path) -> str:
    """The file's sha256, or '' when it is gone or unreadable."""
    try:
        return file_sha256(path)
    except OSError:
        return ''


def record_rebuild(cfg: Settings, user: User | None, outcome: str, report: dict | None = None, message: str = "") -> None:
    """Record a build: its outcome and, when it succeeded, its counts and every document's hash."""
    files = indexed_files(cfg) if outcome == "ok" else None
    record(cfg, events.rebuild(subject(user), outcome=outcome, report=report, files=files, message=message))


# -- the Beheer section


def problem_text(p: Problem) -> str:
    return t(f"manage_audit_problem_{p.kind}", line=p.line, seq=p.seq, last=p.last, detail=md_escape(p.detail))


def summary(r: Record) -> str:
    """One line of what a record says (plain text: the table does not render Markdown)."""
    d = r.details
    short = lambda h: str(h or "")[:12]  # noqa: E731
    doc = lambda x: f"{x.get('file', '')} “{x.get('title', '')}” {short(x.get('sha256'))}"  # noqa: E731
    if r.action == "upload":
        return f"{d.get('file', '')} {short(d.get('sha256'))}"
    if r.action == "upload-refused":
        return f"{d.get('file', '')} ({d.get('reason', '')}): {', '.join(map(str, d.get('existing', [])))}"
    if r.action == "replace":
        return "; ".join(doc(o) for o in d.get("old", [])) + " → " + doc(d.get("new", {}))
    if r.action == "remove":
        return doc(d)
    if r.action == "rebuild":
        if d.get("outcome") != "ok":
            return f"{d.get('outcome', '')}: {d.get('message', '')}"
        return t("manage_audit_rebuild_summary", documents=d.get("documents", 0), passages=d.get("passages", 0),
                 added=len(d.get("added", [])), changed=len(d.get("changed", [])), removed=len(d.get("removed", [])))  # fmt: skip
    if r.action == "login":
        return ", ".join(map(str, d.get("roles", [])))
    return str(d)


def show(cfg: Settings) -> None:
    """The trail on Beheer: whether it is intact, the latest records, and downloads."""
    st.subheader(t("manage_audit"))
    log_ = trail(cfg)
    try:
        result = log_.verify()
        records = log_.events()
    except SharedStateError as exc:
        st.error(t("manage_audit_db_unreadable"))
        st.caption(md_escape(str(exc)))
        return
    except OSError as exc:
        st.error(t("manage_audit_unreadable", error=md_escape(exc.strerror or str(exc))))
        return
    if result.ok:
        st.success(t("manage_audit_ok", n=result.records, hash=result.last_hash[:16] or "—"))
    else:
        st.error(t("manage_audit_tampered", n=len(result.problems)))
        st.markdown("\n".join(f"- {problem_text(p)}" for p in result.problems))
    if records:
        st.dataframe(
            [{t("manage_audit_col_seq"): r.seq, t("manage_audit_col_at"): r.at.replace("T", " ").removesuffix("+00:00") + " UTC",
              t("manage_audit_col_subject"): r.subject, t("manage_audit_col_action"): action_label(r.action),
              t("manage_audit_col_what"): summary(r)} for r in reversed(records[-SHOWN:])],
            hide_index=True, width="stretch",
        )  # fmt: skip
        cols = st.columns(2)
        cols[0].download_button(t("manage_audit_download_jsonl"), to_jsonl(records), file_name="audit.jsonl",
                                mime="application/jsonl", icon=":material/download:", key="audit_jsonl")  # fmt: skip
        cols[1].download_button(t("manage_audit_download_csv"), to_csv(records), file_name="audit.csv",
                                mime="text/csv", icon=":material/download:", key="audit_csv")  # fmt: skip
    else:
        st.caption(t("manage_audit_empty"))
    if is_dsn(cfg.audit_log):  # access is the database's (its users and grants): a file mode does not apply
        st.caption(md_escape(f"{t('manage_database')}: {log_.location}  ·  ") + t("manage_audit_database_note"))
    else:
        st.caption(md_escape(f"{t('manage_feedback_file')}: {log_.location}  ·  ") + t("manage_audit_file_note"))


def action_label(action: str) -> str:
    key = f"manage_audit_action_{action.replace('-', '_')}"
    return t(key) if action in events.ACTIONS else action
