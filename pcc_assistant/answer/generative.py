"""Generative answers: one LangChain chain (prompt | chat model | text) for every backend.

The backends differ only in the chat model at the middle of the chain:

* ``openai``: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, LM Studio, ...);
* ``ollama``: an Ollama server;
* ``local``: a GGUF file served by llama.cpp in a child process (see ``local_llm``), which
  is then just another OpenAI-compatible server.

The retrieved paragraphs go into the prompt as delimited *data*. Report text is untrusted
(anyone can publish a PDF), so anything in it that looks like the start of a tag becomes
``&lt;``: a paragraph can't close its ``<paragraph>`` block, open a ``<system>`` block or
forge a chat-template token such as ``<|im_start|>``.

The model's answer is only a draft: verification checks every sentence against the cited
paragraphs. Failures to reach a model become one-line ``BackendError``s naming the URL.

LangChain and the OpenAI/Ollama clients are imported inside functions so that importing
this module (and so starting ``pcc``) stays cheap.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pcc_assistant.answer.local_llm import BackendError, default_model_path, shared_server
from pcc_assistant.answer.model import Evidence, format_date, pages_text, paragraph_mark
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.prompts import ChatPromptTemplate

__all__ = [
    "BACKENDS",
    "NOT_IN_REPORTS",
    "BackendError",
    "format_paragraphs",
    "generate",
    "neutralise",
    "render_prompt",
]

BACKENDS = ("openai", "ollama", "local")
NOT_IN_REPORTS = "NOT IN THE REPORTS"  # what the prompt tells the model to say
PROMPT_FILE = Path(__file__).resolve().parents[2] / "prompts" / "answer.md"
OPENAI_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
LOCAL_KEY = "not-needed"  # local servers ignore the key, but the client insists on one
OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
# A small model that starts copying the data block back has stopped answering.
STOP = ["<paragraph", "</paragraph>", "\n\n\n"]

# "<" or a look-alike, then (after optional spaces) what could start a tag or a
# chat-template token ("< /x" counts, "< b" does not). "<5%" and "a < b" are left alone:
# figures and comparisons must stay exactly as written.
_TAG_START = re.compile(r"[<＜﹤〈〈⟨‹˂](?:\s*(?=[/!?|｜])|(?=[^\W\d_]))")
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


# --- the prompt -------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """Text with every tag-like ``<`` turned into ``&lt;`` so it can't act as a delimiter."""
    return _TAG_START.sub("&lt;", text)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def paragraph_block(e: Evidence) -> str:
    """One retrieved paragraph as ``<paragraph marker="3" ...>text</paragraph>``."""
    p = e.paragraph
    attrs = {
        "marker": str(e.marker),
        "report": f"{e.report.title}, {format_date(e.report)}",
        "label": paragraph_mark(p),
    }
    pages = pages_text(p).removeprefix("pp.").removeprefix("p.")
    if pages:
        attrs["page"] = pages
    head = " ".join(f'{k}="{_attr(v)}"' for k, v in attrs.items())
    return f"<paragraph {head}>{neutralise(p.text.strip())}</paragraph>"


def format_paragraphs(evidence: Sequence[Evidence]) -> str:
    return "\n".join(paragraph_block(e) for e in evidence)


def load_prompt(path: Path | None = None) -> tuple[str, str]:
    """The (system, user) templates from ``prompts/answer.md``, read on every answer.

    Read at run time, not cached, so the prompt can be tuned without reinstalling.
    """
    path = path or PROMPT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise PccError(f"the answer prompt {path} can't be read ({e.strerror})") from None
    sections = re.split(r"(?m)^# (system|user)[ \t]*$", text)
    found = dict(zip(sections[1::2], (s.strip() for s in sections[2::2]), strict=True))
    if set(found) != {"system", "user"}:
        raise PccError(f"the answer prompt {path} needs a '# system' and a '# user' section")
    return found["system"], found["user"]


def _chat_prompt() -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    system, user = load_prompt()
    template = ChatPromptTemplate.from_messages([("system", system), ("human", user)])
    if set(template.input_variables) != {"question", "paragraphs"}:
        raise PccError(
            f"the answer prompt {PROMPT_FILE} must use exactly {{question}} and "
            f"{{paragraphs}}, found {sorted(template.input_variables)}"
        )
    return template


def _inputs(question: str, evidence: Sequence[Evidence]) -> dict[str, str]:
    return {
        "question": neutralise(" ".join(question.split())),
        "paragraphs": format_paragraphs(evidence),
    }


def render_prompt(question: str, evidence: Sequence[Evidence]) -> list[tuple[str, str]]:
    """The messages the model is sent, as ``(role, text)`` pairs: for tests and debugging."""
    messages = _chat_prompt().format_messages(**_inputs(question, evidence))
    return [(m.type, m.text) for m in messages]


# --- the chat models --------------------------------------------------------------------


def _is_local(url: str) -> bool:
    host = urlparse(url).hostname or ""
    return host in _LOCAL_HOSTS or host.endswith(".localhost")


def _is_openai(url: str) -> bool:
    return urlparse(url).hostname == "api.openai.com"


_discovered: dict[str, str] = {}


def _discover_model(base_url: str, api_key: str, settings: Settings) -> str:
    """The first model an OpenAI-compatible server lists (cached per URL)."""
    if base_url in _discovered:
        return _discovered[base_url]
    import openai

    with _backend_errors("openai", base_url, settings, ""):
        client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=min(settings.llm_timeout_s, 30.0),
            max_retries=1,
        )
        ids = [m.id for m in client.models.list().data]
    if not ids:
        raise BackendError(f"the openai answerer at {base_url} lists no models: set PCC_LLM_MODEL")
    _discovered[base_url] = ids[0]
    return ids[0]


def _openai_target(settings: Settings) -> tuple[str, str, str]:
    """(base URL, API key, model) from settings, then the environment, then defaults."""
    base_url = settings.llm_base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL
    base_url = base_url.rstrip("/")
    api_key = settings.llm_api_key or os.environ.get("OPENAI_API_KEY", "")
    if not api_key:
        if not _is_local(base_url):
            raise BackendError(
                f"the openai answerer at {base_url} needs an API key: set PCC_LLM_API_KEY "
                "or OPENAI_API_KEY (any value for a server that doesn't check keys)"
            )
        api_key = LOCAL_KEY
    model = settings.llm_model
    if not model:
        model = (
            OPENAI_DEFAULT_MODEL
            if _is_openai(base_url)
            else _discover_model(base_url, api_key, settings)
        )
    return base_url, api_key, model


def _openai_chat(base_url: str, api_key: str, model: str, settings: Settings) -> BaseChatModel:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=model,
        base_url=base_url,
        api_key=SecretStr(api_key),
        temperature=0,
        max_completion_tokens=settings.llm_max_tokens,
        stop_sequences=STOP,
        timeout=settings.llm_timeout_s,
        max_retries=1,
    )


def _ollama_url(settings: Settings) -> str:
    """PCC_OLLAMA_URL when set, else OLLAMA_HOST (Ollama's own variable), else the default."""
    if "ollama_url" in settings.model_fields_set and settings.ollama_url:
        url = settings.ollama_url
    else:
        url = os.environ.get("OLLAMA_HOST") or settings.ollama_url or OLLAMA_DEFAULT_URL
    return url if "://" in url else "http://" + url


def _ollama_chat(url: str, model: str, settings: Settings) -> BaseChatModel:
    from langchain_ollama import ChatOllama

    return ChatOllama(
        model=model,
        base_url=url,
        temperature=0,
        num_predict=settings.llm_max_tokens,
        stop=STOP,
        client_kwargs={"timeout": settings.llm_timeout_s},
    )


def _local_model_path(settings: Settings) -> Path:
    return (
        Path(settings.local_model).expanduser() if settings.local_model else (default_model_path())
    )


def chat_model(settings: Settings, backend: str) -> tuple[BaseChatModel, str, str]:
    """(chat model, URL it talks to, model name) for ``backend``."""
    if backend == "openai":
        base_url, api_key, model = _openai_target(settings)
        return _openai_chat(base_url, api_key, model, settings), base_url, model
    if backend == "ollama":
        if not settings.llm_model:
            raise BackendError(
                "the ollama answerer needs a model: set PCC_LLM_MODEL (e.g. llama3.2), "
                "one that `ollama list` shows"
            )
        url = _ollama_url(settings)
        return _ollama_chat(url, settings.llm_model, settings), url, settings.llm_model
    if backend == "local":
        path = _local_model_path(settings)
        server = shared_server(path, settings.local_threads, settings.local_ctx)
        model = path.name
        return _openai_chat(server.base_url, LOCAL_KEY, model, settings), server.base_url, model
    raise BackendError(f"unknown answerer {backend!r}: use one of {', '.join(BACKENDS)}")


# --- errors -----------------------------------------------------------------------------

_HINTS = {
    "openai": "start the server or set PCC_LLM_BASE_URL",
    "ollama": "start Ollama (`ollama serve`) or set PCC_OLLAMA_URL",
    "local": "the local model server stopped; try again (it restarts) or set PCC_LOCAL_MODEL",
}


def _one_line(text: object, limit: int = 160) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _connection_reason(exc: BaseException) -> str:
    """ "connection refused", "unknown host", ... from the exception and its causes."""
    texts = " ".join(str(e) for e in _chain(exc)).lower()
    if any(isinstance(e, ConnectionRefusedError) for e in _chain(exc)) or "refused" in texts:
        return "connection refused"
    if "name or service not known" in texts or "nodename nor servname" in texts:
        return "unknown host"
    if "ssl" in texts or "certificate" in texts:
        return "TLS error"
    deepest = list(_chain(exc))[-1]
    return _one_line(deepest, 80) or type(deepest).__name__


def _status_error(backend: str, url: str, model: str, status: int, detail: str) -> BackendError:
    where = f"the {backend} answerer at {url}"
    if status in (401, 403):
        return BackendError(
            f"{where} refused the API key ({status}): set PCC_LLM_API_KEY or OPENAI_API_KEY"
        )
    if status == 404:
        fix = (
            f"run `ollama pull {model}` or set PCC_LLM_MODEL"
            if backend == "ollama"
            else "check PCC_LLM_MODEL against the server's /v1/models and that the URL ends in /v1"
        )
        return BackendError(f"{where} has no model {model!r} (404): {fix}")
    detail = _one_line(re.sub(r"^Error code: \d+ - ", "", str(detail)))
    if status == 400 and "context" in detail.lower():
        return BackendError(
            f"{where} can't take a prompt this long ({detail}): use a model with a longer "
            "context or retrieve fewer paragraphs"
        )
    return BackendError(f"{where} failed ({status}: {detail}): check the server's log")


def _timeout_error(backend: str, url: str, settings: Settings) -> BackendError:
    return BackendError(
        f"the {backend} answerer at {url} did not answer within {settings.llm_timeout_s:g} s: "
        "raise PCC_LLM_TIMEOUT_S or use a smaller model"
    )


def _map_error(
    exc: Exception, backend: str, url: str, model: str, settings: Settings
) -> BackendError | None:
    """The BackendError for a client exception, or None if it isn't a backend failure."""
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return _timeout_error(backend, url, settings)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(backend, url, model, exc.status_code, exc.message)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return BackendError(
            f"the {backend} answerer can't reach {url} ({_connection_reason(exc)}): "
            f"{_HINTS[backend]}"
        )
    if backend == "ollama":
        from ollama import ResponseError

        if isinstance(exc, ResponseError):
            return _status_error(backend, url, model, exc.status_code, exc.error)
    return None


@contextmanager
def _backend_errors(backend: str, url: str, settings: Settings, model: str) -> Iterator[None]:
    """Turn the clients' network, HTTP and timeout exceptions into one-line BackendErrors."""
    try:
        yield
    except PccError:
        raise
    except Exception as e:
        mapped = _map_error(e, backend, url, model, settings)
        if mapped is None:
            raise
        raise mapped from None


# --- answering --------------------------------------------------------------------------


def generate(
    question: str,
    evidence: Sequence[Evidence],
    settings: Settings,
    backend: str,
    on_token: Callable[[str], None] | None = None,
) -> str:
    """The model's draft answer, streamed through ``on_token`` as it arrives.

    Without evidence the answer is ``NOT_IN_REPORTS`` and no model is asked. The whole
    answer must arrive within ``settings.llm_timeout_s`` (the client's own timeout only
    bounds each wait between chunks).
    """
    if not evidence:
        if on_token is not None:
            on_token(NOT_IN_REPORTS)
        return NOT_IN_REPORTS
    from langchain_core.output_parsers import StrOutputParser

    prompt = _chat_prompt()
    inputs = _inputs(question, evidence)
    model, url, name = chat_model(settings, backend)
    chain = prompt | model | StrOutputParser()
    deadline = time.monotonic() + settings.llm_timeout_s
    parts: list[str] = []
    with _backend_errors(backend, url, settings, name):
        stream = chain.stream(inputs)
        try:
            for chunk in stream:
                if not chunk:
                    continue
                parts.append(chunk)
                if on_token is not None:
                    on_token(chunk)
                if time.monotonic() > deadline:
                    raise _timeout_error(backend, url, settings)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # stops the server generating when we give up early
    return "".join(parts)
