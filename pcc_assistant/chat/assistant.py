"""What the chat needs of the assistant, and the real one, imported only when built.

The app takes a factory so that tests can pass a fake; the default factory imports
:class:`pcc_assistant.ask.Assistant` (and with it the models and Chroma) when the
loading worker calls it, never when the chat is imported or drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pcc_assistant.answer.model import Answer
    from pcc_assistant.config import Settings
    from pcc_assistant.retrieve import Filters
    from pcc_assistant.types import Report

ANSWERERS = ("extractive", "openai", "ollama", "local")  # as pcc_assistant.ask.ANSWERERS


class RetrieverLike(Protocol):
    @property
    def reports(self) -> list[Report]: ...


class AssistantLike(Protocol):
    """What the chat needs of :class:`pcc_assistant.ask.Assistant` (tests pass fakes)."""

    @property
    def retriever(self) -> RetrieverLike: ...

    def warm(self) -> None: ...

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        answerer: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer: ...

    def close(self) -> None: ...


AssistantFactory = Callable[[], AssistantLike]


def assistant_factory(settings: Settings) -> AssistantFactory:
    """The real assistant, imported only when the loading worker calls this."""

    def make() -> AssistantLike:
        from pcc_assistant.ask import Assistant

        return Assistant(settings)

    return make
