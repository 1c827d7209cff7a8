"""A real ``chroma run`` server (and an nginx proxy in front of it) for tests, on
127.0.0.1, on a free port, over a temporary folder."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).with_name("chroma")
PROXY_CONF = ROOT / "deploy" / "nginx-chroma.conf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], log: Path, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/api/v2/heartbeat", headers=headers, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 60 s: {log.read_text()[-2000:]}")


class ChromaServer:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ChromaServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = self.folder / "data"
        log = self.folder / "chroma.log"
        self.proc = subprocess.Popen(
            [
                str(CHROMA),
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--path",
                str(data),
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
        _wait(self.url, self.proc, log, {})
        return self

    def empty(self) -> None:
        """Drop every collection: the next test (or benchmark size) starts from nothing."""
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=self.port)
        for c in client.list_collections():
            client.delete_collection(c.name)

    def kill(self) -> None:
        """SIGKILL: the server goes away without a word."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None


def nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


class Proxy:
    """nginx from ``deploy/nginx-chroma.conf``: checks the bearer token, then forwards."""

    def __init__(self, folder: Path, upstream_port: int, token: str) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = token
        self.upstream_port = upstream_port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Proxy:
        binary = nginx()
        assert binary, "nginx is not installed"
        prefix = self.folder / "nginx"
        (prefix / "logs").mkdir(parents=True, exist_ok=True)
        server = (
            PROXY_CONF.read_text()
            .replace("127.0.0.1:8443", f"127.0.0.1:{self.port}")
            .replace("127.0.0.1:8000", f"127.0.0.1:{self.upstream_port}")
            .replace("CHANGE-ME-TO-A-LONG-RANDOM-TOKEN", self.token)
        )
        conf = prefix / "nginx.conf"
        # The example is an http-level include (as in /etc/nginx/conf.d); wrap it.
        conf.write_text(
            f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\n"
            "worker_processes 1;\nevents { worker_connections 64; }\n"
            f"http {{\naccess_log {prefix}/logs/access.log;\n"
            f"client_body_temp_path {prefix}/body;\nproxy_temp_path {prefix}/proxy;\n"
            f"{server}\n}}\n"
        )
        log = prefix / "logs" / "error.log"
        self.proc = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        _wait(self.url, self.proc, log, {"Authorization": f"Bearer {self.token}"})
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)
        self.proc = None
