"""The PostgreSQL + pgvector store (indexer.contract.PassageStore), for several app replicas.

A build lives in a schema of its own, `bw_<build name>`:

    manifest(data)                       the build's manifest (jsonb, one row)
    documents(...)                       as the embedded store's documents table
    passages(row, doc_id, seq, text, ...)  text and locator of each passage
    dense(row, embedding, valid_start, valid_end, never_valid)
                                         the vector (pgvector, stored inline: a narrow table
                                         scans fast) and the passage's validity window
                                         (Passage.validity_window), the dense side's filter
    page_texts(doc_id, page, text)
    terms(id, term, df)                  the lexical vocabulary; words(word, freq): the
                                         analyser's corpus words (compound splitting)
    validity(grp, valid_start, valid_end, never_valid)
                                         the distinct validity windows of the passages
    postings(term, grp, rows, weights)   the project's own BM25 posting list of a term, split by
                                         the validity window of its passages: rows
                                         (int32) and weights (float32) as bytea. The lexical
                                         search selects the lists of the question's terms whose
                                         window holds the date (a SQL filter) and sums them with
                                         the embedded store's own merge (lexical.merge_postings),
                                         so scores are the same numbers. Summing postings in SQL
                                         (a row per posting, GROUP BY) was measured first: 18 ms
                                         at 100k passages against 4 ms for the same merge here
    background(i, embedding)             the general-domain background embeddings

and `public.beleidswijzer_current` names the build in use. A build is published in one
transaction (schema, tables, indexes and pointer), so a reader sees the old build or the new
one, never half of one; the previous build is kept for processes still reading it, older ones
are dropped. Dense search is exact (a scan) up to HNSW_MIN passages and uses an HNSW index
beyond; validity is a SQL filter on both searches, applied inside the search.

The build itself is made as today (indexer.build, into an index folder) and then copied in by
`publish_folder`: one builder, two stores, identical data.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from indexer.analysis import LEXICAL_VERSION, Analyzer, Decompounder
from indexer.contract import top_k
from indexer.lexical import LexicalTerms, merge_postings
from indexer.passage import PASSAGE_COLUMNS, DocumentMeta, Passage, passage_from_row, passage_row
from indexer.store import FORMAT_VERSION, IndexError_, IndexReader, check_model, read_lexical

log = logging.getLogger(__name__)
POINTER = "public.beleidswijzer_current"
HNSW_MIN = 5_000  # passages from which the dense side uses an HNSW index instead of a scan: an
# exact scan costs ~0.6 us a passage in pgvector (5.7 ms at 10k), HNSW ~2 ms at 10k with recall@10 >= 0.99
# (python -m bench.stores, BENCHMARKS.md)
# HNSW graph: m 16 (pgvector's default), ef_construction 128 (default 64) and ef_search 200 (default
# 40). Measured at 100k passages, recall@10 against exact / p50 (ms) / build (s):
#   m 16, ef_c 64:  ef_search 100: 0.900 / 2.6, 200: 0.958 / 3.5, 400: 0.984 / 6.3; build 23
#   m 16, ef_c 128: ef_search 100: 0.949 / 3.1, 200: 0.985 / 4.8, 400: 0.997 / 7.8; build 33
#   m 24, ef_c 128: ef_search 100: 0.964 / 4.7, 200: 0.992 / 7.0, 400: 0.998 / 11.0; build 48
# (the retriever asks for 100 candidates, so ef_search is at least 100)
HNSW_M, HNSW_EF_CONSTRUCTION = 16, 128
HNSW_BUILD_MEMORY = "1GB"  # for the index build only (SET LOCAL in the publishing transaction)
# candidates an HNSW search keeps, by the build's size: at 100k, 200 gave 0.980 and 0.985 over two
# builds of the same vectors (too close to 0.98) and 300 gave 0.989; at 10k, 200 gives 1.0 in 2.3 ms
# where 300 costs 5.2 ms (bench.stores)
HNSW_EF_SEARCH = 200
HNSW_EF_SEARCH_LARGE, HNSW_LARGE = 300, 50_000


def ef_search(n: int) -> int:
    """hnsw.ef_search for a build of n passages."""
    return HNSW_EF_SEARCH_LARGE if n >= HNSW_LARGE else HNSW_EF_SEARCH
CONNECT_TIMEOUT_S = 5
POOL_SIZE = 8  # connections per process at most: Streamlit runs each officer's question in a thread of its own
START_HINT = "Start it (scripts/pg.sh start, for development) or correct BELEIDSWIJZER_STORE / --store."

_DOC_FIELDS = ("doc_id", "title", "file", "doctype", "date", "valid_from", "valid_until", "status", "language",
               "source", "completeness", "identifier")  # fmt: skip
_DOC_ROW_FIELDS = (*_DOC_FIELDS[:3], "path", *_DOC_FIELDS[3:], "sha256", "n_passages", "n_pages")


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and logs."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _unreachable(location: str, exc: BaseException) -> IndexError_:
    """The error for a database that cannot be reached (`location`: the DSN without password)."""
    return IndexError_(f"The PostgreSQL store {location} cannot be reached ({_first_line(exc)}). {START_HINT}")


def _open(dsn: str):
    """A plain autocommit connection; IndexError_ that says what to do when there is none."""
    import psycopg

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise _unreachable(redact(dsn), exc) from None


def _connect(dsn: str):
    """A connection with pgvector's types; IndexError_ that says what to do when it fails."""
    import psycopg

    con = _open(dsn)
    try:
        _configure(con, HNSW_EF_SEARCH)
    except psycopg.ProgrammingError:
        con.close()
        raise IndexError_(
            f"The database {redact(dsn)} has no pgvector extension. Publish a build to it "
            "(python -m indexer build --store DSN creates it when allowed) or ask its administrator "
            "to run CREATE EXTENSION vector."
        ) from None
    return con


def _configure(con, ef: int) -> None:
    """pgvector's types and the HNSW search settings, on every new connection."""
    from pgvector.psycopg import register_vector

    register_vector(con)
    con.execute(f"SET hnsw.ef_search = {int(ef)}")
    con.execute("SET hnsw.iterative_scan = relaxed_order")  # a filtered search still finds k rows


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _schema(name: str) -> str:
    return "bw_" + re.sub(r"[^a-z0-9_]", "_", name.lower())


def hint_for(dsn: str) -> str:
    return f"Publish a build to it with: python -m indexer build --corpus corpus --store {redact(dsn)}"


def no_build(dsn: str) -> str:
    """What to say of a database no build has been published to, and how to publish one."""
    return f"No build has been published to {redact(dsn)}. {hint_for(dsn)}"


class PgStore:
    """Read access to the build named in the database's pointer (the contract of indexer.contract)."""

    def __init__(self, dsn: str):
        import psycopg

        from psycopg_pool import ConnectionPool

        self.dsn = dsn
        self.location = redact(dsn)
        self.hint = hint_for(dsn)
        con = _connect(dsn)  # fails fast, with a clear message, when the database cannot be used
        try:
            row = con.execute(f"SELECT name FROM {POINTER}").fetchone() if _has_pointer(con) else None
            if row is None:
                raise IndexError_(no_build(dsn))
            self.name = row[0]
            self.schema = _schema(self.name)
            self.manifest = con.execute(f"SELECT data FROM {self.schema}.manifest").fetchone()[0]
            if self.manifest.get("format") != FORMAT_VERSION:
                raise IndexError_(
                    f"The build in {self.location} has format {self.manifest.get('format')}, this version reads "
                    f"format {FORMAT_VERSION}. {self.hint}"
                )
            cur = con.execute(f"SELECT {', '.join(_DOC_ROW_FIELDS)} FROM {self.schema}.documents ORDER BY title")
            self._rows = [dict(zip(_DOC_ROW_FIELDS, r)) for r in cur.fetchall()]
        except psycopg.Error as exc:
            raise IndexError_(f"The build in {self.location} cannot be read ({_first_line(exc)}). {self.hint}") from None
        finally:
            con.close()
        self.n_passages = int(self.manifest.get("passages", 0))
        self._pool = ConnectionPool(
            dsn, min_size=1, max_size=POOL_SIZE, open=True, name="beleidswijzer",
            configure=lambda con: _configure(con, ef_search(self.n_passages)),
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S}, timeout=30,
        )  # fmt: skip
        self._docs = {r["doc_id"]: DocumentMeta(*(r[f] for f in _DOC_FIELDS)) for r in self._rows}
        self._passages: list[Passage] | None = None
        self._terms: LexicalTerms | None = None

    # ------------------------------------------------------------------ connections

    def _query(self, sql: str, params: Sequence | dict | None = None) -> list[tuple]:
        """The rows of one query, on a connection of the pool (returned to it afterwards)."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self._pool.connection() as con:
                return con.execute(sql, params).fetchall()
        except psycopg.errors.UndefinedTable:
            raise IndexError_(
                f"The build {self.name} this process read was removed from {self.location} by newer builds; "
                "reload the app (or restart the command) to use the current build."
            ) from None
        except (psycopg.OperationalError, PoolTimeout) as exc:
            raise _unreachable(self.location, exc) from None

    def close(self) -> None:
        self._pool.close()

    # ------------------------------------------------------------------ the contract

    @property
    def outdated_terms(self) -> bool:
        return self.manifest.get("lexical_version") != LEXICAL_VERSION

    def check_model(self, name: str, dim: int) -> None:
        check_model(self.manifest, self.location, self.hint, name, dim)

    @property
    def documents(self) -> dict[str, DocumentMeta]:
        return self._docs

    def document_rows(self) -> list[dict]:
        return [dict(r) for r in self._rows]

    def passages(self) -> list[Passage]:
        if self._passages is None:
            stored = {r[0] for r in self._query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = 'passages'",
                (self.schema,),
            )}  # fmt: skip
            columns = [c for c in PASSAGE_COLUMNS if c in stored]  # a build published before a column was added
            rows = self._query(f"SELECT {', '.join(columns)} FROM {self.schema}.passages ORDER BY row")
            self._passages = [passage_from_row(dict(zip(columns, r)), self._docs.get(r[0])) for r in rows]
            if len(self._passages) != self.n_passages:
                raise IndexError_(f"The build in {self.location} is inconsistent (passage counts differ). {self.hint}")
        return self._passages

    def page_text(self, doc_id: str, page: int) -> str | None:
        rows = self._query(f"SELECT text FROM {self.schema}.page_texts WHERE doc_id = %s AND page = %s", (doc_id, page))
        return rows[0][0] if rows else None

    def vectors(self, rows: Sequence[int]) -> np.ndarray:
        ids = [int(r) for r in rows]
        found = {r: _array(v) for r, v in self._query(f"SELECT row, embedding FROM {self.schema}.dense WHERE row = ANY(%s)", (ids,))}
        dim = int(self.manifest.get("dim", 0))
        return np.array([found[i] for i in ids], dtype=np.float32).reshape(len(ids), dim)

    def cosines(self, query: np.ndarray, rows: Sequence[int]) -> np.ndarray:
        ids = [int(r) for r in rows]
        if not ids:
            return np.zeros(0, dtype=np.float32)
        q = np.asarray(query, dtype=np.float32)
        found = dict(self._query(f"SELECT row, -(embedding <#> %s) FROM {self.schema}.dense WHERE row = ANY(%s)", (q, ids)))
        return np.array([found[i] for i in ids], dtype=np.float32)

    def dense_search(self, query: np.ndarray, k: int, on: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(query, dtype=np.float32)
        where, params = _valid_sql(on)
        # the distance is named once, so the scan computes it once per row (the ORDER BY uses the
        # select list's value) and an HNSW index still serves the ORDER BY
        rows = self._query(
            f"SELECT row, embedding <#> %(q)s AS d FROM {self.schema}.dense {where} ORDER BY d LIMIT %(k)s",
            {**params, "q": q, "k": int(k)},
        )
        return _top([(r, -d) for r, d in rows], k)

    def lexical_terms(self) -> LexicalTerms:
        if self._terms is None:
            terms = self._query(f"SELECT id, term, df FROM {self.schema}.terms ORDER BY id")
            vocab = {t: int(i) for i, t, _ in terms}
            df = np.array([d for _, _, d in terms], dtype=np.int64)
            words = self._query(f"SELECT word, freq FROM {self.schema}.words")
            analyzer = Analyzer(Decompounder(dict(words))) if self.manifest.get("lexical_words") else Analyzer()
            self._terms = LexicalTerms(vocab, df, self.n_passages, analyzer)
        return self._terms

    def lexical_search(self, terms: Sequence[int], k: int, on: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]:
        if not terms:
            return _top([], 0)
        ids = [int(t) for t in terms]
        where, params = _valid_sql(on, "v.")
        cond = f"AND {where.removeprefix('WHERE ')}" if where else ""
        found = self._query(
            f"SELECT p.term, p.rows, p.weights FROM {self.schema}.postings p JOIN {self.schema}.validity v ON v.grp = p.grp "
            f"WHERE p.term = ANY(%(terms)s) {cond} ORDER BY p.grp",
            {**params, "terms": ids},
        )  # fmt: skip
        by_term: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        for term, rows, weights in found:
            by_term.setdefault(term, []).append((np.frombuffer(rows, "<i4"), np.frombuffer(weights, "<f4")))
        lists = [by_term[t] for t in ids if t in by_term]  # the question's term order, as the embedded store
        rows, scores = merge_postings([np.concatenate([r for r, _ in parts]) for parts in lists],
                                      [np.concatenate([w for _, w in parts]) for parts in lists], self.n_passages)  # fmt: skip
        return top_k(rows, scores, k)

    def rarest_postings(self, terms: list[str]) -> set[int]:
        lex = self.lexical_terms()
        ids = [lex.vocab[t] for t in terms if t in lex.vocab]
        if not ids:
            return set()
        rarest = min(ids, key=lambda j: lex.df[j])
        found = self._query(f"SELECT rows FROM {self.schema}.postings WHERE term = %s", (int(rarest),))
        return {int(r) for (rows,) in found for r in np.frombuffer(rows, "<i4")}

    def background(self) -> np.ndarray | None:
        from indexer.background import background_sha

        rows = self._query(f"SELECT embedding FROM {self.schema}.background ORDER BY i")
        if not rows or self.manifest.get("background_sha256") != background_sha():
            return None
        return np.array([_array(r[0]) for r in rows], dtype=np.float32)


def _array(v) -> np.ndarray:
    """A pgvector value as a float32 array (the adapter returns numpy arrays or Vector objects)."""
    return np.asarray(v.to_numpy() if hasattr(v, "to_numpy") else v, dtype=np.float32)


def _top(rows: list[tuple], k: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.array([int(x[0]) for x in rows], dtype=np.int64)
    s = np.array([float(x[1]) for x in rows], dtype=np.float32)
    return top_k(r, s, k)


def _valid_sql(on: dt.date | None, prefix: str = "") -> tuple[str, dict]:
    """The WHERE clause that keeps passages whose document is valid on `on` (validity_window)."""
    if on is None:
        return "", {}
    p = prefix
    return (
        f"WHERE NOT {p}never_valid AND ({p}valid_start IS NULL OR {p}valid_start <= %(on)s) "
        f"AND ({p}valid_end IS NULL OR %(on)s <= {p}valid_end)",
        {"on": on},
    )


def _has_pointer(con) -> bool:
    return con.execute("SELECT to_regclass(%s) IS NOT NULL", (POINTER,)).fetchone()[0]


def current_name(dsn: str) -> str | None:
    """The name of the build in use in the database, or None when none was published."""
    con = _connect(dsn)
    try:
        if not _has_pointer(con):
            return None
        row = con.execute(f"SELECT name FROM {POINTER}").fetchone()
        return row[0] if row else None
    finally:
        con.close()


# ---------------------------------------------------------------------- publishing


def publish_folder(dsn: str, folder: Path, *, progress=None) -> str:
    """Copy the build in `folder` (an embedded build folder, indexer.store) into its own schema
    and make it the current build, all in one transaction; returns the build's name. The
    previous build stays for processes still reading it; older ones are dropped."""
    import psycopg

    reader = IndexReader.for_folder(folder)
    manifest = dict(reader.manifest)
    passages = reader.passages()
    vectors = np.asarray(reader.vectors(), dtype=np.float32)
    lexical = read_lexical(folder)
    background = reader.background()
    name = folder.name
    con = _connect_for_publish(dsn)
    try:
        with con.transaction():
            con.execute(f"CREATE TABLE IF NOT EXISTS {POINTER} (one int PRIMARY KEY DEFAULT 1 CHECK (one = 1), name text NOT NULL)")
            con.execute(f"LOCK TABLE {POINTER} IN EXCLUSIVE MODE")  # one publisher at a time
            existing = {r[0] for r in con.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bw\\_%'")}
            n = 0
            while _schema(name) in existing:
                n += 1
                name = f"{folder.name}-r{n}"
            schema = _schema(name)
            _create_tables(con, schema, vectors.shape[1])
            _copy_build(con, schema, reader, passages, vectors, lexical, background, manifest, progress, name)
            _create_indexes(con, schema, len(passages))
            previous = con.execute(f"SELECT name FROM {POINTER}").fetchone()
            con.execute(
                f"INSERT INTO {POINTER} (one, name) VALUES (1, %s) ON CONFLICT (one) DO UPDATE SET name = EXCLUDED.name", (name,)
            )
            keep = {schema} | ({_schema(previous[0])} if previous else set())
            for old in sorted(existing - keep):
                con.execute(f"DROP SCHEMA {old} CASCADE")
        # the new tables are never written again: VACUUM sets their visibility map and statistics
        # (it cannot run inside the transaction)
        _vacuum(con, schema)
    except psycopg.Error as exc:
        raise IndexError_(f"Publishing to {redact(dsn)} failed ({_first_line(exc)}); the previous build is still in use.") from None
    finally:
        con.close()
    return name


def publish_current(dsn: str, index_dir: Path, *, progress=None) -> dict:
    """Publish the current build of `index_dir` to the database unless it is already the
    database's current build; {"name", "published"}."""
    from indexer.store import current_build

    folder = current_build(Path(index_dir))
    if folder is None:
        raise IndexError_(f"There is no build in {index_dir} to publish to {redact(dsn)}.")
    now = current_name(dsn)
    if now is not None and (now == folder.name or now.startswith(folder.name + "-r")):
        return {"name": now, "published": False}
    return {"name": publish_folder(dsn, folder, progress=progress), "published": True}


def _vacuum(con, schema: str) -> None:
    """VACUUM the new build's tables (after the publish committed: readers may use it already).
    A failure here costs speed, not correctness: logged, not raised."""
    import psycopg

    for table in ("postings", "dense", "passages"):
        try:
            con.execute(f"VACUUM (ANALYZE) {schema}.{table}")
        except psycopg.Error as exc:
            log.warning("VACUUM of %s.%s failed (%s); searches still work, a little slower", schema, table, _first_line(exc))


def _connect_for_publish(dsn: str):
    import psycopg

    con = _open(dsn)
    try:
        con.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        con.close()
        raise IndexError_(
            f"The database {redact(dsn)} has no pgvector extension and it cannot be created here ({_first_line(exc)}). "
            "Ask its administrator to run CREATE EXTENSION vector."
        ) from None
    from pgvector.psycopg import register_vector

    register_vector(con)
    return con


def _create_tables(con, schema: str, dim: int) -> None:
    con.execute(f"CREATE SCHEMA {schema}")
    con.execute(f"CREATE TABLE {schema}.manifest (data jsonb NOT NULL)")
    con.execute(
        f"CREATE TABLE {schema}.documents (doc_id text PRIMARY KEY, title text, file text, path text, doctype text, "
        "date text, valid_from text, valid_until text, status text, language text, source text, completeness text, "
        "identifier text, sha256 text, n_passages int, n_pages int)"
    )
    con.execute(
        f"CREATE TABLE {schema}.passages (row int PRIMARY KEY, doc_id text, seq int, text text, pages text, section text, "
        "article text, lid text, point text, kind text, char_start int, char_end int, footnotes text, valid_from text, "
        "valid_until text, ocr boolean)"
    )
    con.execute(
        f"CREATE TABLE {schema}.dense (row int PRIMARY KEY, embedding vector({dim}) NOT NULL, valid_start date, "
        "valid_end date, never_valid boolean NOT NULL)"
    )
    con.execute(f"ALTER TABLE {schema}.dense ALTER COLUMN embedding SET STORAGE PLAIN")

    con.execute(f"CREATE TABLE {schema}.page_texts (doc_id text, page int, text text, PRIMARY KEY (doc_id, page))")
    con.execute(f"CREATE TABLE {schema}.terms (id int PRIMARY KEY, term text NOT NULL, df int NOT NULL)")
    con.execute(f"CREATE TABLE {schema}.words (word text PRIMARY KEY, freq int NOT NULL)")
    con.execute(
        f"CREATE TABLE {schema}.validity (grp int PRIMARY KEY, valid_start date, valid_end date, never_valid boolean NOT NULL)"
    )
    con.execute(
        f"CREATE TABLE {schema}.postings (term int NOT NULL, grp int NOT NULL, rows bytea NOT NULL, weights bytea NOT NULL, "
        "PRIMARY KEY (term, grp))"
    )
    con.execute(f"CREATE TABLE {schema}.background (i int PRIMARY KEY, embedding vector({dim}) NOT NULL)")


def _copy_build(con, schema, reader, passages, vectors, lexical, background, manifest, progress, name) -> None:
    from indexer.background import background_sha

    docs = reader.documents
    with con.cursor() as cur:
        with cur.copy(f"COPY {schema}.documents ({', '.join(_DOC_ROW_FIELDS)}) FROM STDIN") as cp:
            for r in reader.document_rows():
                cp.write_row([r[f] for f in _DOC_ROW_FIELDS])
        with cur.copy(f"COPY {schema}.page_texts FROM STDIN") as cp:
            for r in reader.document_rows():
                for page in range(1, int(r["n_pages"] or 0) + 1):
                    text = reader.page_text(r["doc_id"], page)
                    if text is not None:
                        cp.write_row([r["doc_id"], page, text])
        with cur.copy(f"COPY {schema}.passages FROM STDIN") as cp:
            for i, p in enumerate(passages):
                cp.write_row([i, *passage_row(p)])
        windows = [p.validity_window() for p in passages]  # the passages carry their document's meta
        with cur.copy(f"COPY {schema}.dense FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int4", "vector", "date", "date", "bool"])
            for i, window in enumerate(windows):
                start, end = window if window is not None else (None, None)
                cp.write_row([i, vectors[i], start, end, window is None])
                if progress is not None and (i % 1000 == 0 or i == len(passages) - 1):
                    progress("publish", i + 1, len(passages), name)

        df = np.diff(lexical.weights.indptr)
        with cur.copy(f"COPY {schema}.terms FROM STDIN") as cp:
            for term, j in lexical.vocab.items():
                cp.write_row([j, term, int(df[j])])
        decompounder = lexical.analyzer.decompounder
        if decompounder is not None:
            with cur.copy(f"COPY {schema}.words FROM STDIN") as cp:
                for word, freq in decompounder.freq.items():
                    cp.write_row([word, int(freq)])
        # the validity windows, numbered; each passage row's window
        group_of: dict = {}
        row_group = np.array([group_of.setdefault(window or "never", len(group_of)) for window in windows], dtype=np.int32)
        with cur.copy(f"COPY {schema}.validity FROM STDIN") as cp:
            for window, grp in group_of.items():
                start, end = window if window != "never" else (None, None)
                cp.write_row([grp, start, end, window == "never"])
        w = lexical.weights.tocsc()
        with cur.copy(f"COPY {schema}.postings FROM STDIN WITH (FORMAT BINARY)") as cp:
            cp.set_types(["int4", "int4", "bytea", "bytea"])
            for j in range(w.shape[1]):
                rows = w.indices[w.indptr[j] : w.indptr[j + 1]].astype("<i4")
                weights = w.data[w.indptr[j] : w.indptr[j + 1]].astype("<f4")
                groups = row_group[rows]
                for grp in np.unique(groups):
                    keep = groups == grp
                    cp.write_row([j, int(grp), rows[keep].tobytes(), weights[keep].tobytes()])
        if background is not None and len(background):
            with cur.copy(f"COPY {schema}.background FROM STDIN WITH (FORMAT BINARY)") as cp:
                cp.set_types(["int4", "vector"])
                for i, v in enumerate(np.asarray(background, dtype=np.float32)):
                    cp.write_row([i, v])
    manifest = {**manifest, "background_sha256": background_sha() if background is not None else None,
                "lexical_words": decompounder is not None}  # fmt: skip
    con.execute(f"INSERT INTO {schema}.manifest VALUES (%s::jsonb)", (json.dumps(manifest),))


def _create_indexes(con, schema: str, n: int) -> None:
    if n >= HNSW_MIN:
        # an HNSW graph built in memory is built many times faster than one that spills
        con.execute(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
        con.execute(
            f"CREATE INDEX ON {schema}.dense USING hnsw (embedding vector_ip_ops) "
            f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )
    con.execute(f"ANALYZE {schema}.passages")
    con.execute(f"ANALYZE {schema}.dense")
    con.execute(f"ANALYZE {schema}.postings")
