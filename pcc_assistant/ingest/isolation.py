"""Run a loader in a worker process with a time and memory limit.

A parser that hangs, crashes or swallows all memory on a hostile file then costs one
file, not the ingest: the parent sees a DocumentError naming the file and the cause.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import signal
from multiprocessing.connection import Connection
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.source import Loader, SourceText

_context: mp.context.ForkServerContext | None = None


def _ctx() -> mp.context.ForkServerContext:
    # forkserver, not fork: the parent may hold torch threads, which fork would copy broken;
    # the server starts clean and has pypdf imported once, so each file costs a fork only.
    global _context
    if _context is None:
        _context = mp.get_context("forkserver")
        _context.set_forkserver_preload(["pypdf", "pcc_assistant.ingest.loaders"])
    return _context


def _child(conn: Connection, loader: Loader, path: Path, password: str, memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        conn.send(("ok", loader.load(path, password)))
    except DocumentError as exc:
        conn.send(("error", exc.cause))
    except MemoryError:
        conn.send(("error", f"parser ran out of memory (limit {memory_mb} MB)"))
    except RecursionError:
        conn.send(("error", "parser hit a recursion limit: the file's structure is malformed"))
    except Exception as exc:  # any other parser bug must still name the file
        conn.send(("error", f"parser failed: {type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def load_isolated(
    loader: Loader, path: Path, password: str, timeout_s: float, memory_mb: int
) -> SourceText:
    """``loader.load(path)`` in a child process; DocumentError on any failure."""
    parent, child = _ctx().Pipe(duplex=False)
    proc = _ctx().Process(
        target=_child, args=(child, loader, path, password, memory_mb), daemon=True
    )
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            raise DocumentError(
                str(path), f"parser took longer than {timeout_s:.0f} s and was stopped"
            )
        try:
            status, payload = parent.recv()
        except (EOFError, OSError):
            proc.join(5)
            code = proc.exitcode
            if code is not None and code < 0:
                name = signal.Signals(-code).name
                raise DocumentError(str(path), f"parser crashed ({name})") from None
            raise DocumentError(str(path), f"parser crashed (exit status {code})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if status == "ok":
        assert isinstance(payload, SourceText)
        return payload
    raise DocumentError(str(path), str(payload))
