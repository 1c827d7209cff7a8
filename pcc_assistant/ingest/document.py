"""One file in, one ParsedDocument out: load, strip furniture, paragraph, describe."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pcc_assistant.errors import DocumentError
from pcc_assistant.ingest.furniture import body_lines
from pcc_assistant.ingest.isolation import ParserWorker
from pcc_assistant.ingest.loaders import loader_for
from pcc_assistant.ingest.metadata import describe, sidecar_path
from pcc_assistant.ingest.paragraphs import split_paragraphs, unit_text
from pcc_assistant.ingest.source import SourceText
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
    path: Path, password: str, timeout_s: float, memory_mb: int, worker: ParserWorker | None
) -> SourceText:
    loader = loader_for(path)
    if loader is None:
        raise DocumentError(str(path), "unsupported file type: give a .pdf, .txt or .md file")
    if not path.is_file():
        raise DocumentError(str(path), "no such file")
    if not loader.isolate:
        return loader.load(path, password)
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
) -> ParsedDocument:
    """Parse ``path`` into the report's paragraphs; DocumentError when it can't be read."""
    source = load_source(path, password, timeout_s, memory_mb, worker)
    lines = body_lines(source)
    if not lines:
        raise DocumentError(str(path), "no text found: nothing to index")
    meta = describe(path, lines, source.title_hint)
    doc = path.stem
    paragraphs = tuple(
        Paragraph(
            doc=doc,
            ordinal=n,
            label=label,
            kind=kind,
            pages=tuple(sorted({ln.page for ln in unit if ln.page is not None})),
            section=section,
            text=unit_text(unit),
            start=unit[0].start,
            end=unit[-1].start + len(unit[-1].text),
        )
        for n, (label, kind, section, unit) in enumerate(split_paragraphs(lines))
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
