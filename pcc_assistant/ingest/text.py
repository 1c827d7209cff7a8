"""Plain text and Markdown loaders."""

from __future__ import annotations

import re
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.source import SourceLine, SourceText
from pcc_assistant.limits import MAX_TEXT_FILE_BYTES, read_at_most, too_large

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def read_text(path: Path, encoding: str = "") -> str:
    """The file's text, or a DocumentError saying why it is not usable text.

    UTF-8 first; a file that isn't is read in ``encoding`` when one is given
    (``pcc ingest --encoding cp1252``), and otherwise reported: guessing would index
    mojibake ("Â£" for "£") that no question finds and every quote repeats.
    """
    found = read_at_most(path, MAX_TEXT_FILE_BYTES)
    if found is None:
        raise DocumentError(str(path), too_large(MAX_TEXT_FILE_BYTES, "text report"))
    data = found
    if not data.strip():
        raise DocumentError(str(path), "empty file: nothing to index")
    if b"\x00" in data[:8192]:
        raise DocumentError(str(path), "not a text file (it holds binary data)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = f"byte 0x{data[exc.start]:02x} at offset {exc.start:,}"
        if not encoding:
            raise DocumentError(
                str(path),
                f"not UTF-8 text ({where}): give its encoding to index it, "
                "e.g. `pcc ingest --encoding cp1252` (Windows) or latin-1",
            ) from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as again:
            bad = f"byte 0x{data[again.start]:02x} at offset {again.start:,}"
            raise DocumentError(
                str(path), f"neither UTF-8 ({where}) nor {encoding} text ({bad})"
            ) from None
    # A form feed is how plain-text exports mark a page end; keep it as a line break.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _pages(text: str) -> tuple[list[str], bool]:
    parts = text.split("\f")
    return parts, len(parts) > 1


class TextLoader:
    suffixes: tuple[str, ...] = (".txt", ".text")
    isolate = False

    def load(self, path: Path, password: str, encoding: str = "") -> SourceText:
        parts, paged = _pages(read_text(path, encoding))
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

    def load(self, path: Path, password: str, encoding: str = "") -> SourceText:
        lines: list[SourceLine] = []
        for raw in read_text(path, encoding).replace("\f", "\n").split("\n"):
            m = _MD_HEADING.match(raw)
            if m:
                lines.append(SourceLine("", None))
                lines.append(SourceLine(m.group(1), None, heading=True))
                lines.append(SourceLine("", None))
            else:
                lines.append(SourceLine(raw, None))
        return SourceText(pages=(tuple(lines),), paged=False)
