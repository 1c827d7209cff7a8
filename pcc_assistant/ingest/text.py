"""Plain text and Markdown loaders."""

from __future__ import annotations

import re
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.source import SourceLine, SourceText

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def read_text(path: Path) -> str:
    """The file's text, or a DocumentError saying why it is not usable text."""
    data = path.read_bytes()
    if not data.strip():
        raise DocumentError(str(path), "empty file: nothing to index")
    if b"\x00" in data[:8192]:
        raise DocumentError(str(path), "not a text file (it holds binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    # A form feed is how plain-text exports mark a page end; keep it as a line break.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pages(text: str) -> tuple[list[str], bool]:
    parts = text.split("\f")
    return parts, len(parts) > 1


class TextLoader:
    suffixes: tuple[str, ...] = (".txt", ".text")
    isolate = False

    def load(self, path: Path, password: str) -> SourceText:
        parts, paged = _pages(read_text(path))
        return SourceText(
            pages=tuple(
                tuple(SourceLine(line, n if paged else None) for line in part.split("\n"))
                for n, part in enumerate(parts, start=1)
            ),
            paged=paged,
        )


class MarkdownLoader:
    suffixes: tuple[str, ...] = (".md", ".markdown")
    isolate = False

    def load(self, path: Path, password: str) -> SourceText:
        lines: list[SourceLine] = []
        for raw in read_text(path).replace("\f", "\n").split("\n"):
            m = _MD_HEADING.match(raw)
            if m:
                lines.append(SourceLine("", None))
                lines.append(SourceLine(m.group(1), None, heading=True))
                lines.append(SourceLine("", None))
            else:
                lines.append(SourceLine(raw, None))
        return SourceText(pages=(tuple(lines),), paged=False)
