"""Undo what printing did: running headers and footers, page numbers, page breaks."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pcc_assistant.ingest.source import SourceText

_PAGE_NUMBER = re.compile(
    r"^(?:page\s+\d+(?:\s+of\s+\d+)?|\d+\s+of\s+\d+|[-–—]?\s*\d{1,4}\s*[-–—]?|[ivxlc]{1,6})$",
    re.IGNORECASE,
)
_EDGE = 3  # lines at the top and the bottom of a page where furniture sits


@dataclass(frozen=True)
class Line:
    """A line of body text, with where it came from."""

    text: str
    page: int | None
    start: int  # offset of the line in the extracted text (pages joined by newlines)
    blank_before: bool  # a blank line (or more) came before it
    heading: bool = False  # marked as a heading by the format (Markdown)


def _fold(text: str) -> str:
    """Runs of spaces become one; tabs stay, they separate table cells."""
    return re.sub(r"[ \u00a0\u2002-\u200a]+", " ", text).strip()


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).lower())


def _furniture_shapes(source: SourceText) -> set[str]:
    """Shapes of lines that repeat at the edges of most pages."""
    pages = [[ln.text for ln in page if ln.text.strip()] for page in source.pages]
    if not source.paged or len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({_shape(t) for t in lines[:_EDGE] + lines[-_EDGE:]})
    need = max(2, (len(pages) + 1) // 2)
    return {shape for shape, n in counts.items() if n >= need}


def body_lines(source: SourceText) -> list[Line]:
    """The source's lines without page furniture; blank lines folded into a flag."""
    repeated = _furniture_shapes(source)
    out: list[Line] = []
    offset = 0
    blank = False
    for page in source.pages:
        texts = [ln.text for ln in page]
        nonblank = [i for i, t in enumerate(texts) if t.strip()]
        edges = set(nonblank[:_EDGE] + nonblank[-_EDGE:]) if source.paged else set()
        for i, ln in enumerate(page):
            start = offset
            offset += len(ln.text) + 1
            text = ln.text.strip()
            if not text:
                blank = True
                continue
            if i in edges and (_shape(text) in repeated or _PAGE_NUMBER.match(text)):
                continue
            out.append(Line(_fold(text), ln.page, start, blank, ln.heading))
            blank = False
    return out
