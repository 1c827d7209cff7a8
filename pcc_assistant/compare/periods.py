"""The periods figures cover, as these reports write them ("12 months ending March 2020",
"Q2 2013/14", "between February 2019 and January 2020"): found, shown one way, and
turned into the date they end on, for ordering rows and charting them."""

from __future__ import annotations

import datetime as dt
import re

from pcc_assistant.ingest.metadata import MONTHS
from pcc_assistant.types import Report

MONTH_RE = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December)"
)
YEAR_RE = r"(?:19|20)\d{2}"
# Months as table headings shorten them: "Oct – Dec 2011".
SHORT_MONTH_RE = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
_ANY_MONTH = rf"(?:{MONTH_RE}|{SHORT_MONTH_RE})"
# The period a figure covers, in the forms these reports write it. Order matters: the
# longer forms first, so "12 months ending March 2020" is not read as "March 2020".
_PERIODS = [
    rf"(?:the\s+)?(?:\d{{1,2}}|twelve|three|six)\s+months?\s+(?:ending|ended|to|up\s+to)\s+"
    rf"{MONTH_RE}\s+{YEAR_RE}",
    rf"(?:year|quarter)\s+(?:ending|ended|to)\s+{MONTH_RE}\s+{YEAR_RE}",
    rf"between\s+{MONTH_RE}\s+(?:{YEAR_RE}\s+)?and\s+{MONTH_RE}\s+{YEAR_RE}",
    rf"(?:from\s+)?{MONTH_RE}\s+{YEAR_RE}\s*(?:-|–|to)\s*{MONTH_RE}\s+{YEAR_RE}",
    rf"\b{_ANY_MONTH}\s*(?:-|–|to)\s*{_ANY_MONTH}\s+{YEAR_RE}\b",
    rf"\bQ[1-4]\s+{YEAR_RE}/\d{{2}}\b",
    rf"\bQuarter\s+[1-4]\s+{YEAR_RE}/\d{{2}}\b",
    rf"\b{YEAR_RE}/\d{{2}}\b",
    r"\b(?:this|last|the\s+last|previous|the\s+previous)\s+(?:quarter|month|year)\b",
    rf"\bin\s+{YEAR_RE}\b",
]
RELATIVE = re.compile(r"(?:this|last|the last|previous|the previous)\b", re.IGNORECASE)
PERIOD_RE = re.compile("|".join(f"(?:{p})" for p in _PERIODS), re.IGNORECASE)


def periods(text: str) -> list[tuple[int, str]]:
    """Each period ``text`` names, with where it starts, as shown (``normal_period``)."""
    return [(m.start(), normal_period(m.group(0))) for m in PERIOD_RE.finditer(text)]


def normal_period(text: str) -> str:
    """As shown: one line, "between X and Y" as "X to Y", no leading "from"/"in"."""
    t = " ".join(text.split())
    t = re.sub(r"^(?:from|in|the)\s+", "", t, flags=re.IGNORECASE)
    m = re.match(rf"between\s+(.+?)\s+and\s+({MONTH_RE}.*)$", t, re.IGNORECASE)
    if m:
        t = f"{m.group(1)} to {m.group(2)}"
    t = re.sub(r"\s*[-–]\s*(?=[A-Z])", " to ", t)
    return t


def period_end(period: str) -> dt.date | None:
    """The last day a period covers, for ordering and charts; None if it can't be told."""
    m = re.search(r"\bQ(?:uarter\s+)?([1-4])\s+((?:19|20)\d{2})/\d{2}\b", period, re.IGNORECASE)
    if m:  # a UK financial year's quarter: Q1 is April to June
        q, y = int(m.group(1)), int(m.group(2))
        month, year = ((6, y), (9, y), (12, y), (3, y + 1))[q - 1]
        return _month_end(year, month)
    found = re.findall(rf"\b({_ANY_MONTH})\s+({YEAR_RE})", period, re.IGNORECASE)
    if found:
        month_name, year = found[-1]
        return _month_end(int(year), MONTHS[month_name.lower().rstrip(".")])
    years = re.findall(rf"\b({YEAR_RE})\b", period)
    return dt.date(int(years[-1]), 12, 31) if years else None


def _month_end(year: int, month: int) -> dt.date:
    first = dt.date(year + month // 12, month % 12 + 1, 1)
    return first - dt.timedelta(days=1)


def title_period(r: Report) -> str:
    found = periods(r.title)
    return found[-1][1] if found else ""


def _month_start(period: str) -> tuple[int, int] | None:
    """The first month a "X to Y YEAR" period covers, as (year, month)."""
    m = re.match(
        rf"(?:between\s+)?({_ANY_MONTH})(?:\s+({YEAR_RE}))?\s*(?:-|–|to|and)\s*"
        rf"({_ANY_MONTH})\s+({YEAR_RE})$",
        period.strip(),
        re.IGNORECASE,
    )
    if not m:
        return None
    first, last = (MONTHS[m.group(i).lower().rstrip(".")] for i in (1, 3))
    end_year = int(m.group(4))
    year = int(m.group(2)) if m.group(2) else (end_year if first <= last else end_year - 1)
    return year, first


def quarter(period: str) -> str:
    """The UK financial-year quarter a period is, as "Q4 2013/14" ("January to March 2014",
    "Quarter 4 2013/14"); "" when it is not exactly one."""
    m = re.fullmatch(r"\s*Q(?:uarter\s+)?([1-4])\s+((?:19|20)\d{2})/(\d{2})\s*", period, re.I)
    if m:
        return f"Q{m.group(1)} {m.group(2)}/{m.group(3)}"
    start, end = _month_start(period), period_end(period)
    if start is None or end is None:
        return ""
    months = (end.year - start[0]) * 12 + end.month - start[1] + 1
    if months != 3 or start[1] not in (1, 4, 7, 10):
        return ""
    q = {4: 1, 7: 2, 10: 3, 1: 4}[start[1]]
    fy = start[0] if q < 4 else start[0] - 1
    return f"Q{q} {fy}/{(fy + 1) % 100:02d}"


# Where a report says what period it covers: "for the period between ...", "covering
# Quarter 2 2013/14", "for the quarter ending March 2014".
_STATES_PERIOD = re.compile(
    r"\b(?:for|covering|covers|covered|during|over|in|of)\s+(?:the\s+)?"
    r"(?:(?:reporting\s+)?(?:period|quarter)\s+)?$",
    re.IGNORECASE,
)


def stated_period(text: str) -> tuple[str, str] | None:
    """The period ``text`` (a title or a report's opening) says the report covers: (the
    period as shown, the words that say it), or None. A period is taken only where the
    text says it is the report's ("for the period between July and September 2013")."""
    flat = " ".join(text.split())
    for m in PERIOD_RE.finditer(flat):
        if RELATIVE.match(m.group(0)) or re.match(r"in\s", m.group(0), re.IGNORECASE):
            continue
        lead = flat[max(0, m.start() - 40) : m.start()]
        said = _STATES_PERIOD.search(lead) or re.match(
            r"(?:between|(?:the\s+)?(?:year|quarter)\s+(?:ending|ended|to)|(?:\d+|twelve)\s+months)",
            m.group(0),
            re.IGNORECASE,
        )
        if said:
            start = m.start() - (len(said.group(0)) if said.re is _STATES_PERIOD else 0)
            return normal_period(m.group(0)), flat[start : m.end()].strip()
    return None
