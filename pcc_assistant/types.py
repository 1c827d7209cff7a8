"""Value types shared by every stage: what a report is and what a paragraph is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Report:
    """One indexed document: a report, minutes, a strategy."""

    doc: str  # the file stem, the id everything else refers to
    title: str
    organisation: str
    date: dt.date | None
    path: str
    sha256: str
    pages: int  # 0 for formats without pages


@dataclass(frozen=True)
class Paragraph:
    """The report's own unit of text, as it will be cited.

    ``label`` is the report's number (``32``, ``4.1.1``), a figure (``Figure 9``), a
    footnote (``footnote 2``), or, for unnumbered text, the nearest number plus a
    position (``4.1.1 (2)``).
    """

    doc: str
    ordinal: int  # position in the document, from 0
    label: str
    kind: str  # "paragraph", "table", "figure", "footnote"
    pages: tuple[int, ...]
    section: str  # heading path, " > " between levels
    text: str
    start: int  # character offsets of the unit in the extracted source text
    end: int


@dataclass(frozen=True)
class ParsedDocument:
    """What the ingest stage hands to the index: the report and its paragraphs."""

    report: Report
    paragraphs: tuple[Paragraph, ...] = field(default=())
