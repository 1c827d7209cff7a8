"""A damaged index part is noticed: a missing or unreadable Chroma is reported by readers
(with the command that mends it) and rebuilt from the record by the next writer; a record
that is not a database gets one line naming the file. Real Chroma, real commands."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pcc_assistant.config import Settings
from pcc_assistant.index.indexer import Index

from .cli_runner import Run, pcc
from .conftest import ROOT

pytestmark = pytest.mark.slow


def _copy(ingested: Settings, tmp_path: Path) -> Path:
    index = tmp_path / "index"
    shutil.copytree(ingested.index_dir, index)
    return index


def _pcc(index: Path, *args: str) -> Run:
    return pcc("--index", str(index), *args)


def _corpus(ingested: Settings) -> str:
    return str(ingested.index_dir.parent / "corpus")


def _one_error_line(run: Run, *needles: str) -> str:
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and "unexpected" not in run.stderr, run.stderr
    errors = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, run.stderr
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _damage_sqlite(path: Path) -> None:
    """Overwrite a stretch of every page after the header: SQLite's 'malformed'."""
    data = bytearray(path.read_bytes())
    for at in range(100, len(data), 4096):
        data[at : at + 50] = b"x" * 50
    path.write_bytes(bytes(data))


def test_missing_chroma_is_reported_then_rebuilt(ingested: Settings, tmp_path: Path) -> None:
    index = _copy(ingested, tmp_path)
    shutil.rmtree(index / "chroma")
    status = _pcc(index, "status")
    _one_error_line(status, "holds 0 vectors where the record has", "`pcc rebuild`")
    assert "(the record has" in status.stdout
    _one_error_line(_pcc(index, "ask", "How is victim satisfaction measured?"), "`pcc rebuild`")
    # A question scoped to one report is scored on the record's vectors, not Chroma's:
    # it is answered whole, and doesn't pay for loading Chroma to check it.
    scoped = _pcc(index, "ask", "What was Durham's solved rate?")
    assert scoped.returncode == 0 and "19%" in scoped.stdout, scoped.stderr

    cmd = [sys.executable, "-m", "pcc_assistant", "--index", str(index), "ingest"]
    ingest = subprocess.run(
        [*cmd, _corpus(ingested)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert ingest.returncode == 0, ingest.stderr
    assert "2 unchanged" in ingest.stdout
    assert "rebuilt from the record" in ingest.stderr
    again = _pcc(index, "status")
    assert again.returncode == 0, again.stderr
    with Index(index, _Named()) as idx:
        assert idx.store.count() == idx.record.vector_count() > 100
        assert idx.check_store() == ""


def test_unreadable_chroma_is_rebuilt_by_the_next_ingest(
    ingested: Settings, tmp_path: Path
) -> None:
    index = _copy(ingested, tmp_path)
    _damage_sqlite(index / "chroma" / "chroma.sqlite3")
    _one_error_line(_pcc(index, "status"), "can't be read", "`pcc rebuild`")
    ingest = _pcc(index, "ingest", _corpus(ingested))
    assert ingest.returncode == 0, ingest.stderr
    assert "unexpected" not in ingest.stderr
    assert "rebuilt from the record" in ingest.stderr
    assert _pcc(index, "status").returncode == 0
    answer = _pcc(index, "ask", "What was Durham's solved rate?")
    assert answer.returncode == 0 and "19%" in answer.stdout, answer.stderr


def test_pcc_rebuild_mends_an_unreadable_chroma(ingested: Settings, tmp_path: Path) -> None:
    index = _copy(ingested, tmp_path)
    _damage_sqlite(index / "chroma" / "chroma.sqlite3")
    run = _pcc(index, "rebuild")
    assert run.returncode == 0 and "rebuilt:" in run.stdout, run.stderr
    assert _pcc(index, "status").returncode == 0


def test_chroma_with_other_vectors_is_noticed(ingested: Settings, tmp_path: Path) -> None:
    """Counts that agree are not enough: the sample read compares one report's vectors
    with the record's (a Chroma folder restored from another index, say)."""
    import numpy as np

    from pcc_assistant.index.health import store_problem

    index = _copy(ingested, tmp_path)
    with Index(index, _Named()) as idx:
        gens = idx.record.generations()
        doc, gen = max(gens.items(), key=lambda item: item[1])
        col = idx.store._open()
        got = col.get(where={"$and": [{"doc": doc}, {"gen": gen}]}, include=["embeddings"])
        first = sorted(got["ids"])[0]
        col.update(ids=[first], embeddings=[np.ones(384, dtype=np.float32) / np.sqrt(384)])
        assert "other vectors" in store_problem(idx.record, idx.store)


@pytest.mark.parametrize("command", ["status", "list", "paragraphs", "ask", "ingest", "verify"])
def test_record_that_is_not_a_database(ingested: Settings, tmp_path: Path, command: str) -> None:
    index = _copy(ingested, tmp_path)
    (index / "record.sqlite").write_bytes(b"this is not a database\n" * 100)
    for extra in ("record.sqlite-wal", "record.sqlite-shm"):
        (index / extra).unlink(missing_ok=True)
    notes = tmp_path / "notes.md"
    notes.write_text(
        "> 32. Durham\n\n<sub>doc d · ¶32 · p.7 · sha256 x · indexed 2026-01-01</sub>\n"
    )
    args = {
        "status": ["status"],
        "list": ["list"],
        "paragraphs": ["paragraphs", "x"],
        "ask": ["ask", "What was Durham's solved rate?"],
        "ingest": ["ingest", _corpus(ingested)],
        "verify": ["verify", str(notes)],
    }[command]
    run = _pcc(index, *args)
    if command == "verify":  # verify's "can't read" is exit status 2
        assert run.returncode == 2 and "not a readable index record" in run.stderr, run.stderr
        return
    _one_error_line(run, "record.sqlite", "not a readable index record")


class _Named:
    """Only the name and size of the model the session index was built with: these tests
    read the index and never embed."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def embed(self, texts: list[str]) -> object:
        raise AssertionError("no embedding in these tests")

    def count_tokens(self, texts: list[str]) -> list[int]:
        raise AssertionError("no embedding in these tests")
