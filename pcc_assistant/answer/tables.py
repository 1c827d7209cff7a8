"""Tables as a reader sees them: a row's label, its figures, and the column each is in.

Shared by answers (a table figure is always given with its row and column) and by
``pcc compare`` (which column is the report's own place or period).
"""

from __future__ import annotations

import re

# Places a report compares itself with, besides its own: how column headings name them.
PLACES = re.compile(
    r"\b(England and Wales|England|Wales|United Kingdom|(?i:nationally)|national(?= average)|"
    r"(?:North|South) (?:East|West)|East Midlands|West Midlands|Yorkshire and the Humber|"
    r"(?:North|South|East|West)(?: policing)? areas?|regionally|MSG|most similar group)\b"
)
_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:19|20)\d{2}"
# Column headings that are periods ("Oct – Dec 2011", "Q2 2013/14", "2018/19", "July
# 2013") or the change between them ("% increase", "Change"): each one column.
PERIOD_COLUMN = re.compile(
    rf"(?:{_MONTH}\s*(?:{_YEAR}\s*)?(?:-|–|to)\s*{_MONTH}\s+{_YEAR}"
    rf"|Q[1-4]\s+{_YEAR}(?:/\d{{2}})?|{_MONTH}\s+{_YEAR}|{_YEAR}\s*/\s*\d{{2}}|{_YEAR}-\d{{2}}"
    rf"|{_YEAR})(?![\w/])",
    re.IGNORECASE,
)
CHANGE_COLUMN = re.compile(
    r"(?:%|per\s?cent(?:age)?)?\s*(?:increase|decrease|change|difference|rise|fall)"
    r"(?:\s*\(%\))?(?!\w)",
    re.IGNORECASE,
)
_ROW = re.compile(
    r"^(?P<label>.*?[A-Za-z)].*?)\s+(?P<values>[-−–]?[£$€]?\d[\d,]*(?:\.\d+)?%?"
    r"(?:\s+[-−–]?[£$€]?\d[\d,]*(?:\.\d+)?%?)+)\s*$"
)


def split_columns(heading: str, n: int) -> tuple[str, ...]:
    """A table heading split into ``n`` columns: known places, periods and a change
    column kept whole, else words; ``()`` when the heading can't be read as ``n``
    columns."""
    words = heading.split()
    cols: list[str] = []
    i = 0
    while i < len(words):
        rest = " ".join(words[i:])
        m = PLACES.match(rest) or PERIOD_COLUMN.match(rest) or CHANGE_COLUMN.match(rest)
        if m and m.start() == 0 and m.group(0).strip():
            cols.append(m.group(0).strip())
            i += len(m.group(0).split())
        else:
            cols.append(words[i])
            i += 1
    if len(cols) == n + 1:  # the first heading names the rows ("Dataset", "Department")
        cols = cols[1:]
    return tuple(cols) if len(cols) == n else ()


def is_change(column: str) -> bool:
    """A column of the change between two others ("% increase"), not a figure of its own."""
    return bool(CHANGE_COLUMN.fullmatch(column.strip()))


def read_row(row: str, heading: str) -> tuple[str, list[tuple[str, str]]] | None:
    """``("Robbery", [("Durham", "0.3"), ("North East", "0.6"), ...])`` from a row and the
    table's column heading; None when the columns can't be told apart."""
    m = _ROW.match(row.strip())
    if m is None:
        return None
    values = m.group("values").split()
    cols = split_columns(heading, len(values))
    if not cols:
        return None
    return m.group("label").strip(), list(zip(cols, values, strict=True))
