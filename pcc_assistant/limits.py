"""Limits on every input, so a hostile or mistaken file costs a clear error line, not the
machine's memory (``pcc verify /dev/zero`` once grew to 23 GB) or a screenful of megabytes.

Each figure says why it is where it is; tests make the inputs that cross them.
"""

from __future__ import annotations

from pathlib import Path

from pcc_assistant.errors import PccError

MB = 1024 * 1024

# Notes for `pcc verify`, question sets and earlier runs for `pcc eval`: an eval run of
# the project's 83 questions is 0.8 MB as JSON, so 32 MB holds thousands of questions.
MAX_READ_BYTES = 32 * MB
# A .txt or .md report: the sample reports are 50-60 KB as text; 32 MB is thousands of
# pages, and more would take hours to embed. PDFs are bounded by the parser's own limits
# (parse_memory_mb, parse_timeout_s).
MAX_TEXT_FILE_BYTES = 32 * MB
# A paragraph longer than this is split at sentence ends into parts, each embedded whole.
# The longest paragraphs found in the sample corpus, ../shared/real-pdfs and
# ../shared/real-pdfs-scale are 21,476 and 27,618 characters (tables of contents and
# annexes run together): none of them is split.
MAX_PARAGRAPH_CHARS = 32_000
# On a terminal: a quoted paragraph and an answer are cut here, saying how to see the rest
# (`pcc paragraphs DOC`, `--json`, the Markdown export keep them whole).
MAX_PRINTED_QUOTE = 3_000
MAX_PRINTED_ANSWER = 4_000


def too_large(limit: int, what: str) -> str:
    return f"larger than the {limit // MB} MB a {what} may be; is it the right file?"


def read_at_most(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than ``limit``: read no further (a
    device such as /dev/zero has no size to check first). Raises OSError."""
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    return None if len(data) > limit else data


def read_bytes(path: Path, what: str, limit: int = MAX_READ_BYTES) -> bytes:
    """The file's bytes; :class:`PccError` naming the file when it can't be read or is
    larger than ``limit``."""
    try:
        data = read_at_most(path, limit)
    except OSError as exc:
        raise PccError(f"{path}: can't read ({exc.strerror or exc})") from None
    if data is None:
        raise PccError(f"{path}: {too_large(limit, what)}")
    return data


def cut(text: str, limit: int, rest: str) -> str:
    """``text`` no longer than about ``limit`` characters, cut at a word, saying so."""
    if len(text) <= limit:
        return text
    head = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return f"{head} … ({len(text) - len(head):,} more characters: {rest})"
