"""A file that changes between its hash and its parse is stored with the hash of what was
parsed (read again), or reported when it keeps changing: never the old hash with the new
text, which would make every later ingest skip the file as unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pcc_assistant import pipeline
from pcc_assistant.config import Settings
from pcc_assistant.index.indexer import Index
from pcc_assistant.ingest.document import content_hash

pytestmark = pytest.mark.slow

TEXT = "Report\n\n1. The solved rate was {rate}% in the year.\n\n2. Satisfaction rose.\n"


def test_file_changed_after_its_hash_is_read_again(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    path = folder / "report.txt"
    path.write_text(TEXT.format(rate=19))
    real = pipeline.parse_document
    calls = []

    def changed_first(p: Path, **kw: Any) -> Any:  # a copy finishes writing just now
        calls.append(p)
        if len(calls) == 1:
            path.write_text(TEXT.format(rate=21))
        return real(p, **kw)

    monkeypatch.setattr(pipeline, "parse_document", changed_first)
    settings = Settings(index_dir=tmp_path / "index")
    result = pipeline.ingest([folder], settings, embedder=embedder)
    assert result.added == ["report"] and not result.failed
    with Index(settings.index_dir, embedder) as index:
        item = index.record.report("report")
        assert item is not None and item.report.sha256 == content_hash(path)
        assert any("21%" in p.text for p in index.record.paragraphs("report"))

    path.write_text(TEXT.format(rate=19))  # and a later change is seen as a change
    monkeypatch.setattr(pipeline, "parse_document", real)
    assert pipeline.ingest([folder], settings, embedder=embedder).updated == ["report"]


def test_file_that_keeps_changing_is_reported(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    path = folder / "report.txt"
    path.write_text(TEXT.format(rate=0))
    real = pipeline.parse_document
    calls = []

    def always_changing(p: Path, **kw: Any) -> Any:
        calls.append(p)
        path.write_text(TEXT.format(rate=len(calls)))
        return real(p, **kw)

    monkeypatch.setattr(pipeline, "parse_document", always_changing)
    settings = Settings(index_dir=tmp_path / "index")
    result = pipeline.ingest([folder], settings, embedder=embedder)
    assert not result.added
    [err] = result.failed
    assert err.path == str(path) and "changed while it was read" in err.cause
