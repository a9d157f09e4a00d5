"""The corpus as tables: one row per indexed document with its date, validity and status, for a
new officer (onboarding) and for lookup and management (with file, pages and passages)."""
from __future__ import annotations

import streamlit as st

from retrieval.library import Library
from retrieval.measures import for_document
from retrieval.validity import status_on
from ui.i18n import fmt_date, t
from ui.passages import measure_text, status_label, validity_text


def corpus_table(library: Library) -> None:
    """The corpus for a new officer: title, type, date, validity and status of each document."""
    rows = []
    for doc in library.documents():
        meta = doc.meta
        rows.append({
            t("col_title"): meta.title,
            t("col_type"): meta.doctype or "",
            t("col_date"): fmt_date(meta.date),
            t("col_validity"): validity_text(meta.valid_from, meta.valid_until),
            t("col_status"): status_label(status_on(meta)),
            t("col_measure"): measure_cell(doc.doc_id),
        })  # fmt: skip
    narrow = st.column_config.TextColumn(width="small")
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        t("col_title"): st.column_config.TextColumn(width="large"), t("col_type"): narrow, t("col_date"): narrow,
        t("col_validity"): st.column_config.TextColumn(width="medium"), t("col_status"): narrow,
        t("col_measure"): st.column_config.TextColumn(width="medium"),
    })  # fmt: skip


def measure_cell(doc_id: str) -> str:
    """The period of the measure a document describes, when the corpus states it; else ''."""
    m = for_document(doc_id)
    return measure_text(m) if m is not None else ""


def documents_table(library: Library, files: bool = False) -> None:
    """The indexed documents with date, status, validity, pages and passages, and with `files`
    their file names (for the management page); cells are plain text, columns narrow, so that the
    table fits the page."""
    rows = []
    for doc in library.documents():
        meta = doc.meta
        rows.append({
            t("col_title"): meta.title,
            **({t("col_file"): meta.file} if files else {}),
            t("col_date"): fmt_date(meta.date),
            t("col_status"): status_label(status_on(meta)),
            t("col_measure"): measure_cell(doc.doc_id),
            t("col_validity"): validity_text(meta.valid_from, meta.valid_until),
            t("col_pages"): str(doc.n_pages) if doc.is_pdf else "",  # a text file has no pages
            t("col_passages"): doc.n_passages,
            t("col_completeness"): meta.completeness or "",
        })  # fmt: skip
    small, medium = st.column_config.TextColumn(width="small"), st.column_config.TextColumn(width="medium")
    number = st.column_config.TextColumn(width="small")
    st.dataframe(rows, hide_index=True, width="stretch", column_config={
        t("col_title"): medium, t("col_file"): small, t("col_date"): small, t("col_status"): small,
        t("col_measure"): small, t("col_validity"): small, t("col_pages"): number, t("col_passages"): number,
        t("col_completeness"): small,
    })  # fmt: skip
