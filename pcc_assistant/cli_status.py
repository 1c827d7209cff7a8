"""``pcc status``: which index is in use, what it holds, whether its server answers."""

from __future__ import annotations

import sys
from typing import Any

import click

from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.safe_text import error_line, json_text, one_line


def gather(settings: Settings) -> dict[str, Any]:
    """The status as a dict; ``answers`` False (and ``problem`` set) when it can't be read."""
    from pcc_assistant.pipeline import location

    where = location(settings)
    status: dict[str, Any] = {
        "index": "server" if where.is_server else "embedded",
        "location": where.base_url() if where.is_server else str(settings.index_dir),
        "token": bool(settings.chroma_token) if where.is_server else None,
        "answers": True,
        "detail": "",
        "reports": None,
        "paragraphs": None,
        "vectors": None,
        "collection": None,  # the collection the record names (its vectors are searched)
        "vectors_expected": None,  # vectors the record has for it
        "newest": None,
        "expected": None,  # the one this pcc's embedder makes; another means: embed again
        "problem": "",
    }
    if where.is_server:
        info = where.check()
        status["answers"], status["detail"] = info.answers, info.detail
        if not info.answers:
            status["problem"] = f"the Chroma server at {info.url} {info.detail}"
            return status
    elif not (settings.index_dir / "record.sqlite").is_file():
        status["answers"] = False
        status["problem"] = f"no index in {settings.index_dir}: run `pcc ingest corpus/` first"
        return status
    try:
        _fill(status, settings)
    except PccError as exc:
        status["answers"] = False
        status["problem"] = str(exc)
    return status


def _fill(status: dict[str, Any], settings: Settings) -> None:
    from pcc_assistant.pipeline import location

    where = location(settings)
    record: Any
    if where.is_server:
        from pcc_assistant.index.shared_record import ChromaRecord

        record = ChromaRecord(where)
    else:
        from pcc_assistant.index.record import Record

        record = Record(settings.index_dir / "record.sqlite")
    from pcc_assistant.index.store import collection_name
    from pcc_assistant.ingest.paragraphs import PARAGRAPHING_VERSION
    from pcc_assistant.pipeline import make_embedder

    embedder = make_embedder(settings, prepare=False)  # loads nothing: its name is enough
    status["expected"] = collection_name(embedder.name, PARAGRAPHING_VERSION, embedder.dim)
    status["collection"] = record.get_meta("collection")
    reports = record.reports()
    status["reports"] = len(reports)
    status["paragraphs"] = sum(r.paragraphs for r in reports)
    if reports:
        newest = max(reports, key=lambda r: r.indexed_at)
        status["newest"] = {"doc": newest.report.doc, "indexed_at": newest.indexed_at}
    try:
        # Vectors: every collection but the record's (one per embedding model in use).
        try:
            client = record.client() if where.is_server else where.client()
            with where.guard("counting vectors"):
                status["vectors"] = {
                    c.name: int(c.count())
                    for c in client.list_collections()
                    if c.name.startswith("pcc-") and not c.name.startswith("pcc-record-")
                }
        except PccError:
            raise
        except Exception as exc:  # a damaged Chroma folder
            status["vectors"] = {}
            problem = f"can't be read ({type(exc).__name__}: {' '.join(str(exc).split())})"
        else:
            problem = _check(status, record, where)
        if problem:
            from pcc_assistant.index.health import fix

            name = where.describe() if where.is_server else f"embedded index {settings.index_dir}"
            status["problem"] = fix(name, problem, where.is_server)
    finally:
        record.close()


def _check(status: dict[str, Any], record: Any, where: Any) -> str:
    """Whether the collection in use holds the record's current vectors (:mod:`health`)."""
    from pcc_assistant.index.health import store_problem
    from pcc_assistant.index.store import ChromaStore

    name = record.get_meta("collection")
    if name is None:  # nothing was ever ingested here
        return ""
    status["collection"] = name
    status["vectors_expected"] = record.vector_count()
    if name not in status["vectors"]:
        status["vectors"][name] = 0
    return store_problem(record, ChromaStore(where, name))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Say which index is in use, what it holds and whether its server answers.

    Exit status 1 when the index can't be read (no index, a server down or refusing, a
    record that is not a database) or Chroma doesn't hold the record's vectors (the
    line names the command that mends it).
    """
    settings: Settings = ctx.obj
    info = gather(settings)
    if as_json:
        click.echo(json_text(info))
    else:
        _print(info)
    if info["problem"]:
        sys.exit(1)


def _print(info: dict[str, Any]) -> None:
    """The status as lines; everything from the index (paths, ids, messages) cleaned."""
    if info["index"] == "server":
        token = "with a bearer token" if info["token"] else "no token"
        click.echo(f"index:      Chroma server {one_line(info['location'])} ({token})")
        detail = one_line(info["detail"])
        click.echo(f"server:     {'answers, ' + detail if info['answers'] else detail}")
    else:
        click.echo(f"index:      embedded, folder {one_line(info['location'])}")
    if info["reports"] is not None:
        click.echo(f"reports:    {info['reports']}")
        click.echo(f"paragraphs: {info['paragraphs']}")
    expected = info["vectors_expected"]
    for name, n in (info["vectors"] or {}).items():
        short = expected is not None and name == info["collection"] and n < expected
        of = f" (the record has {expected})" if short else ""
        click.echo(f"vectors:    {n} in {one_line(name)}{of}")
    if info["collection"] and info["collection"] != info["expected"]:
        click.echo(
            f"note:       these vectors are another embedding's; this pcc makes "
            f"{one_line(info['expected'])}: `pcc ingest` or `pcc rebuild` embeds every "
            "paragraph again"
        )
    if info["newest"]:
        doc, at = one_line(info["newest"]["doc"]), one_line(info["newest"]["indexed_at"])
        click.echo(f"newest:     {doc} (indexed {at})")
    if info["problem"]:
        click.echo(error_line(info["problem"]), err=True)
