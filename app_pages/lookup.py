"""Citation lookup: a reference ("art. 43 Vw", "C2/3.2 Vc", "p. 3 nota") -> the exact passage(s);
and the documents of the corpus by title with their date, status and pages."""
from __future__ import annotations

import streamlit as st

from retrieval.references import EXACT
from ui import context, index_guard, passages, settings, tables
from ui.i18n import t
from ui.text import md_escape

cfg = settings.load()
st.title(t("lookup_title"))
st.caption(t("lookup_intro"))
retriever = index_guard.retriever_or_stop(cfg)

with st.form("lookup", border=False):
    reference = st.text_input(t("lookup_input"), placeholder=t("lookup_placeholder"), key="lookup_text")
    st.form_submit_button(t("lookup_button"), icon=":material/search:")

if reference.strip():
    refs, hits = retriever.lookup(reference)
    labels = ", ".join(r.label() for r in refs)
    if not refs:
        st.info(t("lookup_not_recognised"))
    elif not hits:
        st.warning(t("lookup_no_hits", refs=md_escape(labels)))
    else:
        st.caption(t("lookup_recognised", refs=md_escape(labels)))
        exact = [h for h in hits if h.reference_match >= EXACT]
        others = [h for h in hits if h.reference_match < EXACT]
        if exact:
            st.subheader(t("lookup_exact"))
            for i, hit in enumerate(exact):
                with st.container(border=True):
                    passages.hit_card(hit, key=f"lk_exact_{i}")
        if others:
            st.subheader(t("lookup_mentions"))
            passages.folded_hits(others, key="lk_other", start=len(exact) + 1)

st.divider()
st.subheader(t("documents_title"))
library = retriever.library
tables.documents_table(library)
docs = {d.doc_id: d.title for d in library.documents()}
choice = st.selectbox(
    t("documents_pick"), [None, *docs], format_func=lambda d: t("documents_pick_none") if d is None else docs[d],
    key="lookup_doc",
)  # fmt: skip
if choice:
    doc_passages = library.passages_of(choice)
    shown = doc_passages[:100]
    st.caption(t("documents_passages_shown", shown=len(shown), total=len(doc_passages)))
    for p, label in zip(shown, passages.listing_labels(shown)):
        with st.expander(md_escape(label)):
            passages.passage_card(p, key=f"lk_doc_{p.passage_id}")

context.context_dialog(library)
