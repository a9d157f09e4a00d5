"""Index management (BELEIDSWIJZER_MANAGEMENT=off hides it): the documents with their passages and
status, the build, files that could not be indexed, and adding a document with an incremental rebuild."""
from __future__ import annotations

import logging

import streamlit as st

from indexer.build import BuildLocked, NothingIndexed, scan
from indexer.parsers import SUPPORTED_SUFFIXES
from ui import feedback, index_guard, resources, settings, tables, uploads
from ui.build_runner import DiskFull
from ui.i18n import t
from ui.text import md_escape

log = logging.getLogger("beleidswijzer.app")
cfg = settings.load()
if not cfg.management:  # reached only by a stale link: the page is not in the navigation then
    st.info(t("manage_disabled"))
    st.stop()

st.title(t("manage_title"))


def rebuild() -> None:
    bar = st.progress(0.0, text=t("stage_model"))
    try:
        report = resources.build_index(cfg, index_guard.progress_callback(bar))
    except BuildLocked:
        st.warning(t("manage_busy"))
        return
    except NothingIndexed as exc:
        st.error(t("index_nothing"))
        st.caption(md_escape(str(exc)))
        return
    except DiskFull as exc:
        st.error(t("index_disk_full", index=md_escape(str(cfg.index_dir))))
        st.caption(md_escape(str(exc)))
        return
    except Exception as exc:  # the model or the index cannot be used: its message says what to do
        log.exception("index build failed")
        st.error(t("index_failed"))
        st.caption(md_escape(str(exc)))
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


# -- add a document
st.subheader(t("manage_add"))
with st.form("upload", clear_on_submit=True):
    upload = st.file_uploader(
        t("manage_upload", mb=cfg.max_upload_mb), type=[s.lstrip(".") for s in SUPPORTED_SUFFIXES],
        max_upload_size=cfg.max_upload_mb, key="upload_file",
    )  # fmt: skip
    replace = st.checkbox(t("manage_replace"), key="upload_replace")
    submitted = st.form_submit_button(t("manage_add_button"), icon=":material/upload_file:")
if submitted and upload is not None:
    data = upload.getvalue()
    problem = uploads.check(upload.name, data, cfg.max_upload_mb)
    stored = problem or uploads.store(cfg.upload_dir, upload.name, data, replace)
    if isinstance(stored, uploads.Problem):
        st.error(t(stored.key, **{k: md_escape(v) if isinstance(v, str) else v for k, v in stored.values.items()}))
    else:
        log.info("uploaded %s (%d bytes) to %s", stored.name, len(data), cfg.upload_dir)
        st.success(t("manage_saved", name=md_escape(stored.name)))
        rebuild()

if st.button(t("manage_rebuild"), help=t("manage_rebuild_help"), icon=":material/refresh:"):
    rebuild()

# -- the index
st.subheader(t("manage_index"))
manifest: dict = {}
if resources.current_build(cfg) is None:
    st.info(t("manage_no_index"))
else:
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
        tables.documents_table(library)
st.caption(md_escape(f"{t('manage_location')}: {cfg.index_dir}  ·  {t('manage_corpus')}: "
                     + ", ".join(str(c) for c in cfg.corpora)))  # fmt: skip

# -- files that could not be indexed: the last build's reasons, and files added since
st.subheader(t("manage_skipped"))
report = resources.last_report(cfg) or {}
if report:
    st.caption(t("manage_last_build", when=str(report.get("finished_at", ""))[:16].replace("T", " ")))
indexed = {f.get("path") for f in manifest.get("files", [])}
indexed_names = {f.get("file") for f in manifest.get("files", [])}
rows = [(s["file"], s["reason"], s["remedy"]) for s in report.get("skipped") or [] if s["file"] not in indexed_names]
files, _ = scan(list(cfg.corpora))
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

# -- officers' feedback (counts only; comments and questions stay in the local file)
st.subheader(t("manage_feedback"))
counts = feedback.counts(cfg.feedback_db)
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
st.caption(md_escape(f"{t('manage_feedback_file')}: {cfg.feedback_db}  ·  ")
           + (t("manage_feedback_questions_on") if cfg.store_questions else t("manage_feedback_questions_off")))  # fmt: skip
