"""Terminal escape sequences in report text, titles and file names never reach the
terminal raw: every command that prints them cleans them (``safe_text``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pcc_assistant import pipeline
from pcc_assistant.config import Settings

from .cli_runner import Run, pcc

pytestmark = pytest.mark.slow

# Window title change (OSC 0), screen clear and cursor home, a hyperlink (OSC 8), and the
# single C1 byte CSI (U+009B) that some terminals obey as ESC [.
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"
C1 = "\x9b31m"
HOSTILE = TITLE + CLEAR + LINK + C1
RAW = ("\x1b", "\x9b", "\x07", "\x9d")


def _raw(text: str) -> list[str]:
    return [c for c in RAW if c in text]


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Settings, Path]:  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile")
    reports = folder / "reports"
    reports.mkdir()
    stem = f"report{TITLE}{C1}"
    (reports / f"{stem}.txt").write_text(
        f"Hostile report {HOSTILE}\n\n"
        f"1. The solved rate was 19% {CLEAR} in the year.\n\n"
        f"2. Victim satisfaction {LINK} rose to 80%.\n"
    )
    (reports / f"{stem}.meta.toml").write_text(
        'title = "Title \\u001b]0;pwned\\u0007 \\u009b2J here"\n'
        'organisation = "Org \\u001b[2J"\n'
        "date = 2021-01-01\n"
    )
    settings = Settings(index_dir=folder / "index")
    result = pipeline.ingest([reports], settings, embedder=embedder)
    assert result.added and not result.failed
    return settings, reports


def _pcc(settings: Settings, *args: str) -> Run:
    return pcc("--index", str(settings.index_dir), *args)


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("list", "--json"),
        ("paragraphs", f"report{TITLE}{C1}"),
        ("paragraphs", f"report{TITLE}{C1}", "--json"),
        ("status",),
        ("status", "--json"),
        ("paragraphs", f"nope{CLEAR}"),  # an error line naming what was asked for
        ("remove", f"nope{TITLE}"),
    ],
)
def test_commands_print_no_escape_sequences(
    hostile_index: tuple[Settings, Path], args: tuple[str, ...]
) -> None:
    settings, _ = hostile_index
    run = _pcc(settings, *args)
    assert "Traceback" not in run.stderr
    assert not _raw(run.stdout), (args, run.stdout[:500])
    assert not _raw(run.stderr), (args, run.stderr[:500])
    if "--json" in args:  # the data is all there, escaped as JSON
        data = json.loads(run.stdout)
        assert "\x1b" in json.dumps(data) or "\\u001b" in json.dumps(data)


def test_ingest_error_lines_print_no_escape_sequences(
    hostile_index: tuple[Settings, Path],
) -> None:
    settings, reports = hostile_index
    (reports / f"empty{TITLE}.txt").write_text("  \n")
    (reports / f"broken{C1}{CLEAR}.pdf").write_bytes(b"%PDF-1.7\n garbage")
    run = _pcc(settings, "ingest", str(reports))
    try:
        assert run.returncode == 1
        errors = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 2, run.stderr
        assert not _raw(run.stdout + run.stderr), run.stderr
        assert "empty" in errors[0] + errors[1] and "broken" in errors[0] + errors[1]
        out = _pcc(settings, "ingest", str(reports), "--json")
        assert not _raw(out.stdout + out.stderr)
    finally:
        (reports / f"empty{TITLE}.txt").unlink()
        (reports / f"broken{C1}{CLEAR}.pdf").unlink()
