"""``pcc eval``: score the assistant on a question set, so a change's effect is a number."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pcc_assistant.cli_answers import ANSWERER_CHOICE
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import error_line, one_line


def _summary_table(summary: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    s = summary
    table = Table("measure", "value", title="pcc eval")

    def pct(v: object) -> str:
        return "–" if not isinstance(v, int | float) else f"{100 * v:.0f}%"

    r = s["retrieval"]
    a = s["answers"]
    c = s["citations"]
    lat = s["latency_ms"]
    assert isinstance(r, dict) and isinstance(a, dict) and isinstance(c, dict)
    assert isinstance(lat, dict)
    for n in (1, 3, 5, 10):
        table.add_row(f"evidence in top {n}", pct(r[f"hit@{n}"]))
    table.add_row("mean reciprocal rank", str(r["mrr"]))
    table.add_row("answerable right (answer + paragraph)", pct(a["answerable_correct"]))
    table.add_row("answerable refused", pct(a["answerable_refused"]))
    table.add_row("unanswerable refused", pct(a["unanswerable_refused"]))
    table.add_row("citations verbatim", f"{pct(c['verbatim'])} of {c['count']}")
    table.add_row("latency median / p95", f"{lat['median']} / {lat['p95']} ms")
    console = Console(stderr=False, markup=False, highlight=False)
    console.print(table)
    by_kind = s.get("by_kind")
    if isinstance(by_kind, dict):
        kinds = Table("kind", "questions", "right", "evidence in top 5")
        for k, v in by_kind.items():
            kinds.add_row(one_line(k), str(v["questions"]), pct(v["correct"]), pct(v["hit@5"]))
        console.print(kinds)


@click.command(name="eval")
@click.argument("questions", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--answerer", type=ANSWERER_CHOICE, help="Who writes the answers.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every question's answer and scores, and the summary, here.",
)
@click.option(
    "--markdown",
    "md_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a readable report here (a PNG chart is written beside it).",
)
@click.option(
    "--compare",
    "earlier",
    type=click.Path(dir_okay=False, path_type=Path),
    help="An earlier --json run: say which questions got better or worse.",
)
@click.pass_context
def eval_command(
    ctx: click.Context,
    questions: Path,
    answerer: str | None,
    json_out: Path | None,
    md_out: Path | None,
    earlier: Path | None,
) -> None:
    """Answer every question of QUESTIONS (JSON Lines, ../shared/eval/README.md format)
    against the current index and score retrieval, citations, answers and latency."""
    settings: Settings = ctx.obj
    try:
        code = _run(settings, questions, answerer, json_out, md_out, earlier)
    except PccError as exc:
        click.echo(error_line(str(exc)), err=True)
        sys.exit(1)
    sys.exit(code)


def _run(
    settings: Settings,
    questions: Path,
    answerer: str | None,
    json_out: Path | None,
    md_out: Path | None,
    earlier_path: Path | None,
) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pcc_assistant import eval_run
    from pcc_assistant.ask import Assistant
    from pcc_assistant.evaluate import load_questions

    if not questions.exists():
        raise PccError(f"{questions}: no such question file")
    if questions.is_dir():
        raise PccError(f"{questions}: is a folder; give the question file (JSON Lines)")
    for out in (json_out, md_out):
        if out is not None:  # before the run, not after a minute of answering
            _check_writable(out)
    qset = load_questions(questions)
    earlier = eval_run.load_run(earlier_path) if earlier_path else None
    for problem in qset.problems:
        click.echo(one_line(f"warning: {questions}: {problem}; skipped"), err=True)
    if not qset.questions:
        raise PccError(f"{questions}: no questions to ask")
    from pcc_assistant.cli import prepare_model

    prepare_model(settings)
    assistant = Assistant(settings)
    try:
        indexed = {(p.doc, p.label): p.text for p in assistant.index.record.paragraphs()}
        bar = Progress(
            TextColumn("[bold]eval"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[q]}", markup=False),
            transient=True,
            disable=not sys.stderr.isatty(),
        )
        with bar:
            task = bar.add_task("eval", total=len(qset.questions), q="loading index…")
            assistant.warm()
            result = eval_run.run(
                lambda q: assistant.ask(q, answerer=answerer),
                qset,
                indexed,
                lambda q: bar.update(task, advance=1, q=one_line(q.id)),
            )
    finally:
        assistant.close()
    for problem in result.problems[len(qset.problems) :]:
        click.echo(one_line(f"warning: {problem}"), err=True)
    _summary_table(result.summary)
    comparison = eval_run.compare(result, earlier) if earlier else None
    if comparison:
        result.summary["compared_with"] = str(earlier_path)
        result.summary["comparison"] = comparison
        better = ", ".join(comparison["better"]) or "none"
        worse = ", ".join(comparison["worse"]) or "none"
        click.echo(one_line(f"better since {earlier_path}: {better}"))
        click.echo(one_line(f"worse since {earlier_path}: {worse}"))
    try:
        if json_out:
            json_out.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n")
            click.echo(one_line(f"wrote {json_out}"))
        if md_out:
            from pcc_assistant.eval_report import markdown

            png = markdown(result, md_out, comparison)
            click.echo(one_line(f"wrote {md_out} and {png}"))
    except OSError as exc:
        raise PccError(
            f"{exc.filename or json_out or md_out}: can't write ({exc.strerror})"
        ) from exc
    return 0


def _check_writable(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a"):
            pass
    except OSError as exc:
        raise PccError(f"{path}: can't write there ({exc.strerror or exc})") from exc
