"""Index management (BELEIDSWIJZER_MANAGEMENT=off hides it; a beheerder's page): the documents with
their passages and status, the build, files that could not be indexed, the audit trail, and adding,
replacing or removing a document with an incremental rebuild. No change to the corpus is silent:
a replacement or removal is shown before it takes effect, and every change is in the audit trail."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, TypeVar

import streamlit as st

from audit import Event, events
from audit.pgconn import SharedStateError
from indexer.build import BuildLocked, scan
from indexer.contract import is_dsn
from indexer.parsers import SUPPORTED_SUFFIXES
from indexer.pgstore import redact
from retrieval.retriever import RetrievalError
from ui import audit_trail, feedback, index_guard, resources, settings, tables, uploads
from ui.auth import require_beheerder
from ui.i18n import t
from ui.text import md_escape

log = logging.getLogger("beleidswijzer.app")
cfg = settings.load()
if not cfg.management:  # reached only by a stale link: the page is not in the navigation then
    st.info(t("manage_disabled"))
    st.stop()
user = require_beheerder()  # anyone else (a stale link, another address) gets a sentence saying why
who = audit_trail.subject(user)
PENDING_REPLACE, PENDING_REMOVE = "manage_pending_replace", "manage_pending_remove"
T = TypeVar("T")

st.title(t("manage_title"))


def rebuild() -> None:
    bar = st.progress(0.0, text=t("stage_model"))
    try:
        report = resources.build_index(cfg, index_guard.progress_callback(bar), user=user)
    except audit_trail.AuditUnavailable as exc:
        st.error(t("manage_audit_unwritable"))
        st.caption(md_escape(str(exc)))
        return
    except BuildLocked:
        st.warning(t("manage_busy"))
        return
    except Exception as exc:  # nothing indexed, a full disk, the model or the index: its message says what to do
        index_guard.build_failed(cfg, exc)
        return
    finally:
        bar.empty()
    if report.changed_anything:
        st.success(t("manage_build_done", seconds=report.seconds, added=len(report.added),
                     changed=len(report.changed), removed=len(report.removed)))  # fmt: skip
    elif report.lexical_rewritten:  # an index written by an older version: its search terms were rebuilt
        st.success(t("manage_build_terms", seconds=report.seconds))
    else:
        st.info(t("manage_build_nochange"))


def refuse(problem: uploads.Problem) -> None:
    st.error(t(problem.key, **{k: md_escape(v) if isinstance(v, str) else v for k, v in problem.values.items()}))


def audit(event: Event, change: bool = True) -> None:
    """Record what happened; if the trail fails now (it was writable a moment ago), the server log
    keeps the event, and a change that was made says so."""
    try:
        audit_trail.record(cfg, event)
    except audit_trail.AuditUnavailable as exc:
        log.error("%s NOT recorded: %s by %s: %s", exc, event.action, event.subject, event.details)
        if change:
            st.error(t("manage_audit_missed"))
            st.caption(md_escape(str(exc)))


def writable() -> bool:
    """Whether a change may be made: only when the audit trail can record it."""
    try:
        audit_trail.ready(cfg)
        return True
    except audit_trail.AuditUnavailable as exc:
        st.error(t("manage_audit_unwritable"))
        st.caption(md_escape(str(exc)))
        return False


def indexed_titles() -> dict[str, str]:
    """The index's title per source file (absolute path), so a comparison shows what officers see."""
    try:
        return {d.path: d.title for d in resources.retriever(cfg).library.documents()}
    except Exception:  # no usable index: titles are read from the files
        return {}


def indexed_title(path: Path) -> str | None:
    return indexed_titles().get(str(path.resolve()))


def add(name: str, data: bytes, replace: bool) -> None:
    """An upload: stored when its id and name are new; otherwise refused, or, when the beheerder
    chose to replace, the comparison to confirm."""
    problem = uploads.check(name, data, cfg.max_upload_mb)
    if problem:
        refuse(problem)
        return
    safe = uploads.sanitise_name(name) or name
    found = uploads.conflicts(cfg.corpora, safe)

    def refused(reason: str) -> None:
        existing = [f.name for f in found]
        audit(events.upload_refused(who, file=safe, sha256=uploads.sha256(data), existing=existing, reason=reason), change=False)

    if found and not replace:
        refuse(uploads.exists_problem(found))
        refused("exists")
        return
    if not found:
        stored = change(lambda: uploads.store(cfg.corpora, safe, data))
        if stored is None:
            return
        audit(events.upload(who, file=stored.name, folder=str(stored.parent), sha256=uploads.sha256(data), size=len(data)))
        log.info("uploaded %s (%d bytes) to %s by %s", stored.name, len(data), stored.parent, who)
        st.success(t("manage_saved", name=md_escape(stored.name)))
        rebuild()
        return
    if not writable():
        return
    rep = uploads.prepare_replacement(cfg.corpora, safe, data, indexed_title)
    if isinstance(rep, uploads.Problem):
        refuse(rep)
        refused({"manage_replace_id_case": "id-case", "manage_replace_unreadable": "unreadable"}.get(rep.key, rep.key))
        return
    st.session_state[PENDING_REPLACE] = rep


def change(make: Callable[[], T | uploads.Problem]) -> T | None:
    """Make a change to the corpus when the audit trail can record it: what `make` returns, or
    None when the change was refused or failed (and was rolled back), the reason shown."""
    if not writable():
        return None
    try:
        done = make()
    except OSError as exc:
        st.error(t("manage_change_failed", error=md_escape(exc.strerror or str(exc))))
        return None
    if isinstance(done, uploads.Problem):
        refuse(done)
        return None
    return done


def confirm_replacement(rep: uploads.Replacement) -> None:
    done = change(lambda: uploads.apply_replacement(cfg.corpora, rep))
    if done is None:
        return
    target, aside = done
    audit(events.replace(
        who, doc_id=rep.doc_id, folder=str(target.parent), moved_to=str(aside),
        old=[events.document(e.name, e.sha256, e.title) for e in rep.old],
        new=events.document(target.name, rep.sha256, rep.title),
    ))  # fmt: skip
    log.info("replaced %s by %s (by %s); old file(s) in %s", ", ".join(e.name for e in rep.old), target.name, who, aside)
    st.success(t("manage_replaced", old=md_escape(", ".join(e.name for e in rep.old)), name=md_escape(target.name),
                 removed=md_escape(str(aside))))  # fmt: skip
    rebuild()


def confirm_removal(doc: uploads.Existing) -> None:
    aside = change(lambda: uploads.remove(cfg.corpora, doc))
    if aside is None:
        return
    audit(events.remove(who, doc=events.document(doc.name, doc.sha256, doc.title, doc.doc_id),
                        folder=str(doc.path.parent), moved_to=str(aside)))  # fmt: skip
    log.info("removed %s (by %s) to %s", doc.name, who, aside)
    st.success(t("manage_removed", file=md_escape(doc.name), removed=md_escape(str(aside))))
    rebuild()


def confirmation(state_key: str, name: str, label: str, icon: str, show: Callable[[], object]) -> bool:
    """A pending change in a bordered panel with Confirm and Cancel: True once confirmed (the
    pending change is then forgotten, as after Cancel), False while waiting or after Cancel."""
    panel = st.empty()
    with panel.container(border=True):
        show()
        cols = st.columns(2)
        confirmed = cols[0].button(label, key=f"{name}_confirm", type="primary", icon=icon)
        cancelled = cols[1].button(t("manage_cancel"), key=f"{name}_cancel")
    if not (confirmed or cancelled):
        return False
    del st.session_state[state_key]
    panel.empty()
    if cancelled:
        st.info(t("manage_cancelled"))
    return confirmed


def comparison(rep: uploads.Replacement) -> list[dict]:
    """Old and new side by side (plain-text cells: titles come from documents)."""
    rows = [(t("manage_replace_old"), e.name, e.title, e.sha256) for e in rep.old]
    rows.append((t("manage_replace_new"), rep.name, rep.title, rep.sha256))
    return [{t("manage_replace_col_role"): role, t("col_file"): name, t("col_title"): title, "sha256": sha}
            for role, name, title, sha in rows]  # fmt: skip


# -- add a document (a replacement is shown and confirmed before it takes effect)
st.subheader(t("manage_add"))
with st.form("upload", clear_on_submit=True):
    upload = st.file_uploader(
        t("manage_upload", mb=cfg.max_upload_mb), type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
        max_upload_size=cfg.max_upload_mb, key="upload_file",
    )  # fmt: skip
    replace = st.checkbox(t("manage_replace"), key="upload_replace")
    submitted = st.form_submit_button(t("manage_add_button"), icon=":material/upload_file:")
if submitted and upload is not None:
    st.session_state.pop(PENDING_REPLACE, None)
    add(upload.name, upload.getvalue(), replace)

pending: uploads.Replacement | None = st.session_state.get(PENDING_REPLACE)
if pending is not None:
    removed = uploads.removed_folder(uploads.corpus_of(cfg.corpora, pending.old[0].path))
    answer = confirmation(PENDING_REPLACE, "replace", t("manage_replace_confirm"), ":material/swap_horiz:", lambda: (
        st.warning(t("manage_replace_check", id=md_escape(pending.doc_id), removed=md_escape(str(removed)))),
        st.dataframe(comparison(pending), hide_index=True, width="stretch"),
    ))  # fmt: skip
    if answer:
        confirm_replacement(pending)

# -- remove a document (moved aside into .removed/, never deleted)
st.subheader(t("manage_remove"))
files, _ = scan(list(cfg.corpora))
if not files:
    st.caption(t("manage_remove_none"))
else:
    titles = indexed_titles()
    by_key = {str(f): f for f in files}

    def label(key: str) -> str:
        title = titles.get(str(by_key[key].resolve()))
        return f"{by_key[key].name} — {title}" if title else by_key[key].name

    choice = st.selectbox(t("manage_remove_pick"), list(by_key), key="remove_pick", index=None, format_func=label)
    if st.button(t("manage_remove_button"), key="remove_ask", icon=":material/delete:", disabled=choice is None):
        try:
            st.session_state[PENDING_REMOVE] = uploads.prepare_removal(cfg.corpora, by_key[choice], indexed_title)
        except OSError:  # it went or became unreadable since the list was drawn
            st.error(t("manage_remove_changed", file=md_escape(by_key[choice].name)))
doomed: uploads.Existing | None = st.session_state.get(PENDING_REMOVE)
if doomed is not None:
    removed = uploads.removed_folder(uploads.corpus_of(cfg.corpora, doomed.path))
    answer = confirmation(PENDING_REMOVE, "remove", t("manage_remove_confirm"), ":material/delete:", lambda: st.warning(
        t("manage_remove_check", title=md_escape(doomed.title), file=md_escape(doomed.name), sha=doomed.sha256,
          removed=md_escape(str(removed)))
    ))  # fmt: skip
    if answer:
        confirm_removal(doomed)

if st.button(t("manage_rebuild"), help=t("manage_rebuild_help"), icon=":material/refresh:"):
    rebuild()

# -- the index
st.subheader(t("manage_index"))
manifest: dict = {}
try:
    current = resources.current_build(cfg)
except RetrievalError as exc:  # the PostgreSQL store is down: say so; a rebuild above reports it too
    current = ""
    st.error(t("index_unusable"))
    st.caption(md_escape(str(exc)))
if current is None:
    st.info(t("manage_no_index"))
elif current:
    try:
        retriever = resources.retriever(cfg)
    except Exception as exc:  # the operator must still be able to rebuild from this page
        log.exception("index unusable")
        st.error(t("index_unusable"))
        st.caption(md_escape(str(exc)))
    else:
        library = retriever.library
        manifest = library.manifest
        if retriever.outdated_terms:
            st.warning(t("manage_outdated_terms"))
        cols = st.columns(4)
        cols[0].metric(t("manage_documents"), manifest.get("documents", len(library.documents())))
        cols[1].metric(t("manage_passages"), manifest.get("passages", len(library.passages)))
        cols[2].markdown(f"{t('manage_model')}  \n`{manifest.get('model', '?')}`")
        cols[3].markdown(f"{t('manage_built_at')}  \n`{str(manifest.get('built_at', '?'))[:16].replace('T', ' ')}`")
        tables.documents_table(library, files=True)
where = f"{cfg.index_dir}" + (f"  →  {redact(cfg.store)}" if cfg.store else "")
st.caption(md_escape(f"{t('manage_location')}: {where}  ·  {t('manage_corpus')}: "
                     + ", ".join(str(c) for c in cfg.corpora)))  # fmt: skip

# -- files that could not be indexed: the last build's reasons, and files added since
st.subheader(t("manage_skipped"))
report = resources.last_report(cfg) or {}
if report:
    st.caption(t("manage_last_build", when=str(report.get("finished_at", ""))[:16].replace("T", " ")))
indexed = {f.get("path") for f in manifest.get("files", [])}
indexed_names = {f.get("file") for f in manifest.get("files", [])}
rows = [(s["file"], s["reason"], s["remedy"]) for s in report.get("skipped") or [] if s["file"] not in indexed_names]
files, _ = scan(list(cfg.corpora))  # again: a change above may have moved files
named = {r[0] for r in rows}
rows += [(f.name, t("manage_not_yet"), t("manage_not_yet_remedy"))
         for f in files if str(f.resolve()) not in indexed and f.name not in named and manifest]  # fmt: skip
if rows:
    st.dataframe(
        [{t("manage_skipped_col_file"): f, t("manage_skipped_col_reason"): r, t("manage_skipped_col_remedy"): m}
         for f, r, m in rows],
        hide_index=True, width="stretch",
    )  # fmt: skip
else:
    st.caption(t("manage_skipped_none"))

audit_trail.show(cfg)

# -- officers' feedback (counts only; comments and questions stay in the store)
st.subheader(t("manage_feedback"))
try:
    counts = feedback.counts(cfg.feedback_db)
except SharedStateError as exc:  # the shared database: its message says why and what to do
    st.error(t("manage_feedback_db_unreadable"))
    st.caption(md_escape(str(exc)))
    counts = None
if counts is not None:
    cols = st.columns(4)
    cols[0].metric(t("manage_feedback_total"), counts["all"].total)
    cols[1].metric(t("manage_feedback_useful"), counts["all"].useful)
    cols[2].metric(t("manage_feedback_not_useful"), counts["all"].not_useful)
    cols[3].metric(t("manage_feedback_comments"), counts["all"].with_comment)
    st.table(
        [{t("manage_feedback_kind"): t(f"manage_feedback_kind_{kind}"), t("manage_feedback_total"): c.total,
          t("manage_feedback_useful"): c.useful, t("manage_feedback_not_useful"): c.not_useful,
          t("manage_feedback_comments"): c.with_comment} for kind, c in counts.items() if kind in feedback.KINDS],
        hide_index=True,
    )  # fmt: skip
where = t("manage_database") if is_dsn(cfg.feedback_db) else t("manage_feedback_file")
st.caption(md_escape(f"{where}: {feedback.describe(cfg.feedback_db)}  ·  ")
           + (t("manage_feedback_questions_on") if cfg.store_questions else t("manage_feedback_questions_off")))  # fmt: skip
