"""Nothing silently lost: a report's file is stored by its absolute path, so --prune from
another folder keeps reports whose file is there, and a second file taking an existing
report's id from another path is refused (unless --replace)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pcc_assistant import pipeline
from pcc_assistant.config import Settings
from pcc_assistant.index.indexer import Index

from .cli_runner import pcc

pytestmark = pytest.mark.slow


def _report(folder: Path, name: str, words: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.txt"
    path.write_text(
        f"{words.title()} report\n\n1. The solved rate for {words} was 19% in the year.\n\n"
        f"2. Victim satisfaction with {words} rose to 80%.\n"
    )
    return path


def _paths(settings: Settings, embedder) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with Index(settings.index_dir, embedder) as index:
        return {r.report.doc: r.report.path for r in index.record.reports()}


def test_prune_from_another_folder_keeps_reports_whose_file_is_there(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    _report(work / "reports", "durham", "durham")
    settings = Settings(index_dir=tmp_path / "index")
    monkeypatch.chdir(work)
    first = pipeline.ingest([Path("reports")], settings, embedder=embedder)  # typed relative
    assert first.added == ["durham"]
    assert _paths(settings, embedder) == {"durham": str(work / "reports" / "durham.txt")}

    elsewhere = tmp_path / "elsewhere"
    _report(elsewhere / "more", "cambs", "cambridgeshire")
    monkeypatch.chdir(elsewhere)
    pruned = pipeline.ingest([Path("more")], settings, prune=True, embedder=embedder)
    assert pruned.removed == [] and pruned.added == ["cambs"]
    assert set(_paths(settings, embedder)) == {"durham", "cambs"}

    (work / "reports" / "durham.txt").unlink()  # now it is gone: pruned, from anywhere
    monkeypatch.chdir(tmp_path)
    gone = pipeline.ingest([elsewhere / "more"], settings, prune=True, embedder=embedder)
    assert gone.removed == ["durham"]


def test_same_id_from_another_path_is_refused_unless_replace(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder
) -> None:
    first = _report(tmp_path / "a", "report", "durham")
    settings = Settings(index_dir=tmp_path / "index")
    assert pipeline.ingest([first.parent], settings, embedder=embedder).added == ["report"]

    second = _report(tmp_path / "b", "report", "cambridgeshire")
    clash = pipeline.ingest([second.parent], settings, embedder=embedder)
    assert clash.updated == [] and clash.added == []
    [err] = clash.failed
    assert err.path == str(second)
    assert str(first) in err.cause and "--replace" in err.cause and "rename" in err.cause
    with Index(settings.index_dir, embedder) as index:  # the first report is untouched
        assert "durham" in index.record.paragraphs("report")[1].text
        assert index.record.report("report").report.path == str(first)  # type: ignore[union-attr]

    run = pcc("--index", str(settings.index_dir), "ingest", str(second.parent))
    assert run.returncode == 1
    [line] = [ln for ln in run.stderr.splitlines() if ln.startswith("error:")]
    assert str(second) in line and str(first) in line and "--replace" in line

    replaced = pipeline.ingest([second.parent], settings, replace=True, embedder=embedder)
    assert replaced.updated == ["report"] and not replaced.failed
    with Index(settings.index_dir, embedder) as index:
        assert "cambridgeshire" in index.record.paragraphs("report")[1].text
        assert index.record.report("report").report.path == str(second)  # type: ignore[union-attr]


def test_a_moved_file_keeps_its_report(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    first = _report(tmp_path / "a", "report", "durham")
    settings = Settings(index_dir=tmp_path / "index")
    pipeline.ingest([first.parent], settings, embedder=embedder)
    moved = tmp_path / "c" / "report.txt"
    moved.parent.mkdir()
    shutil.move(first, moved)
    again = pipeline.ingest([moved.parent], settings, prune=True, embedder=embedder)
    assert again.unchanged == ["report"] and not again.failed and not again.removed
    assert _paths(settings, embedder) == {"report": str(moved)}
