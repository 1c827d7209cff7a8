"""The one module that knows every stage: files -> paragraphs -> index (-> answers)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pcc_assistant.config import Settings
from pcc_assistant.errors import DocumentError
from pcc_assistant.index.embedder import Embedder, SentenceTransformerEmbedder
from pcc_assistant.index.indexer import Index, Repair
from pcc_assistant.index.server import Location
from pcc_assistant.ingest.document import content_hash, parse_document
from pcc_assistant.ingest.isolation import ParserWorker
from pcc_assistant.ingest.loaders import supported
from pcc_assistant.types import ParsedDocument


class IngestProgress(Protocol):
    """What ingest reports as it goes; the CLI draws it as a progress bar."""

    def begin(self, files: int) -> None: ...

    def step(self, path: Path, what: str) -> None: ...

    def file_done(self, path: Path, status: str, paragraphs: int) -> None: ...


class _Silent:
    def step(self, path: Path, what: str) -> None:
        pass

    def begin(self, files: int) -> None:
        pass

    def file_done(self, path: Path, status: str, paragraphs: int) -> None:
        pass


@dataclass
class IngestResult:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[DocumentError] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # --prune can't tell: a relative path
    paragraphs: int = 0  # paragraphs parsed and stored in this run
    pages: int = 0
    seconds: float = 0.0
    repair: Repair | None = None
    onnx_prepared: bool = False  # the fast query model was exported in this run


def _model_dir(settings: Settings) -> Path:
    from pcc_assistant.index.embedder import packaged_model_path

    return Path(settings.embedding_model) if settings.embedding_model else packaged_model_path()


def onnx_folder(settings: Settings) -> Path:
    return settings.cache_dir / "onnx" / _model_dir(settings).name


def make_embedder(settings: Settings) -> Embedder:
    """The ONNX export when there is a current one (loads in 0.2 s, no torch), else the
    same model through sentence-transformers (7 s of imports, same vectors)."""
    if settings.onnx:
        from pcc_assistant.index.onnx_embedder import OnnxEmbedder, onnx_ready

        folder = onnx_folder(settings)
        if onnx_ready(folder, _model_dir(settings)):
            return OnnxEmbedder.from_export(folder, settings.embed_batch_size)
    return SentenceTransformerEmbedder(settings.embedding_model, settings.embed_batch_size)


def prepare_onnx(settings: Settings) -> bool:
    """Export the model for fast start-up if that hasn't been done; True if it was done now.

    Run at the end of an ingest, which has loaded torch anyway. A failure costs only speed:
    queries then use sentence-transformers.
    """
    if not settings.onnx:
        return False
    from pcc_assistant.index.onnx_embedder import export_onnx, onnx_ready

    folder = onnx_folder(settings)
    model_dir = _model_dir(settings)
    if onnx_ready(folder, model_dir):
        return False
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        export_onnx(model_dir, folder)
    except Exception as exc:  # not fatal: the slower path still works
        import logging

        logging.getLogger(__name__).warning("ONNX export skipped: %s", exc)
        return False
    return True


def location(settings: Settings) -> Location:
    """Where Chroma is: the embedded folder, or the server settings name."""
    return Location(settings.index_dir / "chroma", settings.chroma_url, settings.chroma_token)


def open_index(settings: Settings, embedder: Embedder | None = None) -> Index:
    if not settings.chroma_url:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
    return Index(
        settings.index_dir,
        embedder or make_embedder(settings),
        location(settings),
        settings.cache_dir,
    )


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[DocumentError]]:
    """The files to ingest under ``paths``, and what is wrong with the ones that can't be."""
    files: list[Path] = []
    errors: list[DocumentError] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file()
                    and supported(p)
                    and not any(part.startswith(".") for part in p.relative_to(path).parts)
                )
            )
        elif path.is_file():
            if supported(path):
                files.append(path)
            else:
                errors.append(
                    DocumentError(str(path), "unsupported file type: give a .pdf, .txt or .md file")
                )
        else:
            errors.append(DocumentError(str(path), "no such file or folder"))
    seen: dict[str, Path] = {}
    unique: list[Path] = []
    for f in files:
        if f.stem in seen:
            if seen[f.stem].resolve() != f.resolve():
                errors.append(
                    DocumentError(
                        str(f),
                        f"{seen[f.stem]} already gives the document id {f.stem!r}: "
                        "index one format or the other, or rename one",
                    )
                )
            continue
        seen[f.stem] = f
        unique.append(f)
    return unique, errors


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    *,
    prune: bool = False,
    replace: bool = False,
    progress: IngestProgress | None = None,
    embedder: Embedder | None = None,
) -> IngestResult:
    """Bring the index up to date with the files under ``paths``.

    A report is known by its id (the file name without extension) and the absolute path
    of its file. A file whose id is taken by another file that is still there is refused
    (``replace``: it takes that report's place); ``prune`` removes reports whose file is
    gone, wherever the command runs from.
    """
    started = time.perf_counter()
    progress = progress or _Silent()
    result = IngestResult()
    files, result.failed = discover(paths)
    with open_index(settings, embedder) as index:
        index.lock()
        index.check_model()
        result.repair = index.repair()
        progress.begin(len(files))
        todo = [job for path in files if (job := _changed(path, index, progress, result, replace))]
        worker = ParserWorker(settings.parse_timeout_s, settings.parse_memory_mb)
        # Parse the next file (in the worker process) while this one is embedded.
        with ThreadPoolExecutor(max_workers=1) as pool:
            try:
                ahead = [pool.submit(_parse, job, settings, worker) for job in todo[:1]]
                for n, job in enumerate(todo):
                    parsed = ahead[n]
                    if n + 1 < len(todo):
                        ahead.append(pool.submit(_parse, todo[n + 1], settings, worker))
                    _store(job, parsed, index, progress, result)
            finally:
                worker.close()
        if prune:
            _prune(index, result)
        index.refresh_keywords()
    if result.paragraphs:
        result.onnx_prepared = prepare_onnx(settings)
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True)
class _Job:
    path: Path
    sha256: str
    known: bool  # an earlier version is indexed


def _stored(path: str) -> Path:
    """A stored path as a file here. Records before paths were stored absolute hold them
    as typed: relative to wherever that command ran, taken here as the current folder."""
    return Path(path).resolve()


def _changed(
    path: Path, index: Index, progress: IngestProgress, result: IngestResult, replace: bool
) -> _Job | None:
    """A job when ``path`` is new or changed; None when unchanged, unreadable, or its id
    is taken by another file."""
    try:
        sha = content_hash(path)
        here = path.resolve()
    except OSError as exc:
        result.failed.append(DocumentError(str(path), f"can't read: {exc.strerror}"))
        progress.file_done(path, "failed", 0)
        return None
    known = index.record.report(path.stem)
    if known is None:
        return _Job(path, sha, False)
    stored = _stored(known.report.path)
    # Another file that is still there holds this id: taking it would silently lose
    # that report. A file moved (the stored one is gone) keeps its report.
    elsewhere = stored != here and stored.exists()
    if elsewhere and not replace and known.report.sha256 != sha:
        result.failed.append(
            DocumentError(
                str(path),
                f"the id {path.stem!r} is already taken by {stored}, a different file that "
                "is still there: rename this file to ingest it as another report (the id is "
                "the file name), or give --replace to put it in that report's place",
            )
        )
        progress.file_done(path, "failed", 0)
        return None
    if known.report.sha256 == sha:
        if known.report.path != str(here) and (replace or not elsewhere):
            index.record.update_path(path.stem, str(here))
        result.unchanged.append(path.stem)
        progress.file_done(path, "unchanged", 0)
        return None
    return _Job(path, sha, True)


def _prune(index: Index, result: IngestResult) -> None:
    """Remove the reports whose stored file is gone. A path stored relative (by an
    older version) can't be checked from just anywhere: such reports are kept and named."""
    for item in index.record.reports():
        stored = Path(item.report.path)
        if not stored.is_absolute():
            result.unchecked.append(item.report.doc)
        elif not stored.exists():
            index.remove(item.report.doc)
            result.removed.append(item.report.doc)


_READS = 3  # a file still changing after this many reads is reported, not guessed at


def _parse(job: _Job, settings: Settings, worker: ParserWorker) -> ParsedDocument:
    """Parse ``job.path``, stored with the hash of the very bytes parsed: a file changed
    between its hash and its parse (a copy still being written) is read again."""
    sha = job.sha256
    for _ in range(_READS):
        parsed = parse_document(
            job.path,
            sha256=sha,
            password=settings.pdf_password,
            timeout_s=settings.parse_timeout_s,
            memory_mb=settings.parse_memory_mb,
            worker=worker,
            encoding=settings.text_encoding,
        )
        now = content_hash(job.path)
        if now == sha:
            break
        sha = now
    else:
        raise DocumentError(
            str(job.path),
            f"the file changed while it was read, {_READS} times: ingest it again once it "
            "is completely written",
        )
    if not parsed.paragraphs:
        raise DocumentError(str(job.path), "no paragraphs found: nothing to index")
    return parsed


def _store(
    job: _Job,
    parsing: Future[ParsedDocument],
    index: Index,
    progress: IngestProgress,
    result: IngestResult,
) -> None:
    progress.step(job.path, "parsing")
    try:
        parsed = parsing.result()
    except DocumentError as exc:
        result.failed.append(exc)
        progress.file_done(job.path, "failed", 0)
        return
    except OSError as exc:
        result.failed.append(DocumentError(str(job.path), f"can't read: {exc.strerror}"))
        progress.file_done(job.path, "failed", 0)
        return
    progress.step(job.path, f"embedding {len(parsed.paragraphs)} paragraphs of")
    vectors = index.embed(parsed)
    progress.step(job.path, "storing")
    try:
        index.replace(parsed, vectors)
    except DocumentError as exc:  # another writer indexed a newer version meanwhile
        result.failed.append(exc)
        progress.file_done(job.path, "failed", 0)
        return
    (result.updated if job.known else result.added).append(parsed.report.doc)
    result.paragraphs += len(parsed.paragraphs)
    result.pages += parsed.report.pages
    progress.file_done(job.path, "updated" if job.known else "added", len(parsed.paragraphs))


def remove(
    docs: Iterable[str], settings: Settings, embedder: Embedder | None = None
) -> tuple[list[str], list[str]]:
    """Remove documents; returns (removed, unknown)."""
    removed: list[str] = []
    unknown: list[str] = []
    with open_index(settings, embedder) as index:
        index.lock()
        index.check_model()  # the vectors in use are this model's: repair rebuilds them
        index.repair()
        for doc in docs:
            (removed if index.remove(doc) else unknown).append(doc)
        index.refresh_keywords()
    return removed, unknown


def rebuild(settings: Settings, *, reembed: bool = False, embedder: Embedder | None = None) -> int:
    """Recreate the vector store (and keyword index) from the record; vectors counted."""
    with open_index(settings, embedder) as index:
        index.lock()
        if not reembed:
            index.check_model()  # the record's vectors go into this model's collection
        if reembed:
            count = 0
            index.store.reset()
            for item in index.record.reports():
                parsed = ParsedDocument(
                    item.report, tuple(index.record.paragraphs(item.report.doc))
                )
                vectors = index.embed(parsed)
                index.replace(parsed, vectors)
                count += len(vectors)
            index.record.set_meta("collection", index.store.name)
        elif index.shared:
            count = index.store.count()  # the server's vectors are the record: keep them
        else:
            count = index.rebuild_store()
        index.keywords.build(index.record.paragraphs(), index.record.version())
    return count
