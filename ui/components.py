"""Reusable UI pieces: the passage card (citation to copy, badges, quote highlighted, "show in
context"), a search result and the in-context view (PDF page image or surrounding text). Pages
call these; rule traces reuse `passage_card`.

Every string that comes from a document goes through ui.text (escaped HTML or Markdown).
"""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from indexer.passage import Passage
from retrieval.places import quoted
from retrieval.references import EXACT
from retrieval.hits import Hit, SearchResult
from retrieval.retriever import Retriever
from retrieval.thesaurus import expansion_text
from retrieval.validity import status_on
from ui import pdf_view
from ui.i18n import fmt_date, t
from ui.text import STYLE_PASSAGE, STYLE_QUOTE, escape, locate, marked_html, md_escape, plain, quote_html

log = logging.getLogger("beleidswijzer.app")

STATUSES = ("current", "superseded", "expired", "not-yet-valid", "unknown")  # of retrieval.validity.status_on
STATUS_COLOURS = {"current": "green", "superseded": "red", "expired": "orange", "not-yet-valid": "blue"}
CONTEXT_CHARS = 2500  # at most this much text either side of a passage in the text context view


# --------------------------------------------------------------------------- passage card


def badges(passage: Passage, status: str, reference_match: int = 0) -> None:
    """Status, partial text, validity period and 'requested provision' badges in one row."""
    meta = passage.meta
    with st.container(horizontal=True, gap="small"):
        st.badge(status_label(status), color=STATUS_COLOURS.get(status, "gray"))
        if meta and meta.completeness:
            st.badge(t("partial_text"), color="gray", help=md_escape(meta.completeness))
        if meta and (meta.valid_from or meta.valid_until):
            start, end = fmt_date(meta.valid_from), fmt_date(meta.valid_until)
            key = "valid_from_until" if start and end else "valid_from" if start else "valid_until"
            st.badge(t(key, start=start, end=end), color="gray")
        if reference_match >= EXACT:
            st.badge(t("exact_reference"), color="violet")


def status_label(status: str) -> str:
    """A status from retrieval.validity in the session's language (unknown ones as they are)."""
    return t(f"status_{status}") if status in STATUSES else md_escape(status)


def passage_card(
    passage: Passage,
    *,
    key: str,
    quote: tuple[int, int] | None = None,
    status: str | None = None,
    reference_match: int = 0,
) -> None:
    """One cited passage: the citation (st.code: one click copies it), badges, the text with its
    quote highlighted, and a button that opens it in context (the page calls `context_dialog`)."""
    st.code(passage.citation, language=None, wrap_lines=True)
    badges(passage, status or status_on(passage.meta), reference_match)
    st.html(quote_html(passage.text, *(quote or (None, None))))
    context_button(passage, quote, key=f"{key}_ctx")


def context_button(passage: Passage, quote: tuple[int, int] | None, *, key: str, label: str | None = None) -> None:
    """A button that opens `passage` in context (the page calls `context_dialog` once, at its end)."""
    st.button(label or t("open_context"), key=key, icon=":material/menu_book:", type="tertiary",
              on_click=_open_context, args=(passage, quote))  # fmt: skip


def hit_card(hit: Hit, *, key: str) -> None:
    passage_card(
        hit.passage, key=key, quote=(hit.quote_start, hit.quote_end),
        status=hit.status, reference_match=hit.reference_match,
    )  # fmt: skip


def folded_hits(hits: list[Hit], *, key: str, start: int = 1) -> None:
    """Hits as expanders labelled with their citation, for the passages after the lead."""
    for i, hit in enumerate(hits, start):
        with st.expander(md_escape(f"{i}. {hit.passage.citation}")):
            hit_card(hit, key=f"{key}_{i}")


def search_result(result: SearchResult, *, key: str) -> None:
    """An answer: the best passage leads, the rest are folded; or the plain 'no answer'
    message with the nearest passages under its own heading."""
    st.caption(t("answer_on", date=fmt_date(result.on.isoformat())) if result.on else t("answer_all_dates"))
    if result.thesaurus:  # how the word search was widened, so an officer can judge it
        st.caption(md_escape(t("thesaurus_used", items=expansion_text((m.expression, m.terms) for m in result.thesaurus))))
    if not result.hits:
        st.warning(t("no_passages_on", date=fmt_date(result.on.isoformat())) if result.on else t("no_answer"))
        return
    if not result.answerable:
        places = md_escape(quoted(result.unknown_places))  # the officer's own words
        why = f" {t('unknown_places', places=places)}" if result.unknown_places else ""
        st.warning(t("no_answer") + why, icon=":material/search_off:")
        st.markdown(f"**{t('nearest')}**")
        folded_hits(result.hits, key=key)
        return
    with st.container(border=True):
        hit_card(result.hits[0], key=f"{key}_0")
    if len(result.hits) > 1:
        st.markdown(f"**{t('more_passages')}**")
        folded_hits(result.hits[1:], key=key, start=2)


# --------------------------------------------------------------------------- in context


CONTEXT_KEY = "context_open"  # (passage, quote span) shown in the dialog until it is dismissed


def _open_context(passage: Passage, quote: tuple[int, int] | None) -> None:
    st.session_state[CONTEXT_KEY] = (passage, quote)


def _close_context() -> None:
    st.session_state.pop(CONTEXT_KEY, None)


def context_dialog(retriever: Retriever) -> None:
    """The in-context dialog for the passage whose button was clicked; call once at the end of a
    page. It stays open across reruns until the officer dismisses it."""
    opened = st.session_state.get(CONTEXT_KEY)
    if not opened:
        return

    @st.dialog(t("context_title"), width="large", on_dismiss=_close_context)
    def dialog() -> None:
        context_view(retriever, *opened)

    dialog()


def context_view(retriever: Retriever, passage: Passage, quote: tuple[int, int] | None) -> None:
    st.html(f"<b>{escape(passage.citation)}</b>")
    row = next((r for r in retriever.reader.document_rows() if r["doc_id"] == passage.doc_id), None)
    path = Path(row["path"]) if row and row.get("path") else None
    if passage.pages:
        if path is not None and path.suffix.lower() == ".pdf" and path.is_file():
            _pdf_context(retriever, passage, quote, path, int(row["n_pages"] or 0))
        else:
            st.warning(t("context_file_missing", file=md_escape(passage.meta.file if passage.meta else passage.doc_id)))
            for page in passage.pages:
                text, spans = page_spans(retriever, passage, page, quote)
                st.html(marked_html(text, spans))
    else:
        _text_context(retriever, passage, quote)


def page_spans(
    retriever: Retriever, passage: Passage, page: int, quote: tuple[int, int] | None
) -> tuple[str, list[tuple[int, int, str]]]:
    """The page's text and the spans of the passage and its quote on it (page text offsets)."""
    text = retriever.reader.page_text(passage.doc_id, page) or ""
    if page not in passage.pages:
        return text, []
    a = passage.char_start if page == passage.pages[0] else 0
    b = passage.char_end if page == passage.pages[-1] else len(text)
    if b <= a:
        b = len(text)
    spans = [(a, b, STYLE_PASSAGE)]
    if quote:
        found = locate(passage.text[quote[0] : quote[1]], text[a:b])
        if found:
            spans.append((a + found[0], a + found[1], STYLE_QUOTE))
    return text, spans


def _quote_page(retriever: Retriever, passage: Passage, quote: tuple[int, int] | None) -> int:
    for page in passage.pages:
        _, spans = page_spans(retriever, passage, page, quote)
        if len(spans) > 1:
            return page
    return passage.pages[0]


@st.cache_data(show_spinner=False, max_entries=64)
def _page_png(path: str, mtime: float, page: int, snippets: tuple[tuple[str, str], ...]) -> bytes:
    return pdf_view.render_page(Path(path), page, list(snippets))


def _step(key: str, delta: int, pages: int) -> None:
    st.session_state[key] = min(max(1, st.session_state.get(key, 1) + delta), pages)


def _pdf_context(retriever: Retriever, passage: Passage, quote: tuple[int, int] | None, path: Path, pages: int) -> None:
    pages = pages or pdf_view.page_count(path)
    key = f"ctx_page_{passage.passage_id}"
    if key not in st.session_state:
        st.session_state[key] = _quote_page(retriever, passage, quote)
    page = st.session_state[key]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(t("context_prev"), key=f"{key}_prev", icon=":material/chevron_left:", disabled=page <= 1,
                  on_click=_step, args=(key, -1, pages))  # fmt: skip
        st.number_input(t("context_page"), min_value=1, max_value=pages, step=1, key=key, width=140)
        st.button(t("context_next"), key=f"{key}_next", icon=":material/chevron_right:", disabled=page >= pages,
                  on_click=_step, args=(key, 1, pages))  # fmt: skip
    text, spans = page_spans(retriever, passage, page, quote)
    snippets = tuple((text[a:b], "quote" if style == STYLE_QUOTE else "passage") for a, b, style in spans)
    title = passage.meta.title if passage.meta else passage.doc_id
    try:
        png = _page_png(str(path), path.stat().st_mtime, page, snippets)
    except Exception:  # a damaged PDF: show the stored text instead of a broken page
        log.exception("cannot render %s page %s", path, page)
        st.warning(t("context_file_missing", file=md_escape(path.name)))
        st.html(marked_html(text, spans))
        return
    image, side = st.columns([3, 2])
    image.image(png, caption=t("context_page_of", page=page, pages=pages, title=md_escape(title)), width="stretch")
    with side:
        if page not in passage.pages:
            first, last = passage.pages[0], passage.pages[-1]
            st.info(t("context_no_highlight", pages=f"{first}–{last}" if last != first else first))
        else:
            st.caption(t("context_passage"))
            st.html(quote_html(passage.text, *(quote or (None, None))))
        with st.expander(t("context_page_text")):
            if text.strip():
                st.html(marked_html(text, spans))


def _text_context(retriever: Retriever, passage: Passage, quote: tuple[int, int] | None) -> None:
    """The article (or section) around a passage of a text document, the passage highlighted."""
    body = retriever.reader.page_text(passage.doc_id, 1)
    if not body or passage.char_end <= passage.char_start:
        st.info(t("context_unavailable"))
        plain(passage.text)
        return
    same = (lambda p: p.article == passage.article) if passage.article else (lambda p: p.section == passage.section)
    doc = [retriever.passages[r] for r in retriever.reader.doc_rows(passage.doc_id)]
    i = next((n for n, p in enumerate(doc) if p.seq == passage.seq), None)
    lo, hi = passage.char_start, passage.char_end
    if i is not None:
        j = i
        while j > 0 and same(doc[j - 1]):
            j -= 1
        k = i
        while k + 1 < len(doc) and same(doc[k + 1]):
            k += 1
        lo = min(p.char_start for p in doc[j : k + 1])
        hi = max(p.char_end for p in doc[j : k + 1])
    lo = max(lo, passage.char_start - CONTEXT_CHARS)
    hi = min(hi, passage.char_end + CONTEXT_CHARS, len(body))
    spans = [(passage.char_start - lo, passage.char_end - lo, STYLE_PASSAGE)]
    if quote:
        found = locate(passage.text[quote[0] : quote[1]], body[passage.char_start : passage.char_end])
        if found:
            spans.append((passage.char_start - lo + found[0], passage.char_start - lo + found[1], STYLE_QUOTE))
    where = passage.locator or passage.section
    if where:
        st.caption(t("context_section", section=md_escape(where.split(" onder ")[0])))
    st.html(marked_html(body[lo:hi], spans))
