"""The chat's main screen: status line, conversation and source panes, question box."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from pcc_assistant.chat.view import no_source_content, welcome_content
from pcc_assistant.chat.widgets import QuestionInput


class ChatScreen(Screen[None]):
    """The main screen; its keys are not active while a dialog is open."""

    # Panes side by side from 80 columns. Textual declares this as an instance variable
    # (its ClassVar sits inside a union), so a ClassVar annotation here fails mypy.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Help", tooltip="this list of keys"),
        Binding(
            "ctrl+f,f2",
            "app.filter",
            "Filter",
            tooltip="choose reports (by report, organisation, date) and answerer",
        ),
        Binding(
            "ctrl+s,f3",
            "app.export",
            "Export",
            tooltip="the conversation, citations and quoted paragraphs, to Markdown",
        ),
        Binding("tab", "app.next_source", "Next source", tooltip="show the next cited paragraph"),
        Binding(
            "shift+tab",
            "app.previous_source",
            "Previous source",
            show=False,
            tooltip="show the previous cited paragraph",
        ),
        Binding("pageup", "app.scroll_conversation(-1)", "Scroll up", show=False),
        Binding("pagedown", "app.scroll_conversation(1)", "Scroll down", show=False),
        Binding("ctrl+up", "app.scroll_sources(-1)", "Scroll source up", show=False),
        Binding("ctrl+down", "app.scroll_sources(1)", "Scroll source down", show=False),
    ]

    AUTO_FOCUS = "#question"

    def __init__(self, status: Content, placeholder: str) -> None:
        super().__init__()
        self.status = status
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield Static(self.status, id="status")
        with Horizontal(id="panes"):
            conversation = VerticalScroll(id="conversation")
            conversation.border_title = "Conversation"
            with conversation:
                yield Static(welcome_content(), id="welcome")
            sources = VerticalScroll(id="sources")
            sources.border_title = "Source"
            with sources:
                yield Static(no_source_content(), id="source")
        yield QuestionInput([], placeholder=self.placeholder, id="question")
        yield Footer()
