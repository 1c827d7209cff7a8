"""An answer as plain terminal text: the answer with its citations, then the cited
paragraphs quoted (or, for a refusal, the closest matches)."""

from __future__ import annotations

import textwrap

from pcc_assistant.answer.model import REFUSAL, Answer, Evidence, citation_text
from pcc_assistant.limits import MAX_PRINTED_ANSWER, MAX_PRINTED_QUOTE, cut
from pcc_assistant.safe_text import clean


def _quote(e: Evidence, width: int) -> list[str]:
    body = " ".join(e.paragraph.text.split())
    body = cut(body, MAX_PRINTED_QUOTE, f"`pcc paragraphs {e.paragraph.doc}` shows it all")
    return textwrap.wrap(clean(body), width - 4, initial_indent="    ", subsequent_indent="    ")


def answer_text(a: Answer, width: int = 88, closest: int = 3) -> str:
    lines: list[str] = []
    if not a.answerable:
        lines.append(REFUSAL)
        if a.note:
            lines.append(f"({clean(a.note)})")
        if a.retrieved:
            lines += ["", "Closest matches:"]
            for e in a.retrieved[:closest]:
                lines.append(f"[{e.marker}] {clean(citation_text(e))}")
                lines += _quote(e, width)[:3]
        return "\n".join(lines)
    by_marker = {e.marker: e for e in a.retrieved}
    sentences = []
    for c in a.claims:
        marks = "".join(f"[{m}]" for m in c.markers if m in by_marker)
        if c.verified:
            sentences.append(f"{clean(c.text)} {marks}")
    text = cut(" ".join(sentences), MAX_PRINTED_ANSWER, "`--json` gives it all")
    lines += textwrap.wrap(text, width)
    if a.note:
        lines += ["", f"note: {clean(a.note)}"]
    lines.append("")
    for e in a.cited():
        lines.append(f"[{e.marker}] {clean(citation_text(e))}")
        lines += _quote(e, width)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
