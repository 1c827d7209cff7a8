"""Parsing ahead of use: outcomes in the jobs' order, a bounded lead, bugs raised in the
user's thread, and close() stopping a parse in progress (a real worker on a hanging file)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import pytest

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.ahead import ParseAhead
from pcc_assistant.ingest.isolation import ParserWorker
from pcc_assistant.types import ParsedDocument, Report

SAMPLE = (
    Path(__file__).resolve().parent.parent / "corpus" / "durham-pcvc-performance-2020-03-12.pdf"
)


def _doc(n: int) -> ParsedDocument:
    return ParsedDocument(Report(f"d{n}", "", "", None, f"d{n}.pdf", "x", 0), ())


def test_outcomes_come_in_order_with_a_bounded_lead() -> None:
    started: list[int] = []
    used = 0
    lead = 0
    lock = threading.Lock()

    def parse(job: int, worker: ParserWorker) -> ParsedDocument:
        nonlocal lead
        with lock:
            started.append(job)
            lead = max(lead, len(started) - used)
        time.sleep(0.01 * (job % 3))  # finishing out of order would show
        if job == 4:
            raise DocumentError(f"d{job}.pdf", "no paragraphs found")
        return _doc(job)

    workers = [ParserWorker(10, 512), ParserWorker(10, 512)]  # never started: parse is fake
    ahead = ParseAhead(list(range(12)), parse, workers, ahead=3)
    got = []
    try:
        for job, outcome in ahead:
            with lock:
                used += 1
            got.append((job, outcome.report.doc if isinstance(outcome, ParsedDocument) else "!"))
    finally:
        ahead.close()
    assert got == [(n, "!" if n == 4 else f"d{n}") for n in range(12)]
    assert sorted(started) == list(range(12))
    assert lead <= 3 + 1  # the one being used and at most `ahead` beyond it
    assert ahead.work > 0


def test_a_bug_in_parsing_is_raised_in_the_iterating_thread() -> None:
    def parse(job: int, worker: ParserWorker) -> ParsedDocument:
        if job == 1:
            raise ValueError("a bug")
        return _doc(job)

    ahead = ParseAhead([0, 1, 2], parse, [ParserWorker(10, 512)], ahead=2)
    seen = []
    with pytest.raises(ValueError, match="a bug"):
        for job, _ in ahead:
            seen.append(job)
    ahead.close()
    assert seen == [0]


@pytest.mark.slow
def test_close_stops_a_parse_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", here + os.pathsep + os.environ.get("PYTHONPATH", ""))
    sys.path.insert(0, here)
    import hostile_loaders

    outcomes: list[object] = []

    def parse(job: int, worker: ParserWorker) -> ParsedDocument:
        try:
            worker.load(hostile_loaders.Hang(), SAMPLE, "")
        except DocumentError as exc:
            outcomes.append(exc)
            raise
        raise AssertionError("the hanging loader returned")

    worker = ParserWorker(timeout_s=600, memory_mb=512)
    worker.start()
    ahead = ParseAhead([0, 1], parse, [worker], ahead=2)
    deadline = time.monotonic() + 60
    while worker._proc is None or not worker._loading:  # the hang is under way
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ahead.close()  # kills the worker: the parsing thread's load fails at once
    assert not any(t.is_alive() for t in ahead._threads)
    assert len(outcomes) == 1 and "parsing was stopped" in str(outcomes[0])
    with pytest.raises(DocumentError, match="parsing was stopped"):
        worker.load(hostile_loaders.Hang(), SAMPLE, "")  # closed for good: no new process
