"""The corpus as tables: one row per indexed document with its date, validity and status, for a
new officer (onboarding) and for lookup and management (with file, pages and passages)."""
from __future__ import annotations

import streamlit as st

from retrieval.retriever import Retriever
from retrieval.validity import status_on
from ui.i18n import fmt_date, t
from ui.passages import status_label


def corpus_table(retriever: Retriever) -> None:
    """The corpus for a new officer: title, type, date, validity and status of each document."""
    rows = []
    for r in retriever.reader.document_rows():
        meta = retriever.reader.documents.get(r["doc_id"])
        start, end = fmt_date(r["valid_from"]), fmt_date(r["valid_until"])
        validity = t("valid_from_until", start=start, end=end) if start and end else (
            t("valid_from", start=start) if start else t("valid_until", end=end) if end else t("validity_open"))
        rows.append({
            t("col_title"): r["title"],
            t("col_type"): r["doctype"] or "",
            t("col_date"): fmt_date(r["date"]),
            t("col_validity"): validity,
            t("col_status"): status_label(status_on(meta)),
        })  # fmt: skip
    narrow = st.column_config.TextColumn(width="small")
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        t("col_title"): st.column_config.TextColumn(width="large"), t("col_type"): narrow, t("col_date"): narrow,
        t("col_validity"): st.column_config.TextColumn(width="medium"), t("col_status"): narrow,
    })  # fmt: skip


def documents_table(retriever: Retriever) -> None:
    """The indexed documents with date, status, validity, pages and passages (cells are plain text)."""
    rows = []
    for r in retriever.reader.document_rows():
        meta = retriever.reader.documents.get(r["doc_id"])
        status = status_on(meta)
        rows.append({
            t("col_title"): r["title"],
            t("col_file"): r["file"],
            t("col_date"): fmt_date(r["date"]),
            t("col_status"): status_label(status),
            t("col_valid_from"): fmt_date(r["valid_from"]),
            t("col_valid_until"): fmt_date(r["valid_until"]),
            t("col_pages"): r["n_pages"] if str(r["file"]).lower().endswith(".pdf") else None,
            t("col_passages"): r["n_passages"],
            t("col_completeness"): r["completeness"] or "",
        })  # fmt: skip
    st.dataframe(rows, hide_index=True, width="stretch")
