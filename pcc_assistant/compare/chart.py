"""Values over time in the terminal, drawn by plotext; only comparable points (one unit,
a known date) are drawn, and when there are fewer than two, the reason is said instead."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pcc_assistant.compare import Comparison, Row


@dataclass(frozen=True)
class Points:
    rows: list[Row]  # reported, dated, in one unit, in time order
    unit: str
    reason: str = ""  # why there is no chart; "" when there is one


def _unit_name(unit: str) -> str:
    return {"%": "per cent", "": "number"}.get(unit, unit)


def comparable(c: Comparison) -> Points:
    reported = [r for r in c.reported if r.figure is not None]
    if len(reported) < 2:
        said = "no report gives" if not reported else "only one report gives"
        return Points([], "", f"no chart: {said} {c.measure!r}; a chart needs two figures")
    units = Counter(r.figure.unit for r in reported if r.figure is not None)
    unit, count = units.most_common(1)[0]
    if count < 2:
        kinds = ", ".join(_unit_name(u) for u in units)
        return Points([], "", f"no chart: the figures are in different units ({kinds})")
    rows = [r for r in reported if r.figure is not None and r.figure.unit == unit]
    dated = [r for r in rows if r.when is not None]
    if len(dated) < 2:
        return Points([], unit, "no chart: fewer than two of the figures have a date")
    dated.sort(key=lambda r: (r.when, r.report.doc))
    return Points(dated, unit)


def _label(row: Row) -> str:
    if row.report.date:
        return row.report.date.strftime("%b %Y")
    assert row.figure is not None
    return row.figure.period or (row.when.isoformat() if row.when else "")


def chart(c: Comparison, width: int = 80, height: int = 16, color: bool = False) -> str:
    """The chart as text, or the one-line reason there is none."""
    points = comparable(c)
    if points.reason:
        return points.reason
    import plotext as plt  # type: ignore[import-untyped]  # ships no type information

    xs = [r.when.toordinal() for r in points.rows if r.when is not None]
    ys = [r.figure.number for r in points.rows if r.figure is not None]
    fig = plt.figure
    fig.clear.all()
    fig.plot_size(max(40, width), max(10, height))
    signal = fig.signal(xs, ys)
    signal.lines()
    fig.draw(signal)
    fig.title(f"{c.measure} ({_unit_name(points.unit)})")
    fig.ruler("x").ticks(xs, [_label(r) for r in points.rows])
    out: str = fig.build().string(colorless=not color)
    skipped = len(c.reported) - len(points.rows)
    if skipped:
        out += f"\n({skipped} figure(s) in another unit or undated are not drawn)"
    return out.rstrip()
