"""The officer's app on the PostgreSQL store (BELEIDSWIJZER_STORE), through AppTest with the
fake encoder: the first start builds the index and publishes it to PostgreSQL; another replica
(an app with its own index folder and fresh caches) answers from the same database; a rebuild
from the management page reaches it; a database that is down is a sentence, not a traceback."""
from __future__ import annotations

import pytest
import streamlit as st

from retrieval.fusion import Params
from tests.test_app import DIRECTIVE, NL, NOTE, ask, citations, start, thresholds

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    monkeypatch.setattr(Params, "for_model", thresholds(0.05))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def _replica(monkeypatch, tmp_path, name, corpus, dsn):
    """Settings of one replica: its own index folder (the builder's working copy), one store."""
    monkeypatch.setenv("BELEIDSWIJZER_INDEX", str(tmp_path / name))
    monkeypatch.setenv("BELEIDSWIJZER_CORPUS", str(corpus))
    monkeypatch.setenv("BELEIDSWIJZER_STORE", dsn)
    monkeypatch.setenv("BELEIDSWIJZER_MODEL", "fake")
    monkeypatch.delenv("BELEIDSWIJZER_MANAGEMENT", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()


def test_replicas_share_the_index_in_postgresql(tmp_path, monkeypatch, pg_dsn):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "nota.txt").write_text(NOTE, encoding="utf-8")
    _replica(monkeypatch, tmp_path, "index-a", corpus, pg_dsn)
    at = start()  # replica A: no build in the database yet, so it builds and publishes one
    assert any("1 document, " in s.value for s in at.success)
    at = ask(at, "besluit- en vertrekmoratorium")
    assert citations(at)[0].startswith("Nota moratorium dienstplichtigen")

    _replica(monkeypatch, tmp_path, "index-b", corpus, pg_dsn)
    b = start()  # replica B: its index folder is empty, but the database has the build
    assert not b.success and not (tmp_path / "index-b" / "CURRENT").exists()
    b = ask(b, "besluit- en vertrekmoratorium")
    assert citations(b)[0].startswith("Nota moratorium dienstplichtigen")

    # a beheerder on replica A adds a document and rebuilds; replica B answers from it
    _replica(monkeypatch, tmp_path, "index-a", corpus, pg_dsn)
    a = start()
    a.switch_page("app_pages/manage.py").run()
    a.file_uploader(key="upload_file").upload("richtlijn.md", DIRECTIVE.encode(), "text/markdown")
    next(x for x in a.button if x.label == NL["manage_add_button"]).click().run()
    assert not a.exception and not a.error, [e.value for e in a.error]
    _replica(monkeypatch, tmp_path, "index-b", corpus, pg_dsn)
    b = ask(start(), "examination procedure six months")
    assert citations(b)[0] == "Asylum Procedures Directive, art. 31 lid 3"


def test_a_database_that_is_down_is_said_not_built_for(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "nota.txt").write_text(NOTE, encoding="utf-8")
    _replica(monkeypatch, tmp_path, "index", corpus, "postgresql://beleidswijzer:geheim@127.0.0.1:1/db")
    at = start()
    assert [e.value for e in at.error] == [NL["index_unusable"]]
    shown = " ".join(c.value for c in at.caption).replace("\\", "")  # captions are Markdown-escaped
    assert "cannot be reached" in shown and "scripts/pg.sh start" in shown and "geheim" not in shown
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing was built for a store that is down
