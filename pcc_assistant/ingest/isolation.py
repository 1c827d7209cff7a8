"""Run a loader in a worker process with a time and memory limit.

A parser that hangs, crashes or swallows all memory on a hostile file then costs one
file, not the ingest: the parent sees a DocumentError naming the file and the cause.

The worker is a plain subprocess (``python -m pcc_assistant.ingest.isolation``), not
multiprocessing: that would re-import the caller's main script in the child and copy a
parent holding torch threads. One worker serves a whole ingest and is restarted only
after a file kills it.
"""

from __future__ import annotations

import os
import pickle
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.source import Loader, SourceText

_HEADER = struct.Struct("!Q")


def _send(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _receive(fd: int, deadline: float | None) -> Any:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, size, None if deadline is None else deadline + 30))


class ParserWorker:
    """A long-lived child process that loads files on request."""

    def __init__(self, timeout_s: float, memory_mb: int) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self._proc: subprocess.Popen[bytes] | None = None
        # load() runs on the ingest's parsing thread while close() may come from another:
        # once closed, no new worker process is started.
        self._guard = threading.Lock()
        self._closed = False
        self._loading = False

    def _start(self) -> subprocess.Popen[bytes]:
        # The child limits its own memory: a preexec_fn is unsafe in a threaded parent.
        return subprocess.Popen(
            [sys.executable, "-m", "pcc_assistant.ingest.isolation", str(self.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        """Start the worker process now (it imports the parser while the caller goes on)."""
        with self._guard:
            if not self._closed and (self._proc is None or self._proc.poll() is not None):
                self._proc = self._start()

    def load(self, loader: Loader, path: Path, password: str) -> SourceText:
        with self._guard:
            if self._closed:
                raise DocumentError(str(path), "parsing was stopped")
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            self._loading = True
        try:
            return self._load(proc, loader, path, password)
        finally:
            with self._guard:
                self._loading = False
                closed = self._closed
            if closed:  # close() left the pipes to this thread
                _close_streams(proc)

    def _load(
        self, proc: subprocess.Popen[bytes], loader: Loader, path: Path, password: str
    ) -> SourceText:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            _send(proc.stdin, (loader, path, password))
            status, payload = _receive(proc.stdout.fileno(), time.monotonic() + self.timeout_s)
        except TimeoutError:
            self._kill(proc)
            raise DocumentError(
                str(path), f"parser took longer than {self.timeout_s:.0f} s and was stopped"
            ) from None
        except (EOFError, BrokenPipeError, OSError, ValueError, pickle.UnpicklingError):
            code = proc.wait(timeout=10)
            with self._guard:
                if self._proc is proc:
                    self._proc = None
            if self._closed:
                raise DocumentError(str(path), "parsing was stopped") from None
            if code < 0:
                raise DocumentError(
                    str(path), f"parser crashed ({signal.Signals(-code).name})"
                ) from None
            raise DocumentError(
                str(path),
                f"parser died (exit status {code}); it may have run out of memory "
                f"(limit {self.memory_mb} MB)",
            ) from None
        if status == "ok":
            assert isinstance(payload, SourceText)
            return payload
        raise DocumentError(str(path), str(payload))

    def _kill(self, proc: subprocess.Popen[bytes]) -> None:
        """Stop ``proc`` (the current worker); the next load starts another."""
        with self._guard:
            if self._proc is proc:
                self._proc = None
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        _close_streams(proc)

    def close(self) -> None:
        """Stop the worker for good; a load in progress on another thread fails at once."""
        with self._guard:
            self._closed = True
            proc, self._proc = self._proc, None
            loading = self._loading
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if not loading:  # else the loading thread may be reading: it closes them
                _close_streams(proc)


def _close_streams(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            stream.close()


def _serve(memory_mb: int) -> None:
    """The worker's loop: read (loader, path, password), answer (status, payload)."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but framed answers on the pipe
    try:  # while the parent is still opening its index
        import pypdf  # noqa: F401

        import pcc_assistant.ingest.loaders  # noqa: F401
    except Exception:  # a broken install shows in the first load, with the file's name
        pass
    while True:
        try:
            loader, path, password = _receive(stdin.fileno(), None)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", loader.load(path, password))
        except DocumentError as exc:
            answer = ("error", exc.cause)
        except MemoryError:
            answer = ("error", "parser ran out of memory: the file may be a decompression bomb")
        except RecursionError:
            answer = ("error", "parser hit a recursion limit: the file's structure is malformed")
        except Exception as exc:  # any other parser bug must still name the file
            answer = ("error", f"parser failed: {type(exc).__name__}: {exc}")
        _send(stdout, answer)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
