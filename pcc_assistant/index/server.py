"""Where Chroma lives: an embedded folder, or a ``chroma run`` server reached over HTTP.

Chroma types stay inside the ``index`` package. Every failure of a server (down, the
token refused, gone mid-request) becomes one :class:`PccError` line naming the URL and
what happened, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pcc_assistant.errors import PccError

HEARTBEAT = "/api/v2/heartbeat"
CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 120.0  # longest any one request may take (a batch of 1,000 vectors)


@dataclass(frozen=True)
class ServerInfo:
    """What the server said when asked whether it answers."""

    url: str
    answers: bool
    detail: str  # "Chroma 1.0.0" or what went wrong


@dataclass(frozen=True)
class Location:
    """The embedded folder (``url`` empty) or a server's URL and optional bearer token."""

    folder: Path
    url: str = ""
    token: str = ""

    @property
    def is_server(self) -> bool:
        return bool(self.url)

    def describe(self) -> str:
        return f"Chroma server {self.url}" if self.is_server else f"embedded index {self.folder}"

    def headers(self) -> dict[str, str]:
        if not self.token:
            return {}
        _check_token(self.token)
        return {"Authorization": f"Bearer {self.token}"}

    def _parts(self) -> tuple[str, int, bool]:
        parts = urlsplit(self.url if "://" in self.url else f"http://{self.url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PccError(f"chroma_url {self.url!r} is not an http(s)://host:port URL")
        if parts.path not in ("", "/"):
            raise PccError(
                f"chroma_url {self.url!r} has a path: Chroma is served at the root of its "
                "host and port (put a proxy on a port of its own)"
            )
        ssl = parts.scheme == "https"
        try:
            port = parts.port or (443 if ssl else 8000)
        except ValueError:
            raise PccError(f"chroma_url {self.url!r} has a port that is not a number") from None
        return parts.hostname, port, ssl

    def base_url(self) -> str:
        host, port, ssl = self._parts()
        return f"{'https' if ssl else 'http'}://{host}:{port}"

    def check(self) -> ServerInfo:
        """Ask the server's heartbeat, with the token; never raises for a server's fault."""
        import httpx

        url = self.base_url()
        try:
            resp = httpx.get(url + HEARTBEAT, headers=self.headers(), timeout=CONNECT_TIMEOUT_S)
        except httpx.ConnectError as exc:
            return ServerInfo(url, False, f"is not answering ({_reason(exc)})")
        except httpx.TimeoutException:
            return ServerInfo(url, False, f"gave no answer within {CONNECT_TIMEOUT_S:.0f} s")
        except httpx.HTTPError as exc:
            return ServerInfo(url, False, f"could not be asked: {_reason(exc)}")
        if resp.status_code in (401, 403):
            said = "without a token" if not self.token else "with the token given"
            return ServerInfo(url, False, f"refused the request {said} (HTTP {resp.status_code})")
        if resp.status_code != 200:
            return ServerInfo(
                url, False, f"answered HTTP {resp.status_code}, not Chroma's heartbeat"
            )
        try:
            version = httpx.get(
                url + "/api/v2/version", headers=self.headers(), timeout=CONNECT_TIMEOUT_S
            ).json()
        except (httpx.HTTPError, ValueError):
            version = "?"
        return ServerInfo(url, True, f"Chroma {version}")

    def client(self) -> Any:
        """A Chroma client: persistent on the folder, or HTTP to the server (checked first)."""
        import chromadb
        from chromadb.config import Settings

        if not self.is_server:
            self.folder.mkdir(parents=True, exist_ok=True)
            try:
                return chromadb.PersistentClient(
                    path=str(self.folder),
                    settings=Settings(anonymized_telemetry=False, allow_reset=True),
                )
            except Exception:
                self.forget()
                raise
        info = self.check()
        if not info.answers:
            raise PccError(f"the Chroma server at {info.url} {info.detail}")
        host, port, ssl = self._parts()
        with self.guard("connecting"):
            client = chromadb.HttpClient(
                host=host,
                port=port,
                ssl=ssl,
                headers=self.headers(),
                settings=Settings(anonymized_telemetry=False),
            )
        _limit_waits(client)
        return client

    def forget(self) -> None:
        """Drop the Chroma system this process keeps for the folder (see _forget_system):
        after the folder is deleted, or when it failed to open."""
        if not self.is_server:
            _forget_system(str(self.folder))

    @contextmanager
    def guard(self, doing: str) -> Iterator[None]:
        """Turn a server's failure during ``doing`` into one line naming the URL."""
        if not self.is_server:
            yield
            return
        try:
            yield
        except PccError:
            raise
        except Exception as exc:
            raise PccError(
                f"the Chroma server at {self.base_url()} failed while {doing}: {_reason(exc)}"
            ) from exc


def _check_token(token: str) -> None:
    """Refuse a token an HTTP header can't carry, saying why but never showing it (it is
    a secret, and a line break in it would split the error line)."""
    for n, ch in enumerate(token, 1):
        if "!" <= ch <= "~":
            continue
        what = (
            "a line break"
            if ch in "\r\n"
            else "a space"
            if ch == " "
            else "a control character"
            if ord(ch) < 0x20 or ord(ch) == 0x7F
            else "a non-ASCII character"
        )
        raise PccError(
            f"chroma_token (PCC_CHROMA_TOKEN) can't be sent in an HTTP header: it holds "
            f"{what} (character {n} of {len(token)}); set it to the token alone, which is "
            "visible ASCII (the token is not shown here)"
        )


def _forget_system(path: str) -> None:
    """Chroma keeps one system per folder for the process, and keeps it even when it
    failed to start (a damaged chroma.sqlite3) or its folder was deleted: every later
    client of the folder would get the broken one ('RustBindingsAPI' object has no
    attribute 'bindings', 'attempt to write a readonly database'). Drop it, so the next
    client starts afresh."""
    from chromadb.api.shared_system_client import SharedSystemClient

    system = SharedSystemClient._identifier_to_system.pop(path, None)
    SharedSystemClient._identifier_to_refcount.pop(path, None)
    if system is not None:
        # a system that never started can't stop; it is dropped anyway
        with contextlib.suppress(Exception):
            system.stop()


def _limit_waits(client: Any) -> None:
    """Chroma's HTTP client waits for ever (httpx timeout=None, no setting for it in
    chromadb 1.5): a server that accepts and then hangs would hang every command. Set a
    limit on its httpx session, when the client is built as this version builds it."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)


def _reason(exc: BaseException) -> str:
    """The useful part of an HTTP client's error, on one line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "401" in text or "403" in text or "Unauthorized" in text or "Forbidden" in text:
        return "the token was refused"
    if "Could not connect" in text or "Connection refused" in text:
        return "connection refused: is `chroma run` up?"
    if "<html" in text.lower():
        return f"{type(exc).__name__} from a proxy (not Chroma)"
    return text[:200]
