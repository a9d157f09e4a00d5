"""Which store a location names: an index folder (the embedded default) or a PostgreSQL DSN."""
from __future__ import annotations

from pathlib import Path

from indexer.contract import PassageStore, is_dsn


def open_store(location: str | Path) -> PassageStore:
    """The store at `location`: a PostgreSQL DSN or an index folder. IndexError_ (indexer.store)
    when it holds no usable build; the message says why and how to build one."""
    if is_dsn(location):
        from indexer.pgstore import PgStore  # psycopg is imported only when PostgreSQL is used

        return PgStore(str(location))
    from indexer.store import IndexReader

    return IndexReader(Path(location))
