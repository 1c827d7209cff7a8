"""Helpers for driving the chat with Textual's pilot: read the screen, wait, use the palette."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.app import App
from textual.command import CommandList
from textual.pilot import Pilot


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def locate(app: App[None], text: str, within: str = "") -> tuple[int, int]:
    """Screen coordinates of ``text`` (in widget ``within``, if given)."""
    region = app.screen.query_one(within).region if within else app.screen.region
    for y, line in enumerate(screen_text(app).splitlines()):
        x = line.find(text, region.x, region.right)
        if x >= 0 and region.y <= y < region.bottom:
            return x, y
    raise AssertionError(f"{text!r} is not on the screen:\n{screen_text(app)}")


async def until(pilot: Pilot[None], check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for ``check`` to hold (a condition, not a guess at how long the app takes)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; the screen:\n{screen_text(pilot.app)}")
        await pilot.pause(0.05)
    await pilot.pause()


async def run_command(pilot: Pilot[None], title: str) -> None:
    """Open the command palette, type ``title`` and run it once the palette has found it.

    The palette searches in the background; pressing Enter before its results are in picks
    nothing (or something else) on a busy machine.
    """
    await pilot.press("ctrl+p")
    await pilot.press(*title)

    def found() -> bool:
        results = pilot.app.screen.query(CommandList)
        if not results:
            return False
        box = results.first()
        at = box.highlighted
        return at is not None and title in str(box.get_option_at_index(at).prompt)

    await until(pilot, found)
    await pilot.press("enter")
