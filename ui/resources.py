"""What the app shares across sessions: the encoder and the retriever, loaded once per server
process (st.cache_resource), and index builds with a progress callback.

A session holds only its chat (st.session_state). A rebuild runs in a child process
(ui/build_runner.py: the server neither parses documents nor loads the model for it), publishes a
new build folder (and, with BELEIDSWIJZER_STORE, the build in PostgreSQL) and is recorded in the
audit trail; the retriever cache is keyed by the build's name, so the next question uses the new
index, in every replica that reads the same store.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING

import streamlit as st

from indexer import store
from indexer.stores import open_store
from indexer.build import BuildProgress, DiskFull, NothingIndexed
from indexer.encoders import Encoder, get_encoder
from retrieval.retriever import RetrievalError, Retriever
from ui import audit_trail, build_runner
from ui.build_runner import BuildFailed, BuildResult
from ui.settings import Settings

if TYPE_CHECKING:
    from ui.auth import User

log = logging.getLogger("beleidswijzer.app")
LAST_REPORT = "last_build.json"  # beside CURRENT in the index folder: the app's record of the last build


@st.cache_resource(show_spinner=False)
def _encoders() -> tuple[dict[str | None, Encoder], threading.Lock]:
    return {}, threading.Lock()


def encoder(spec: str | None) -> Encoder:
    """The retriever's encoder for a spec (None: the default model); one per model per process
    (builds load theirs in the build process).

    Registered under the spec asked for and under the one it reports (None -> 'e5-small'), so
    retrievers asking by either name share one model.
    """
    known, lock = _encoders()
    with lock:
        if spec not in known:
            enc = get_encoder(spec)
            resolved = getattr(enc, "spec", None)
            known[spec] = known.setdefault(resolved, enc) if resolved else enc
        return known[spec]


WARM_UP_QUERY = "beleid"


@st.cache_resource(show_spinner=False, max_entries=2)
def _retriever(location: str, build_name: str, spec: str | None) -> Retriever:
    r = Retriever(location, encoder=encoder(spec))
    # The encoder loads its model on first use: do that now, in the background, while the
    # officer types the first question (the encoder loads under its own lock, or under the
    # retriever's for encoders that are not thread-safe, so a question asked meanwhile waits
    # for the same load instead of starting a second one).
    threading.Thread(target=_warm_up, args=(r,), name="beleidswijzer-warm-up", daemon=True).start()
    return r


def _warm_up(r: Retriever) -> None:
    try:
        r.query_vector(WARM_UP_QUERY)
    except Exception:  # the first real question reports the problem to the officer
        log.exception("warming up the model failed")


@st.cache_resource(show_spinner=False, max_entries=4)
def _manifest(location: str, build_name: str) -> dict:
    reader = open_store(location)
    try:
        return reader.manifest
    finally:
        reader.close()


# How long a replica trusts its answer to "which build is current?" in PostgreSQL before it asks
# again: a new build reaches every replica within this time, and a page run costs no query.
STORE_POLL_SECONDS = 2.0


@st.cache_data(show_spinner=False, ttl=STORE_POLL_SECONDS, max_entries=4)
def _pg_current(dsn: str) -> str | None:
    from indexer.pgstore import current_name

    return current_name(dsn)


def current_build(cfg: Settings) -> str | None:
    """Name of the published build, or None when there is no index yet; RetrievalError when the
    PostgreSQL store (BELEIDSWIJZER_STORE) cannot be reached."""
    if cfg.store:
        try:
            return _pg_current(cfg.store)
        except store.IndexError_ as exc:
            raise RetrievalError(str(exc)) from None
    folder = store.current_build(cfg.index_dir)
    return folder.name if folder else None


def model_spec(cfg: Settings, build_name: str | None) -> str | None:
    """The setting's model, else the one that built the index (as the Retriever chooses it)."""
    if cfg.model or build_name is None:
        return cfg.model
    try:
        return _manifest(cfg.location, build_name).get("model_spec") or None
    except store.IndexError_:
        return None


def _no_index(cfg: Settings) -> RetrievalError:
    if cfg.store:
        from indexer.pgstore import no_build

        return RetrievalError(no_build(cfg.store))
    return RetrievalError(f"No index found in {cfg.index_dir}. {store.REBUILD_HINT.format(index=cfg.index_dir)}")


def retriever(cfg: Settings) -> Retriever:
    """The retriever for the current build; RetrievalError when there is no usable index."""
    name = current_build(cfg)
    if name is None:
        raise _no_index(cfg)
    return _retriever(cfg.location, name, model_spec(cfg, name))


def build_index(cfg: Settings, progress: BuildProgress | None = None, user: User | None = None) -> BuildResult:
    """Build or update the index from the corpus folders in a child process (incremental, atomic),
    keep its report and record the build, with `user`, in the audit trail.

    Raises AuditUnavailable (before anything is built), BuildLocked, NothingIndexed, DiskFull or
    BuildFailed (the model or the index cannot be used); each message says what to do.
    """
    audit_trail.ready(cfg)
    say = progress or (lambda *a: None)
    say("model", 0, 1, "")
    try:
        result = build_runner.run(list(cfg.corpora), cfg.index_dir, model_spec(cfg, current_build(cfg)), say,
                                  store=cfg.store)  # fmt: skip
    except (NothingIndexed, DiskFull, BuildFailed) as exc:
        outcome = "nothing-indexed" if isinstance(exc, NothingIndexed) else "disk-full" if isinstance(exc, DiskFull) else "failed"
        _record_build(cfg, user, outcome, message=str(exc))
        raise
    save_report(cfg, result.report)
    _pg_current.clear()  # this replica sees its own build at once
    log.info("index build: %s", json.dumps(result.report, ensure_ascii=False))
    _record_build(cfg, user, "ok", result.report)
    return result


def _record_build(cfg: Settings, user: User | None, outcome: str, report: dict | None = None, message: str = "") -> None:
    """The build in the audit trail. The trail was writable a moment ago (ready()); if it fails
    now, the build has happened all the same: the server log keeps what was not recorded."""
    try:
        audit_trail.record_rebuild(cfg, user, outcome, report, message)
    except audit_trail.AuditUnavailable as exc:
        log.error("%s The build (%s, by %s) was NOT recorded: %s", exc, outcome, audit_trail.subject(user),
                  json.dumps(report or {"message": message}, ensure_ascii=False))  # fmt: skip


def save_report(cfg: Settings, report: dict) -> None:
    data = {**report, "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = cfg.index_dir / f".{LAST_REPORT}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(cfg.index_dir / LAST_REPORT)


def last_report(cfg: Settings) -> dict | None:
    """The report of the last build the app ran on this index (skipped files with reasons)."""
    try:
        return json.loads((cfg.index_dir / LAST_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@st.cache_resource(show_spinner=False, max_entries=2)
def _glossary(location: str, build_name: str, spec: str | None) -> list:
    from retrieval.glossary import build_glossary

    return build_glossary(_retriever(location, build_name, spec).library.passages)


def glossary(cfg: Settings) -> list:
    """The corpus glossary (retrieval.glossary), built once per index build."""
    name = current_build(cfg)
    if name is None:
        raise _no_index(cfg)
    return _glossary(cfg.location, name, model_spec(cfg, name))
