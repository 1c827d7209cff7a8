"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings fused, within filters.

The two rankings are fused by a weighted sum of their scores, each scaled to 0..1 among the
candidates. Reciprocal rank fusion was tried first and lost (evidence in the top 3 for 83%
of the project's questions against 88%): it throws away how far ahead a keyword hit is,
and a rare acronym (ERASE, CARA) that BM25 ranks first by a mile is exactly that case.

Readers take no lock: they read the record's current generation of each report and ignore
any other vectors a writer may have in flight, so a half-ingested report is never cited.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import cache

import numpy as np

from pcc_assistant.answer.model import Evidence
from pcc_assistant.index.indexer import Index
from pcc_assistant.index.record import IndexedReport
from pcc_assistant.ingest.metadata import MONTHS
from pcc_assistant.types import Report

_DIRECT_SCORING_LIMIT = 20_000  # paragraphs; past this a filtered Chroma search is cheaper
# On a server each report's vectors not yet cached cost a request (about 20 ms for 100
# paragraphs): past a few reports one filtered search on the server is cheaper.
_DIRECT_SCORING_REPORTS_SHARED = 4
_W_DENSE = 0.4  # measured on eval/questions.jsonl: hit@3 0.83 (RRF) -> 0.88
_DENSE_K = 40  # windows asked of Chroma (several may belong to one paragraph)
_KEYWORD_K = 40

_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december)"
# "the March 2020 report", "the Cambridgeshire May 2020 report", "report to the Panel of
# 12 March 2020": a report named by its date (not a period the data covers).
_NAMED_DATE = re.compile(
    rf"(?:\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(\d{{4}})\s+(?:[A-Za-z]+\s+){{0,2}}"
    rf"report)|(?:\breport\b[^.?;]{{0,30}}?\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+"
    rf"(\d{{4}}))",
    re.IGNORECASE,
)
# "in March 2021": a month the data may cover, or the date of a report. Read as a report's
# date only when the literal reading finds no answer (Assistant.ask retries with it).
_BARE_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{_MONTH}\s+(\d{{4}})\b", re.IGNORECASE
)
_CROSS = re.compile(
    r"\b(both|two forces|each force|each report|the forces|either force|"
    r"between the (?:two|reports|forces)|all (?:the )?reports)\b",
    re.IGNORECASE,
)
# Words in titles and organisations that don't tell one report from another.
_GENERIC = set(
    [
        "police",
        "crime",
        "victims",
        "victim",
        "commissioner",
        "constabulary",
        "report",
        "performance",
        "panel",
        "office",
        "of",
        "the",
        "and",
        "for",
        "theme",
        "quarterly",
        "pcvc",
        "pcc",
        "pcp",
        "annual",
        "update",
    ]
)


@dataclass(frozen=True)
class Filters:
    """Which reports to search. Empty means no restriction."""

    docs: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    def admits(self, r: Report) -> bool:
        if self.docs and r.doc not in self.docs:
            return False
        if self.organisations and not any(
            o.lower() in r.organisation.lower() for o in self.organisations
        ):
            return False
        if self.since and (r.date is None or r.date < self.since):
            return False
        return not (self.until and (r.date is None or r.date > self.until))

    @property
    def empty(self) -> bool:
        return not (self.docs or self.organisations or self.since or self.until)


@dataclass
class Retrieval:
    evidence: list[Evidence]
    topic: str = ""  # the question without the words that only name a report
    scope: list[str] = field(default_factory=list)  # docs searched (empty: nothing matched)
    scope_note: str = ""  # how the question itself narrowed the search, for the reader
    best_similarity: float = 0.0  # cosine similarity of the best dense hit
    cross_report: bool = False


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z-]+", re.sub(r"['’]s?\b", "", text.lower())))


@cache
def _name_words(r: Report) -> frozenset[str]:
    return frozenset(
        w for w in _words(f"{r.title} {r.organisation}") if w not in _GENERIC and len(w) > 2
    )


def mentions_month(question: str) -> bool:
    """Whether the question gives a month and year that doesn't already name a report."""
    return bool(_BARE_DATE.search(_NAMED_DATE.sub(" ", question)))


def named_scope(
    question: str, reports: list[Report], bare_dates: bool = False
) -> tuple[list[Report], str, str]:
    """Reports the question itself names, by place or by report date; a note saying so;
    and the question's topic, without the words that did the naming.

    With ``bare_dates``, a month and year alone ("in March 2021") names the report of that
    date too; the note says that reading was taken.
    """
    qwords = _words(question)
    chosen = reports
    notes: list[str] = []
    dates = []
    for m in _NAMED_DATE.finditer(question):
        month, year = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        dates.append((MONTHS[month.lower()], int(year)))
    bare, bare_read = not dates and bare_dates, False
    if bare:
        dates = [
            (MONTHS[m.group(1).lower()], int(m.group(2))) for m in _BARE_DATE.finditer(question)
        ]
    if dates:
        dated = [r for r in chosen if r.date and (r.date.month, r.date.year) in dates]
        if dated:
            chosen = dated
            months = [dt.date(y, m, 1).strftime("%B %Y") for m, y in dates]
            notes.append("the report dated " + " or ".join(months))
            bare_read = bare
    # A place named in the question: only when it tells reports apart.
    named = [r for r in chosen if _name_words(r) & qwords]
    if named and len(named) < len(chosen) and not _CROSS.search(question):
        chosen = named
        notes.append(
            "reports about " + ", ".join(sorted({r.organisation or r.title for r in named}))
        )
    note = ""
    topic = question
    if len(chosen) < len(reports):
        note = "searched " + "; ".join(notes) + ", as the question asks"
        if bare_read:
            note += ": nothing answers for the month itself, so its date is read as the report's"
        topic = (_BARE_DATE if bare_read else _NAMED_DATE).sub(" ", topic)
        names = set().union(*(_name_words(r) for r in chosen))
        topic = " ".join(w for w in topic.split() if not (_words(w) and _words(w) <= names))
    return chosen, note, topic


class Retriever:
    """Reads the index; never writes it. Reloads what it caches when the record changes."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._version = -1
        self._reports: dict[str, IndexedReport] = {}
        self._generations: dict[str, int] = {}
        self._vector_cache: dict[tuple[str, int], tuple[list[int], np.ndarray]] = {}

    def refresh(self) -> None:
        version = self.index.record.version()
        if version == self._version:
            return
        reports = self.index.record.reports()
        self._reports = {r.report.doc: r for r in reports}
        self._generations = {r.report.doc: r.generation for r in reports}
        self._keywords(version)
        self._version = version

    def _keywords(self, version: int) -> None:
        """The keyword index of this record version: loaded when on disk, else built.

        A reader has no right to write an index folder (it may be shared, or read only);
        a server's client keeps its own copy in its cache, so the next `pcc ask` loads it
        instead of fetching every paragraph again.
        """
        kw = self.index.keywords
        if kw.loaded and kw.version() == version:  # the one in use is current
            return
        try:
            # the writer (a folder) or this client (a server) may have built it since
            if kw.stored_version() == version:
                kw.load()
                if kw.version() == version:
                    return
        except (OSError, ValueError, KeyError):  # another process was replacing it then
            pass
        self.index.build_keywords(version, persist=self.index.shared)

    def _dense(self, vector: np.ndarray, restrict: set[str] | None) -> dict[tuple[str, int], float]:
        """Cosine similarity of the best window of the nearest paragraphs.

        Within a few named reports, their vectors are scored directly (cached per report
        generation): Chroma's filtered search was the slowest step at 100,000 paragraphs
        (about 97 ms against 5 ms unfiltered). Otherwise Chroma's index answers.
        """
        dense: dict[tuple[str, int], float] = {}
        if (
            restrict is not None
            and sum(self._reports[d].paragraphs for d in restrict) <= _DIRECT_SCORING_LIMIT
            and (
                not self.index.shared
                or len(restrict) <= _DIRECT_SCORING_REPORTS_SHARED
                or all((d, self._generations.get(d, -1)) in self._vector_cache for d in restrict)
            )
        ):
            for doc in restrict:
                ordinals, matrix = self._vectors(doc)
                if not ordinals:
                    continue
                for ordinal, sim in zip(ordinals, (matrix @ vector).tolist(), strict=True):
                    key = (doc, ordinal)
                    dense[key] = max(dense.get(key, -1.0), float(sim))
            best = sorted(dense, key=lambda key: -dense[key])[:_DENSE_K]
            return {key: dense[key] for key in best}
        where = None if restrict is None else {"doc": {"$in": sorted(restrict)}}
        for hit in self.index.store.query(vector, _DENSE_K, where):
            if self._generations.get(hit.doc) != hit.generation:
                continue  # a writer's vectors in flight, or leftovers of a killed one
            key = (hit.doc, hit.ordinal)
            dense[key] = max(dense.get(key, -1.0), 1.0 - hit.distance)
        return dense

    def _vectors(self, doc: str) -> tuple[list[int], np.ndarray]:
        key = (doc, self._generations.get(doc, -1))
        if key not in self._vector_cache:
            if len(self._vector_cache) >= 64:
                self._vector_cache.pop(next(iter(self._vector_cache)))
            self._vector_cache[key] = self.index.record.vectors_of(doc)
        return self._vector_cache[key]

    @property
    def reports(self) -> list[Report]:
        self.refresh()
        return [r.report for r in self._reports.values()]

    def weight(self, term: str) -> float:
        return self.index.keywords.weight(term)

    def search(
        self,
        question: str,
        filters: Filters | None = None,
        k: int = 10,
        use_named: bool = True,
        bare_dates: bool = False,
    ) -> Retrieval:
        self.refresh()
        filters = filters or Filters()
        allowed = [r.report for r in self._reports.values() if filters.admits(r.report)]
        note = ""
        topic = question
        if use_named and filters.docs == () and allowed:
            allowed, note, topic = named_scope(question, allowed, bare_dates)
        docs = {r.doc for r in allowed}
        if not docs:
            return Retrieval([], topic, [], note)
        restrict = None if len(docs) == len(self._reports) else docs

        vector = self.index.embedder.embed([question])[0]
        dense = self._dense(vector, restrict)
        keyword = {
            (h.doc, h.ordinal): h.score
            for h in self.index.keywords.search(topic, _KEYWORD_K, restrict)
        }
        fused = _fuse(dense, keyword)
        ranked = sorted(fused, key=lambda key: -fused[key])
        places = {r.organisation for r in allowed if _name_words(r) & _words(question)}
        cross = len(docs) > 1 and (bool(_CROSS.search(question)) or len(places) > 1)
        chosen = _diverse(ranked, k, cross)
        paragraphs = self.index.record.paragraphs_at(chosen)
        evidence = []
        for key in chosen:
            p = paragraphs.get(key)
            if p is None:  # removed since the vectors were read
                continue
            ir = self._reports[p.doc]
            evidence.append(Evidence(0, p, ir.report, fused[key], ir.indexed_at))
        evidence = [replace(e, marker=i + 1) for i, e in enumerate(evidence)]
        best = max(dense.values(), default=0.0)
        return Retrieval(evidence, topic, sorted(docs), note, best, cross)


def _fuse(
    dense: dict[tuple[str, int], float], keyword: dict[tuple[str, int], float]
) -> dict[tuple[str, int], float]:
    """Each ranking's scores scaled to 0..1 among the candidates, then weighed."""
    top_kw = max(keyword.values(), default=0.0) or 1.0
    lo = min(dense.values(), default=0.0)
    hi = max(dense.values(), default=1.0)
    span = (hi - lo) or 1.0
    return {
        key: _W_DENSE * ((dense[key] - lo) / span if key in dense else 0.0)
        + (1 - _W_DENSE) * (keyword.get(key, 0.0) / top_kw)
        for key in set(dense) | set(keyword)
    }


def _diverse(ranked: list[tuple[str, int]], k: int, cross: bool) -> list[tuple[str, int]]:
    """The top ``k``; for a question across reports, the best of each report first."""
    if not cross:
        return ranked[:k]
    firsts: list[tuple[str, int]] = []
    seen: set[str] = set()
    for key in ranked[: 4 * k]:
        if key[0] not in seen:
            seen.add(key[0])
            firsts.append(key)
    firsts = firsts[: max(2, k // 2)]
    return (firsts + [key for key in ranked if key not in firsts])[:k]
