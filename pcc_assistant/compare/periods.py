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
# The period a figure covers, in the forms these reports write it. Order matters: the
# longer forms first, so "12 months ending March 2020" is not read as "March 2020".
_PERIODS = [
    rf"(?:the\s+)?(?:\d{{1,2}}|twelve|three|six)\s+months?\s+(?:ending|ended|to|up\s+to)\s+"
    rf"{MONTH_RE}\s+{YEAR_RE}",
    rf"(?:year|quarter)\s+(?:ending|ended|to)\s+{MONTH_RE}\s+{YEAR_RE}",
    rf"between\s+{MONTH_RE}\s+(?:{YEAR_RE}\s+)?and\s+{MONTH_RE}\s+{YEAR_RE}",
    rf"(?:from\s+)?{MONTH_RE}\s+{YEAR_RE}\s*(?:-|–|to)\s*{MONTH_RE}\s+{YEAR_RE}",
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
    found = re.findall(rf"({MONTH_RE})\s+({YEAR_RE})", period, re.IGNORECASE)
    if found:
        month_name, year = found[-1]
        return _month_end(int(year), MONTHS[month_name.lower()])
    years = re.findall(rf"\b({YEAR_RE})\b", period)
    return dt.date(int(years[-1]), 12, 31) if years else None


def _month_end(year: int, month: int) -> dt.date:
    first = dt.date(year + month // 12, month % 12 + 1, 1)
    return first - dt.timedelta(days=1)


def title_period(r: Report) -> str:
    found = periods(r.title)
    return found[-1][1] if found else ""
