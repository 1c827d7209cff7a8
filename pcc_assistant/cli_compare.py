"""``pcc compare``: one measure followed across the indexed reports. Options in, a table
(or JSON, or a chart) out; the work is in :mod:`pcc_assistant.compare`.

Nothing heavy is imported at module level: ``pcc --help`` stays fast.
"""

from __future__ import annotations

import shutil
import sys
from typing import TYPE_CHECKING

import click

from pcc_assistant.cli_answers import filter_options, filters_from
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import error_line, json_text

if TYPE_CHECKING:
    from pcc_assistant.compare import Comparison
    from pcc_assistant.retrieve import Filters


@click.command()
@click.argument("measure")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the rows, every field, as JSON.")
@click.option("--chart", is_flag=True, help="Also draw the values over time.")
@click.pass_context
def compare(
    ctx: click.Context,
    measure: str,
    reports: tuple[str, ...],
    organisations: tuple[str, ...],
    since: str | None,
    until: str | None,
    as_json: bool,
    chart: bool,
) -> None:
    """Follow a measure across the reports: each one's figure, period, place, citation.

    MEASURE is a few words, e.g. "victim satisfaction"; rows are in report date order.

    Reports that don't give it are listed as not reported; two reports giving different
    figures for the same period and place are flagged. Every value shown is in its cited
    paragraph word for word.
    """
    settings: Settings = ctx.obj
    filters = filters_from(reports, organisations, since, until)
    try:
        comparison = _run(settings, measure, filters)
    except PccError as exc:
        click.echo(error_line(str(exc)), err=True)
        sys.exit(1)
    if as_json:
        from pcc_assistant.compare import comparison_json

        click.echo(json_text(comparison_json(comparison)))
        return
    from rich.console import Console

    from pcc_assistant.compare.table import comparison_table

    console = Console(markup=False, highlight=False)
    console.print(comparison_table(comparison))
    if chart:
        from pcc_assistant.compare.chart import chart as draw

        width = min(console.width, shutil.get_terminal_size().columns, 100)
        click.echo()
        click.echo(draw(comparison, width=width, color=console.is_terminal))


def _run(settings: Settings, measure: str, filters: Filters) -> Comparison:
    from pcc_assistant.ask import Assistant
    from pcc_assistant.cli import prepare_model
    from pcc_assistant.compare import compare as follow

    prepare_model(settings)
    assistant = Assistant(settings)
    try:
        return follow(assistant.retriever, measure, filters)
    finally:
        assistant.close()
