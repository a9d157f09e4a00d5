"""Onboarding for new officers: the documents of the corpus (type, date, validity, status), the
policy note's structure as a guided outline with its key passages, and a glossary of the
abbreviations and terms of the corpus, each with the passage that defines or first uses it."""
from __future__ import annotations

import streamlit as st

from retrieval.outline import note_doc_id, outline, top_sections
from ui import context, index_guard, passages, resources, settings, tables
from ui.i18n import t
from ui.text import md_escape

cfg = settings.load()
st.title(t("onboarding_title"))
st.caption(t("onboarding_intro"))
retriever = index_guard.retriever_or_stop(cfg)

st.subheader(t("onboarding_documents"))
library = retriever.library
tables.corpus_table(library)

st.subheader(t("onboarding_outline"))
metas = library.metas()
documents = {d: m.title for d, m in metas.items()}
note = note_doc_id(metas)
doc = st.selectbox(t("onboarding_outline_doc"), sorted(documents, key=lambda d: (d != note, documents[d])),
                   format_func=documents.get, key="onboarding_doc")  # fmt: skip
st.caption(t("onboarding_outline_help"))
groups = top_sections(outline(library.passages_of(doc), doc)) if doc else []
opened = next((i for i, (_, sections) in enumerate(groups) if any(s.key_passages() for s in sections)), 0)
for i, (top, sections) in enumerate(groups):
    with st.expander(md_escape(top), expanded=i == opened, icon=":material/bookmark:"):
        for section in sections:
            pages = section.pages
            where = t("onboarding_pages", pages=f"{pages[0]}–{pages[-1]}" if len(pages) > 1 else pages[0]) if pages else ""
            if section.level > 1:
                st.markdown(f"**{md_escape(' › '.join(section.path.split(' > ')[1:]))}**")
            st.caption(t("onboarding_section_size", n=len(section.passages), where=where))
            for p in section.key_passages():
                with st.container(border=True):
                    passages.passage_card(p, key=f"onb_{p.passage_id}")

st.subheader(t("onboarding_glossary"))
st.caption(t("onboarding_glossary_help"))
entries = resources.glossary(cfg)
needle = st.text_input(t("onboarding_glossary_filter"), key="glossary_filter", placeholder=t("onboarding_glossary_placeholder"))
shown = [e for e in entries if needle.strip().casefold() in f"{e.term} {e.expansion} {e.curated}".casefold()]
st.caption(t("onboarding_glossary_count", shown=len(shown), total=len(entries)))
for e in shown:
    meaning = e.expansion or e.curated
    icon = {"corpus": ":material/format_quote:", "curated": ":material/edit_note:"}.get(e.origin, ":material/search:")
    with st.expander(md_escape(f"{e.term} — {meaning}" if meaning else e.term), icon=icon):
        if e.expansion:
            st.caption(t("glossary_from_corpus", expansion=md_escape(e.expansion)))
        if e.curated:
            st.caption(t("glossary_curated", meaning=md_escape(e.curated)))
        st.caption(t("glossary_defines" if e.defines else "glossary_first_use", uses=e.uses, documents=len(e.documents)))
        passages.passage_card(e.passage, key=f"gl_{e.term}", quote=e.span)

context.context_dialog(library)
