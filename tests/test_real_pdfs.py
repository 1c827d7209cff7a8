"""Ingestion over real government PDFs nobody here wrote (../shared/real-pdfs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pcc_assistant.ingest.document import parse_document
from pcc_assistant.ingest.isolation import ParserWorker

from .conftest import SHARED

REAL = SHARED / "real-pdfs"
pytestmark = [
    pytest.mark.realpdfs,
    pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent (it sits beside the repo)"),
]


def _pdfs() -> list[Path]:
    return sorted(REAL.glob("*.pdf")) if REAL.is_dir() else []


@pytest.fixture(scope="module")
def worker():  # type: ignore[no-untyped-def]
    w = ParserWorker(timeout_s=120, memory_mb=2048)
    yield w
    w.close()


@pytest.mark.parametrize("path", _pdfs(), ids=lambda p: p.stem[:40])
def test_real_pdf_parses_into_clean_paragraphs(path: Path, worker) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_document(path, worker=worker)
    assert parsed.report.pages > 0
    assert parsed.paragraphs
    labels = [p.label for p in parsed.paragraphs]
    assert len(labels) == len(set(labels))
    for p in parsed.paragraphs:
        assert p.text.strip()
        assert not re.search(r"\bPage \d+ of \d+\b", p.text), p.label
        assert p.pages and all(1 <= n <= parsed.report.pages for n in p.pages)


def test_real_series_keeps_numbered_paragraphs(worker) -> None:  # type: ignore[no-untyped-def]
    for name in (
        "Open_Data_and_Transparency_QWMS_Q2_2013_14_for_publishing.pdf",
        "QWMS_Q3_13-14_final_for_publication.pdf",
    ):
        parsed = parse_document(REAL / name, worker=worker)
        numbered = [p.label for p in parsed.paragraphs if p.label.isdigit()]
        assert numbered[:5] == ["1", "2", "3", "4", "5"], name
