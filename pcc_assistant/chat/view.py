"""What the panes show, as Textual ``Content`` built piece by piece.

Report text, titles and model output enter only as plain strings passed through
:func:`clean`, never as markup, so ``[@click=app.quit]`` in a report stays text. The
only click actions are the ones made here, from marker numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.style import Style

from pcc_assistant.answer.model import REFUSAL, Answer, Evidence
from pcc_assistant.chat.highlight import display_text, spans
from pcc_assistant.chat.session import CLOSEST, Exchange, citation_line
from pcc_assistant.safe_text import clean

if TYPE_CHECKING:
    from rich.console import RenderableType

    from pcc_assistant.compare import Comparison

MARKER = "bold $accent"
SELECTED = "bold reverse $accent"
HIGHLIGHT = "bold $text on $warning 40%"
DIM = "dim"


def _safe(text: str) -> str:
    return " ".join(clean(text).split())


def _marker(entry: int, marker: int, selected: bool) -> Content:
    action = Style.from_meta({"@click": f"app.select_source({entry}, {marker})"})
    return Content(f"[{marker}]").stylize(SELECTED if selected else MARKER).stylize(action)


def _citation_line(entry: int, e: Evidence, selected: bool) -> Content:
    return Content.assemble(_marker(entry, e.marker, selected), " ", (citation_line(e), DIM))


def _answer_lines(entry: int, a: Answer, selected: int | None) -> list[Content]:
    lines: list[Content] = []
    if a.answerable:
        known = {e.marker for e in a.retrieved}
        body = Content("")
        for c in a.claims:
            if not c.verified:
                continue
            body = body.append(Content(_safe(c.text)))
            for m in c.markers:
                if m in known:
                    body = body.append(" ").append(_marker(entry, m, m == selected))
            body = body.append(" ")
        lines.append(body.rstrip())
    else:
        lines.append(Content.styled(REFUSAL, "bold"))
    if a.note:
        lines.append(Content.styled(f"note: {_safe(a.note)}", f"italic {DIM}"))
    if a.answerable:
        shown = a.cited()
    else:
        shown = a.retrieved[:CLOSEST]
        if shown:
            lines.append(Content.styled("Closest matches:", DIM))
    lines += [_citation_line(entry, e, e.marker == selected) for e in shown]
    return lines


def exchange_content(
    entry: int, x: Exchange, selected: int | None = None, draft: str = "", waiting: str = ""
) -> Content:
    """Question ``entry`` (0-based) and its answer, error, streaming draft or wait."""
    lines = [Content.assemble((f"Q{entry + 1} ", "bold $accent"), (_safe(x.question), "bold"))]
    if x.answer is not None:
        lines += _answer_lines(entry, x.answer, selected)
    elif x.error:
        lines.append(Content.styled(f"⚠ {_safe(x.error)}", "bold $text-error"))
    elif draft:
        lines.append(Content.styled("draft, being checked against the reports:", DIM))
        lines.append(Content.styled(clean(draft).strip(), f"italic {DIM}"))
    else:
        lines.append(Content.styled(waiting or "searching the reports…", f"italic {DIM}"))
    return Content("\n").join(lines)


def compare_content(entry: int, c: Comparison, selected: int | None = None) -> RenderableType:
    """A comparison in the conversation: the table ``pcc compare`` prints, each row's
    ``[n]`` selecting its paragraph like an answer's markers do."""
    from rich.console import Group
    from rich.style import Style as RichStyle
    from rich.text import Text

    from pcc_assistant.compare.table import comparison_table

    def link(marker: int) -> RichStyle:
        return RichStyle.from_meta({"@click": f"app.select_source({entry}, {marker})"})

    head = Text.assemble(
        (f"Q{entry + 1} ", "bold"), ("compare: ", "bold"), (_safe(c.measure), "bold")
    )
    parts: list[RenderableType] = [head, comparison_table(c, link, selected)]
    if not c.reported:
        parts.append(Text("No indexed report gives this measure.", style="bold"))
    return Group(*parts)


def source_content(e: Evidence, support: tuple[str, ...]) -> Content:
    """The cited paragraph in full under its citation, supporting sentences highlighted;
    where it sits in the report last, as it can run to several lines."""
    text = display_text(e.paragraph)
    body = Content(text)
    for start, end in spans(text, support):
        body = body.stylize(HIGHLIGHT, start, end)
    lines = [
        Content.assemble((f"[{e.marker}] ", MARKER), (citation_line(e), "bold")),
        Content(""),
        body,
        Content(""),
        Content.styled(_safe(e.report.organisation), DIM),
    ]
    if e.paragraph.section:
        lines.append(Content.styled(_safe(e.paragraph.section), f"italic {DIM}"))
    return Content("\n").join(lines)


def welcome_content() -> Content:
    return Content("\n").join(
        [
            Content.styled("Ask a question about the indexed reports and press Enter.", "bold"),
            Content.styled(
                "Answers cite the reports' paragraphs as [1] [2]; click one, or press Tab, "
                "to read it in the sources pane. F1 lists the keys.",
                DIM,
            ),
        ]
    )


def no_source_content() -> Content:
    return Content.styled(
        "The paragraph behind a citation shows here, with the sentences the answer rests "
        "on highlighted.",
        DIM,
    )
