"""A report's title, organisation and date: from the document, or a sidecar file.

A sidecar ``NAME.meta.toml`` beside ``NAME.pdf`` may set ``title``, ``organisation``
and ``date`` (``2020-03-12`` or ``12 March 2020``); what it sets wins.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.furniture import Line

MONTHS = {  # month names and abbreviations -> 1..12; retrieval and compare read dates with it too
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_FILE_DATE = re.compile(r"(?<!\d)(\d{4})[-_]?(\d{2})[-_]?(\d{2})(?!\d)")
_ORGANISATION = re.compile(
    r"^(?:Report of|From:|Prepared by|Author:)\s*(?:the\s+)?(?:Office of\s+)?(?:the\s+)?(.+)$",
    re.I,
)
_WORD_TITLE = re.compile(r"^(?:Microsoft Word|Microsoft PowerPoint)\s*-\s*", re.I)


@dataclass(frozen=True)
class Metadata:
    title: str
    organisation: str
    date: dt.date | None


def parse_date(text: str) -> dt.date | None:
    """The first day-month-year date in ``text`` ("12 March 2020", "20th April 2020")."""
    for m in _DAY_MONTH_YEAR.finditer(text):
        month = MONTHS.get(m.group(2).lower())
        if month:
            try:
                return dt.date(int(m.group(3)), month, int(m.group(1)))
            except ValueError:
                continue
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def _file_date(stem: str) -> dt.date | None:
    for m in _FILE_DATE.finditer(stem):
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.stem + ".meta.toml")


def _read_sidecar(path: Path) -> dict[str, object]:
    side = sidecar_path(path)
    if not side.is_file():
        return {}
    try:
        data = tomllib.loads(side.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DocumentError(str(side), f"sidecar is not valid TOML ({exc})") from exc
    unknown = set(data) - {"title", "organisation", "date"}
    if unknown:
        raise DocumentError(
            str(side), f"unknown keys {sorted(unknown)}: use title, organisation, date"
        )
    return data


def describe(path: Path, lines: Sequence[Line], title_hint: str) -> Metadata:
    """Title, organisation and date of the document at ``path``."""
    side = _read_sidecar(path)
    head = [ln.text for ln in lines[:15]]  # a cover page; later dates are about other things

    title = _WORD_TITLE.sub("", title_hint).strip()
    if not title or title.lower() in {"untitled", path.stem.lower()} or len(title) < 4:
        title = " – ".join(head[:2]) if head else path.stem
    organisation = ""
    for text in head:
        m = _ORGANISATION.match(text)
        if m:
            organisation = m.group(1).strip()
            break
    date = parse_date("\n".join(head)) or _file_date(path.stem)

    if "title" in side:
        title = str(side["title"])
    if "organisation" in side:
        organisation = str(side["organisation"])
    if "date" in side:
        raw = side["date"]
        if isinstance(raw, dt.date):
            date = raw
        else:
            date = parse_date(str(raw))
            if date is None:
                raise DocumentError(
                    str(sidecar_path(path)), f"date {raw!r} is not a date like 2020-03-12"
                )
    return Metadata(title[:200], organisation[:200], date)
