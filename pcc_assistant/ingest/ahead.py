"""Parsing that runs ahead of its use: documents are read while earlier ones are embedded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.isolation import ParserWorker
from pcc_assistant.types import ParsedDocument

J = TypeVar("J")


class ParseAhead(Generic[J]):
    """``parse`` run over ``jobs`` on threads of its own, one per worker process (where the
    PDF work is done), at most ``ahead`` documents beyond the one being used.

    Iterating gives (job, ParsedDocument or DocumentError) in the jobs' order, waiting for a
    document only when it isn't parsed yet; any other exception from ``parse`` (a bug) is
    raised in the iterating thread. :meth:`close` stops it, cutting short a parse in progress
    by closing the workers.
    """

    def __init__(
        self,
        jobs: list[J],
        parse: Callable[[J, ParserWorker], ParsedDocument],
        workers: list[ParserWorker],
        ahead: int,
    ) -> None:
        self.work = 0.0  # seconds spent parsing, all threads together
        self._jobs = jobs
        self._parse = parse
        self._workers = workers
        self._ahead = max(1, ahead)
        self._results: dict[int, object] = {}
        self._taken = 0  # jobs started
        self._used = 0  # outcomes handed out
        self._stop = False
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._run, args=(w,), name="pcc-parse", daemon=True)
            for w in workers[: max(1, len(jobs))]
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, worker: ParserWorker) -> None:
        while True:
            with self._cond:
                while (
                    not self._stop
                    and self._taken < len(self._jobs)
                    and self._taken >= self._used + self._ahead
                ):
                    self._cond.wait()
                if self._stop or self._taken >= len(self._jobs):
                    return
                n = self._taken
                self._taken += 1
            t = time.perf_counter()
            outcome: object
            try:
                outcome = self._parse(self._jobs[n], worker)
            except BaseException as exc:  # DocumentError, or a bug to raise in the user
                outcome = exc
            with self._cond:
                self.work += time.perf_counter() - t
                self._results[n] = outcome
                self._cond.notify_all()

    def __iter__(self) -> Iterator[tuple[J, ParsedDocument | DocumentError]]:
        while True:
            with self._cond:
                if self._used >= len(self._jobs):
                    return
                while self._used not in self._results:
                    self._cond.wait()
                n = self._used
                outcome = self._results.pop(n)
                self._used += 1
                self._cond.notify_all()
            if isinstance(outcome, ParsedDocument | DocumentError):
                yield self._jobs[n], outcome
            elif isinstance(outcome, BaseException):
                raise outcome

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for worker in self._workers:
            worker.close()
        for thread in self._threads:
            thread.join(timeout=30)
