"""``pcc verify``: do an exported answer's citations still hold against the index?

Reads only the record of what is indexed (no model, no Chroma), so it starts fast.
Exit status: 0 when every citation holds, 1 when any changed or is gone, 2 when the file
(or the index) can't be read.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import error_line, json_text

_STYLE = {"holds": "green", "changed": "yellow", "gone": "red"}


def _fail(message: str) -> None:
    click.echo(error_line(message), err=True)
    sys.exit(2)


def _open_record(ctx: click.Context) -> Any:
    """The record, as the other reading commands open it (folder or shared server);
    failing to open it is exit status 2 here, since 1 means "no longer holds"."""
    from pcc_assistant.cli import _read_record

    try:
        return _read_record(ctx)
    except SystemExit as exc:
        sys.exit(2 if exc.code == 1 else exc.code)


def _detail(c: Any) -> Any:
    """The reason, and for a changed paragraph its word-level diff, coloured."""
    from rich.text import Text

    text = Text(c.reason)
    for ch in c.changes:
        text.append("\n")
        if ch.before:
            text.append(f"…{ch.before} ", style="dim")
        if ch.removed:
            text.append(f"[-{ch.removed}-]", style="red strike")
            text.append(" ")
        if ch.added:
            text.append(f"{{+{ch.added}+}}", style="green bold")
            text.append(" ")
        if ch.after:
            text.append(f"{ch.after}…", style="dim")
    if c.more_changes:
        text.append(f"\n(and {c.more_changes} more changes)", style="dim")
    return text


def _table(checks: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from pcc_assistant.provenance import mark
    from pcc_assistant.safe_text import clean

    table = Table(show_lines=True)
    table.add_column("question", ratio=2)
    table.add_column("cited", ratio=2, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("what the index holds now", ratio=4)
    last = None
    for c in checks:
        cited = c.cited
        question = "" if cited.question == last else clean(cited.question)
        last = cited.question
        head = " ".join(
            x
            for x in (f"[{cited.marker}]" if cited.marker else "", mark(cited.label), cited.pages)
            if x
        )
        where = f"{head}\n{cited.doc}"
        table.add_row(
            Text(question),
            Text(clean(where)),
            Text(c.status, style=_STYLE[c.status]),
            _detail(c),
        )
    Console(highlight=False).print(table)


def _summary(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    broken = total - counts["holds"]
    if total == 1:
        status = next(k for k, n in counts.items() if n)
        tail = "" if status == "holds" else "; it no longer holds as cited"
        return f"1 citation: {'holds word for word' if status == 'holds' else status}{tail}."
    if not broken:
        return f"{total} citations: all hold word for word in the index."
    parts = ", ".join(
        f"{n} {'hold' if status == 'holds' and n > 1 else status}"
        for status, n in counts.items()
        if n
    )
    return (
        f"{total} citations: {parts}; {broken} no longer hold{'s' if broken == 1 else ''} as cited."
    )


@click.command()
@click.argument("notes", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.pass_context
def verify(ctx: click.Context, notes: Path, as_json: bool) -> None:
    """Check that the paragraphs cited in NOTES still say what they said.

    NOTES is a Markdown export of the chat (ctrl+s), `pcc ask --markdown` or
    `pcc ask --json` output (or a `pcc eval --json` run). Each citation holds (the
    paragraph is in the index word for word), changed (shown as a word diff), or is gone.
    Exit status 0 when all hold, 1 when any doesn't, 2 when NOTES can't be read.
    """
    from pcc_assistant.notes import read_citations
    from pcc_assistant.provenance import check, check_json

    settings: Settings = ctx.obj
    try:
        kind, citations = read_citations(notes)
    except PccError as exc:
        _fail(str(exc))
        return
    record = _open_record(ctx)
    try:
        checks = check(citations, record)
    except PccError as exc:  # a shared index that stopped answering
        _fail(str(exc))
        return
    finally:
        record.close()
    counts = {"holds": 0, "changed": 0, "gone": 0}
    for c in checks:
        counts[c.status] += 1
    holds = counts["holds"] == len(checks)
    if as_json:
        out = {
            "file": str(notes),
            "format": kind,
            "index": getattr(settings, "chroma_url", None) or str(settings.index_dir),
            "holds": holds,
            "summary": {"citations": len(checks), **counts},
            "citations": [check_json(c) for c in checks],
        }
        click.echo(json_text(out))
    else:
        _table(checks)
        click.echo(_summary(counts))
    sys.exit(0 if holds else 1)
