"""The comparison as a rich table: the same one in ``pcc compare`` and in the chat.

Report text enters cells only as plain ``Text`` (never markup) after :func:`clean`, so a
report can't restyle the terminal. ``link`` lets the chat make each citation clickable.
"""

from __future__ import annotations

from collections.abc import Callable

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

from pcc_assistant.compare import Comparison, Row, date_text, near_text
from pcc_assistant.safe_text import clean

NOT_REPORTED = "not reported"
FLAG = "⚑"


def _safe(text: str) -> str:
    return " ".join(clean(text).split())


def _title(row: Row, limit: int = 48) -> str:
    """The report's title, shortened at a word for the table (JSON has it whole)."""
    title = _safe(row.report.title)
    if len(title) <= limit:
        return title
    return title[:limit].rsplit(" ", 1)[0].rstrip(" –-,") + "…"


DATED = "†"  # a date read from the period the report says it covers


def _date(row: Row) -> str:
    text = date_text(row)
    return f"{text} {DATED}" if row.dating.source in ("title", "opening") else text


def _dating_note(row: Row) -> Text:
    return Text(f"{DATED} {_title(row, 40)}: {_safe(row.dating.describe())}", style="dim")


def _near_note(row: Row) -> Text:
    return Text(f"  close in {_title(row, 40)}: {_safe(near_text(row))}", style="dim")


TABLE_WIDTH = 90  # narrower than this (the chat's conversation pane), a block per report


class _Fit:
    """The table where it fits; in a narrower space, a block per report, so that no
    column (the citation last of all) is cut off."""

    def __init__(self, wide: RenderableType, narrow: RenderableType) -> None:
        self.wide, self.narrow = wide, narrow

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.wide if options.max_width >= TABLE_WIDTH else self.narrow


def comparison_table(
    c: Comparison,
    link: Callable[[int], Style | None] | None = None,
    selected: int | None = None,
) -> RenderableType:
    """Report, date, period, place or group, value and citation, a row per report;
    under it, the comparison each report makes and why a row is flagged."""
    wide, notes, about = _table(c, link, selected)
    narrow = _blocks(c, link, selected)
    fit = _Fit(Group(wide, *about) if about else wide, narrow)
    return Group(fit, *notes) if notes else fit


def _blocks(
    c: Comparison, link: Callable[[int], Style | None] | None, selected: int | None
) -> RenderableType:
    """Each report on its own lines: the report and date, then value, period, place and
    citation (or "not reported")."""
    lines: list[Text] = [Text(f"{_safe(c.measure)}: the figure each report gives")]
    flags = 0
    for row in c.rows:
        lines.append(Text.assemble((_title(row, 80), "bold"), f" · {_date(row)}"))
        if row.dating.source in ("title", "opening"):
            lines.append(Text(f"  {_safe(row.dating.describe())}", style="dim"))
        f = row.figure
        if f is None or row.evidence is None:
            lines.append(Text.assemble("  ", (NOT_REPORTED, "dim italic")))
            if row.near:
                lines.append(Text(f"  close: {_safe(near_text(row))}", style="dim"))
            continue
        line = Text("  ")
        line.append(_safe(f.value), style="bold red" if row.flagged else "bold")
        if row.flagged:
            flags += 1
            line.append(f" {FLAG}{flags}", style="bold red")
        for part in (f.period, f.place):
            if _safe(part):
                line.append(f" · {_safe(part)}")
        line.append("  ")
        line.append_text(_cite(row.evidence.marker, row.citation(), link, selected))
        lines.append(line)
    return Group(*lines)


def _table(
    c: Comparison, link: Callable[[int], Style | None] | None, selected: int | None
) -> tuple[Table, list[Text], list[Text]]:
    """The table; the notes under it (comparisons, flags); and, for the table alone
    (the blocks say it in place), where dates came from and which rows came close."""
    table = Table(
        title=Text(f"{_safe(c.measure)}: the figure each report gives"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
    )
    table.add_column("report", min_width=12)
    table.add_column("date", no_wrap=True)
    table.add_column("period", min_width=9)
    table.add_column("place / group", min_width=7)
    table.add_column("value", no_wrap=True)
    table.add_column("citation", no_wrap=True)
    notes: list[Text] = []
    about: list[Text] = []
    flags = 0
    for row in c.rows:
        f = row.figure
        if row.dating.source in ("title", "opening"):
            about.append(_dating_note(row))
        if f is None or row.evidence is None:
            if row.near:
                about.append(_near_note(row))
            table.add_row(
                Text(_title(row)),
                Text(_date(row)),
                Text("—", style="dim"),
                Text("—", style="dim"),
                Text(NOT_REPORTED, style="dim italic"),
                Text(""),
            )
            continue
        marker = row.evidence.marker
        value = Text(_safe(f.value), style="bold red" if row.flagged else "bold")
        if row.flagged:
            flags += 1
            value.append(f" {FLAG}{flags}", style="bold red")
        table.add_row(
            Text(_title(row)),
            Text(_date(row)),
            Text(_safe(f.period) or "—"),
            Text(_safe(f.place) or "—"),
            value,
            _cite(marker, row.citation(), link, selected),
        )
        if f.comparison:
            note = _cite(marker, "", link, selected)
            where = row.citation().split(",")[0]
            note.append(f" {where}: {_safe(f.comparison)}", style="dim")
            notes.append(note)
        if row.flagged:
            notes.append(Text(f"{FLAG}{flags} {_safe(row.flagged)}", style="red"))
    return table, notes, about


def _cite(
    marker: int, citation: str, link: Callable[[int], Style | None] | None, selected: int | None
) -> Text:
    cite = Text(f"[{marker}]", style="bold reverse" if marker == selected else "bold")
    if link is not None and (style := link(marker)) is not None:
        cite.stylize(style)
    if citation:
        cite.append(" " + _safe(citation))
    return cite
