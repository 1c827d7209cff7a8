"""``pcc chat``: the terminal chat. Textual is imported when the command runs."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import click

from pcc_assistant.cli_answers import ANSWERER_CHOICE, date_range, filter_options
from pcc_assistant.config import Settings


@click.command()
@filter_options
@click.option("--answerer", type=ANSWERER_CHOICE, help="Who writes the answers at first.")
@click.pass_context
def chat(
    ctx: click.Context,
    reports: tuple[str, ...],
    organisations: tuple[str, ...],
    since: str | None,
    until: str | None,
    answerer: str | None,
) -> None:
    """Ask questions in a terminal app and check every claim against its paragraph.

    The filter options set which reports are asked at first; F2 changes them, and the
    answerer, while the app runs. The conversation is kept in the index folder.
    """
    # filters_from() would import the retrieval stack (numpy) before the first paint;
    # the chat's Scope holds the same four fields and converts in its worker.
    from pcc_assistant.chat.app import ChatApp
    from pcc_assistant.chat.scope import Scope

    settings: Settings = ctx.obj
    scope = Scope(reports, organisations, *date_range(since, until))
    app = ChatApp(settings, scope=scope, answerer=answerer)
    # Our own loop, because asyncio.run() would wait for the worker thread on the way out.
    loop = asyncio.new_event_loop()
    app.run(loop=loop)
    code = app.return_code or 0
    if any(t.is_alive() and not t.daemon for t in threading.enumerate()[1:]):
        # Quit while the models were still loading: that can't be interrupted and would
        # hold the closed window's process for seconds. Nothing it does needs finishing
        # (the conversation is saved after each answer).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    loop.close()
    sys.exit(code)
