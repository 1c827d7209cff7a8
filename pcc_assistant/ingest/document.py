"""One file in, one ParsedDocument out: load, strip furniture, paragraph, describe."""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.furniture import Line, body_lines
from pcc_assistant.ingest.isolation import ParserWorker
from pcc_assistant.ingest.loaders import loader_for
from pcc_assistant.ingest.metadata import describe, sidecar_path
from pcc_assistant.ingest.paragraphs import joined, long_parts, split_paragraphs
from pcc_assistant.ingest.source import SourceText
from pcc_assistant.limits import MAX_PARAGRAPH_CHARS
from pcc_assistant.types import Paragraph, ParsedDocument, Report


def content_hash(path: Path) -> str:
    """What makes a document stale: its bytes and its sidecar's."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    side = sidecar_path(path)
    if side.is_file():
        digest.update(b"\0sidecar\0" + side.read_bytes())
    return digest.hexdigest()


def load_source(
    path: Path,
    password: str,
    timeout_s: float,
    memory_mb: int,
    worker: ParserWorker | None,
    encoding: str = "",
) -> SourceText:
    loader = loader_for(path)
    if loader is None:
        raise DocumentError(str(path), "unsupported file type: give a .pdf, .txt or .md file")
    if not path.is_file():
        raise DocumentError(str(path), "no such file")
    if not loader.isolate:
        return loader.load(path, password, encoding)
    if worker is not None:
        return worker.load(loader, path, password)
    own = ParserWorker(timeout_s, memory_mb)
    try:
        return own.load(loader, path, password)
    finally:
        own.close()


def parse_document(
    path: Path,
    *,
    sha256: str | None = None,
    password: str = "",
    timeout_s: float = 120.0,
    memory_mb: int = 2048,
    worker: ParserWorker | None = None,
    encoding: str = "",
) -> ParsedDocument:
    """Parse ``path`` into the report's paragraphs; DocumentError when it can't be read."""
    source = load_source(path, password, timeout_s, memory_mb, worker, encoding)
    lines = body_lines(source)
    if not lines:
        raise DocumentError(str(path), "no text found: nothing to index")
    meta = describe(path, lines, source.title_hint)
    doc = path.stem
    units = split_paragraphs(lines)
    labels = {label for label, _, _, _ in units}
    pieces: list[tuple[str, str, str, str, tuple[int, ...], int, int]] = []
    for label, kind, section, unit in units:
        for n, (text, pages, start, end) in enumerate(_parts(unit, MAX_PARAGRAPH_CHARS)):
            name = label
            if n:  # a paragraph too long to be one unit: "32", "32 (part 2)", ...
                name = f"{label} (part {n + 1})"
                while name in labels:
                    name += "'"
                labels.add(name)
            pieces.append((name, kind, section, text, pages, start, end))
    paragraphs = tuple(
        Paragraph(doc, n, label, kind, pages, section, text, start, end)
        for n, (label, kind, section, text, pages, start, end) in enumerate(pieces)
    )
    report = Report(
        doc=doc,
        title=meta.title,
        organisation=meta.organisation,
        date=meta.date,
        path=str(path.resolve()),  # absolute: --prune and the id check, from any folder
        sha256=sha256 or content_hash(path),
        pages=len(source.pages) if source.paged else 0,
    )
    return ParsedDocument(report, paragraphs)


def _parts(unit: list[Line], cap: int) -> list[tuple[str, tuple[int, ...], int, int]]:
    """(text, pages, start, end) of a unit, or of each part of a unit longer than ``cap``
    (cut at sentence ends, see :func:`long_parts`), with the pages and source offsets of
    the lines each part comes from."""
    text, starts = joined(unit)
    out = []
    for a, b in long_parts(text, cap):
        first = bisect_right(starts, a) - 1
        last = bisect_left(starts, b) - 1
        covered = unit[first : last + 1]
        out.append(
            (
                text[a:b],
                tuple(sorted({ln.page for ln in covered if ln.page is not None})),
                unit[first].start + min(a - starts[first], len(unit[first].text)),
                unit[last].start + min(b - starts[last], len(unit[last].text)),
            )
        )
    return out
