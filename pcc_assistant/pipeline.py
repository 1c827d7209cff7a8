"""The one module that knows every stage: files -> paragraphs -> index (-> answers)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from pcc_assistant.config import Settings
from pcc_assistant.errors import DocumentError, PccError
from pcc_assistant.index.embedder import Embedder, SentenceTransformerEmbedder
from pcc_assistant.index.indexer import Index, PendingUnits, Repair
from pcc_assistant.index.server import Location
from pcc_assistant.ingest.ahead import ParseAhead
from pcc_assistant.ingest.document import content_hash, parse_document
from pcc_assistant.ingest.isolation import ParserWorker
from pcc_assistant.ingest.loaders import supported
from pcc_assistant.types import ParsedDocument

_T = TypeVar("_T")


class IngestProgress(Protocol):
    """What ingest reports as it goes; the CLI draws it as a progress bar."""

    def begin(self, files: int) -> None: ...

    def note(self, text: str) -> None:
        """Work that isn't a file's: exporting the model, embedding an old index again."""
        ...

    def step(self, path: Path, what: str) -> None: ...

    def file_done(self, path: Path, status: str, paragraphs: int, pages: int = 0) -> None: ...


class _Silent:
    def begin(self, files: int) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def step(self, path: Path, what: str) -> None:
        pass

    def file_done(self, path: Path, status: str, paragraphs: int, pages: int = 0) -> None:
        pass


@dataclass
class Timings:
    """Where an ingest's time went, from the ingesting thread's side (seconds).

    Parsing (in its worker process) and embedding (on the embedder's threads) run alongside
    storing, so these add up to the whole run: ``embed`` and ``parse`` are the time spent
    waiting for them, ``store`` writing Chroma and the record, ``other`` the rest (opening the
    index, the keyword index, hashing files). ``parse_work`` is how long the parser worked in
    all, most of it hidden behind embedding.
    """

    parse: float = 0.0
    embed: float = 0.0
    store: float = 0.0
    other: float = 0.0
    parse_work: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in self.__dict__.items()}


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
    timings: Timings = field(default_factory=Timings)
    repair: Repair | None = None
    onnx_prepared: bool = False  # the embedding model was exported to ONNX in this run
    reembedded: int = 0  # paragraphs of an index of other vectors embedded again
    reembedded_from: str = ""  # the collection those vectors were in


def _model_dir(settings: Settings) -> Path:
    from pcc_assistant.index.embedder import packaged_model_path

    return Path(settings.embedding_model) if settings.embedding_model else packaged_model_path()


def onnx_folder(settings: Settings) -> Path:
    """Where the model's ONNX export is kept: named after the model, the export's format and
    the model folder it was made from. Exports of another format (an earlier pcc's) or of
    another installation (a second checkout's .venv, whose model folder differs) sit beside
    it, so none is read for another or exported over it by turns."""
    import hashlib

    from pcc_assistant.index.onnx_embedder import EXPORT_TAG, default_name

    model = _model_dir(settings)
    source = hashlib.sha256(str(model.resolve()).encode()).hexdigest()[:8]
    return settings.cache_dir / "onnx" / f"{default_name(model)}-{EXPORT_TAG}-{source}"


def export_needed(settings: Settings) -> bool:
    """Whether embedding would first have to export the model (about 30 s, once)."""
    if not settings.onnx:
        return False
    from pcc_assistant.index.onnx_embedder import onnx_ready

    return not onnx_ready(onnx_folder(settings), _model_dir(settings), int8=True)


def prepare_onnx(settings: Settings) -> bool:
    """Export the model to ONNX if that hasn't been done; True if it was done now.

    The only place torch is imported (inside ``export_onnx``); every later ingest and
    question embeds through onnxruntime. A failure is one line saying how to go on.
    """
    if not export_needed(settings):
        return False
    from pcc_assistant.index.onnx_embedder import export_onnx

    folder = onnx_folder(settings)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        export_onnx(_model_dir(settings), folder)
    except PccError:
        raise
    except Exception as exc:
        raise PccError(
            f"could not export the embedding model to ONNX in {folder} "
            f"({type(exc).__name__}: {exc}); set PCC_ONNX=false to embed through "
            "sentence-transformers (slower) instead"
        ) from exc
    return True


def int8_refused(settings: Settings) -> str:
    """Why the int8 model asked for (``embed_int8``) isn't used, or "" when it is (or wasn't
    asked for, or there is no export yet to say)."""
    if not (settings.onnx and settings.embed_int8):
        return ""
    from pcc_assistant.index.onnx_embedder import INT8_FLOOR, int8_usable, read_stamp

    folder = onnx_folder(settings)
    stamp = read_stamp(folder)
    if not stamp or int8_usable(folder):
        return ""
    return (
        f"the int8 model is not used: its worst cosine to the fp32 vectors was "
        f"{stamp.get('int8_min_cosine')}, under {INT8_FLOOR}; embedding with fp32"
    )


def make_embedder(settings: Settings, *, prepare: bool = True) -> Embedder:
    """The model through onnxruntime, fp32 unless ``embed_int8`` is on and the export's check
    of the int8 model passed (:func:`int8_refused` says when it didn't); exported first if
    need be (``prepare``). With ``onnx`` off, the same model through sentence-transformers
    (7 s of imports; the fp32 vectors)."""
    if not settings.onnx:
        return SentenceTransformerEmbedder(settings.embedding_model, settings.embed_batch_size)
    from pcc_assistant.index.onnx_embedder import OnnxEmbedder, int8_usable, read_stamp

    if prepare:
        prepare_onnx(settings)
    folder = onnx_folder(settings)
    if read_stamp(folder):
        int8 = settings.embed_int8 and int8_usable(folder)
        return OnnxEmbedder.from_export(
            folder, settings.embed_batch_size, int8=int8, threads=settings.embed_threads or None
        )
    # Not exported, and not to be now (a command that only removes or lists): the name the
    # vectors would have is enough to find the collection.
    from pcc_assistant.index.onnx_embedder import DEFAULT_NAME, default_name

    name = default_name(_model_dir(settings)) if settings.embedding_model else DEFAULT_NAME
    return OnnxEmbedder(
        folder,
        settings.embed_batch_size,
        name,
        int8=settings.embed_int8,
        threads=settings.embed_threads or None,
    )


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


# Documents parsed ahead of the one being embedded (memory: a parsed report is its text).
PARSE_AHEAD = 8
# Parser processes at most (each up to parse_memory_mb).
PARSE_WORKERS = 2
# Documents whose batches are queued on the embedder while the oldest is stored: with two,
# the embedding threads have the next document's batches when they finish this one's.
EMBED_AHEAD = 2


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

    Three stages run side by side: the parser worker process reads the next files
    (:class:`~pcc_assistant.ingest.ahead.ParseAhead`), the embedder's threads embed the
    documents handed to them, and this thread stores each document as its vectors come in,
    oldest first.
    """
    started = time.perf_counter()
    progress = progress or _Silent()
    result = IngestResult()
    files, result.failed = discover(paths)
    if embedder is None:
        if export_needed(settings):
            progress.note("exporting the embedding model to ONNX (once, about 30 s)")
        result.onnx_prepared = prepare_onnx(settings)
        embedder = make_embedder(settings, prepare=False)
    # Ahead of need, while Chroma is imported and the index opened: the parser processes
    # start (and import pypdf), and the model loads, each on its own.
    workers = [
        ParserWorker(settings.parse_timeout_s, settings.parse_memory_mb)
        for _ in range(min(_parse_workers(), sum(p.suffix.lower() == ".pdf" for p in files)))
    ]
    for worker in workers:
        worker.start()
    # Joined before returning: a process must not exit while onnxruntime loads a model.
    warming = threading.Thread(target=_warm, args=(embedder,), name="pcc-warm")
    clock = _Clock(result.timings)
    try:
        with open_index(settings, embedder) as index:
            index.lock()
            if files:
                warming.start()
            index.check_model()
            result.repair = index.repair()
            old = index.stale()
            if old is not None:
                result.reembedded_from = old
                result.reembedded = embed_again(index, progress, clock)
            progress.begin(len(files))
            todo = [
                job for path in files if (job := _changed(path, index, progress, result, replace))
            ]
            parsing = ParseAhead(
                todo,
                lambda job, worker: _parse(job, settings, worker),
                workers or [_no_worker(settings)],
                PARSE_AHEAD,
            )
            try:
                _embed_and_store(parsing, index, progress, result, clock)
            finally:
                parsing.close()
                result.timings.parse_work = parsing.work
            if prune:
                _prune(index, result)
            index.refresh_keywords()
    finally:
        for worker in workers:
            worker.close()
        if warming.is_alive():
            warming.join()
    result.seconds = time.perf_counter() - started
    t = result.timings
    t.other = max(0.0, result.seconds - t.parse - t.embed - t.store)
    return result


def _embed_and_store(
    parsing: ParseAhead[_Job],
    index: Index,
    progress: IngestProgress,
    result: IngestResult,
    clock: _Clock,
) -> None:
    """Hand each parsed document to the embedder as it comes, and store the oldest once its
    vectors are in (or when EMBED_AHEAD documents are already queued)."""
    in_flight: deque[tuple[_Job, ParsedDocument, PendingUnits]] = deque()
    try:
        for job, outcome in clock.waiting("parse", parsing):
            if isinstance(outcome, ParsedDocument):
                progress.step(job.path, f"embedding {len(outcome.paragraphs)} paragraphs of")
                in_flight.append((job, outcome, index.embed_later(outcome)))
            else:
                result.failed.append(outcome)
                progress.file_done(job.path, "failed", 0)
            while in_flight and (len(in_flight) > EMBED_AHEAD or in_flight[0][2].done()):
                _store(*in_flight.popleft(), index, progress, result, clock)
        while in_flight:
            _store(*in_flight.popleft(), index, progress, result, clock)
    finally:
        for _, _, pending in in_flight:  # stopped by an error: don't embed what won't be stored
            pending.cancel()


def _parse_workers() -> int:
    """Parser processes: one per two cores, at most PARSE_WORKERS. Parsing is a fraction of
    embedding's work (pypdf: about 90 s of 3,000 pages, against minutes of embedding), so one
    process keeps ahead on 2 cores; a second measured no faster there (all is CPU-bound)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(PARSE_WORKERS, cores // 2))


def _no_worker(settings: Settings) -> ParserWorker:
    """A worker for a run without PDFs: text files never start it."""
    return ParserWorker(settings.parse_timeout_s, settings.parse_memory_mb)


def _warm(embedder: Embedder) -> None:
    """Load the model (a fraction of a second) before the first document needs it."""
    warm = getattr(embedder, "warm", None)
    if warm is not None:
        with contextlib.suppress(Exception):  # the first real embedding raises it again
            warm()


class _Clock:
    """Adds the time this thread spends in a stage to ``timings``."""

    def __init__(self, timings: Timings) -> None:
        self.timings = timings

    def add(self, stage: str, seconds: float) -> None:
        setattr(self.timings, stage, getattr(self.timings, stage) + seconds)

    def waiting(self, stage: str, items: Iterable[_T]) -> Iterator[_T]:
        """``items``, with the time spent waiting for each added to ``stage``."""
        it = iter(items)
        while True:
            t = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                self.add(stage, time.perf_counter() - t)
                return
            self.add(stage, time.perf_counter() - t)
            yield item


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
    try:
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
    except OSError as exc:
        raise DocumentError(str(job.path), f"can't read: {exc.strerror}") from None
    if not parsed.paragraphs:
        raise DocumentError(str(job.path), "no paragraphs found: nothing to index")
    return parsed


def _store(
    job: _Job,
    parsed: ParsedDocument,
    embedding: PendingUnits,
    index: Index,
    progress: IngestProgress,
    result: IngestResult,
    clock: _Clock,
) -> None:
    t = time.perf_counter()
    vectors = embedding.result()
    t1 = time.perf_counter()
    clock.add("embed", t1 - t)
    progress.step(job.path, "storing")
    try:
        index.replace(parsed, vectors)
    except DocumentError as exc:  # another writer indexed a newer version meanwhile
        result.failed.append(exc)
        progress.file_done(job.path, "failed", 0)
        return
    finally:
        clock.add("store", time.perf_counter() - t1)
    (result.updated if job.known else result.added).append(parsed.report.doc)
    result.paragraphs += len(parsed.paragraphs)
    result.pages += parsed.report.pages
    progress.file_done(
        job.path, "updated" if job.known else "added", len(parsed.paragraphs), parsed.report.pages
    )


def embed_again(
    index: Index, progress: IngestProgress | None = None, clock: _Clock | None = None
) -> int:
    """Embed every paragraph the record holds again, into this embedder's collection.

    For an index whose vectors are another embedding's (:meth:`Index.stale`): an earlier
    pcc's, another model or precision. Nothing is parsed again. The record names the new
    collection only once every report is in it, so a run cut short leaves the index stale and
    the next run starts over; the old collection is deleted at the end. Returns the number
    of paragraphs embedded.
    """
    progress = progress or _Silent()
    clock = clock or _Clock(Timings())
    old = index.stale()
    reports = index.record.reports()
    total = sum(r.paragraphs for r in reports)
    why = f": the index holds another embedding's vectors ({old})" if old else ""
    progress.note(f"embedding the {total:,} indexed paragraphs again{why}")
    index.store.clear()
    in_flight: deque[tuple[ParsedDocument, PendingUnits]] = deque()

    def store() -> None:
        parsed, pending = in_flight.popleft()
        t = time.perf_counter()
        vectors = pending.result()
        t1 = time.perf_counter()
        clock.add("embed", t1 - t)
        index.replace(parsed, vectors)
        clock.add("store", time.perf_counter() - t1)

    for item in reports:
        parsed = ParsedDocument(item.report, tuple(index.record.paragraphs(item.report.doc)))
        in_flight.append((parsed, index.embed_later(parsed)))
        while len(in_flight) > EMBED_AHEAD:
            store()
    while in_flight:
        store()
    index.record.set_meta("collection", index.store.name)
    if old is not None and old != index.store.name:
        index.store.drop(old)
    return total


def remove(
    docs: Iterable[str], settings: Settings, embedder: Embedder | None = None
) -> tuple[list[str], list[str]]:
    """Remove documents; returns (removed, unknown)."""
    removed: list[str] = []
    unknown: list[str] = []
    with open_index(settings, embedder) as index:
        index.lock()
        index.check_model()
        index.repair()
        for doc in docs:
            (removed if index.remove(doc) else unknown).append(doc)
        index.refresh_keywords()
    return removed, unknown


def rebuild(
    settings: Settings,
    *,
    reembed: bool = False,
    progress: IngestProgress | None = None,
    embedder: Embedder | None = None,
) -> tuple[int, str | None]:
    """Recreate the vector store (and keyword index) from the record.

    Returns the vectors held after, and the collection of another embedding the record
    named (its paragraphs were then embedded again, even without ``reembed``: copying its
    vectors would mix two embeddings), or None.
    """
    with open_index(settings, embedder) as index:
        index.lock()
        index.check_model()
        old = index.stale()
        if reembed or old is not None:
            embed_again(index, progress)
            count = index.store.count()
        elif index.shared:
            count = index.store.count()  # the server's vectors are the record: keep them
        else:
            count = index.rebuild_store()
        index.keywords.build(index.record.paragraphs(), index.record.version())
    return count, old
