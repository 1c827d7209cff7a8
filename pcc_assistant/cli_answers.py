"""``pcc ask`` (and the other commands that answer questions). Options in, answers out;
the work is in :mod:`pcc_assistant.ask`."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import error_line, json_text

ANSWERER_CHOICE = click.Choice(["extractive", "openai", "ollama", "local"])


def parse_day(value: str | None, end: bool = False) -> dt.date | None:
    """``2020-03-12``, ``12 March 2020``, ``2020-03`` or ``2020`` (``end``: last day)."""
    if value is None:
        return None
    from pcc_assistant.ingest.metadata import parse_date

    text = value.strip()
    day = parse_date(text)
    if day:
        return day
    try:
        if len(text) == 4 and text.isdigit():
            return dt.date(int(text), 12, 31) if end else dt.date(int(text), 1, 1)
        if len(text) == 7 and text[4] == "-":
            y, m = int(text[:4]), int(text[5:])
            first = dt.date(y, m, 1)
            if not end:
                return first
            return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(
                days=1
            )
    except ValueError:
        pass
    raise click.BadParameter(f"{value!r} is not a date: use 2020-03-12, 2020-03 or 2020")


def date_range(since: str | None, until: str | None) -> tuple[dt.date | None, dt.date | None]:
    """--since and --until as days; a range no date can fall in is a usage error (exit 2),
    not a search that silently finds nothing."""
    first, last = parse_day(since), parse_day(until, end=True)
    if first is not None and last is not None and first > last:
        raise click.UsageError(
            f"--since {since} is after --until {until}: no report can be in both; "
            "swap them or drop one"
        )
    return first, last


def filters_from(
    reports: tuple[str, ...], organisations: tuple[str, ...], since: str | None, until: str | None
) -> Any:
    from pcc_assistant.retrieve import Filters

    first, last = date_range(since, until)
    return Filters(docs=tuple(reports), organisations=tuple(organisations), since=first, until=last)


def filter_options(f: Any) -> Any:
    f = click.option("--until", help="Only reports dated on or before this date.")(f)
    f = click.option("--since", help="Only reports dated on or after this date.")(f)
    f = click.option(
        "--organisation",
        "organisations",
        multiple=True,
        help="Only reports by this organisation (part of its name; repeatable).",
    )(f)
    return click.option(
        "--report", "reports", multiple=True, help="Only this report (its id; repeatable)."
    )(f)


class _Draft:
    """Shows a generative draft as it streams, on a terminal, then clears it: only the
    verified answer stays on screen."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        self._text = Text(style="dim")
        self._live = Live(self._text, console=Console(stderr=True), transient=True)
        self._live.start()

    def token(self, chunk: str) -> None:
        from pcc_assistant.safe_text import clean

        self._text.append(clean(chunk))
        self._live.update(self._text)

    def stop(self) -> None:
        self._live.stop()


def run_ask(
    settings: Settings,
    question: str,
    filters: Any,
    answerer: str | None,
    as_json: bool,
    as_markdown: bool = False,
) -> int:
    from pcc_assistant.answer.model import answer_json
    from pcc_assistant.ask import Assistant
    from pcc_assistant.render import answer_text

    known_docs = None
    from pcc_assistant.cli import prepare_model

    prepare_model(settings)
    assistant = Assistant(settings)
    try:
        if filters.docs:
            known_docs = {r.doc for r in assistant.retriever.reports}
            unknown = [d for d in filters.docs if d not in known_docs]
            if unknown:
                raise PccError(
                    f"not in the index: {', '.join(unknown)} "
                    f"(indexed: {', '.join(sorted(known_docs)) or 'none'})"
                )
        generative = (answerer or settings.answerer) != "extractive"
        draft = _Draft() if generative and sys.stderr.isatty() and not as_json else None
        try:
            answer = assistant.ask(question, filters, answerer, draft.token if draft else None)
        finally:
            if draft is not None:
                draft.stop()
    finally:
        assistant.close()
    if as_json:
        click.echo(json_text(answer_json(answer)))
    elif as_markdown:
        from pcc_assistant.chat.session import Exchange, export_markdown

        now = dt.datetime.now().astimezone()
        click.echo(export_markdown([Exchange(question, answer)], now), nl=False)
    else:
        click.echo(answer_text(answer))
    return 0


@click.command()
@click.argument("question")
@filter_options
@click.option("--answerer", type=ANSWERER_CHOICE, help="Who writes the answer (default: settings).")
@click.option(
    "--fallback/--no-fallback",
    default=None,
    help="Answer extractively if the generative answerer can't be reached.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
@click.option(
    "--markdown",
    "as_markdown",
    is_flag=True,
    help="Print the answer as Markdown for briefing notes (as the chat exports it; "
    "`pcc verify` reads it back).",
)
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    reports: tuple[str, ...],
    organisations: tuple[str, ...],
    since: str | None,
    until: str | None,
    answerer: str | None,
    fallback: bool | None,
    as_json: bool,
    as_markdown: bool,
) -> None:
    """Answer QUESTION from the indexed reports, citing their paragraphs.

    When the reports don't answer it, says so and shows the closest matches.
    """
    settings: Settings = ctx.obj
    if as_json and as_markdown:
        raise click.UsageError("give --json or --markdown, not both")
    if fallback is not None:
        settings = settings.model_copy(update={"fallback": fallback})
    filters = filters_from(reports, organisations, since, until)
    try:
        code = run_ask(settings, question, filters, answerer, as_json, as_markdown)
    except PccError as exc:
        click.echo(error_line(str(exc)), err=True)
        sys.exit(1)
    sys.exit(code)
