"""How a cited passage and a search answer look: the passage card (citation to copy, badges,
quote highlighted, a button that opens it in context), folded hits and the answer to a question.
Pages show these; rule traces reuse `passage_card`. Document text goes through ui.text, escaped."""
from __future__ import annotations

import datetime as dt

import streamlit as st

import rules
from indexer.passage import Passage
from retrieval.places import quoted
from retrieval.references import EXACT
from retrieval.hits import Hit, SearchResult
from retrieval.measures import Measure, for_document
from retrieval.thesaurus import expansion_text
from retrieval.validity import passage_status_on
from ui.context import context_button
from ui.i18n import fmt_date, t
from ui.navigation import rule_page
from ui.text import escape, md_escape, quote_html

STATUSES = ("current", "superseded", "expired", "not-yet-valid", "unknown")  # of retrieval.validity.status_on
STATUS_COLOURS = {"current": "green", "superseded": "red", "expired": "orange", "not-yet-valid": "blue"}


def badges(passage: Passage, status: str, reference_match: int = 0, on: dt.date | None = None) -> None:
    """The text's status, partial text, OCR text, the text's validity period, the period of the
    measure it describes (when the corpus states it) and 'requested provision' badges in one row."""
    meta = passage.meta
    with st.container(horizontal=True, gap="small"):
        st.badge(status_label(status), color=STATUS_COLOURS.get(status, "gray"), help=t("status_help"))
        measure = for_document(passage.doc_id)
        if measure is not None:
            applies = measure.applies_on(on or dt.date.today())
            st.badge(md_escape(f"{measure_text(measure)} ({t('measure_applies' if applies else 'measure_ended')})"),
                     color="green" if applies else "orange",
                     help=md_escape(t("measure_help", rule=rules.get_rule(measure.rule).title, sources="; ".join(measure.sources))))  # fmt: skip
        if meta and meta.completeness:
            st.badge(t("partial_text"), color="gray", help=md_escape(meta.completeness))
        if passage.ocr:
            st.badge(t("ocr_text"), color="orange", icon=":material/document_scanner:", help=t("ocr_help"))
        if passage.valid_from or passage.valid_until:  # an article's own dates (consolidated law)
            st.badge(passage_validity_text(passage), color="gray")
        elif meta and (meta.valid_from or meta.valid_until):
            st.badge(validity_text(meta.valid_from, meta.valid_until), color="gray")
        if reference_match >= EXACT:
            st.badge(t("exact_reference"), color="violet")


def passage_validity_text(passage: Passage) -> str:
    """When a passage with dates of its own is valid: its document's window narrowed to them."""
    window = passage.validity_window()
    if window is None:
        return t("validity_never")
    return validity_text(*(d.isoformat() if d else None for d in window))


def validity_text(valid_from: str | None, valid_until: str | None) -> str:
    """When a text is valid: 'geldig 01-10-2022 t/m 30-09-2023', or open."""
    start, end = fmt_date(valid_from), fmt_date(valid_until)
    if start and end:
        return t("valid_from_until", start=start, end=end)
    return t("valid_from", start=start) if start else t("valid_until", end=end) if end else t("validity_open")


def measure_text(measure: Measure) -> str:
    """The period of the measure a document describes: 'BVM Russische dienstplichtigen: 29-06-2022 tot 29-06-2023'."""
    return t("measure_period", label=measure.label, start=fmt_date(measure.start and measure.start.isoformat()),
             end=fmt_date(measure.until and measure.until.isoformat()))  # fmt: skip


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
    on: dt.date | None = None,
) -> None:
    """One cited passage: the citation (st.code: one click copies it), badges, the text with its
    quote highlighted, and a button that opens it in context (the page calls `context_dialog`)."""
    st.code(passage.citation, language=None, wrap_lines=True)
    badges(passage, status or passage_status_on(passage), reference_match, on)
    st.html(quote_html(passage.text, *(quote or (None, None))))
    context_button(passage, quote, key=f"{key}_ctx")


def hit_card(hit: Hit, *, key: str) -> None:
    passage_card(
        hit.passage, key=key, quote=(hit.quote_start, hit.quote_end),
        status=hit.status, reference_match=hit.reference_match, on=hit.on,
    )  # fmt: skip


def listing_labels(passages: list[Passage]) -> list[str]:
    """Labels that tell the passages of a list apart: the citation, with its deepest heading when
    the citation names only the top one ('… C3 Moratoria, › 2 Besluitmoratorium'), and
    'alinea n' for passages that would still read the same (four paragraphs under C2/3.2)."""
    labels = []
    for p in passages:
        parts = p.section.split(" > ") if p.section else []
        deeper = len(parts) > 1 and not p.locator and parts[-1] not in p.citation
        labels.append(f"{p.citation} › {parts[-1]}" if deeper else p.citation)
    seen: dict[str, int] = {}
    total = {label: labels.count(label) for label in labels}
    out = []
    for label in labels:
        if total[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            label = f"{label} · {t('paragraph_n', n=seen[label])}"
        out.append(label)
    return out


def folded_hits(hits: list[Hit], *, key: str, start: int = 1) -> None:
    """Hits as expanders labelled with their citation, for the passages after the lead."""
    for (i, hit), label in zip(enumerate(hits, start), listing_labels([h.passage for h in hits])):
        with st.expander(md_escape(f"{i}. {label}")):
            hit_card(hit, key=f"{key}_{i}")


def search_result(result: SearchResult, *, key: str) -> None:
    """An answer: what was searched, references not in the corpus, then by confidence: `high`
    the answer line over the leading passage, the rest folded; `low` the answer line marked as
    possible and the best passages open, labelled possibly relevant; `none` the plain 'no
    answer' message with the nearest passages under its own heading."""
    st.caption(t("answer_on", date=fmt_date(result.on.isoformat())) if result.on else t("answer_all_dates"))
    if result.interpreted_as and result.interpreted_as != result.question:
        st.caption(md_escape(t("interpreted_as", text=result.interpreted_as)))
    for m in result.missing_references:
        near = f" {t('reference_suggestions', suggestions=', '.join(m.suggestions))}" if m.suggestions else ""
        st.warning(md_escape(t("reference_missing", reference=m.reference.text) + near), icon=":material/search_off:")
    if result.thesaurus:  # how the word search was widened, so an officer can judge it
        st.caption(md_escape(t("thesaurus_used", items=expansion_text((m.expression, m.terms) for m in result.thesaurus))))
    if not result.hits:
        if not result.missing_references:
            st.warning(t("no_passages_on", date=fmt_date(result.on.isoformat())) if result.on else t("no_answer"))
        return
    if result.confidence == "none":
        places = md_escape(quoted(result.unknown_places))  # the officer's own words
        why = f" {t('unknown_places', places=places)}" if result.unknown_places else ""
        st.warning(t("no_answer") + why, icon=":material/search_off:")
        st.markdown(f"**{t('nearest')}**")
        folded_hits(result.hits, key=key)
        return
    if result.answer is not None:
        answer_line(result, high=result.confidence == "high")
    if result.confidence == "low":
        st.info(t("possibly_relevant"), icon=":material/help:")
        open_hits = result.hits[:3]
        for i, hit in enumerate(open_hits):
            with st.container(border=True):
                st.caption(md_escape(f"{i + 1}."))
                hit_card(hit, key=f"{key}_{i}")
        if len(result.hits) > len(open_hits):
            st.markdown(f"**{t('more_passages')}**")
            folded_hits(result.hits[len(open_hits):], key=key, start=len(open_hits) + 1)
        return
    with st.container(border=True):
        hit_card(result.hits[0], key=f"{key}_0")
    if len(result.hits) > 1:
        st.markdown(f"**{t('more_passages')}**")
        folded_hits(result.hits[1:], key=key, start=2)


def answer_line(result: SearchResult, *, high: bool) -> None:
    """The answer line: a rule's result when a rule computes it, the quote verbatim, and which
    passage it comes from (and, for a rule, a link to its check with the trace)."""
    a = result.answer
    st.markdown(f"**{t('answer_high' if high else 'answer_low')}**")
    if a.rule is not None:
        st.markdown(md_escape(t("answer_rule_period", title=a.rule["title"], start=fmt_date(a.rule["from"]),
                                end=fmt_date(a.rule["until"]))))  # fmt: skip
    st.html(f'<blockquote style="margin:0 0 .25rem 0">“{escape(a.quote)}”</blockquote>')
    st.caption(md_escape(t("answer_from", n=a.passage + 1, citation=a.citation)))
    if a.rule is not None:
        st.page_link(rule_page(rules.get_rule(a.rule["id"])), label=t("answer_rule_open"), icon=":material/rule:")
