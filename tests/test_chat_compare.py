"""The chat's compare command (``/compare MEASURE`` and its palette entry), through Pilot
on the real index of the sample reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pcc_assistant.chat.app import ChatApp
from pcc_assistant.chat.screens import CompareScreen
from pcc_assistant.chat.widgets import CompareView, QuestionInput
from pcc_assistant.config import Settings
from tests.tui import locate, run_command, screen_text, until

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app(ingested: Settings, embedder: Any, tmp_path: Path) -> ChatApp:
    from pcc_assistant.ask import Assistant

    return ChatApp(
        ingested,
        factory=lambda: Assistant(ingested, embedder=embedder),
        session_path=tmp_path / "session.json",
    )


async def test_compare_command_and_palette_entry(
    app: ChatApp, ingested: Settings, embedder: Any, tmp_path: Path
) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.phase == "ready")
        # typed: /compare MEASURE
        app.query_one(QuestionInput).value = "/compare solved rate"
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.exchanges) and app.exchanges[0].done)
        view = app.views[0]
        assert isinstance(view, CompareView) and view.exchange.comparison is not None
        shown = screen_text(app)
        assert "solved rate: the figure each report gives" in shown
        assert "19%" in shown and "not reported" in shown
        assert "February 2019" in shown
        # the first row's citation is selected: its paragraph in the sources pane
        assert app.selected == (0, 1)
        locate(app, "¶32, p.7", within="#sources")
        locate(app, "32. Durham Constabulary", within="#sources")

        # the palette entry asks for the measure in a dialog
        await run_command(pilot, "Compare a measure")
        await until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await pilot.press(*"victim satisfaction")
        await pilot.press("enter")
        await until(pilot, lambda: len(app.exchanges) == 2 and app.exchanges[1].done)
        assert app.selected == (1, 1)
        locate(app, "§4.1.1 (2), p.1", within="#sources")
        locate(app, "77.2%", within="#sources")

        # a click on the first table's [1] selects its paragraph again, like any citation
        x, y = locate(app, "[1] ¶32, p.7", within="#conversation")
        await pilot.click(offset=(x + 1, y))
        await until(pilot, lambda: app.selected == (0, 1))
        locate(app, "32. Durham Constabulary", within="#sources")
        # and Tab walks the comparisons' citations like an answer's
        await pilot.press("tab")
        assert app.selected == (1, 1)

    # a restarted chat shows the saved comparisons as tables again, citations selectable
    from pcc_assistant.ask import Assistant

    again = ChatApp(
        ingested,
        factory=lambda: Assistant(ingested, embedder=embedder),
        session_path=tmp_path / "session.json",
    )
    # narrower: the conversation pane shows a block per report, citations still whole
    async with again.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: again.phase == "ready" and len(again.views) == 2)
        assert all(isinstance(v, CompareView) for v in again.views)
        shown = screen_text(again)
        assert "solved rate: the figure each report gives" in shown and "not reported" in shown
        assert "victim satisfaction: the figure each report gives" in shown
        assert "place / group" not in shown and "report · 12 Mar 2020" in shown
        assert again.selected == (1, 1)  # the last answer's first citation
        x, y = locate(again, "[1] ¶32, p.7", within="#conversation")
        await pilot.click(offset=(x + 1, y))
        await until(pilot, lambda: again.selected == (0, 1))
        locate(again, "32. Durham Constabulary", within="#sources")
        # the question box's history (Up) holds the commands, not the entries' titles
        assert again.query_one(QuestionInput).history == [
            "/compare solved rate",
            "/compare victim satisfaction",
        ]
