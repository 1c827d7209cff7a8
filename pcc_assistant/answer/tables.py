"""Tables as a reader sees them: a row's label, its figures, and the column each is in.

Shared by answers (a table figure is always given with its row and column) and by
``pcc compare`` (which column is the report's own place).
"""

from __future__ import annotations

import re

# Places a report compares itself with, besides its own: how column headings name them.
PLACES = re.compile(
    r"\b(England and Wales|England|Wales|United Kingdom|(?i:nationally)|national(?= average)|"
    r"(?:North|South) (?:East|West)|East Midlands|West Midlands|Yorkshire and the Humber|"
    r"(?:North|South|East|West)(?: policing)? areas?|regionally|MSG|most similar group)\b"
)
_ROW = re.compile(
    r"^(?P<label>.*?[A-Za-z)].*?)\s+(?P<values>[-−–]?[£$€]?\d[\d,]*(?:\.\d+)?%?"
    r"(?:\s+[-−–]?[£$€]?\d[\d,]*(?:\.\d+)?%?)+)\s*$"
)


def split_columns(heading: str, n: int) -> tuple[str, ...]:
    """A table heading split into ``n`` columns: known places kept whole, else words;
    ``()`` when the heading can't be read as ``n`` columns."""
    words = heading.split()
    cols: list[str] = []
    i = 0
    while i < len(words):
        rest = " ".join(words[i:])
        m = PLACES.match(rest)
        if m and m.start() == 0:
            cols.append(m.group(0))
            i += len(m.group(0).split())
        else:
            cols.append(words[i])
            i += 1
    if len(cols) == n + 1:  # the first heading names the rows ("Dataset", "Department")
        cols = cols[1:]
    return tuple(cols) if len(cols) == n else ()


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
