"""What an answer is made of: retrieved evidence, claims that cite it, and the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pcc_assistant.types import Paragraph, Report

REFUSAL = "The indexed reports don't answer this."


@dataclass(frozen=True)
class Evidence:
    """One retrieved paragraph, with the report it belongs to.

    ``marker`` is its number in this answer (1-based): the ``[3]`` a generative model is
    asked to cite, and the marker a reader selects in the chat.
    """

    marker: int
    paragraph: Paragraph
    report: Report
    score: float  # fused retrieval score, higher is better
    indexed_at: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.paragraph.doc, self.paragraph.ordinal)


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and the evidence markers it cites."""

    text: str
    markers: tuple[int, ...]
    verified: bool = True
    problem: str = ""  # why it failed verification, for the reader
    support: tuple[str, ...] = ()  # the sentences of the cited paragraphs it rests on


@dataclass
class Answer:
    question: str
    answerer: str
    answerable: bool
    claims: list[Claim]
    retrieved: list[Evidence]
    note: str = ""  # e.g. why a generative answer was replaced by the extractive one
    timings_ms: dict[str, float] = field(default_factory=dict)
    signals: dict[str, float] = field(default_factory=dict)  # what the refusal rule saw

    @property
    def text(self) -> str:
        if not self.answerable:
            return REFUSAL
        return " ".join(c.text for c in self.claims if c.verified)

    def cited(self) -> list[Evidence]:
        """Evidence cited by verified claims, in order of first citation."""
        by_marker = {e.marker: e for e in self.retrieved}
        seen: dict[int, Evidence] = {}
        for c in self.claims:
            if not c.verified:
                continue
            for m in c.markers:
                if m in by_marker and m not in seen:
                    seen[m] = by_marker[m]
        return list(seen.values())


def numbered(a: Answer) -> Answer:
    """The answer with its citations numbered [1], [2], ... in the order the answer shows
    them (the paragraphs it cites first, then the rest of what was retrieved), so that
    the terminal, the chat and the export all read the same numbers."""
    from dataclasses import replace

    order = [e.marker for e in a.cited()] if a.answerable else []
    order += [e.marker for e in a.retrieved if e.marker not in order]
    new = {old: n for n, old in enumerate(order, 1)}
    by_marker = {e.marker: e for e in a.retrieved}
    retrieved = [replace(by_marker[old], marker=new[old]) for old in order]
    claims = [replace(c, markers=tuple(new.get(m, m) for m in c.markers)) for c in a.claims]
    return replace(a, claims=claims, retrieved=retrieved)


def format_date(report: Report) -> str:
    return f"{report.date.day} {report.date.strftime('%b %Y')}" if report.date else "undated"


def paragraph_mark(p: Paragraph) -> str:
    """``¶32`` for a numbered paragraph, ``§4.1.1`` for a section, figures as they are."""
    label = p.label
    if not label or not label[0].isdigit():
        return label
    head = label.split(" ")[0]
    return f"§{label}" if "." in head else f"¶{label}"


def pages_text(p: Paragraph) -> str:
    if not p.pages:
        return ""
    if len(p.pages) == 1:
        return f"p.{p.pages[0]}"
    return f"pp.{p.pages[0]}–{p.pages[-1]}"


def citation_text(e: Evidence) -> str:
    """``[Durham PCVC performance report, 12 Mar 2020, ¶32, p.5]``."""
    parts = [e.report.title, format_date(e.report), paragraph_mark(e.paragraph)]
    pages = pages_text(e.paragraph)
    if pages:
        parts.append(pages)
    return "[" + ", ".join(parts) + "]"


def answer_json(a: Answer) -> dict[str, Any]:
    """The ``pcc ask --json`` object (also each question's record in ``pcc eval --json``)."""
    by_marker = {e.marker: e for e in a.retrieved}
    citations = []
    seen: set[int] = set()
    for c in a.claims if a.answerable else []:
        for m in c.markers:
            e = by_marker.get(m)
            if e is None or m in seen:
                continue
            seen.add(m)
            citations.append(
                {
                    "marker": m,
                    "doc": e.paragraph.doc,
                    "title": e.report.title,
                    "date": e.report.date.isoformat() if e.report.date else "",
                    "paragraph": e.paragraph.label,
                    "pages": list(e.paragraph.pages),
                    "text": e.paragraph.text,
                    "verified": c.verified,
                    "sha256": e.report.sha256,
                    "indexed_at": e.indexed_at,
                }
            )
    return {
        "question": a.question,
        "answer": a.text,
        "answerable": a.answerable,
        "answerer": a.answerer,
        "note": a.note,
        "claims": [
            {
                "text": c.text,
                "markers": list(c.markers),
                "verified": c.verified,
                "problem": c.problem,
            }
            for c in a.claims
        ],
        "citations": citations,
        "retrieved": [
            {
                "marker": e.marker,
                "doc": e.paragraph.doc,
                "paragraph": e.paragraph.label,
                "pages": list(e.paragraph.pages),
                "text": e.paragraph.text,
                "score": round(e.score, 6),
            }
            for e in a.retrieved
        ],
        "timings_ms": {k: round(v, 2) for k, v in a.timings_ms.items()},
    }
