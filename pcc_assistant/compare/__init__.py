"""Follow one measure across reports (``pcc compare``): the figure each report gives,
with its period, place and the comparison the report makes, each tied to the paragraph
it is quoted from.

Candidates come from the same hybrid retrieval answers use, searched report by report so
that every report gets its own best paragraphs; :mod:`.reading` reads the figure; a
value not found word for word in its paragraph is never shown.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pcc_assistant.answer.model import (
    Answer,
    Claim,
    Evidence,
    format_date,
    pages_text,
    paragraph_mark,
)
from pcc_assistant.compare.periods import normal_period, period_end, title_period
from pcc_assistant.compare.reading import Figure, measure_terms, read
from pcc_assistant.errors import PccError
from pcc_assistant.types import Report

if TYPE_CHECKING:
    from pcc_assistant.retrieve import Filters, Retrieval

__all__ = [
    "Comparison",
    "Figure",
    "Row",
    "Searcher",
    "compare",
    "comparison_answer",
    "comparison_json",
]

_PER_REPORT = 12  # paragraphs retrieved from each report
MAX_MEASURE = 200  # characters


@runtime_checkable
class Searcher(Protocol):
    """What compare needs of :class:`pcc_assistant.retrieve.Retriever`."""

    @property
    def reports(self) -> list[Report]: ...

    def search(
        self, question: str, filters: Filters | None = None, k: int = 10, use_named: bool = True
    ) -> Retrieval: ...


@dataclass(frozen=True)
class Row:
    """One report's line of the comparison; ``figure`` is None when it doesn't give it."""

    report: Report
    indexed_at: str = ""
    figure: Figure | None = None
    evidence: Evidence | None = None  # the cited paragraph; its marker numbers the row
    flagged: str = ""  # why the row is flagged, e.g. another report's different figure

    @property
    def reported(self) -> bool:
        return self.figure is not None and self.evidence is not None

    @property
    def when(self) -> dt.date | None:
        """When the figure stands: the report's date, else the end of its period."""
        if self.report.date:
            return self.report.date
        for period in (self.figure.period if self.figure else "", title_period(self.report)):
            end = period_end(period)
            if end:
                return end
        return None

    def citation(self) -> str:
        """``¶32, p.7``."""
        if self.evidence is None:
            return ""
        p = self.evidence.paragraph
        return ", ".join(x for x in (paragraph_mark(p), pages_text(p)) if x)


@dataclass
class Comparison:
    measure: str
    rows: list[Row] = field(default_factory=list)

    @property
    def reported(self) -> list[Row]:
        return [r for r in self.rows if r.reported]


def compare(searcher: Searcher, measure: str, filters: Filters | None = None) -> Comparison:
    """The measure's figure in every report the filters admit, ordered by report date."""
    from pcc_assistant.retrieve import Filters

    measure = " ".join(measure.split())
    if not measure:
        raise PccError('the measure is empty: name one, e.g. `pcc compare "solved rate"`')
    if len(measure) > MAX_MEASURE:
        raise PccError(f"the measure is {len(measure)} characters long; use under {MAX_MEASURE}")
    if not measure_terms(measure):
        raise PccError(f'{measure!r} names no measure: use words such as "victim satisfaction"')
    filters = filters or Filters()
    reports = searcher.reports
    if not reports:
        raise PccError("the index holds no reports: run `pcc ingest corpus/` first")
    known = {r.doc for r in reports}
    unknown = [d for d in filters.docs if d not in known]
    if unknown:
        raise PccError(
            f"not in the index: {', '.join(unknown)} (indexed: {', '.join(sorted(known))})"
        )
    chosen = [r for r in reports if filters.admits(r)]
    if not chosen:
        raise PccError("no indexed report matches the filters")
    rows = [_row(searcher, measure, r) for r in chosen]
    rows.sort(key=lambda r: (r.when or dt.date.max, r.report.doc))
    marker = 0
    numbered = []
    for row in rows:
        if row.evidence is not None:
            marker += 1
            row = replace(row, evidence=replace(row.evidence, marker=marker))
        numbered.append(row)
    return Comparison(measure, _flag(numbered))


def _row(searcher: Searcher, measure: str, report: Report) -> Row:
    from pcc_assistant.retrieve import Filters

    retrieval = searcher.search(measure, Filters(docs=(report.doc,)), _PER_REPORT, False)
    indexed_at = next((e.indexed_at for e in retrieval.evidence), "")
    best: tuple[float, Figure, Evidence] | None = None
    for rank, e in enumerate(retrieval.evidence):
        for fig in read(measure, e.paragraph, report)[:1]:
            score = fig.score - rank * 0.1  # retrieval order breaks ties
            if best is None or score > best[0]:
                best = (score, fig, e)
    if best is None:
        return Row(report, indexed_at)
    return Row(report, indexed_at, best[1], best[2])


def _key(row: Row) -> tuple[str, str, str] | None:
    f = row.figure
    if f is None or not f.period or f.period_from == "title":
        return None
    relative = re.match(r"(?:this|last|the last|previous)\b", f.period, re.IGNORECASE)
    if relative:
        return None  # "this quarter" is a different period in each report
    place = f.place.split(" · ")[0].lower()
    return (" ".join(normal_period(f.period).lower().split()), place, f.unit)


def _flag(rows: list[Row]) -> list[Row]:
    """Rows of different reports giving different figures for one period and place."""
    out = []
    for row in rows:
        key = _key(row)
        clash = [
            other
            for other in rows
            if key is not None
            and other.report.doc != row.report.doc
            and _key(other) == key
            and other.figure is not None
            and row.figure is not None
            and other.figure.number != row.figure.number
        ]
        if clash:
            why = "; ".join(
                f"{o.report.title} ({format_date(o.report)}) gives {o.figure.value}"
                for o in clash
                if o.figure is not None
            )
            row = replace(row, flagged=f"differs for the same period and place: {why}")
        out.append(row)
    return out


def row_json(row: Row) -> dict[str, Any]:
    r = row.report
    f = row.figure
    p = row.evidence.paragraph if row.evidence else None
    return {
        "doc": r.doc,
        "title": r.title,
        "organisation": r.organisation,
        "date": r.date.isoformat() if r.date else None,
        "reported": row.reported,
        "value": f.value if f else None,
        "number": f.number if f else None,
        "unit": f.unit if f else None,
        "period": f.period if f else None,
        "period_from": f.period_from if f else None,
        "place": f.place if f else None,
        "place_from": f.place_from if f else None,
        "comparison": f.comparison if f else None,
        "quote": f.quote if f else None,
        "marker": row.evidence.marker if row.evidence else None,
        "paragraph": p.label if p else None,
        "citation": row.citation() or None,
        "pages": list(p.pages) if p else [],
        "section": p.section if p else None,
        "text": p.text if p else None,
        "sha256": r.sha256,
        "indexed_at": row.indexed_at,
        "flagged": bool(row.flagged),
        "flag_reason": row.flagged,
    }


def comparison_json(c: Comparison) -> dict[str, Any]:
    """The ``pcc compare --json`` object."""
    return {"measure": c.measure, "rows": [row_json(r) for r in c.rows]}


def row_summary(row: Row) -> str:
    """One line: "Durham PCVC performance report (12 Mar 2020): 19%, February 2019 to
    January 2020, Durham"."""
    head = f"{row.report.title} ({format_date(row.report)})"
    f = row.figure
    if f is None:
        return f"{head}: not reported"
    parts = [f.value] + [x for x in (f.period, f.place) if x]
    text = f"{head}: {', '.join(parts)}"
    if f.comparison:
        text += f" ({f.comparison})"
    return text


def comparison_answer(c: Comparison) -> Answer:
    """The comparison as an answer: a claim per reported row citing its paragraph, so the
    chat selects, highlights, saves and exports its citations like any other."""
    claims = []
    retrieved = []
    for row in c.reported:
        assert row.evidence is not None and row.figure is not None
        claims.append(Claim(row_summary(row), (row.evidence.marker,), support=(row.figure.quote,)))
        retrieved.append(row.evidence)
    missing = [f"{r.report.title} ({format_date(r.report)})" for r in c.rows if not r.reported]
    note = f"not reported in: {'; '.join(missing)}" if missing else ""
    return Answer(f"compare: {c.measure}", "compare", bool(claims), claims, retrieved, note)
