"""The store contract (indexer.contract): the embedded store and PostgreSQL + pgvector answer
the same fixtures identically; publishing is atomic under a concurrent reader; an unreachable
database or a build of another model is a clear error. Needs a PostgreSQL server: the
`pg_server` fixture (tests/conftest.py) uses BELEIDSWIJZER_TEST_PG or starts scripts/pg.sh."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from indexer import pgstore
from indexer.build import build
from indexer.contract import PassageStore
from indexer.encoders.fake import FakeEncoder
from indexer.store import IndexError_, IndexReader, current_build
from indexer.stores import open_store
from retrieval.retriever import RetrievalError, Retriever
from tests.conftest import REPO, comparable_result
from tests.test_retrieval import LAW, NOTE, OLD_VC
from tests.test_xml_parsers import VB

pytestmark = pytest.mark.postgres

EXTRA = {
    "kamerbrief.md": """---
title: Kamerbrief verlenging moratorium
date: 2022-12-13
valid_from: 2022-12-29
valid_until: 2023-06-29
---
Het besluit- en vertrekmoratorium voor Russische dienstplichtigen wordt met een half jaar verlengd.
Dienstweigeraars die vrezen voor vervolging kunnen asiel aanvragen; de IND beoordeelt elke aanvraag individueel.
""",
    "richtlijn.md": """---
title: Procedurerichtlijn
date: 2013-06-26
---
Artikel 31
3. De lidstaten zorgen ervoor dat de behandelingsprocedure binnen zes maanden na de indiening van het verzoek wordt afgerond.
Artikel 46
1. De lidstaten zorgen ervoor dat verzoekers het recht hebben op een daadwerkelijk rechtsmiddel bij een rechterlijke instantie.
""",
}
# a consolidated regulation whose articles carry validity dates of their own (BWB XML)
EXTRA["vb.xml"] = VB.replace(' inwerkingtreding="2022-10-01"', "")
FILES = {"law.md": LAW, "old_vc.md": OLD_VC, "note.md": NOTE, **EXTRA}
QUESTIONS = [
    "Geldt het moratorium voor Russische dienstplichtigen?",
    "art. 43 Vw",
    "Binnen welke termijn moet de procedure worden afgerond?",
    "Wat gebeurt er met reservisten bij de mobilisatie?",
    "rechtsmiddel bij een rechterlijke instantie",
    "C2/3.2 Vc",
    "art. 3.37 Vb",
    "Who decides about the Staatscourant?",
    "art. 3.38 Vb tijdelijke huisvesting asielzoeker",
]
DATES = [None, dt.date(2023, 1, 15), dt.date(2020, 1, 1), dt.date(2010, 1, 1)]


def _build(folder, files=FILES, encoder=None):
    corpus = folder / "c"
    corpus.mkdir(parents=True, exist_ok=True)
    for old in corpus.iterdir():
        old.unlink()
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build([corpus], folder / "ix", encoder or FakeEncoder())
    return folder / "ix"


@pytest.fixture
def both(tmp_path, pg_dsn):
    """(embedded store, PostgreSQL store) holding the same build."""
    index = _build(tmp_path)
    pgstore.publish_folder(pg_dsn, current_build(index))
    embedded, pg = IndexReader(index), open_store(pg_dsn)
    yield embedded, pg
    pg.close()
    embedded.close()


def _same_ranked(a, b, tol=1e-5):
    rows_a, scores_a = a
    rows_b, scores_b = b
    assert rows_a.tolist() == rows_b.tolist()
    np.testing.assert_allclose(scores_a, scores_b, atol=tol)


def test_both_stores_implement_the_contract(both):
    for store in both:
        assert isinstance(store, PassageStore)


def test_documents_passages_and_page_texts_are_the_same(both):
    embedded, pg = both
    assert pg.documents == embedded.documents
    assert pg.document_rows() == embedded.document_rows()
    assert [p.passage_id for p in pg.passages()] == [p.passage_id for p in embedded.passages()]
    assert pg.passages() == embedded.passages()  # every stored field (dataclass equality; meta aside)
    assert [p.meta for p in pg.passages()] == [p.meta for p in embedded.passages()]
    for doc in embedded.documents:
        assert pg.page_text(doc, 1) == embedded.page_text(doc, 1)
    assert pg.page_text("no-such-document", 1) is None
    for key in ("model", "dim", "passages", "documents", "lexical_version"):
        assert pg.manifest[key] == embedded.manifest[key]
    rows = [0, 3, 1]
    np.testing.assert_allclose(pg.vectors(rows), embedded.vectors(rows), atol=1e-6)


def test_the_ocr_flag_is_the_same_in_both_stores_and_false_for_a_build_from_before_ocr(tmp_path, pg_dsn):
    from indexer.store import write_build
    from tests.test_ocr import _record

    enc = FakeEncoder()
    docs = [_record("scan", True), _record("tekst", False)]
    folder = tmp_path / "ix" / "builds" / "b1"
    write_build(folder, docs, enc.encode_passages([d.passages[0].text for d in docs]), {"model": enc.name, "dim": enc.dim})
    pgstore.publish_folder(pg_dsn, folder)
    pg = open_store(pg_dsn)
    try:
        assert {p.doc_id: p.ocr for p in pg.passages()} == {"scan": True, "tekst": False}
        assert pg.passages() == IndexReader.for_folder(folder).passages()  # Passage equality includes the flag
    finally:
        pg.close()
    import psycopg

    with psycopg.connect(pg_dsn, autocommit=True) as con:  # as a build published before these columns
        for column in ("ocr", "valid_from", "valid_until"):
            con.execute(f"ALTER TABLE {pgstore._schema(pg.name)}.passages DROP COLUMN {column}")
    pg = open_store(pg_dsn)
    try:
        assert {p.doc_id: p.ocr for p in pg.passages()} == {"scan": False, "tekst": False}
        assert {(p.valid_from, p.valid_until) for p in pg.passages()} == {(None, None)}
        rows, _ = pg.dense_search(enc.encode_queries(["beslistermijn"])[0], 2, dt.date(2024, 1, 1))
        assert {pg.passages()[r].doc_id for r in rows} == {"scan", "tekst"}  # a search on a date still works
    finally:
        pg.close()


def test_dense_search_same_rows_order_and_scores_with_and_without_a_date(both):
    embedded, pg = both
    enc = FakeEncoder()
    for q in QUESTIONS:
        qv = enc.encode_queries([q])[0]
        for on in DATES:
            for k in (1, 3, 50):
                _same_ranked(embedded.dense_search(qv, k, on), pg.dense_search(qv, k, on))
        rows = list(range(embedded.n_passages))[::-1]
        np.testing.assert_allclose(embedded.cosines(qv, rows), pg.cosines(qv, rows), atol=1e-5)


def test_the_date_filter_acts_inside_the_search(both):
    """A date that excludes most passages still yields k passages, all valid on it: their
    document's window and, for an article of a consolidated regulation, the article's own."""
    embedded, pg = both
    on = dt.date(2020, 1, 1)  # before the law's and the letter's validity; the old Vc is never valid
    valid = {i for i, p in enumerate(embedded.passages()) if p.valid_on(on)}
    repealed = {i for i, p in enumerate(embedded.passages()) if p.valid_until == "2013-12-31"}
    assert 0 < len(valid) < embedded.n_passages and repealed and not repealed & valid
    assert repealed <= {i for i, p in enumerate(embedded.passages()) if p.valid_on(dt.date(2010, 1, 1))}
    qv = FakeEncoder().encode_queries(["moratorium"])[0]
    for store in both:
        rows, _ = store.dense_search(qv, len(valid) + 5, on)
        assert set(rows.tolist()) == valid


def test_lexical_search_same_rows_order_and_scores(both):
    embedded, pg = both
    terms = embedded.lexical_terms()
    other = pg.lexical_terms()
    assert other.vocab == terms.vocab
    assert other.df.tolist() == terms.df.tolist()
    assert other.idf() == pytest.approx(terms.idf())
    for q in QUESTIONS:
        ids = terms.query_terms(q)
        assert other.query_terms(q) == ids
        assert other.coverage(q) == pytest.approx(terms.coverage(q))
        for on in DATES:
            for k in (1, 5, 100):
                _same_ranked(embedded.lexical_search(ids, k, on), pg.lexical_search(ids, k, on))
        words = terms.tokens(q)
        assert pg.rarest_postings(words) == embedded.rarest_postings(words)
    assert pg.lexical_search([], 5)[0].tolist() == []


def test_background_embeddings_are_the_same(both):
    embedded, pg = both
    a, b = embedded.background(), pg.background()
    assert (a is None) == (b is None)
    if a is not None:
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_the_retriever_gives_identical_answers_on_both_stores(tmp_path, pg_dsn):
    index = _build(tmp_path)
    pgstore.publish_folder(pg_dsn, current_build(index))
    embedded, pg = Retriever(index, FakeEncoder()), Retriever(pg_dsn, FakeEncoder())
    checked = 0
    for q in QUESTIONS:
        for on in DATES:
            for mode in ("hybrid", "dense", "lexical"):
                a = embedded.search(q, k=5, on=on, mode=mode).to_dict()
                b = pg.search(q, k=5, on=on, mode=mode).to_dict()
                assert comparable_result(a) == comparable_result(b), (q, on, mode)
                checked += 1
    hist = embedded.search("En tot wanneer?", history=["Geldt het moratorium voor dienstplichtigen?"]).to_dict()
    assert comparable_result(hist) == comparable_result(pg.search("En tot wanneer?", history=["Geldt het moratorium voor dienstplichtigen?"]).to_dict())
    refs_a, hits_a = embedded.lookup("art. 43 Vw")
    refs_b, hits_b = pg.lookup("art. 43 Vw")
    assert [h.passage.passage_id for h in hits_a] == [h.passage.passage_id for h in hits_b] != []
    assert checked == len(QUESTIONS) * len(DATES) * 3
    pg.store.close()


def test_publishing_is_atomic_under_a_concurrent_reader(tmp_path, pg_dsn):
    """A reader opening the store again and again, while two different builds are published in
    turn, always sees one whole build: its passage count is the manifest's, and its documents
    are those of one of the two builds."""
    small = _build(tmp_path / "a", {"note.md": NOTE})
    large = _build(tmp_path / "b", FILES)
    folders = [current_build(small), current_build(large)]
    expected = {IndexReader(small).n_passages: set(IndexReader(small).documents),
                IndexReader(large).n_passages: set(IndexReader(large).documents)}  # fmt: skip
    pgstore.publish_folder(pg_dsn, folders[0])
    seen: list[tuple[int, set]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                s = pgstore.PgStore(pg_dsn)
                seen.append((len(s.passages()), set(s.documents)))
                s.close()
            except IndexError_ as exc:  # a build removed between opening and reading: said clearly
                if "removed" not in str(exc):
                    errors.append(exc)
            except BaseException as exc:  # noqa: BLE001 - anything else is a failure
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(8):
            pgstore.publish_folder(pg_dsn, folders[(i + 1) % 2])
    finally:
        stop.set()
        reader.join(timeout=60)
    assert not errors, errors
    assert len(seen) >= 3
    for n, docs in seen:
        assert n in expected and docs == expected[n]
    assert {n for n, _ in seen} == set(expected)  # both builds were seen, neither half-written


def test_a_reader_keeps_the_previous_build_and_is_told_when_it_is_gone(tmp_path, pg_dsn):
    index = _build(tmp_path / "a")
    folder = current_build(index)
    pgstore.publish_folder(pg_dsn, folder)
    old = pgstore.PgStore(pg_dsn)
    pgstore.publish_folder(pg_dsn, folder)  # a second build: the first is kept for readers like `old`
    assert len(old.passages()) == old.n_passages
    qv = FakeEncoder().encode_queries(["moratorium"])[0]
    assert len(old.dense_search(qv, 3)[0]) == 3
    pgstore.publish_folder(pg_dsn, folder)  # a third: the first is dropped
    with pytest.raises(IndexError_, match="removed .* reload"):
        old.dense_search(qv, 3)
    old.close()
    assert pgstore.PgStore(pg_dsn).n_passages == IndexReader(index).n_passages


def test_an_unreachable_database_is_a_clear_error():
    dsn = "postgresql://beleidswijzer:secret@127.0.0.1:1/nothing"
    with pytest.raises(IndexError_) as exc:
        open_store(dsn)
    message = str(exc.value)
    assert "cannot be reached" in message and "scripts/pg.sh start" in message
    assert "secret" not in message  # the password is never shown
    with pytest.raises(RetrievalError, match="cannot be reached"):
        Retriever(dsn, FakeEncoder())


def test_an_empty_database_says_how_to_publish(pg_dsn):
    with pytest.raises(IndexError_, match="No build has been published.*python -m indexer build"):
        open_store(pg_dsn)


def test_a_build_of_another_model_is_refused(tmp_path, pg_dsn):
    index = _build(tmp_path)
    pgstore.publish_folder(pg_dsn, current_build(index))

    class Other(FakeEncoder):
        name = "other-model"

    with pytest.raises(RetrievalError, match="built with model 'fake.*other-model"):
        Retriever(pg_dsn, Other())


def test_hnsw_recall_against_exact_search(tmp_path, pg_dsn, monkeypatch):
    """Beyond HNSW_MIN passages the dense side uses pgvector's HNSW index; its recall@10 against
    the exact search is at least 0.98 (this also checks that HNSW runs on this CPU)."""
    rng = np.random.default_rng(7)
    files = {f"d{i}.md": f"---\ntitle: Document {i}\n---\n" + "\n\n".join(
        " ".join(rng.choice(WORDS, 12)) + "." for _ in range(40)) for i in range(25)}  # fmt: skip
    index = _build(tmp_path, files)
    monkeypatch.setattr(pgstore, "HNSW_MIN", 100)
    pgstore.publish_folder(pg_dsn, current_build(index))
    configure = pgstore._configure  # noqa: SLF001

    def no_scan(con, ef) -> None:  # at this size the planner would rather scan; make it use the index
        configure(con, ef)
        con.execute("SET enable_seqscan = off")

    monkeypatch.setattr(pgstore, "_configure", no_scan)
    pg, embedded = pgstore.PgStore(pg_dsn), IndexReader(index)
    assert pg.n_passages >= 100
    with pg._pool.connection() as con:  # noqa: SLF001 - the test checks the plan uses the index
        plan = "\n".join(r[0] for r in con.execute(
            f"EXPLAIN SELECT row FROM {pg.schema}.dense ORDER BY embedding <#> %s LIMIT 10",
            (np.ones(64, dtype=np.float32),)).fetchall())  # fmt: skip
    assert "Index Scan using" in plan and "embedding_idx" in plan, plan
    enc = FakeEncoder()
    hits = total = 0
    for q in rng.choice(WORDS, 40):
        qv = enc.encode_queries([str(q)])[0]
        exact = set(embedded.dense_search(qv, 10)[0].tolist())
        approx = set(pg.dense_search(qv, 10)[0].tolist())
        hits += len(exact & approx)
        total += len(exact)
    assert hits / total >= 0.98
    pg.close()


WORDS = np.array(
    "asiel vergunning moratorium termijn besluit vertrek dienstplicht mobilisatie reservist vervolging "
    "verdrag vluchteling beroep rechter aanvraag gehoor opvang verlenging minister circulaire artikel lid "
    "staatscourant richtlijn procedure beoordeling grens verblijf nationaliteit familie".split()
)


def test_cli_build_publishes_and_ask_reads_the_store(tmp_path, pg_dsn):
    corpus = tmp_path / "c"
    corpus.mkdir()
    for name, text in FILES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    env_cmd = [sys.executable, "-m", "indexer", "build", "--corpus", str(corpus), "--index", str(tmp_path / "ix"),
               "--model", "fake", "--store", pg_dsn, "--json", "--progress", "none"]  # fmt: skip
    out = subprocess.run(env_cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.splitlines()[-1])
    assert report["published"]["published"] is True
    again = subprocess.run(env_cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert json.loads(again.stdout.splitlines()[-1])["published"] == {"name": report["published"]["name"], "published": False}
    ask = [sys.executable, "-m", "retrieval", "ask", "art. 43 Vw", "--json", "--model", "fake"]
    via_store = subprocess.run([*ask, "--store", pg_dsn], capture_output=True, text=True, cwd=REPO, timeout=300)
    via_index = subprocess.run([*ask, "--index", str(tmp_path / "ix")], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert via_store.returncode == 0, via_store.stderr
    a, b = json.loads(via_store.stdout), json.loads(via_index.stdout)
    a.pop("timings", None), b.pop("timings", None)
    assert a == b and a["passages"]
    down = subprocess.run([*ask, "--store", "postgresql://x@127.0.0.1:1/db"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert down.returncode == 2 and "cannot be reached" in down.stderr
