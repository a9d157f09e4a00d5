"""The in-context view: a passage where it stands, on its rendered PDF page or in the article
around it, in a dialog that `context_button` opens and `context_dialog` shows at a page's end."""
from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from indexer.passage import Passage
from retrieval.library import Library
from ui import pdf_view
from ui.i18n import t
from ui.text import STYLE_PASSAGE, STYLE_QUOTE, escape, locate, marked_html, md_escape, plain, quote_html

log = logging.getLogger("beleidswijzer.app")

CONTEXT_CHARS = 2500  # at most this much text either side of a passage in the text context view
CONTEXT_KEY = "context_open"  # (passage, quote span) shown in the dialog until it is dismissed


def _open_context(passage: Passage, quote: tuple[int, int] | None) -> None:
    st.session_state[CONTEXT_KEY] = (passage, quote)


def _close_context() -> None:
    st.session_state.pop(CONTEXT_KEY, None)


def context_button(passage: Passage, quote: tuple[int, int] | None, *, key: str, label: str | None = None) -> None:
    """A button that opens `passage` in context (the page calls `context_dialog` once, at its end)."""
    st.button(label or t("open_context"), key=key, icon=":material/menu_book:", type="tertiary",
              on_click=_open_context, args=(passage, quote))  # fmt: skip


def context_dialog(library: Library) -> None:
    """The in-context dialog for the passage whose button was clicked; call once at the end of a
    page. It stays open across reruns until the officer dismisses it."""
    opened = st.session_state.get(CONTEXT_KEY)
    if not opened:
        return

    @st.dialog(t("context_title"), width="large", on_dismiss=_close_context)
    def dialog() -> None:
        context_view(library, *opened)

    dialog()


def context_view(library: Library, passage: Passage, quote: tuple[int, int] | None) -> None:
    st.html(f"<b>{escape(passage.citation)}</b>")
    if passage.ocr:
        st.caption(f"{t('ocr_text')}. {t('ocr_help')}")
    doc = library.document(passage.doc_id)
    path = doc.source_file() if doc else None
    if passage.pages:
        if path is not None and path.suffix.lower() == ".pdf":
            _pdf_context(library, passage, quote, path, doc.n_pages)
        else:
            st.warning(t("context_file_missing", file=md_escape(passage.meta.file if passage.meta else passage.doc_id)))
            for page in passage.pages:
                text, spans = page_spans(library, passage, page, quote)
                st.html(marked_html(text, spans))
    else:
        _text_context(library, passage, quote)


def page_spans(
    library: Library, passage: Passage, page: int, quote: tuple[int, int] | None
) -> tuple[str, list[tuple[int, int, str]]]:
    """The page's text and the spans of the passage and its quote on it (page text offsets)."""
    text = library.page_text(passage.doc_id, page) or ""
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


def _quote_page(library: Library, passage: Passage, quote: tuple[int, int] | None) -> int:
    for page in passage.pages:
        _, spans = page_spans(library, passage, page, quote)
        if len(spans) > 1:
            return page
    return passage.pages[0]


@st.cache_data(show_spinner=False, max_entries=64)
def _page_png(path: str, mtime: float, page: int, snippets: tuple[tuple[str, str], ...]) -> bytes:
    return pdf_view.render_page(Path(path), page, list(snippets))


def _step(key: str, delta: int, pages: int) -> None:
    st.session_state[key] = min(max(1, st.session_state.get(key, 1) + delta), pages)


def _pdf_context(library: Library, passage: Passage, quote: tuple[int, int] | None, path: Path, pages: int) -> None:
    pages = pages or pdf_view.page_count(path)
    key = f"ctx_page_{passage.passage_id}"
    if key not in st.session_state:
        st.session_state[key] = _quote_page(library, passage, quote)
    page = st.session_state[key]
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.button(t("context_prev"), key=f"{key}_prev", icon=":material/chevron_left:", disabled=page <= 1,
                  on_click=_step, args=(key, -1, pages))  # fmt: skip
        st.number_input(t("context_page"), min_value=1, max_value=pages, step=1, key=key, width=140)
        st.button(t("context_next"), key=f"{key}_next", icon=":material/chevron_right:", disabled=page >= pages,
                  on_click=_step, args=(key, 1, pages))  # fmt: skip
    text, spans = page_spans(library, passage, page, quote)
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
    image.image(png, caption=t("context_page_of", page=page, pages=pages, title=md_escape(title)), width="stretch",
                alt=t("context_page_alt" if page in passage.pages else "context_page_alt_plain", page=page, pages=pages,
                      title=title))  # fmt: skip
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


def _text_context(library: Library, passage: Passage, quote: tuple[int, int] | None) -> None:
    """The article (or section) around a passage of a text document, the passage highlighted."""
    body = library.page_text(passage.doc_id, 1)
    if not body or passage.char_end <= passage.char_start:
        st.info(t("context_unavailable"))
        plain(passage.text)
        return
    same = (lambda p: p.article == passage.article) if passage.article else (lambda p: p.section == passage.section)
    doc = library.passages_of(passage.doc_id)
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
