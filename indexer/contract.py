"""The store contract: what retrieval reads of a published build, whatever keeps it.

Two stores implement it: the embedded default (files of a build folder: indexer.store) and
PostgreSQL + pgvector (indexer.pgstore), chosen by indexer.stores.open_store(location): a folder, or a
`postgresql://` DSN (setting BELEIDSWIJZER_STORE). Fusion, quotes, confidence and calibration
stay above the contract, in Python, so both stores give the same answers; the contract tests
(tests/test_store_contract.py) run one set of fixtures against both.

Rows are the passages' positions in the build (0..n-1), the same in every part of a build.
Both searches return (rows, scores) ordered by score descending, then row ascending, so ties
come out the same from either store; `on` keeps the passages of documents valid on that date
(DocumentMeta.validity_window), inside the search, before the k best are taken.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from indexer.lexical import LexicalTerms
from indexer.passage import DocumentMeta, Passage

DSN_PREFIXES = ("postgresql://", "postgres://")


@runtime_checkable
class PassageStore(Protocol):
    """Read access to one published build."""

    location: str  # the folder or the DSN without password, for messages
    name: str  # the build's name (changes with every publish)
    manifest: dict
    hint: str  # how to rebuild, for error messages

    @property
    def outdated_terms(self) -> bool: ...

    def check_model(self, name: str, dim: int) -> None: ...

    @property
    def documents(self) -> dict[str, DocumentMeta]: ...

    def document_rows(self) -> list[dict]: ...

    def passages(self) -> list[Passage]: ...

    def page_text(self, doc_id: str, page: int) -> str | None: ...

    def vectors(self, rows: Sequence[int]) -> np.ndarray: ...

    def cosines(self, query: np.ndarray, rows: Sequence[int]) -> np.ndarray: ...

    def dense_search(self, query: np.ndarray, k: int, on: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def lexical_terms(self) -> LexicalTerms: ...

    def lexical_search(self, terms: Sequence[int], k: int, on: dt.date | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def rarest_postings(self, terms: list[str]) -> set[int]: ...

    def background(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


def is_dsn(location: str | Path | None) -> bool:
    """Whether `location` names a PostgreSQL database rather than an index folder."""
    return isinstance(location, str) and location.startswith(DSN_PREFIXES)


def top_k(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores): score descending, then row ascending (the contract's order)."""
    if len(rows) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    order = np.lexsort((rows, -scores.astype(np.float64)))[:k]
    return rows[order].astype(np.int64), scores[order].astype(np.float32)
