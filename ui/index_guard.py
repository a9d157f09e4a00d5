"""The index guard: build the index on first start with a progress bar (in a child process, see
ui/build_runner.py), and hand a page the shared retriever or, when the index cannot be used, a
sentence saying what to do."""
from __future__ import annotations

import logging
import time
from typing import Callable

import streamlit as st

from indexer.build import BuildLocked, BuildProgress, DiskFull, NothingIndexed
from indexer.parsers import SUPPORTED_SUFFIXES
from indexer.progress import StageEta, duration, thousands
from retrieval.retriever import RetrievalError, Retriever
from ui import resources
from ui.auth import current_user
from ui.i18n import count, t
from ui.settings import Settings
from ui.text import md_escape

log = logging.getLogger("beleidswijzer.app")


def progress_callback(bar, clock: Callable[[], float] = time.monotonic) -> BuildProgress:
    """A build progress callback that updates an st.progress bar (at most ~10 times a second);
    while embedding, with about how long the rest takes once that is known (indexer.progress)."""
    last = [float("-inf")]
    stages = {"model": 0.0, "scan": 0.0, "parse": 0.05, "embed": 0.15, "write": 0.93, "publish": 0.95}
    eta = StageEta(clock)

    def progress(stage: str, done: int, total: int, detail: str) -> None:
        left = eta.update(done, total) if stage == "embed" else None  # every step counts, shown or not
        now = clock()
        if now - last[0] < 0.1 and done < total:
            return
        last[0] = now
        base = stages.get(stage, 0.0)
        share = {"parse": 0.10, "embed": 0.78, "write": 0.02, "publish": 0.05}.get(stage, 0.0)
        value = base + share * (done / total if total else 1.0)
        bar.progress(min(value, 1.0), text=stage_text(stage, done, total, detail, left))

    return progress


def stage_text(stage: str, done: int, total: int, detail: str, seconds_left: float | None = None) -> str:
    """The progress bar's line for a build stage, in the session's language; the embed stage's
    counts with thousands separated and, when given, the time left."""
    if stage != "embed":
        return t(f"stage_{stage}", done=done, total=total, detail=md_escape(detail[:40]))
    sep = t("thousands_sep")
    done_s, total_s = thousands(done, sep), thousands(total, sep)
    if seconds_left is None:
        return t("stage_embed", done=done_s, total=total_s)
    units = tuple(t("duration_units").split("|"))
    return t("stage_embed_eta", done=done_s, total=total_s, left=duration(seconds_left, units))  # type: ignore[arg-type]


def ensure_index(cfg: Settings) -> None:
    """First start: build the index from the corpus with a progress bar, then continue. When the
    PostgreSQL store cannot be reached, say so and stop: nothing is built for a store that is down."""
    try:
        if resources.current_build(cfg) is not None:
            return
    except RetrievalError as exc:
        log.error("%s", exc)
        st.error(t("index_unusable"))
        st.caption(md_escape(str(exc)))
        st.stop()
    note = st.empty()
    note.info(t("index_building", corpus=md_escape(", ".join(str(c) for c in cfg.corpora))))
    bar = st.progress(0.0, text=t("stage_model"))
    try:
        report = resources.build_index(cfg, progress_callback(bar), user=current_user())
    except BuildLocked:
        st.info(t("index_busy"))
        time.sleep(2)
        st.rerun()
    except Exception as exc:  # the model or a file system error: say so, never a traceback
        build_failed(cfg, exc)
        return
    bar.empty()
    note.empty()
    st.success(t("index_built", documents=count("n_documents", report.documents),
                 passages=count("n_passages", report.passages), seconds=report.seconds))  # fmt: skip
    if report.skipped:
        st.warning(t("index_skipped", n=len(report.skipped)))


def build_failed(cfg: Settings, exc: Exception) -> None:
    """What the officer sees of a build that failed (call it in the `except`): nothing could be
    indexed, the disk is full, or another error (the model, the file system), each with the
    build's own message; the server log keeps it."""
    if isinstance(exc, NothingIndexed):
        log.error("%s", exc)
        st.error(t("index_nothing", types=", ".join(SUPPORTED_SUFFIXES)))
    elif isinstance(exc, DiskFull):
        log.error("%s", exc)
        st.error(t("index_disk_full", index=md_escape(str(cfg.index_dir))))
    else:
        log.exception("index build failed")
        st.error(t("index_failed"))
    st.caption(md_escape(str(exc)))


def retriever_or_stop(cfg: Settings) -> Retriever:
    """The shared retriever; if the index cannot be used, a sentence saying what to do, then stop."""
    try:
        with st.spinner(t("loading_index")):
            return resources.retriever(cfg)
    except RetrievalError as exc:
        log.error("%s", exc)
        st.error(t("index_unusable"))
        st.caption(md_escape(str(exc)))
    except Exception as exc:  # e.g. the model folder is missing: its message says how to provision it
        log.exception("the model or index could not be loaded")
        st.error(t("model_failed"))
        st.caption(md_escape(str(exc)))
    st.stop()
    raise AssertionError  # st.stop() does not return


def retriever_or_none(cfg: Settings) -> Retriever | None:
    """The shared retriever, or None (with a note) when there is no usable index: a rule check
    still runs, its sources are then shown as text."""
    try:
        with st.spinner(t("loading_index")):
            return resources.retriever(cfg)
    except Exception:
        log.exception("the index could not be loaded for the rule page")
        st.info(t("rule_no_index"))
        return None
