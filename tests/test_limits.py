"""Limits on every input: files read by verify and eval have a size cap with a clear
error, a paragraph past a cap is split at sentence ends with every part embedded, and
the printed answer has a length cap. Each test makes its hostile input."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from pcc_assistant.ingest.document import parse_document
from pcc_assistant.limits import MAX_PARAGRAPH_CHARS, MAX_READ_BYTES

from .cli_runner import pcc
from .conftest import ROOT

SENTENCE = "The solved rate in Durham was 19% in the year and victims were kept informed. "


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        fh.truncate(size)
    return path


def _one_gigabyte() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.slow
def test_verify_dev_zero_is_refused_not_read_for_ever(tmp_path: Path) -> None:
    """A real process with 1 GB of address space: the old reader ran out of it (and, with
    no limit, grew to 23 GB until the OOM killer came)."""
    run = subprocess.run(
        [sys.executable, "-m", "pcc_assistant", "--index", str(tmp_path), "verify", "/dev/zero"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        preexec_fn=_one_gigabyte,
        env={**os.environ, "MALLOC_ARENA_MAX": "2"},
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: /dev/zero: larger than the 32 MB"), run.stderr


def test_verify_and_eval_refuse_files_past_the_cap(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "notes.md", MAX_READ_BYTES + 1)
    run = pcc("--index", str(tmp_path / "index"), "verify", str(big))
    assert run.returncode == 2 and "larger than the 32 MB" in run.stderr, run.stderr
    questions = _sparse(tmp_path / "questions.jsonl", MAX_READ_BYTES + 1)
    run = pcc("--index", str(tmp_path / "index"), "eval", str(questions))
    assert run.returncode == 1 and "larger than the 32 MB a question set" in run.stderr
    assert len(run.stderr.splitlines()) == 1


def test_a_five_megabyte_line_becomes_parts_cut_at_sentence_ends(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    path.write_text(SENTENCE * (5_000_000 // len(SENTENCE)))
    parsed = parse_document(path)
    parts = parsed.paragraphs
    assert len(parts) > 100
    assert all(len(p.text) <= MAX_PARAGRAPH_CHARS for p in parts)
    assert all(p.text.endswith("informed.") for p in parts)  # cut at sentence ends
    assert len({p.label for p in parts}) == len(parts)
    assert parts[1].label == f"{parts[0].label} (part 2)"
    text = path.read_text()
    assert "".join(p.text for p in parts).replace(" ", "") == text.replace(" ", "")
    for p in parts[:3]:  # the offsets point at the part in the source
        assert text[p.start : p.end] == p.text


def test_a_long_word_run_is_cut_at_spaces_then_characters(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("word " * 20_000)
    assert all(len(p.text) <= MAX_PARAGRAPH_CHARS for p in parse_document(words).paragraphs)
    blob = tmp_path / "blob.txt"
    blob.write_text("x" * (3 * MAX_PARAGRAPH_CHARS))
    assert [len(p.text) for p in parse_document(blob).paragraphs] == [MAX_PARAGRAPH_CHARS] * 3


@pytest.mark.slow
def test_every_part_of_a_long_line_is_embedded_and_the_answer_is_short(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder
) -> None:
    """A one-line file with no full stop, longer than the cap: every window of every
    part gets a vector (before: one paragraph, one vector of its first 256 tokens), and
    a question about it prints a few kilobytes, not the whole line."""
    from pcc_assistant import pipeline
    from pcc_assistant.config import Settings
    from pcc_assistant.index.indexer import Index

    clause = "the solved rate in durham was nineteen percent for burglary in the year and "
    line = clause * (int(1.5 * MAX_PARAGRAPH_CHARS) // len(clause))
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "line.txt").write_text(line)
    settings = Settings(index_dir=tmp_path / "index")
    result = pipeline.ingest([folder], settings, embedder=embedder)
    assert result.added == ["line"], result.failed
    tokens = embedder.count_tokens([line])[0]
    with Index(settings.index_dir, embedder) as index:
        assert len(index.record.paragraphs("line")) == 2
        assert index.record.vector_count("line") >= tokens / 256

    run = pcc("--index", str(settings.index_dir), "ask", "What was the solved rate for burglary?")
    assert run.returncode == 0, run.stderr
    assert len(run.stdout) < 10_000, len(run.stdout)


@pytest.mark.slow
def test_a_long_paragraph_is_printed_cut(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A paragraph under the split cap but far longer than a screen (30,000 characters
    of sentences): ``pcc ask`` printed all of it (31,881 characters before); now the quote
    is cut, saying how to see the rest, and --json keeps it whole."""
    from pcc_assistant import pipeline
    from pcc_assistant.config import Settings

    text = SENTENCE * (30_000 // len(SENTENCE))
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "long.txt").write_text(text)
    settings = Settings(index_dir=tmp_path / "index")
    assert pipeline.ingest([folder], settings, embedder=embedder).added == ["long"]
    question = "What was the solved rate in Durham?"
    run = pcc("--index", str(settings.index_dir), "ask", question)
    assert run.returncode == 0, run.stderr
    assert "19%" in run.stdout and len(run.stdout) < 10_000, len(run.stdout)
    assert "more characters" in run.stdout
    whole = pcc("--index", str(settings.index_dir), "ask", "--json", question)
    assert text.strip() in whole.stdout
