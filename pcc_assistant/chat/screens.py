"""The chat's dialogs: keys, which reports to ask (and who answers), where to export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, SelectionList, Static

from pcc_assistant.answer.model import format_date
from pcc_assistant.chat.scope import Scope
from pcc_assistant.safe_text import clean
from pcc_assistant.types import Report


def _safe(text: str) -> str:
    return " ".join(clean(text).split())


class HelpScreen(ModalScreen[None]):
    """Every key the chat answers to."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q", "dismiss", "Close"),
    ]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        width = max(len(k) for k, _ in self.keys) + 2
        rows = [
            Content.assemble((key.ljust(width), "bold $accent"), what) for key, what in self.keys
        ]
        with VerticalScroll(classes="dialog", id="help"):
            yield Label(Content.styled("Keys", "bold"))
            yield Static(Content("\n").join(rows))
            yield Label(
                Content.styled(
                    "Every action is also in the command palette (ctrl+p). Escape closes this.",
                    "dim",
                )
            )


@dataclass(frozen=True)
class Choice:
    """What the filter dialog decided."""

    scope: Scope
    answerer: str


class FilterScreen(ModalScreen[Choice | None]):
    """Which reports to ask, by report, organisation and date; and which answerer."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Cancel")]

    def __init__(
        self,
        reports: list[Report] | None,
        scope: Scope,
        answerer: str,
        answerers: tuple[str, ...],
    ) -> None:
        super().__init__()
        self.reports = reports
        self.scope = scope
        self.answerer = answerer
        self.answerers = answerers

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="filter"):
            yield Label(
                Content.assemble(
                    ("Ask which reports", "bold"),
                    ("   Space ticks a report · Enter applies · Escape cancels", "dim"),
                )
            )
            if self.reports is None:
                yield Static(
                    Content.styled("The index is still loading: reports show here once it is.")
                )
            else:
                yield SelectionList[str](
                    *(
                        (
                            Content(
                                f"{_safe(r.title)} · {format_date(r)} · {_safe(r.organisation)}"
                            ),
                            r.doc,
                            not self.scope.docs or r.doc in self.scope.docs,
                        )
                        for r in self.reports
                    ),
                    id="reports",
                )
            with Horizontal(classes="row labels"):
                yield Label("Organisation")
                yield Label("Since")
                yield Label("Until")
            with Horizontal(classes="row"):
                yield Input(
                    ", ".join(self.scope.organisations),
                    placeholder="any (part of a name)",
                    id="organisation",
                    compact=True,
                )
                yield Input(
                    self.scope.since.isoformat() if self.scope.since else "",
                    placeholder="e.g. 2020-01-31",
                    id="since",
                    compact=True,
                )
                yield Input(
                    self.scope.until.isoformat() if self.scope.until else "",
                    placeholder="e.g. 2020-12",
                    id="until",
                    compact=True,
                )
            yield Label(Content.styled("Answerer", "bold"))
            with RadioSet(id="answerer", compact=True):
                for name in self.answerers:
                    yield RadioButton(
                        name, value=name == self.answerer, name=name, id=f"answerer-{name}"
                    )
            yield Static("", id="problem", classes="empty")
            with Horizontal(classes="buttons"):
                yield Button("Apply", variant="primary", id="apply", compact=True)
                yield Button("All reports", id="all", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        if self.reports is not None:
            self.query_one("#reports").focus()

    def _choice(self) -> Choice:
        from click import BadParameter

        from pcc_assistant.cli_answers import parse_day

        docs: tuple[str, ...] = ()
        if self.reports is not None:
            picked = self.query_one("#reports", SelectionList).selected
            if not picked:
                raise ValueError("choose at least one report")
            if len(picked) < len(self.reports):
                docs = tuple(str(d) for d in picked)
        elif self.scope.docs:
            docs = self.scope.docs
        orgs = self.query_one("#organisation", Input).value
        try:
            since = parse_day(self.query_one("#since", Input).value.strip() or None)
            until = parse_day(self.query_one("#until", Input).value.strip() or None, end=True)
        except BadParameter as exc:
            raise ValueError(exc.format_message()) from None
        if since and until and since > until:
            raise ValueError("'since' is after 'until'")
        organisations = tuple(o.strip() for o in orgs.split(",") if o.strip())
        return Choice(Scope(docs, organisations, since, until), self._answerer())

    def _problem(self, text: str) -> None:
        problem = self.query_one("#problem", Static)
        problem.update(Content.styled(_safe(text), "bold $text-error"))
        problem.remove_class("empty")

    def _apply(self) -> None:
        try:
            choice = self._choice()
        except ValueError as exc:
            self._problem(str(exc))
            return
        if self.reports is not None and not any(choice.scope.admits(r) for r in self.reports):
            self._problem("no indexed report matches this filter")
            return
        self.dismiss(choice)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self._apply()
        elif event.button.id == "all":
            self.dismiss(Choice(Scope(), self._answerer()))
        else:
            self.dismiss(None)

    def _answerer(self) -> str:
        pressed = self.query_one("#answerer", RadioSet).pressed_button
        return pressed.name if pressed is not None and pressed.name else self.answerer

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()


class ExportScreen(ModalScreen[Path | None]):
    """Asks where to write the Markdown; a second Enter confirms overwriting a file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Cancel")]

    def __init__(self, default: str, count: int) -> None:
        super().__init__()
        self.default = default
        self.count = count
        self._confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export"):
            yield Label(Content.styled("Export the conversation to Markdown", "bold"))
            yield Static(
                Content.styled(
                    f"{self.count} answered question{'s' if self.count != 1 else ''}, "
                    "each with its cited paragraphs quoted. File:",
                    "dim",
                )
            )
            yield Input(self.default, id="path")
            yield Static(Content.styled("Enter saves, Escape cancels.", "dim"), id="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        problem = self.query_one("#problem", Static)
        if not text:
            problem.update(Content.styled("give a file name", "bold $text-error"))
            return
        path = Path(text).expanduser()
        if path.is_dir():
            problem.update(Content.styled(f"{_safe(text)} is a folder", "bold $text-error"))
            return
        if path.exists() and path != self._confirmed:
            self._confirmed = path
            problem.update(
                Content.styled(
                    f"{_safe(text)} exists: Enter again to replace it", "bold $text-warning"
                )
            )
            return
        self.dismiss(path)


class CompareScreen(ModalScreen[str | None]):
    """Asks which measure to follow across the reports (``/compare MEASURE`` does too)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="compare"):
            yield Label(Content.styled("Compare a measure across the reports", "bold"))
            yield Static(
                Content.styled(
                    "Each report's figure, with its period, place and citation, by date. Measure:",
                    "dim",
                )
            )
            yield Input(placeholder="e.g. victim satisfaction, solved rate", id="measure")
            yield Static(Content.styled("Enter compares, Escape cancels.", "dim"), id="problem")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        measure = " ".join(event.value.split())
        if not measure:
            self.query_one("#problem", Static).update(
                Content.styled("name a measure, e.g. solved rate", "bold $text-error")
            )
            return
        self.dismiss(measure)
