"""The loader interface: a file becomes pages of lines. Add a format in one file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class SourceLine:
    text: str
    page: int | None  # printed page number; None for formats without pages
    heading: bool = False  # the format itself marks this line as a heading (Markdown "#")


@dataclass(frozen=True)
class SourceText:
    """A file's text as its loader found it, before page furniture is removed."""

    pages: tuple[tuple[SourceLine, ...], ...]
    title_hint: str = ""  # a title the file itself declares (PDF /Title)
    paged: bool = True


class Loader(Protocol):
    """One file format. ``isolate`` asks for parsing in a worker process with limits;
    ``encoding`` is for text formats that are not UTF-8 (others ignore it)."""

    suffixes: tuple[str, ...]
    isolate: bool

    def load(self, path: Path, password: str, encoding: str = "") -> SourceText: ...
