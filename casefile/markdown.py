"""The case file as Markdown, rendered from the same blocks as the PDF."""
from __future__ import annotations

from casefile.content import QUOTE_CLOSE, QUOTE_OPEN, blocks
from casefile.model import CaseFile


def case_markdown(case: CaseFile) -> str:
    """The case as Markdown: headings, quoted passages, steps as list items with their details nested."""
    lines: list[str] = []
    for kind, text in blocks(case):
        if kind in ("h1", "h2", "h3"):
            lines += ["", "#" * int(kind[1]) + " " + " ".join(text.split()), ""]
        elif kind in ("quote", "cited"):
            if kind == "cited":  # the quote in bold, literal asterisks escaped
                text = text.replace("*", "\\*").replace(QUOTE_OPEN, "**").replace(QUOTE_CLOSE, "**")
            lines += ["> " + line if line.strip() else ">" for line in text.splitlines()] + [""]
        elif kind == "item":
            lines.append(f"- {text}")
        elif kind == "sub":
            lines.append(f"    - {text}")
        elif kind == "meta":
            lines += [f"*{text}*", ""]
        else:
            lines += [text, ""]
    return "\n".join(lines).strip() + "\n"
