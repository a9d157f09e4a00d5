"""The case file: what an officer puts in the dossier after a question or a rule check - the
question, the cited passages with their citations, and each rule check with its trace, reference
date and rule version - as Markdown and as PDF, both rendered from one list of blocks.

    from casefile import CaseFile, case_markdown, case_pdf
    case = CaseFile.from_search(result, question, checks)
    case_markdown(case); case_pdf(case)   # case_citations(case) are in both
"""
from __future__ import annotations

from casefile.content import blocks, case_citations, fact_value, input_label, named, plain_value
from casefile.markdown import case_markdown
from casefile.model import CaseFile, CitedPassage, RuleCheck
from casefile.pdf import FONT_ENV, ExportError, case_pdf, find_font, pdf_problem

__all__ = ["CaseFile", "CitedPassage", "RuleCheck", "blocks", "case_citations", "case_markdown", "case_pdf",
           "pdf_problem", "find_font", "ExportError", "FONT_ENV", "fact_value", "input_label", "named", "plain_value"]
