"""``pcc chat``: behaviour through ``App.run_test()`` and Pilot, appearance through SVG
snapshots.

Where the answer is the point (ask, filter, refusal, a real server error) the app runs on
the real index of the sample reports. Where only the display is (markup and control
sequences, streaming, loading, snapshots) a fake assistant returns canned answers built
from the reports' real paragraphs, so a retrieval change can't move a snapshot.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, SelectionList, Static

from pcc_assistant.answer.model import REFUSAL, Answer, Claim, Evidence
from pcc_assistant.chat.app import ChatApp
from pcc_assistant.chat.highlight import spans
from pcc_assistant.chat.scope import Scope
from pcc_assistant.chat.session import (
    Exchange,
    answer_from_dict,
    answer_to_dict,
    export_markdown,
    load_session,
)
from pcc_assistant.chat.widgets import QuestionInput
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.retrieve import Filters
from pcc_assistant.safe_text import clean
from pcc_assistant.types import Paragraph, Report
from tests.conftest import CAMBS, DURHAM, ROOT
from tests.tui import locate, run_command, screen_text, until

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# -- canned answers from the sample reports' real paragraphs ------------------------------
DURHAM_REPORT = Report(
    DURHAM,
    "Durham PCVC performance report",
    "Durham Police, Crime and Victims' Commissioner",
    dt.date(2020, 3, 12),
    f"corpus/{DURHAM}.pdf",
    "d17ba42ef7473b4443d14681eb0ec0ef769b9f59838257dba1c7eb8289593111",
    14,
)
CAMBS_REPORT = Report(
    CAMBS,
    "Cambridgeshire Victims theme performance report",
    "Cambridgeshire Constabulary",
    dt.date(2020, 5, 26),
    f"corpus/{CAMBS}.pdf",
    "6542e7224a9dd62b1b738e7a7010e4af28b345990e8d50b514d88c5cdfd230d1",
    6,
)
KPQ2 = (
    "Outcome 1 – Communities are safe and crime is reduced > KPQ2: How well are we "
    "preventing and reducing crime?"
)
P32 = Paragraph(
    DURHAM,
    40,
    "32",
    "paragraph",
    (7,),
    KPQ2,
    "32. Durham Constabulary has a higher proportion of resolved outcomes – where a crime has\n"
    "been solved by the police – than is the case nationally. Between February 2019 and "
    "January\n2020, then, Durham’s solved rate was 19%, compared to a 13% average for forces "
    "across\nEngland and Wales from January 2019 to December 2019.",
    10547,
    10866,
)
P33 = Paragraph(
    DURHAM,
    41,
    "33",
    "paragraph",
    (7,),
    KPQ2,
    "33. There is an increased onus within Durham Constabulary upon tackling high harm crime.\n"
    "However, solved rates have decreased across the board, in all harm categories, with only "
    "four\ncrime categories showing an increase in solved rate from August 2018 to August "
    "2019. (Source\nDCOP)",
    11038,
    11319,
)
P532 = Paragraph(
    CAMBS,
    30,
    "5.3.2",
    "paragraph",
    (3,),
    "5 Outcomes > 5.3 Prosecution possible outcomes",
    "5.3.2 The long term prosecution possible outcomes rate has been trending upwards for "
    "much of\nthe last 12 months, and is now significantly higher than the year end "
    "benchmark, with both\nNorth and South policing areas showing a year on year improvement.",
    9000,
    9250,
)
SOLVED = (
    "Between February 2019 and January 2020, then, Durham’s solved rate was 19%, compared to "
    "a 13% average for forces across England and Wales from January 2019 to December 2019."
)
DECREASED = (
    "However, solved rates have decreased across the board, in all harm categories, with "
    "only four crime categories showing an increase in solved rate from August 2018 to "
    "August 2019."
)
EVIDENCE = [
    Evidence(1, P32, DURHAM_REPORT, 0.95),
    Evidence(2, P33, DURHAM_REPORT, 0.85),
    Evidence(3, P532, CAMBS_REPORT, 0.4),
]
Q_SOLVED = "What was Durham's solved rate?"
Q_BUDGET = "What is Durham Constabulary's budget for 2020/21?"
NOTE = "searched reports about Durham Police, Crime and Victims' Commissioner, as the question asks"


def solved_answer() -> Answer:
    claims = [
        Claim(SOLVED, (1,), True, "", (SOLVED,)),
        Claim(DECREASED, (2,), True, "", (DECREASED,)),
    ]
    return Answer(Q_SOLVED, "extractive", True, claims, list(EVIDENCE), NOTE)


def refusal() -> Answer:
    return Answer(Q_BUDGET, "extractive", False, [], list(EVIDENCE), NOTE)


class FakeRetriever:
    def __init__(self, reports: list[Report]) -> None:
        self.reports = reports


class FakeAssistant:
    """Canned answers by question; optionally holds warm() or streams a draft first."""

    def __init__(
        self,
        answers: dict[str, Callable[[], Answer]] | None = None,
        gate: threading.Event | None = None,
        draft: list[str] | None = None,
        draft_gate: threading.Event | None = None,
    ) -> None:
        self.retriever = FakeRetriever([DURHAM_REPORT, CAMBS_REPORT])
        self.answers = answers or {Q_SOLVED: solved_answer, Q_BUDGET: refusal}
        self.gate = gate
        self.draft = draft or []
        self.draft_gate = draft_gate
        self.asked: list[tuple[str, Filters | None, str | None]] = []
        self.threads: set[int] = set()
        self.closed = False

    def warm(self) -> None:
        self.threads.add(threading.get_ident())
        if self.gate is not None:
            assert self.gate.wait(20), "the test never opened the gate"

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        answerer: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        self.threads.add(threading.get_ident())
        self.asked.append((question, filters, answerer))
        if on_token is not None:
            for chunk in self.draft:
                on_token(chunk)
            if self.draft_gate is not None:
                assert self.draft_gate.wait(20)
        if question not in self.answers:
            raise PccError(f"the fake has no answer to {question!r}")
        return self.answers[question]()

    def close(self) -> None:
        self.closed = True


def fake_app(tmp_path: Path, fake: FakeAssistant | None = None, **kwargs: Any) -> ChatApp:
    made = fake or FakeAssistant()
    return ChatApp(
        Settings(index_dir=tmp_path / "index"),
        factory=lambda: made,
        session_path=tmp_path / "session.json",
        **kwargs,
    )


# -- helpers -------------------------------------------------------------------------------
def notices(app: ChatApp) -> list[str]:
    """The conversation's lines that are not questions, as text."""
    return [str(w.content) for w in app.query(".notice").results(Static)]


async def ask(pilot: Pilot[None], app: ChatApp, question: str) -> Exchange:
    count = len(app.exchanges)
    app.query_one(QuestionInput).value = question
    await pilot.press("enter")
    await until(pilot, lambda: len(app.exchanges) > count and app.exchanges[count].done)
    return app.exchanges[count]


def ready(app: ChatApp) -> Callable[[], bool]:
    return lambda: app.phase == "ready"


# -- the real index ------------------------------------------------------------------------
@pytest.fixture
def real_app(ingested: Settings, embedder: Any, tmp_path: Path) -> Callable[..., ChatApp]:
    from pcc_assistant.ask import Assistant

    def make(settings: Settings | None = None, **kwargs: Any) -> ChatApp:
        s = settings or ingested
        return ChatApp(
            s,
            factory=lambda: Assistant(s, embedder=embedder),
            session_path=tmp_path / "session.json",
            **kwargs,
        )

    return make


@pytest.mark.slow
async def test_ask_then_select_a_citation(real_app: Callable[..., ChatApp]) -> None:
    app = real_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        x = await ask(pilot, app, Q_SOLVED)
        assert x.answer is not None and x.answer.answerable
        shown = screen_text(app)
        assert "19%" in shown and "[1]" in shown
        # the first citation is selected for the reader: ¶32, its sentence highlighted
        assert app.selected == (0, 1)
        locate(app, "¶32, p.7", within="#sources")
        px, py = locate(app, "19%", within="#sources")
        plain_x, plain_y = locate(app, "32. Durham Constabulary", within="#sources")
        style = app.screen.get_style_at(px + 1, py)
        assert style.bgcolor is not None
        assert style.bgcolor != app.screen.get_style_at(plain_x + 5, plain_y).bgcolor
        # Tab walks the citations, shift+Tab walks back
        await pilot.press("tab")
        await pilot.press("shift+tab")
        assert app.selected == (0, 1)


@pytest.mark.slow
async def test_filter_to_cambridgeshire(real_app: Callable[..., ChatApp]) -> None:
    app = real_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        await pilot.press("ctrl+f")
        await until(pilot, lambda: bool(app.screen.query("#reports")))
        chooser = app.screen.query_one("#reports", SelectionList)
        assert chooser.selected == [DURHAM, CAMBS] or set(chooser.selected) == {DURHAM, CAMBS}
        chooser.deselect(DURHAM)
        await pilot.click("#apply")
        await until(pilot, lambda: app.scope.docs == (CAMBS,))
        assert "Cambridgeshire Victims theme performance report" in screen_text(app)
        x = await ask(pilot, app, "What was the solved rate?")
        assert x.answer is not None and x.answer.retrieved
        assert {e.paragraph.doc for e in x.answer.retrieved} == {CAMBS}
        assert {e.paragraph.doc for e in x.answer.cited()} <= {CAMBS}


@pytest.mark.slow
async def test_refusal_shows_closest_matches(real_app: Callable[..., ChatApp]) -> None:
    app = real_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        x = await ask(pilot, app, Q_BUDGET)
        assert x.answer is not None and not x.answer.answerable
        shown = screen_text(app)
        assert REFUSAL in shown and "Closest matches:" in shown
        assert app.selected == (0, x.answer.retrieved[0].marker)  # selectable too


@pytest.mark.slow
async def test_unreachable_server_is_a_message(
    real_app: Callable[..., ChatApp], ingested: Settings
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ingested.model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{port}/v1", "llm_model": "m"}
    )
    app = real_app(settings, answerer="openai")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        x = await ask(pilot, app, Q_SOLVED)
        assert "can't reach" in x.error and "connection refused" in x.error
        assert "can't reach" in screen_text(app).replace("\n", " ")
        app.answerer = "extractive"  # the app goes on: the next question is answered
        y = await ask(pilot, app, Q_SOLVED)
        assert y.answer is not None and y.answer.answerable


# -- behaviour on canned answers -----------------------------------------------------------
async def test_click_and_tab_select_citations(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        await ask(pilot, app, Q_SOLVED)
        assert app.selected == (0, 1)
        x, y = locate(app, "[2] Durham PCVC")
        await pilot.click(offset=(x + 1, y))
        assert app.selected == (0, 2)
        assert "Source [2] of Q1" in screen_text(app)
        assert "33. There is an increased onus" in screen_text(app)
        await pilot.press("tab")  # wraps round the only answer's citations
        assert app.selected == (0, 1)
        await pilot.press("shift+tab")
        assert app.selected == (0, 2)


async def test_filter_by_date_and_change_answerer(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = fake_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        await pilot.press("f2")
        await until(pilot, lambda: bool(app.screen.query("#since")))
        since = app.screen.query_one("#since", Input)
        since.value = "next week"
        await pilot.click("#apply")
        assert "'next week' is not a date" in screen_text(app)
        since.value = "2020-04"
        await pilot.click("#answerer-ollama")
        await pilot.click("#apply")
        await until(pilot, lambda: app.scope.since == dt.date(2020, 4, 1))
        assert app.answerer == "ollama"
        status = screen_text(app).splitlines()[0]
        assert "ollama" in status and "Cambridgeshire Victims theme" in status
        await ask(pilot, app, Q_SOLVED)
        _, filters, answerer = fake.asked[-1]
        assert filters == Filters(since=dt.date(2020, 4, 1)) and answerer == "ollama"


async def test_unknown_report_in_the_starting_filter_is_named(tmp_path: Path) -> None:
    app = fake_app(tmp_path, scope=Scope(docs=("no-such-report",)))
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        assert any("Not in the index: no-such-report" in n for n in notices(app))
        assert "no report matches the filter" in screen_text(app).splitlines()[0]


async def test_narrow_terminal_stacks_the_panes(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    async with app.run_test(size=(70, 24)) as pilot:
        await until(pilot, ready(app))
        conversation = app.query_one("#conversation").region
        sources = app.query_one("#sources").region
        assert sources.y >= conversation.bottom and sources.width == conversation.width


async def test_history_up_and_down(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        await ask(pilot, app, Q_SOLVED)
        await ask(pilot, app, Q_BUDGET)
        box = app.query_one(QuestionInput)
        await pilot.press(*"draft")
        await pilot.press("up")
        assert box.value == Q_BUDGET
        await pilot.press("up")
        assert box.value == Q_SOLVED
        await pilot.press("up")
        assert box.value == Q_SOLVED
        await pilot.press("down")
        assert box.value == Q_BUDGET
        await pilot.press("down")
        assert box.value == "draft"


async def test_export_markdown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = fake_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        await ask(pilot, app, Q_SOLVED)
        await ask(pilot, app, Q_BUDGET)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: bool(app.screen.query("#path")))
        box = app.screen.query_one("#path", Input)
        assert re.fullmatch(r"pcc-chat-\d{4}-\d\d-\d\d-\d{4}\.md", box.value)
        box.value = "notes.md"
        await pilot.press("enter")
        await until(pilot, lambda: (tmp_path / "notes.md").exists())
        assert f"Exported the conversation to {tmp_path / 'notes.md'}" in notices(app)[-1]
    md = (tmp_path / "notes.md").read_text(encoding="utf-8")
    assert f"## 1. {Q_SOLVED}" in md and f"## 2. {Q_BUDGET}" in md
    assert f"{SOLVED} [1] {DECREASED} [2]" in md
    assert "**[1]** Durham PCVC performance report, 12 Mar 2020, ¶32, p.7" in md
    # the paragraph quoted in full, the sentence the answer rests on in bold
    assert "> 32. Durham Constabulary has a higher proportion of resolved outcomes" in md
    assert f"**{SOLVED}**" in md
    refusal_part = md.split("## 2.")[1]
    assert REFUSAL in refusal_part and "Closest matches:" in refusal_part
    assert "**[3]** Cambridgeshire Victims theme performance report" in refusal_part


async def test_palette_has_an_entry_for_each_action(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        titles = {c.title for c in app.get_system_commands(app.screen)}
        for title in (
            "Filter reports and answerer",
            "Export conversation to Markdown",
            "Next citation",
            "Previous citation",
            "Help: keys",
            "New conversation",
        ):
            assert title in titles
        await run_command(pilot, "Help: keys")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        assert "ctrl+s / f3" in screen_text(app)


async def test_loading_state_and_a_question_typed_meanwhile(tmp_path: Path) -> None:
    gate = threading.Event()
    fake = FakeAssistant(gate=gate)
    app = fake_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert "loading index…" in screen_text(app)
        await pilot.press(*"What")  # the box takes typing while the index loads
        app.query_one(QuestionInput).value = Q_SOLVED
        await pilot.press("enter")
        await until(pilot, lambda: "waiting for the index to load…" in screen_text(app))
        assert not fake.asked
        gate.set()
        await until(pilot, lambda: app.exchanges[0].done)
        assert "19%" in screen_text(app) and "ready" in screen_text(app)
    # warm() and ask() ran on one thread (the index's SQLite connections demand it), not the UI's
    assert len(fake.threads) == 1 and threading.get_ident() not in fake.threads
    deadline = time.monotonic() + 5  # the assistant's thread closes it once the app is gone
    while not fake.closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fake.closed


async def test_streamed_draft_is_replaced_by_the_verified_answer(tmp_path: Path) -> None:
    release = threading.Event()
    fake = FakeAssistant(draft=["Durham solved ", "99% of crime [1]."], draft_gate=release)
    app = fake_app(tmp_path, fake, answerer="openai")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        app.query_one(QuestionInput).value = Q_SOLVED
        await pilot.press("enter")
        await until(pilot, lambda: "99% of crime" in screen_text(app))
        assert "draft, being checked against the reports" in screen_text(app)
        release.set()
        await until(pilot, lambda: app.exchanges[0].done)
        shown = screen_text(app)
        assert "99%" not in shown and "draft" not in shown and "19%" in shown
        assert fake.asked[0][2] == "openai"


async def test_errors_are_messages_and_the_app_goes_on(tmp_path: Path) -> None:
    calls = []

    def broken() -> FakeAssistant:
        calls.append(1)
        if len(calls) == 1:
            raise PccError("the index is empty: run `pcc ingest corpus/`")
        return FakeAssistant()

    app = ChatApp(
        Settings(index_dir=tmp_path / "index"), factory=broken, session_path=tmp_path / "s.json"
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.phase == "failed")
        shown = " ".join(screen_text(app).split())
        assert "run `pcc ingest corpus/`" in shown and "index not loaded" in shown
        x = await ask(pilot, app, Q_SOLVED)  # asking again retries the index
        assert x.answer is not None and len(calls) == 2
        y = await ask(pilot, app, "a question the fake can't answer")
        assert "the fake has no answer" in y.error
        z = await ask(pilot, app, Q_BUDGET)
        assert z.answer is not None and app.is_running


async def test_no_index_says_what_to_do(tmp_path: Path) -> None:
    """The default factory, on a folder with no index."""
    app = ChatApp(Settings(index_dir=tmp_path / "none"), session_path=tmp_path / "s.json")
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.phase == "failed")
        shown = " ".join(screen_text(app).split())
        assert "run `pcc ingest corpus/` first" in shown
        await pilot.press(*"still typing")
        assert app.query_one(QuestionInput).value == "still typing"


async def test_session_is_restored(tmp_path: Path) -> None:
    app = fake_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(app))
        await ask(pilot, app, Q_SOLVED)
        await ask(pilot, app, Q_BUDGET)
    again = fake_app(tmp_path)
    async with again.run_test(size=(100, 30)) as pilot:
        await until(pilot, ready(again))
        assert [x.question for x in again.exchanges] == [Q_SOLVED, Q_BUDGET]
        shown = screen_text(again)
        assert "Q2" in shown and REFUSAL in shown
        assert again.selected == (1, 1)  # the last answer's first match, shown
        await pilot.press("up")
        assert again.query_one(QuestionInput).value == Q_BUDGET
        await pilot.press("shift+tab")  # back into the earlier answer
        assert again.selected == (0, 2)
        assert "However, solved rates have decreased" in screen_text(again)


NASTY = (
    "[link=https://evil]x[/link] [@click=app.quit]q[/] \x1b]52;c;SGVsbG8=\x07 "
    "\x1b[31mred \x9b31m \u202eevil"
)
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def test_markup_and_control_sequences_are_shown_as_text(tmp_path: Path) -> None:
    report = Report(
        "evil", f"Evil {NASTY}", "Org [b]bold[/b]", dt.date(2020, 1, 1), "evil.pdf", "0", 1
    )
    para = Paragraph("evil", 0, "1", "paragraph", (1,), NASTY, f"1. Before. {NASTY} After.", 0, 9)
    claim = f"Claim {NASTY}"
    answer = Answer(
        "evil?", "extractive", True, [Claim(claim, (1,), True, "", (NASTY,))],
        [Evidence(1, para, report, 1.0)], f"note {NASTY}",
    )  # fmt: skip
    quits: list[str] = []
    app = fake_app(tmp_path, FakeAssistant({"evil?": lambda: answer}))
    app.action_quit = lambda: quits.append("quit")  # type: ignore[method-assign,assignment,return-value]
    async with app.run_test(size=(160, 40)) as pilot:
        await until(pilot, ready(app))
        await ask(pilot, app, "evil?")
        shown = screen_text(app)
        assert "[link=https://evil]x[/link] [@click=app.quit]q[/]" in shown
        assert f"Claim {' '.join(clean(NASTY).split())} [1]" in shown
        assert not UNSAFE.search(shown), UNSAFE.findall(shown)
        assert "SGVsbG8" not in shown  # the OSC 52 clipboard write went whole
        for y, line in enumerate(shown.splitlines()):
            for m in re.finditer(r"\[@click=app\.quit\]q", line):
                style = app.screen.get_style_at(m.start() + 18, y)
                assert "@click" not in style.meta and not style.link
                await pilot.click(offset=(m.start() + 18, y))
                await pilot.click(offset=(m.start() + 1, y))
        await pilot.pause(0.2)
        assert app.is_running and not quits
        md = export_markdown(app.exchanges, dt.datetime(2026, 11, 27, 21, 30))
        assert not UNSAFE.search(md) and "[@click=app.quit]q[/]" in md


# -- plain functions -----------------------------------------------------------------------
def test_highlight_ignores_line_breaks_and_quote_styles() -> None:
    text = "32. Durham has more.\nBetween February 2019 and January\n2020, then, Durham’s rate."
    found = spans(text, ("Between February 2019 and January 2020, then, Durham's rate.",))
    assert [text[a:b] for a, b in found] == [
        "Between February 2019 and January\n2020, then, Durham’s rate."
    ]
    assert spans(text, ("not there",)) == []


def test_session_round_trip(tmp_path: Path) -> None:
    a = solved_answer()
    assert answer_from_dict(json.loads(json.dumps(answer_to_dict(a)))) == a
    assert load_session(tmp_path / "missing.json") == []
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="can't be read"):
        load_session(bad)


def test_first_paint_imports_no_model_or_database() -> None:
    """Importing the chat and drawing its first frame loads no torch, Chroma, LangChain,
    sentence-transformers (nor numpy: the retrieval stack waits for the worker)."""
    script = """
import json, sys
from pcc_assistant.cli import cli
from pcc_assistant.chat.app import ChatApp
from pcc_assistant.config import Settings

class FirstPaint(ChatApp):
    def on_ready(self):  # the first frame is on screen; don't start the worker
        self.exit(sorted(m.split(".")[0] for m in sys.modules if m.split(".")[0] in HEAVY))

HEAVY = {"torch", "chromadb", "langchain_core", "langchain_openai", "sentence_transformers",
         "transformers", "numpy", "bm25s"}
async def main():
    app = FirstPaint(Settings(index_dir="/nonexistent"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
    print(json.dumps(sorted(set(app.return_value or []))))
import asyncio; asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# -- snapshots -----------------------------------------------------------------------------
def _snap_app(tmp_path: Path) -> ChatApp:
    return fake_app(tmp_path)


async def _still(pilot: Pilot[None]) -> None:
    """Stop the cursor blinking, then wait until the screen stops changing.

    A blinking cursor made a snapshot depend on the moment it was taken (a CI run caught the
    cursor lit); the app also scrolls after refreshes, which a fixed pause can outrun.
    """
    app: ChatApp = pilot.app  # type: ignore[assignment]
    for box in app.screen.query(Input):
        box.cursor_blink = False
    seen, same = "", 0
    deadline = time.monotonic() + 10
    while same < 3 and time.monotonic() < deadline:
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.05)
        now = screen_text(app)
        same = same + 1 if now == seen else 0
        seen = now


async def _asked(pilot: Pilot[None], question: str) -> None:
    app: ChatApp = pilot.app  # type: ignore[assignment]
    await until(pilot, ready(app))
    await ask(pilot, app, question)


def test_snapshot_empty_start(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, ready(pilot.app))  # type: ignore[arg-type]
        await _still(pilot)

    assert snap_compare(_snap_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_answer_with_selected_citation(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _asked(pilot, Q_SOLVED)
        await _still(pilot)

    assert snap_compare(_snap_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_refusal(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _asked(pilot, Q_BUDGET)
        await _still(pilot)

    assert snap_compare(_snap_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_filter_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, ready(pilot.app))  # type: ignore[arg-type]
        await pilot.press("ctrl+f")
        await _still(pilot)

    app = fake_app(tmp_path, scope=Scope(docs=(CAMBS,)))
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_snapshot_help_screen(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await until(pilot, ready(pilot.app))  # type: ignore[arg-type]
        await pilot.press("f1")
        await _still(pilot)

    assert snap_compare(_snap_app(tmp_path), terminal_size=(80, 24), run_before=run_before)


def test_snapshot_large_terminal(snap_compare: Any, tmp_path: Path) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await _asked(pilot, Q_SOLVED)
        await pilot.press("tab")
        await _still(pilot)

    assert snap_compare(_snap_app(tmp_path), terminal_size=(120, 40), run_before=run_before)
