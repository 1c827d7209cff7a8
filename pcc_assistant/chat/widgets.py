"""The chat's own widgets: the question box with history, and one question's entry."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from pcc_assistant.chat.session import Exchange
from pcc_assistant.chat.view import compare_content, exchange_content


class QuestionInput(Input):
    """One line for the question; Up and Down walk the questions asked before."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous question", show=False),
        Binding("down", "history(1)", "Next question", show=False),
    ]

    def __init__(self, history: list[str], placeholder: str, id: str) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.history: list[str] = list(history)
        self._at = len(self.history)
        self._typed = ""  # what was being typed before walking the history

    def set_history(self, questions: list[str]) -> None:
        self.history = list(questions)
        self._at = len(self.history)
        self._typed = ""

    def remember(self, question: str) -> None:
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._at = len(self.history)
        self._typed = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._at == len(self.history):
            self._typed = self.value
        self._at = max(0, min(len(self.history), self._at + step))
        self.value = self._typed if self._at == len(self.history) else self.history[self._at]
        self.cursor_position = len(self.value)


class ExchangeView(Static):
    """Question ``entry`` and whatever has come of it so far."""

    def __init__(self, entry: int, exchange: Exchange) -> None:
        super().__init__(classes="exchange")
        self.entry = entry
        self.exchange = exchange
        self.selected: int | None = None
        self.draft = ""
        self.waiting = ""
        self.refresh_content()

    def refresh_content(self) -> None:
        self.update(
            exchange_content(self.entry, self.exchange, self.selected, self.draft, self.waiting)
        )


class CompareView(ExchangeView):
    """A ``/compare`` entry: the waiting line, then the comparison's table."""

    def refresh_content(self) -> None:
        if self.exchange.comparison is None:
            super().refresh_content()
        else:
            self.update(compare_content(self.entry, self.exchange.comparison, self.selected))
