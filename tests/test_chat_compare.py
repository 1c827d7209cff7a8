"""The chat's compare command (``/compare MEASURE`` and its palette entry), through Pilot
on the real index of the sample reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from pcc_assistant.chat.app import ChatApp
from pcc_assistant.chat.screens import CompareScreen
from pcc_assistant.chat.widgets import CompareView, QuestionInput
from pcc_assistant.config import Settings

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


def screen_text(app: ChatApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def locate(app: ChatApp, text: str, within: str) -> tuple[int, int]:
    region = app.screen.query_one(within).region
    for y, line in enumerate(screen_text(app).splitlines()):
        x = line.find(text, region.x, region.right)
        if x >= 0 and region.y <= y < region.bottom:
            return x, y
    raise AssertionError(f"{text!r} is not on the screen:\n{screen_text(app)}")


async def until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the screen:\n{screen_text(pilot.app)}")  # type: ignore[arg-type]
        await pilot.pause(0.05)
    await pilot.pause()


async def test_compare_command_and_palette_entry(app: ChatApp) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, lambda: app.phase == "ready")
        # typed: /compare MEASURE
        app.query_one(QuestionInput).value = "/compare solved rate"
        await pilot.press("enter")
        await until(pilot, lambda: bool(app.exchanges) and app.exchanges[0].done)
        view = app.views[0]
        assert isinstance(view, CompareView) and view.comparison is not None
        shown = screen_text(app)
        assert "solved rate: the figure each report gives" in shown
        assert "19%" in shown and "not reported" in shown
        assert "February 2019" in shown
        # the first row's citation is selected: its paragraph in the sources pane
        assert app.selected == (0, 1)
        locate(app, "¶32, p.7", within="#sources")
        locate(app, "32. Durham Constabulary", within="#sources")

        # the palette entry asks for the measure in a dialog
        await pilot.press("ctrl+p")
        await pilot.press(*"Compare a measure")
        await pilot.pause(0.3)
        await pilot.press("enter")
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
