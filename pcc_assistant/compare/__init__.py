"""Follow one measure across reports (``pcc compare``): the figure each report gives,
with its period, place and the comparison the report makes, each tied to the paragraph
it is quoted from.

The measure is read first (:mod:`.measure`): the words that name it ("new visits") apart
from those that only locate it ("share of", "to data.gov.uk", "per 1,000 population").
Candidates come from the same hybrid retrieval answers use (embedding model and keyword
index), searched report by report so that every report gets its own best paragraphs;
each row or sentence of them is matched by the measure's words or, failing those, by its
meaning (the same embedding model); :mod:`.reading` reads the figure. A value not found
word for word in its paragraph is never shown; where nothing matched, the rows that came
close are named instead.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from pcc_assistant.answer.model import (
    Answer,
    Claim,
    Evidence,
    format_date,
    pages_text,
    paragraph_mark,
)
from pcc_assistant.compare.measure import Measure, parse
from pcc_assistant.compare.periods import normal_period, period_end, quarter, stated_period
from pcc_assistant.compare.reading import (
    Figure,
    Near,
    has_rows,
    meaning_texts,
    near,
    read,
    report_place,
)
from pcc_assistant.errors import PccError
from pcc_assistant.types import Paragraph, Report

if TYPE_CHECKING:
    from pcc_assistant.retrieve import Filters, Retrieval

__all__ = [
    "Comparison",
    "Dating",
    "Figure",
    "Near",
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

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def paragraphs(self, doc: str, ordinals: list[int]) -> list[Paragraph]: ...


@dataclass(frozen=True)
class Dating:
    """When a report stands: its own date, or the end of the period it says it covers."""

    date: dt.date | None = None
    source: str = ""  # "report" (its own date), "title", "opening" (its first paragraphs), ""
    period: str = ""  # "July to September 2013": the period stated
    quarter: str = ""  # "Q2 2013/14" when the period is one financial-year quarter
    words: str = ""  # the words that state it: "for the period between July and ..."

    def describe(self) -> str:
        """Where the date came from, for the reader."""
        if self.source == "report":
            return "the report's date"
        if not self.source:
            return "undated"
        where = "title" if self.source == "title" else "opening paragraphs"
        quarter = f" ({self.quarter})" if self.quarter else ""
        return f"dated from its {where}: “{self.words}”{quarter}"


def date_report(report: Report, opening: str = "") -> Dating:
    """The report's date; failing that, the end of the period its title or opening
    says it covers ("for the period between January and March 2014": Q4 2013/14,
    dated 31 March 2014)."""
    if report.date:
        return Dating(report.date, "report")
    for source, text in (("title", report.title), ("opening", opening)):
        found = stated_period(text)
        if found is None:
            continue
        period, words = found
        end = period_end(period)
        if end is not None:
            return Dating(end, source, period, quarter(period), words)
    return Dating()


@dataclass(frozen=True)
class Row:
    """One report's line of the comparison; ``figure`` is None when it doesn't give it."""

    report: Report
    indexed_at: str = ""
    figure: Figure | None = None
    evidence: Evidence | None = None  # the cited paragraph; its marker numbers the row
    flagged: str = ""  # why the row is flagged, e.g. another report's different figure
    dating: Dating = field(default_factory=Dating)
    near: tuple[tuple[Near, Evidence], ...] = ()  # close rows, when the measure isn't given

    @property
    def reported(self) -> bool:
        return self.figure is not None and self.evidence is not None

    @property
    def when(self) -> dt.date | None:
        """When the figure stands: the report's date (or the end of the period the
        report says it covers), else the end of the figure's period."""
        if self.report.date:
            return self.report.date
        if self.dating.date:
            return self.dating.date
        end = period_end(self.figure.period) if self.figure else None
        return end

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
    reports = searcher.reports
    wanted = parse(measure, _names(reports))
    if not wanted.core:
        raise PccError(f'{measure!r} names no measure: use words such as "victim satisfaction"')
    filters = filters or Filters()
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
    rows = [_row(searcher, wanted, r) for r in chosen]
    rows.sort(key=lambda r: (r.when or dt.date.max, r.report.doc))
    marker = 0
    numbered = []
    for row in rows:
        if row.evidence is not None:
            marker += 1
            row = replace(row, evidence=replace(row.evidence, marker=marker))
        numbered.append(row)
    return Comparison(measure, _flag(numbered))


def _names(reports: list[Report]) -> list[str]:
    """Places and organisations of the indexed reports: words that locate a measure."""
    out = []
    for r in reports:
        out += [r.organisation, report_place(r)]
    return [n for n in out if n]


def _row(searcher: Searcher, measure: Measure, report: Report) -> Row:
    from pcc_assistant.retrieve import Filters

    only = Filters(docs=(report.doc,))
    # as written, and by the words that name it: each may find what the other misses
    evidence: dict[tuple[str, int], Evidence] = {}
    for query in dict.fromkeys((measure.phrase, measure.text)):
        for e in searcher.search(query, only, _PER_REPORT, False).evidence:
            evidence.setdefault((e.paragraph.doc, e.paragraph.ordinal), e)
    # a table broken by a page runs on into the next paragraph: the neighbours of the
    # best paragraphs, and the next paragraph after any that holds table rows
    ordinals = sorted(
        {
            e.paragraph.ordinal + step
            for n, e in enumerate(evidence.values())
            for step in (-1, 1)
            if n < _NEIGHBOURS or (step == 1 and has_rows(e.paragraph))
        }
        - {ordinal for _, ordinal in evidence}
    )
    found = list(evidence.values())
    if found:
        first = found[0]
        for p in searcher.paragraphs(report.doc, ordinals):
            found.append(replace(first, paragraph=p, score=-1e9))
    opening = (
        "" if report.date else "\n".join(p.text for p in searcher.paragraphs(report.doc, [0, 1, 2]))
    )
    dating = date_report(report, opening)
    indexed_at = next((e.indexed_at for e in found), "")
    meaning = _meaning(searcher, measure, found)
    best: tuple[float, Figure, Evidence] | None = None
    for rank, e in enumerate(found):
        for fig in read(measure, e.paragraph, report, meaning)[:1]:
            score = fig.score - rank * 0.1  # retrieval order breaks ties
            if best is None or score > best[0]:
                best = (score, fig, e)
    if best is None:
        close = [(n, e) for e in found for n in near(measure, e.paragraph, meaning)]
        close.sort(key=lambda ne: (ne[0].why.startswith("close"), -ne[0].similarity))
        unique = list({n.label: (n, e) for n, e in reversed(close)}.values())[::-1]
        return Row(report, indexed_at, dating=dating, near=tuple(unique[:_NEAR]))
    return Row(report, indexed_at, best[1], best[2], dating=dating)


_NEIGHBOURS = 4  # the best paragraphs whose neighbours are read too
_NEAR = 3  # close rows named for a report that doesn't give the measure


def _meaning(searcher: Searcher, measure: Measure, found: list[Evidence]) -> dict[str, float]:
    """Cosine of the measure's naming words and each row label or sentence found."""
    texts = list(dict.fromkeys(t for e in found for t in meaning_texts(e.paragraph)))
    if not texts:
        return {}
    vectors = searcher.embed([measure.phrase, *texts])
    sims = vectors[1:] @ vectors[0]
    return {t: float(s) for t, s in zip(texts, sims.tolist(), strict=True)}


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
                f"{o.report.title} ({date_text(o)}) gives {o.figure.value}"
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
        "date": row.dating.date.isoformat() if row.dating.date else None,
        "date_from": row.dating.source or None,
        "date_period": row.dating.period or None,
        "date_quarter": row.dating.quarter or None,
        "date_words": row.dating.words or None,
        "reported": row.reported,
        "label": f.label if f else None,
        "matched_by": f.matched_by if f else None,
        "similarity": f.similarity if f else None,
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
        "near": [
            {
                "label": n.label,
                "why": n.why,
                "similarity": round(n.similarity, 3),
                "citation": _cite(e),
            }
            for n, e in row.near
        ],
    }


def _cite(e: Evidence) -> str:
    p = e.paragraph
    return ", ".join(x for x in (paragraph_mark(p), pages_text(p)) if x)


def date_text(row: Row) -> str:
    """ "12 Mar 2020"; "Sep 2013" for a date read from the period a report covers."""
    d = row.dating
    if row.report.date:
        return format_date(row.report)
    if d.date is None:
        return "undated"
    return d.date.strftime("%b %Y")


def near_text(row: Row) -> str:
    """ "close: Bounce rate (home page) (close in meaning (0.52), ¶46 (2), p.11); ..."."""
    return "; ".join(f"{n.label} ({n.why}, {_cite(e)})" for n, e in row.near)


def comparison_json(c: Comparison) -> dict[str, Any]:
    """The ``pcc compare --json`` object."""
    return {"measure": c.measure, "rows": [row_json(r) for r in c.rows]}


def row_summary(row: Row) -> str:
    """One line: "Durham PCVC performance report (12 Mar 2020): 19%, February 2019 to
    January 2020, Durham"."""
    head = f"{row.report.title} ({date_text(row)})"
    f = row.figure
    if f is None:
        return f"{head}: not reported" + (f"; close: {near_text(row)}" if row.near else "")
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
    missing = [row_summary(r).replace(": not reported", "", 1) for r in c.rows if not r.reported]
    note = f"not reported in: {'; '.join(missing)}" if missing else ""
    return Answer(f"compare: {c.measure}", "compare", bool(claims), claims, retrieved, note)
