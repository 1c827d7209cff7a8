"""What a question says about which reports to read: a signal, and a wall only when it is
unambiguous.

The search is narrowed only by what identifies reports for certain: a police force area
or an organisation the question names and some report is by or about ("in Durham", "the
Northshire panel's report"), or the date of a report that exists ("the March 2020
report"). An ordinary word that happens to be in a title ("data",
"strategy", "victims") never narrows it: with hundreds of reports almost any question
shares a word with some title. Such matches are left to the re-ranking, which weighs the
question's rare words found in a report's title (see :mod:`features`).

A month on its own ("in March 2021") is first read as the period the figures cover, not
a report's date; :class:`pcc_assistant.ask.Assistant` retries with the other reading only
when nothing answers the first.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from pcc_assistant.ingest.metadata import MONTHS
from pcc_assistant.types import Report

# Police force areas of the United Kingdom, as people name them; a report "is about" one
# when its title or organisation names it.
FORCE_AREAS = (
    "Avon and Somerset",
    "Bedfordshire",
    "Cambridgeshire",
    "Cheshire",
    "City of London",
    "Cleveland",
    "Cumbria",
    "Derbyshire",
    "Devon and Cornwall",
    "Dorset",
    "Durham",
    "Dyfed-Powys",
    "Essex",
    "Gloucestershire",
    "Greater Manchester",
    "Gwent",
    "Hampshire",
    "Hertfordshire",
    "Humberside",
    "Kent",
    "Lancashire",
    "Leicestershire",
    "Lincolnshire",
    "Merseyside",
    "Metropolitan",
    "Norfolk",
    "North Wales",
    "North Yorkshire",
    "Northamptonshire",
    "Northumbria",
    "Nottinghamshire",
    "South Wales",
    "South Yorkshire",
    "Staffordshire",
    "Suffolk",
    "Surrey",
    "Sussex",
    "Thames Valley",
    "Warwickshire",
    "West Mercia",
    "West Midlands",
    "West Yorkshire",
    "Wiltshire",
    "Scotland",
    "Northern Ireland",
    "British Transport",
)
_ALIASES = {"county durham": "Durham", "the met": "Metropolitan", "psni": "Northern Ireland"}
_FORCE = re.compile(
    r"\b("
    + "|".join(
        re.escape(n).replace(r"\ ", r"\s+")
        for n in sorted([*FORCE_AREAS, *_ALIASES], key=len, reverse=True)
    )
    + r")(?:['’]s)?\b",
    re.IGNORECASE,
)
_CANONICAL = {n.lower(): n for n in FORCE_AREAS} | _ALIASES

MONTH_RE = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december)"
)
# "the March 2020 report", "the Cambridgeshire May 2020 report", "report to the Panel of
# 12 March 2020": a report named by its date (not a period the data covers).
_NAMED_DATE = re.compile(
    rf"(?:\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{MONTH_RE}\s+(\d{{4}})\s+(?:[A-Za-z]+\s+){{0,2}}"
    rf"report)|(?:\breport\b[^.?;]{{0,30}}?\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{MONTH_RE}\s+"
    rf"(\d{{4}}))",
    re.IGNORECASE,
)
# "in March 2021": a month the data may cover, or the date of a report.
_BARE_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+)?{MONTH_RE}\s+(\d{{4}})\b", re.IGNORECASE
)
# "12 months ending March 2020", "year to September 2019": a period, never a report date.
_PERIOD_LEAD = re.compile(
    r"\b(?:ending|ended|to|until|from|between|since|through|during|year|quarter|months?)\s+$",
    re.IGNORECASE,
)
CROSS = re.compile(
    r"\b(both|two forces|each force|each report|the forces|either force|"
    r"between the (?:two|reports|forces)|all (?:the )?reports|the two reports|"
    r"(?:both|each) (?:of the )?(?:reports|documents|forces))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Scope:
    """How the question narrows the search, and what is left of it to search for."""

    docs: frozenset[str] | None  # the reports to search; None: every admitted report
    note: str  # for the reader: "searched the report dated March 2020, as the question asks"
    topic: str  # the question without the words that only named the reports
    places: tuple[str, ...]  # force areas named that some report is about
    cross: bool  # asks across reports ("both forces", or two places named)


def forces_named(text: str) -> list[str]:
    """Police force areas ``text`` names, in canonical form, in order, once each."""
    out: list[str] = []
    for m in _FORCE.finditer(text):
        name = _CANONICAL[" ".join(m.group(1).lower().split())]
        if name not in out:
            out.append(name)
    return out


# Words that make an organisation's name but don't tell one from another.
_GENERIC = frozenset(
    [
        "police",
        "crime",
        "victims",
        "victim",
        "commissioner",
        "commissioners",
        "constabulary",
        "panel",
        "office",
        "of",
        "the",
        "and",
        "for",
        "pcc",
        "pcvc",
        "pcp",
        "service",
        "services",
        "force",
    ]
)


# An organisation's name says what kind of body it is; a cover's "Prepared by: Tim
# Manning" read as the organisation is a person, and never narrows a search.
_BODY = re.compile(
    r"\b(?:police|constabulary|commissioner|panel|council|office|group|board|department|"
    r"agency|authority|service|ministry|partnership|trust|committee|unit|executive)\b",
    re.IGNORECASE,
)


@cache
def organisation_name(organisation: str) -> str:
    """The part of an organisation's name that tells it apart: "Northshire" of "Northshire
    Police and Crime Panel", "Open Data User Group" of itself; "" for what isn't a body."""
    if not _BODY.search(organisation):
        return ""
    words = re.findall(r"[A-Za-z][\w'’-]*", organisation)
    kept = [w for w in words if re.sub(r"['’]s?$", "", w).lower() not in _GENERIC]
    return " ".join(kept)


@cache
def _name_pattern(name: str) -> re.Pattern[str]:
    pattern = r"\b" + r"\s+".join(map(re.escape, name.split())) + r"(?:['’]s)?\b"
    return re.compile(pattern, re.IGNORECASE if " " in name else 0)


def _names(name: str, text: str) -> bool:
    """Whether ``text`` names ``name`` (a one-word name only as a proper noun)."""
    return len(name) >= 3 and _name_pattern(name).search(text) is not None


@cache
def report_forces(r: Report) -> frozenset[str]:
    """The force areas and the organisation a report is by or about, by its title and
    organisation."""
    found = set(forces_named(f"{r.title} {r.organisation}"))
    name = organisation_name(r.organisation)
    if name and not forces_named(name):
        found.add(name)
    return frozenset(found)


def places_named(question: str, reports: list[Report]) -> tuple[str, ...]:
    """Force areas and organisations the question names that some report is about."""
    named = forces_named(question)
    out = [f for f in named if any(f in report_forces(r) for r in reports)]
    for r in reports:
        name = organisation_name(r.organisation)
        if name and name not in out and name in report_forces(r) and _names(name, question):
            out.append(name)
    return tuple(out)


def _dates(question: str, bare: bool) -> list[tuple[int, int]]:
    pattern = _BARE_DATE if bare else _NAMED_DATE
    out = []
    for m in pattern.finditer(question):
        if bare:
            if _PERIOD_LEAD.search(question[: m.start()]):
                continue
            month, year = m.group(1), m.group(2)
        else:
            month, year = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        out.append((MONTHS[month.lower()], int(year)))
    return out


def mentions_month(question: str) -> bool:
    """Whether the question gives a month and year that doesn't already name a report."""
    return bool(_dates(_NAMED_DATE.sub(" ", question), bare=True))


def read_scope(question: str, reports: list[Report], bare_dates: bool = False) -> Scope:
    """Which of ``reports`` the question names, by force area or report date.

    With ``bare_dates``, a month and year alone ("in March 2021") names the report of that
    date too (not "12 months ending March 2021", which is a period); the note says so.
    """
    chosen = reports
    notes: list[str] = []
    dates = _dates(question, bare=False)
    bare_read = False
    if not dates and bare_dates:
        dates = _dates(question, bare=True)
        bare_read = bool(dates)
    if dates:
        dated = [r for r in chosen if r.date and (r.date.month, r.date.year) in dates]
        if dated:
            chosen = dated
            months = [dt.date(y, m, 1).strftime("%B %Y") for m, y in dates]
            notes.append("the report dated " + " or ".join(months))
        else:
            bare_read = False
    places = places_named(question, reports)
    cross = bool(CROSS.search(question)) or len(places) > 1
    if places:
        about = [r for r in chosen if report_forces(r) & set(places)]
        if about and len(about) < len(chosen):
            chosen = about
            notes.append("reports about " + " and ".join(places))
    topic = question
    note = ""
    if len(chosen) < len(reports):
        note = "searched " + "; ".join(notes) + ", as the question asks"
        if bare_read:
            note += ": nothing answers for the month itself, so its date is read as the report's"
        topic = (_BARE_DATE if bare_read else _NAMED_DATE).sub(" ", topic)
        if places and not cross:
            topic = _FORCE.sub(" ", topic)
            for name in places:
                topic = re.sub(r"\b" + re.escape(name) + r"(?:['’]s)?\b", " ", topic)
        topic = " ".join(topic.split()) or question
    docs = frozenset(r.doc for r in chosen) if len(chosen) < len(reports) else None
    return Scope(docs, note, topic, places, cross)
