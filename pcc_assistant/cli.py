"""The ``pcc`` command. Thin: parses options, calls the pipeline, prints.

Heavy modules (torch, Chroma) are imported inside commands, so ``pcc --help`` is fast.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from pcc_assistant.config import Settings, load_settings
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import clean, error_line, json_text, one_line

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: int = 1) -> None:
    click.echo(error_line(message), err=True)
    sys.exit(code)


def _settings(ctx: click.Context) -> Settings:
    obj: Settings = ctx.obj
    return obj


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Index folder (default: PCC_INDEX_DIR, pcc.toml, or ./index).",
)
@click.option(
    "--chroma-url",
    metavar="URL",
    help="Use the shared index on this Chroma server instead of the folder "
    "(default: PCC_CHROMA_URL, pcc.toml; the token comes from PCC_CHROMA_TOKEN).",
)
@click.version_option(package_name="pcc-assistant")
@click.pass_context
def cli(ctx: click.Context, index_dir: Path | None, chroma_url: str | None) -> None:
    """Ask questions of Police and Crime Panel reports; answers cite the report's paragraphs.

    Settings come from PCC_* environment variables and an optional pcc.toml
    (or the file named by PCC_CONFIG); options given here win.
    """
    try:
        ctx.obj = load_settings(index_dir=index_dir, chroma_url=chroma_url)
    except Exception as exc:  # a bad pcc.toml or PCC_ variable
        _fail(f"settings: {exc}", 2)


class _BarProgress:
    """Files, pages and paragraphs (with their rates) as a rich progress bar on stderr."""

    def __init__(self) -> None:
        import time

        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._clock = time.perf_counter
        self.started = self._clock()
        self.console = Console(stderr=True)
        self.pages = 0
        self.paragraphs = 0
        self.bar = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("files"),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}", markup=False),
            console=self.console,
            transient=True,
        )
        self.task = self.bar.add_task("ingest", total=0, counts="", current="")
        self.bar.start()

    def begin(self, files: int) -> None:
        self.started = self._clock()
        self.bar.update(self.task, total=files, counts=self._counts())

    def _counts(self) -> str:
        secs = max(self._clock() - self.started, 1e-6)
        return (
            f"{self.pages:,} pages ({self.pages / secs:.1f}/s), "
            f"{self.paragraphs:,} paragraphs ({self.paragraphs / secs:.0f}/s)"
        )

    @staticmethod
    def _name(path: Path) -> str:
        name = one_line(path.name)
        return name if len(name) <= 40 else name[:39] + "…"

    def note(self, text: str) -> None:
        self.bar.update(self.task, current=text)

    def step(self, path: Path, what: str) -> None:
        self.bar.update(self.task, current=f"{what} {self._name(path)}", counts=self._counts())

    def file_done(self, path: Path, status: str, paragraphs: int, pages: int = 0) -> None:
        self.paragraphs += paragraphs
        self.pages += pages
        self.bar.update(
            self.task,
            advance=1,
            counts=self._counts(),
            current=f"{status} {self._name(path)}",
        )

    def stop(self) -> None:
        self.bar.stop()


def _where_time_went(result: Any) -> str:
    """The closing line's account of the time: what the ingest waited on, and storing."""
    t = result.timings
    line = (
        f"time: embed {t.embed:.1f} s, parse {t.parse:.1f} s (waiting for each), "
        f"store {t.store:.1f} s, other {t.other:.1f} s (start-up, hashing, keyword index)"
    )
    if t.parse_work > t.parse + 0.5:
        line += f"; the parser worked {t.parse_work:.1f} s in all, alongside embedding"
    return line


def prepare_model(settings: Settings) -> None:
    """Export the embedding model now if a command is about to need it, saying so."""
    from pcc_assistant import pipeline

    if pipeline.export_needed(settings):
        click.echo("note: exporting the embedding model to ONNX (once, about 30 s)...", err=True)
        pipeline.prepare_onnx(settings)
    refused = pipeline.int8_refused(settings)
    if refused:
        click.echo(f"note: {refused}", err=True)


@cli.command()
@click.pass_context
def prepare(ctx: click.Context) -> None:
    """Export the embedding model to ONNX now (once per model; the first command that
    embeds does it otherwise). `scripts/setup` runs this."""
    from pcc_assistant import pipeline
    from pcc_assistant.index.onnx_embedder import int8_usable, read_stamp

    settings = _settings(ctx)
    if not settings.onnx:
        click.echo("onnx is off (PCC_ONNX=false): nothing to export")
        return
    done = pipeline.prepare_onnx(settings)
    folder = pipeline.onnx_folder(settings)
    cosine = read_stamp(folder).get("int8_min_cosine")
    which = "int8" if settings.embed_int8 and int8_usable(folder) else "fp32"
    check = "passed" if int8_usable(folder) else "failed"
    click.echo(
        f"{'exported' if done else 'already exported'}: {folder}; embedding with the {which} "
        f"model (the int8 model's check against fp32 {check}: worst cosine {cosine})"
    )
    refused = pipeline.int8_refused(settings)
    if refused:
        click.echo(f"note: {refused}", err=True)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Also drop indexed reports whose file is gone.")
@click.option(
    "--replace",
    is_flag=True,
    help="A file whose id (file name) is taken by another indexed file takes that "
    "report's place (without it, such a file is refused).",
)
@click.option("--password", default=None, help="Password for encrypted PDFs.")
@click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="Read .txt/.md files that are not UTF-8 in this encoding (e.g. cp1252); "
    "without it they are reported, not indexed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context,
    paths: tuple[Path, ...],
    prune: bool,
    replace: bool,
    password: str | None,
    encoding: str | None,
    as_json: bool,
) -> None:
    """Index report files (PDF, text, Markdown) or folders of them. Unchanged files are
    skipped; changed ones replace their old paragraphs."""
    from pcc_assistant import pipeline

    settings = _settings(ctx)
    if password is not None:
        settings = settings.model_copy(update={"pdf_password": password})
    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise click.BadParameter(
                f"{encoding!r} is not an encoding Python knows (e.g. cp1252, latin-1)",
                param_hint="--encoding",
            ) from None
        settings = settings.model_copy(update={"text_encoding": encoding})
    if not paths:
        paths = (Path("corpus"),)
    try:
        prepare_model(settings)  # once per installation, with a line saying so
    except PccError as exc:
        _fail(str(exc))
        return
    bar = _BarProgress() if sys.stderr.isatty() and not as_json else None
    try:
        result = pipeline.ingest(paths, settings, prune=prune, replace=replace, progress=bar)
    except PccError as exc:
        _fail(str(exc))
        return
    finally:
        if bar is not None:
            bar.stop()
    if as_json:
        click.echo(
            json_text(
                {
                    "added": result.added,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "removed": result.removed,
                    "not_checked": result.unchecked,
                    "failed": [{"path": e.path, "error": e.cause} for e in result.failed],
                    "paragraphs": result.paragraphs,
                    "pages": result.pages,
                    "seconds": round(result.seconds, 3),
                    "timings": result.timings.as_dict(),
                    "reembedded": result.reembedded,
                }
            )
        )
    else:
        if result.repair and result.repair.store_rebuilt:
            click.echo(
                one_line(
                    f"note: the vector store {result.repair.problem}; it was rebuilt from "
                    "the record (no re-embedding)"
                ),
                err=True,
            )
        elif result.repair and result.repair.leftovers_removed:
            click.echo(
                "note: an earlier ingest was interrupted; the index was repaired "
                "(leftovers removed)",
                err=True,
            )
        if result.unchecked:
            click.echo(
                one_line(
                    f"note: --prune kept {', '.join(result.unchecked)}: indexed by an older "
                    "version with a path relative to where it ran, so whether the file is "
                    "gone can't be told; ingest the file again to record its full path"
                ),
                err=True,
            )
        if result.onnx_prepared:
            click.echo("note: exported the embedding model to ONNX (once)", err=True)
        if result.reembedded_from:
            click.echo(
                f"note: the index held another embedding's vectors ({result.reembedded_from}); "
                f"its {result.reembedded:,} paragraphs were embedded again (once)",
                err=True,
            )
        for err in result.failed:
            click.echo(error_line(str(err)), err=True)
        parts = [
            f"{len(result.added)} added",
            f"{len(result.updated)} updated",
            f"{len(result.unchanged)} unchanged",
        ]
        if prune or result.removed:
            parts.append(f"{len(result.removed)} removed")
        parts.append(f"{len(result.failed)} failed")
        rate = (
            f", {result.pages / result.seconds:.1f} pages/s, "
            f"{result.paragraphs / result.seconds:.0f} paragraphs/s"
            if result.paragraphs
            else ""
        )
        click.echo(
            f"{', '.join(parts)}: {result.paragraphs:,} paragraphs from {result.pages:,} pages "
            f"in {result.seconds:.1f} s{rate}"
        )
        if result.paragraphs or result.reembedded:
            click.echo(_where_time_went(result))
    if result.failed:
        sys.exit(1)


def _read_record(ctx: click.Context) -> Any:
    settings = _settings(ctx)
    if settings.chroma_url:
        from pcc_assistant.index.shared_record import ChromaRecord
        from pcc_assistant.pipeline import location

        record = ChromaRecord(location(settings))
        record.client()  # one line naming the URL when the server doesn't answer
        return record
    from pcc_assistant.index.record import Record

    path = settings.index_dir / "record.sqlite"
    if not path.is_file():
        _fail(f"no index in {settings.index_dir}: run `pcc ingest corpus/` first")
    try:
        return Record(path)
    except PccError as exc:  # not a database
        _fail(str(exc))


@cli.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def list_reports(ctx: click.Context, as_json: bool) -> None:
    """List the indexed reports with their dates and paragraph counts."""
    record = _read_record(ctx)
    items = record.reports()
    if as_json:
        click.echo(
            json_text(
                [
                    {
                        "doc": i.report.doc,
                        "title": i.report.title,
                        "organisation": i.report.organisation,
                        "date": i.report.date.isoformat() if i.report.date else None,
                        "paragraphs": i.paragraphs,
                        "pages": i.report.pages,
                        "path": i.report.path,
                        "sha256": i.report.sha256,
                        "indexed_at": i.indexed_at,
                    }
                    for i in items
                ]
            )
        )
        return
    if not items:
        click.echo("The index is empty: run `pcc ingest corpus/`.")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("date", "doc", "title", "organisation", "paragraphs", "pages")
    for i in items:
        table.add_row(
            i.report.date.isoformat() if i.report.date else "?",
            one_line(i.report.doc),
            one_line(i.report.title),
            one_line(i.report.organisation),
            str(i.paragraphs),
            str(i.report.pages or "-"),
        )
    Console(markup=False, highlight=False).print(table)


@cli.command()
@click.argument("doc")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def paragraphs(ctx: click.Context, doc: str, as_json: bool) -> None:
    """Print a document's paragraphs as they were indexed."""
    record = _read_record(ctx)
    items = record.paragraphs(doc)
    if not items:
        known = ", ".join(r.report.doc for r in record.reports()) or "none"
        _fail(f"no indexed document {doc!r} (indexed: {known})")
    if as_json:
        click.echo(
            json_text(
                [
                    {
                        "doc": p.doc,
                        "paragraph": p.label,
                        "kind": p.kind,
                        "pages": list(p.pages),
                        "section": p.section,
                        "text": p.text,
                        "start": p.start,
                        "end": p.end,
                    }
                    for p in items
                ]
            )
        )
        return
    for p in items:
        pages = ("p." + ",".join(map(str, p.pages))) if p.pages else ""
        mark = one_line(f"¶{p.label}" if p.label[:1].isdigit() else p.label)
        click.echo(click.style(mark, bold=True) + f"  {pages}  {one_line(p.section)}")
        click.echo(clean(p.text))
        click.echo()


@cli.command()
@click.argument("docs", nargs=-1, required=True)
@click.pass_context
def remove(ctx: click.Context, docs: tuple[str, ...]) -> None:
    """Remove documents from the index by id (the file stem)."""
    from pcc_assistant import pipeline

    try:
        removed, unknown = pipeline.remove(docs, _settings(ctx))
    except PccError as exc:
        _fail(str(exc))
        return
    for doc in removed:
        click.echo(f"removed {one_line(doc)}")
    if unknown:
        _fail(f"not in the index: {', '.join(unknown)}")


@cli.command()
@click.option("--reembed", is_flag=True, help="Embed every paragraph again (after a model change).")
@click.pass_context
def rebuild(ctx: click.Context, reembed: bool) -> None:
    """Recreate the vector store and keyword index from the record of what is indexed."""
    from pcc_assistant import pipeline

    settings = _settings(ctx)
    try:
        prepare_model(settings)
        count, old = pipeline.rebuild(settings, reembed=reembed)
    except PccError as exc:
        _fail(str(exc))
        return
    if old is not None:
        click.echo(
            f"note: the index held another embedding's vectors ({old}); every paragraph was "
            "embedded again",
            err=True,
        )
    elif settings.chroma_url and not reembed:
        click.echo(
            f"the server keeps the record beside its {count} vectors, so there is nothing to "
            "rebuild from; the keyword index was rebuilt (`--reembed` embeds every paragraph "
            "again)"
        )
        return
    click.echo(f"rebuilt: {count} vectors")


def _register() -> None:
    from pcc_assistant.cli_answers import ask
    from pcc_assistant.cli_chat import chat
    from pcc_assistant.cli_compare import compare
    from pcc_assistant.cli_eval import eval_command
    from pcc_assistant.cli_status import status
    from pcc_assistant.cli_verify import verify

    cli.add_command(ask)
    cli.add_command(chat)
    cli.add_command(compare)
    cli.add_command(eval_command)
    cli.add_command(status)
    cli.add_command(verify)


_register()


def main() -> None:
    try:
        cli(standalone_mode=True)
    except PccError as exc:
        _fail(str(exc))
    except sqlite3.DatabaseError as exc:  # a record damaged past its first page
        _fail(
            f"the index record (record.sqlite) can't be read: {exc}. Move the index folder "
            "aside and run `pcc ingest` on the reports again, or restore it from a backup"
        )
    except KeyboardInterrupt:
        click.echo("interrupted; what was committed is kept, run the command again", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: one line, the traceback on request
        if os.environ.get("PCC_DEBUG"):
            raise
        _fail(
            f"unexpected {type(exc).__name__}: {exc} (what was indexed is kept; "
            "run again with PCC_DEBUG=1 to see where, and report it)"
        )
