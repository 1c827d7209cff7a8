"""The chat app: questions and answers on the left, the cited paragraph on the right.

The window is drawn before anything heavy is imported. One thread worker owns the
assistant (models, Chroma, the keyword index): it builds and warms it, then answers the
questions handed to it one at a time; questions typed while it loads wait their turn.
Streamed tokens and results come back to the UI thread through ``call_from_thread``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import queue
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from pcc_assistant.chat.assistant import (
    ANSWERERS,
    AssistantFactory,
    AssistantLike,
    assistant_factory,
)
from pcc_assistant.chat.highlight import support_for
from pcc_assistant.chat.main_screen import ChatScreen
from pcc_assistant.chat.scope import Scope
from pcc_assistant.chat.screens import (
    Choice,
    CompareScreen,
    ExportScreen,
    FilterScreen,
    HelpScreen,
)
from pcc_assistant.chat.session import (
    SESSION_FILE,
    Exchange,
    default_export_name,
    export_markdown,
    load_session,
    markers_of,
    save_session,
)
from pcc_assistant.chat.styles import CSS
from pcc_assistant.chat.view import no_source_content, source_content
from pcc_assistant.chat.widgets import CompareView, ExchangeView, QuestionInput
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import clean

if TYPE_CHECKING:
    from pcc_assistant.answer.model import Answer
    from pcc_assistant.compare import Comparison
    from pcc_assistant.config import Settings
    from pcc_assistant.types import Report

Phase = Literal["loading", "ready", "failed"]
COMPARE = "/compare"  # typed before a measure: follow it across the reports


@dataclass(frozen=True)
class _Job:
    """A question for the assistant's thread, with the filter and answerer it was asked with."""

    entry: int
    question: str
    scope: Scope
    answerer: str
    measure: str = ""  # set for a comparison instead of a question


class ChatApp(App[None]):
    """``pcc chat``. Build it with an assistant factory; tests pass their own."""

    TITLE = "pcc chat"
    CSS = CSS

    def __init__(
        self,
        settings: Settings,
        factory: AssistantFactory | None = None,
        scope: Scope | None = None,
        answerer: str | None = None,
        session_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.factory = factory or assistant_factory(settings)
        self.scope = scope or Scope()
        self.answerer = answerer or settings.answerer
        self.session_path = session_path or settings.index_dir / SESSION_FILE
        self.index_dir = settings.index_dir
        self.shared_url = settings.chroma_url  # shown in the status bar: whose index this is
        self.where = (
            f"shared index on {settings.chroma_url}"
            if settings.chroma_url
            else f"index in {settings.index_dir}"
        )
        self.exchanges: list[Exchange] = []
        self.views: list[ExchangeView] = []
        self.pending: deque[int] = deque()
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self.reports: list[Report] | None = None
        self.phase: Phase = "loading"
        self.busy = False
        self.selected: tuple[int, int] | None = None
        self.measures: dict[int, str] = {}  # entries that are comparisons, and their measure

    # -- start-up --------------------------------------------------------------------------
    def get_default_screen(self) -> Screen[Any]:
        return ChatScreen(self._status(), "Ask a question about the reports, then Enter (F1: keys)")

    def on_ready(self) -> None:
        # After the first frame: nothing slows the first paint.
        self._restore()
        self._serve()

    def _restore(self) -> None:
        try:
            saved = load_session(self.session_path)
        except ValueError as exc:
            self._notice(f"The saved conversation was not restored: {exc}", error=True)
            return
        if not saved:
            return
        self._notice(f"The last conversation ({len(saved)} question(s)), as it was left:")
        for x in saved:
            self._add_exchange(x)
        self.query_one(QuestionInput).set_history(
            [f"{COMPARE} {x.comparison.measure}" if x.comparison else x.question for x in saved]
        )
        answered = [i for i, x in enumerate(self.exchanges) if x.answer is not None]
        if answered:
            last = self.exchanges[answered[-1]].answer
            assert last is not None
            if markers := markers_of(last):
                self.action_select_source(answered[-1], markers[0])
        self.call_after_refresh(self._follow)

    @work(thread=True, group="assistant", exit_on_error=False)
    def _serve(self) -> None:
        """Owns the assistant: builds and warms it, then answers jobs one at a time.

        One thread for its whole life, because the index's SQLite connections may only
        be used by the thread that opened them.
        """
        try:
            assistant = self.factory()
            assistant.warm()
            reports = assistant.retriever.reports
        except PccError as exc:
            self._from_thread(self._load_failed, str(exc))
            return
        except Exception as exc:  # the app must outlive any failure of the stack
            self._from_thread(self._load_failed, _unexpected("loading the index", exc))
            return
        self._from_thread(self._loaded, reports)
        try:
            while (job := self._jobs.get()) is not None:
                self._answer(assistant, job)
        finally:
            assistant.close()

    def _answer(self, assistant: AssistantLike, job: _Job) -> None:
        def token(chunk: str) -> None:
            self._from_thread(self._token, job.entry, chunk)

        if job.measure:
            self._compare(assistant, job)
            return
        try:
            stream = token if job.answerer != "extractive" else None
            answer = assistant.ask(job.question, job.scope.filters(), job.answerer, stream)
            reports = assistant.retriever.reports  # an ingest may have run meanwhile
        except PccError as exc:
            self._from_thread(self._failed, job.entry, str(exc))
        except Exception as exc:  # the app must outlive any failure of the stack
            self._from_thread(self._failed, job.entry, _unexpected("answering", exc))
        else:
            self._from_thread(self._answered, job.entry, answer, reports)

    def _compare(self, assistant: AssistantLike, job: _Job) -> None:
        from pcc_assistant.compare import Searcher, compare, comparison_answer

        try:
            retriever = assistant.retriever
            if not isinstance(retriever, Searcher):
                raise PccError("this assistant can't search the reports, so it can't compare")
            comparison = compare(retriever, job.measure, job.scope.filters())
            answer = comparison_answer(comparison)
            reports = retriever.reports
        except PccError as exc:
            self._from_thread(self._failed, job.entry, str(exc))
        except Exception as exc:  # the app must outlive any failure of the stack
            self._from_thread(self._failed, job.entry, _unexpected("comparing", exc))
        else:
            self._from_thread(self._compared, job.entry, comparison, answer, reports)

    def _compared(
        self, entry: int, comparison: Comparison, answer: Answer, reports: list[Report]
    ) -> None:
        self.exchanges[entry].comparison = comparison
        self._answered(entry, answer, reports)

    def _loaded(self, reports: list[Report]) -> None:
        self.reports = reports
        self.phase = "ready"
        if not reports:
            self._notice(
                f"The {self.where} holds no reports: run `pcc ingest corpus/` "
                "in another terminal, then ask.",
                error=True,
            )
        unknown = sorted(set(self.scope.docs) - {r.doc for r in reports})
        if reports and unknown:
            known = ", ".join(sorted(r.doc for r in reports))
            self._notice(
                f"Not in the index: {', '.join(unknown)} (indexed: {known}). "
                "Press F2 to choose reports.",
                error=True,
            )
        self._show_status()
        self._pump()

    def _load_failed(self, message: str) -> None:
        self.phase = "failed"
        self._notice(f"{message}. Ask again to retry.", error=True)
        self.notify(clean(message), title="Index not loaded", severity="error", markup=False)
        while self.pending:
            entry = self.pending.popleft()
            self.exchanges[entry].error = "not answered: the index is not loaded"
            self.views[entry].refresh_content()
        self._show_status()

    # -- asking ----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "question":
            return
        question = event.value.strip()
        if not question:
            return
        box = self.query_one(QuestionInput)
        if question.lower() == COMPARE or question.lower().startswith(COMPARE + " "):
            measure = question[len(COMPARE) :].strip()
            if not measure:
                self.notify("Type /compare and a measure, e.g. /compare solved rate", markup=False)
                return
            box.remember(question)
            box.value = ""
            self.compare(measure)
            return
        box.remember(question)
        box.value = ""
        entry = self._add_exchange(Exchange(question))
        self.pending.append(entry)
        self._pump()

    def compare(self, measure: str) -> None:
        """Follow ``measure`` across the reports in scope: a table, its rows cited."""
        measure = " ".join(measure.split())
        entry = self._add_exchange(Exchange(f"compare: {measure}"), compare=True)
        self.measures[entry] = measure
        self.pending.append(entry)
        self._pump()

    def action_compare(self) -> None:
        self.push_screen(CompareScreen(), self._compare_chosen)

    def _compare_chosen(self, measure: str | None) -> None:
        if measure:
            self.compare(measure)

    def _pump(self) -> None:
        """Hand the next waiting question to the assistant's thread, if it is free."""
        if not self.pending or self.busy:
            return
        if self.phase == "failed":
            self.phase = "loading"
            self._serve()
        if self.phase == "loading":
            for entry in self.pending:
                self.views[entry].waiting = "waiting for the index to load…"
                self.views[entry].refresh_content()
            self._show_status()
            return
        entry = self.pending.popleft()
        self.busy = True
        self.views[entry].waiting = "searching the reports…"
        self.views[entry].refresh_content()
        self._show_status()
        question = self.exchanges[entry].question
        measure = self.measures.get(entry, "")
        self._jobs.put(_Job(entry, question, self.scope, self.answerer, measure))

    def _token(self, entry: int, chunk: str) -> None:
        view = self.views[entry]
        view.draft += chunk
        view.refresh_content()
        self._follow()

    def _answered(self, entry: int, answer: Answer, reports: list[Report]) -> None:
        self.exchanges[entry].answer = answer
        self.reports = reports
        view = self.views[entry]
        view.draft = ""
        view.refresh_content()
        self._done()
        markers = markers_of(answer)
        if markers:
            self.action_select_source(entry, markers[0])
        # the question at the top of the pane: a long answer is read from its start
        self.call_after_refresh(view.scroll_visible, top=True, animate=False)

    def _failed(self, entry: int, message: str) -> None:
        self.exchanges[entry].error = message
        self.views[entry].draft = ""
        self.views[entry].refresh_content()
        self.notify(clean(message), title="No answer", severity="error", markup=False)
        self._done()

    def _done(self) -> None:
        self.busy = False
        self._save()
        self._show_status()
        self._pump()

    def _save(self) -> None:
        try:
            save_session(self.session_path, self.exchanges)
        except OSError as exc:
            self.notify(
                clean(f"the conversation could not be saved to {self.session_path}: {exc}"),
                severity="warning",
                markup=False,
            )

    # -- sources ---------------------------------------------------------------------------
    def action_select_source(self, entry: int, marker: int) -> None:
        """Show paragraph ``marker`` of answer ``entry`` in the sources pane."""
        if not 0 <= entry < len(self.exchanges):
            return
        answer = self.exchanges[entry].answer
        if answer is None:
            return
        evidence = next((e for e in answer.retrieved if e.marker == marker), None)
        if evidence is None:
            return
        if self.selected is not None and self.selected[0] != entry:
            old = self.views[self.selected[0]]
            old.selected = None
            old.refresh_content()
        self.selected = (entry, marker)
        view = self.views[entry]
        view.selected = marker
        view.refresh_content()
        support = support_for(answer, marker) if answer.answerable else ()
        self.query_one("#source", Static).update(source_content(evidence, support))
        pane = self.query_one("#sources", VerticalScroll)
        pane.border_title = Content(f"Source [{marker}] of Q{entry + 1}")  # not markup
        pane.border_subtitle = "highlight: cited text" if support else ""
        pane.scroll_home(animate=False)

    def _cycle(self, step: int) -> None:
        stops = [
            (i, m)
            for i, x in enumerate(self.exchanges)
            if x.answer is not None
            for m in markers_of(x.answer)
        ]
        if not stops:
            self.notify("No citations yet: ask a question first.", markup=False)
            return
        if self.selected in stops:
            at = (stops.index(self.selected) + step) % len(stops)
        else:
            at = 0 if step > 0 else len(stops) - 1
        entry, marker = stops[at]
        self.action_select_source(entry, marker)
        self.views[entry].scroll_visible(animate=False)

    def action_next_source(self) -> None:
        """Select the next citation (through every answer, in order)."""
        self._cycle(1)

    def action_previous_source(self) -> None:
        self._cycle(-1)

    def action_scroll_conversation(self, pages: int) -> None:
        pane = self.query_one("#conversation", VerticalScroll)
        (pane.scroll_page_down if pages > 0 else pane.scroll_page_up)(animate=False)

    def action_scroll_sources(self, pages: int) -> None:
        pane = self.query_one("#sources", VerticalScroll)
        (pane.scroll_page_down if pages > 0 else pane.scroll_page_up)(animate=False)

    # -- dialogs ---------------------------------------------------------------------------
    def action_help(self) -> None:
        keys = [("Enter", "ask the question typed"), ("Up / Down", "earlier questions")]
        for b in ChatScreen.BINDINGS:
            if isinstance(b, Binding):
                keys.append((b.key.replace(",", " / "), b.tooltip or b.description.lower()))
        keys += [
            ("click [n]", "show that paragraph"),
            (f"{COMPARE} MEASURE", "a measure's figure in each report, by date, each cited"),
            ("ctrl+p", "command palette: every action by name"),
            ("ctrl+q", "quit (the conversation is kept)"),
        ]
        self.push_screen(HelpScreen(keys))

    def action_filter(self) -> None:
        self.push_screen(
            FilterScreen(self.reports, self.scope, self.answerer, ANSWERERS), self._filtered
        )

    def _filtered(self, choice: Choice | None) -> None:
        if choice is None:
            return
        if choice.scope == self.scope and choice.answerer == self.answerer:
            return
        self.scope = choice.scope
        self.answerer = choice.answerer
        self._notice(
            f"From now on: asking {self.scope.describe(self.reports)}; {self.answerer} answerer."
        )
        self._show_status()

    def action_export(self) -> None:
        count = sum(1 for x in self.exchanges if x.answer is not None)
        if not count:
            self.notify("Nothing to export yet: ask a question first.", markup=False)
            return
        name = default_export_name(dt.datetime.now())
        self.push_screen(ExportScreen(name, count), self._export_to)

    def _export_to(self, path: Path | None) -> None:
        if path is None:
            return
        text = export_markdown(self.exchanges, dt.datetime.now())
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(
                clean(f"could not write {path}: {exc.strerror or exc}"),
                title="Not exported",
                severity="error",
                markup=False,
            )
            return
        where = path.resolve()
        self._notice(f"Exported the conversation to {where}")
        self.notify(clean(str(where)), title="Exported", markup=False, timeout=8)

    def action_new_conversation(self) -> None:
        if self.busy or self.pending:
            self.notify("Wait for the answer in progress, then start again.", markup=False)
            return
        for widget in self.query("#conversation > *"):
            if widget.id != "welcome":
                widget.remove()
        self.exchanges, self.views, self.selected = [], [], None
        self.measures = {}
        self.query_one("#source", Static).update(no_source_content())
        self.query_one("#sources", VerticalScroll).border_title = "Source"
        self.query_one("#sources", VerticalScroll).border_subtitle = ""
        self._save()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if not isinstance(screen, ChatScreen):
            return
        yield SystemCommand(
            "Filter reports and answerer",
            "Choose which reports to ask (by report, organisation, date) and who answers",
            self.action_filter,
        )
        yield SystemCommand(
            "Compare a measure across reports",
            "Each report's figure for a measure (e.g. solved rate), by date, with citations",
            self.action_compare,
        )
        yield SystemCommand(
            "Export conversation to Markdown",
            "Every answer with its citations and quoted paragraphs, for briefing notes",
            self.action_export,
        )
        yield SystemCommand(
            "Next citation", "Show the next cited paragraph", self.action_next_source
        )
        yield SystemCommand(
            "Previous citation", "Show the previous cited paragraph", self.action_previous_source
        )
        yield SystemCommand("Help: keys", "List every key", self.action_help)
        yield SystemCommand(
            "New conversation",
            "Clear the conversation (export it first to keep a copy)",
            self.action_new_conversation,
        )

    # -- helpers ---------------------------------------------------------------------------
    def _add_exchange(self, x: Exchange, compare: bool = False) -> int:
        entry = len(self.exchanges)
        self.exchanges.append(x)
        compare = compare or x.comparison is not None
        view = CompareView(entry, x) if compare else ExchangeView(entry, x)
        self.views.append(view)
        self.query_one("#conversation", VerticalScroll).mount(view)
        self._follow()
        return entry

    def _notice(self, text: str, error: bool = False) -> None:
        """A line in the conversation that is not a question (not saved with it)."""
        style = "bold $text-error" if error else "italic dim"
        widget = Static(Content.styled(" ".join(clean(text).split()), style), classes="notice")
        self.query_one("#conversation", VerticalScroll).mount(widget)
        self._follow()

    def _follow(self) -> None:
        self.query_one("#conversation", VerticalScroll).scroll_end(animate=False)

    def _show_status(self) -> None:
        self.query_one("#status", Static).update(self._status())

    def _status(self) -> Content:
        if self.phase == "loading":
            state = ("loading index…", "bold $text-warning")
        elif self.phase == "failed":
            state = ("index not loaded", "bold $text-error")
        elif self.busy:
            state = ("answering…", "bold $accent")
        else:
            state = ("ready", "bold $text-success")
        waiting = f" ({len(self.pending)} waiting)" if self.pending else ""
        return Content.assemble(
            state,
            waiting,
            ("  │  answerer ", "dim"),
            (self.answerer, "bold"),
            ("  │  asking ", "dim"),
            (clean(self.scope.describe(self.reports)), "bold"),
            *((("  │  shared ", "dim"), (self.shared_url, "bold")) if self.shared_url else ()),
        )

    def _from_thread(self, callback: Callable[..., object], *args: object) -> None:
        """``call_from_thread`` that gives up quietly once the app has closed."""
        with contextlib.suppress(RuntimeError):
            self.call_from_thread(callback, *args)

    def on_unmount(self) -> None:
        self._jobs.put(None)  # the assistant's thread closes it and ends


def _unexpected(doing: str, exc: Exception) -> str:
    return f"unexpected error while {doing} ({type(exc).__name__}: {exc}); please report it"
