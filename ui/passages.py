"""How a cited passage and a search answer look: the passage card (citation to copy, badges,
quote highlighted, a button that opens it in context), folded hits and the answer to a question.
Pages show these; rule traces reuse `passage_card`. Document text goes through ui.text, escaped."""
from __future__ import annotations

import streamlit as st

from indexer.passage import Passage
from retrieval.places import quoted
from retrieval.references import EXACT
from retrieval.hits import Hit, SearchResult
from retrieval.thesaurus import expansion_text
from retrieval.validity import status_on
from ui.context import context_button
from ui.i18n import fmt_date, t
from ui.text import md_escape, quote_html

STATUSES = ("current", "superseded", "expired", "not-yet-valid", "unknown")  # of retrieval.validity.status_on
STATUS_COLOURS = {"current": "green", "superseded": "red", "expired": "orange", "not-yet-valid": "blue"}


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
