"""Smaller hostile inputs: a token an HTTP header can't carry, contradictory date
filters, text that is not UTF-8, and a report with no organisation."""

from __future__ import annotations

import datetime as dt
import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pcc_assistant.config import Settings
from pcc_assistant.types import Report

from .cli_runner import pcc
from .conftest import ROOT


@pytest.fixture
def listening() -> Iterator[str]:
    """Something answering HTTP on 127.0.0.1: the token must be refused before any
    request is made (a real one echoed it in httpx's error)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("token", "what"),
    [
        ("abc\nSECRETPART", "a line break"),
        ("abc SECRETPART", "a space"),
        ("abcSECRETPARTé", "a non-ASCII character"),
        ("abc\x1b]0;SECRETPART\x07", "a control character"),
    ],
)
def test_token_a_header_cant_carry_is_refused_unshown(
    listening: str, monkeypatch: pytest.MonkeyPatch, token: str, what: str
) -> None:
    monkeypatch.setenv("PCC_CHROMA_TOKEN", token)
    for args in (["status"], ["list"]):
        run = pcc("--chroma-url", listening, *args)
        assert run.returncode == 1, run
        assert "SECRETPART" not in run.stdout + run.stderr
        assert "unexpected" not in run.stderr
        [line] = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
        assert "chroma_token" in line and what in line


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [["ask", "What was the solved rate?"], ["compare", "victim satisfaction"]]
)
def test_since_after_until_is_refused(ingested: Settings, command: list[str]) -> None:
    """Over an index with reports, so the filters are what is refused (they were taken,
    and matched nothing)."""
    dates = ["--since", "2021", "--until", "2019"]
    run = pcc("--index", str(ingested.index_dir), command[0], *dates, *command[1:])
    assert run.returncode == 2, run
    assert "--since 2021 is after --until 2019" in run.stderr


def test_since_after_until_refused_by_chat(tmp_path: Path) -> None:
    """A real process, with a time limit: a chat that wrongly started would wait for keys."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pcc_assistant",
            "--index",
            str(tmp_path),
            "chat",
            "--since",
            "2021-05",
            "--until",
            "2021-04",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=ROOT,
    )
    assert run.returncode == 2 and "is after --until" in run.stderr


@pytest.mark.slow
def test_text_that_is_not_utf8_is_reported_and_indexed_with_encoding(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder
) -> None:
    from pcc_assistant import pipeline
    from pcc_assistant.index.indexer import Index

    folder = tmp_path / "reports"
    folder.mkdir()
    path = folder / "windows.txt"
    path.write_bytes(
        "Budget report\n\n1. The budget was £4.2m, a rise of 3% – as planned.\n".encode("cp1252")
    )
    settings = Settings(index_dir=tmp_path / "index")
    first = pipeline.ingest([folder], settings, embedder=embedder)
    assert not first.added
    [err] = first.failed
    assert err.path == str(path)
    assert "not UTF-8 text (byte 0xa3 at offset" in err.cause and "--encoding" in err.cause

    run = pcc("--index", str(settings.index_dir), "ingest", "--encoding", "nonsense", str(folder))
    assert run.returncode == 2 and "--encoding" in run.stderr

    cp1252 = settings.model_copy(update={"text_encoding": "cp1252"})
    second = pipeline.ingest([folder], cp1252, embedder=embedder)
    assert second.added == ["windows"] and not second.failed
    with Index(settings.index_dir, embedder) as index:
        assert any("£4.2m" in p.text and "–" in p.text for p in index.record.paragraphs("windows"))


def test_note_names_a_report_without_organisation_by_its_place() -> None:
    """A report with no organisation never leaves a blank in the scope note (it read
    "searched reports about , as the question asks")."""
    from pcc_assistant.retrieve import read_scope

    def report(doc: str, title: str, organisation: str) -> Report:
        return Report(doc, title, organisation, dt.date(2021, 1, 1), f"/r/{doc}.pdf", "0", 1)

    reports = [
        report("a", "Cleveland performance report", ""),
        report("b", "Durham performance report", "Durham Constabulary"),
        report("c", "Quarterly performance report", ""),
    ]
    scope = read_scope("What was the solved rate in Cleveland?", reports)
    assert scope.docs == frozenset({"a"})
    assert scope.note == "searched reports about Cleveland, as the question asks"
    unnamed = read_scope("What was the solved rate in the quarterly report?", reports)
    assert "about ," not in unnamed.note and "about  " not in unnamed.note
