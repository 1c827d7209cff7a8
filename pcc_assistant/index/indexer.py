"""The index as one thing: record, vectors and keywords kept consistent, crash-safe."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from pcc_assistant.errors import DocumentError, IndexBusyError, PccError
from pcc_assistant.index.embedder import Embedder, Pending, embedding_units
from pcc_assistant.index.health import fix, store_problem
from pcc_assistant.index.keyword import KeywordIndex, keyword_tokens
from pcc_assistant.index.record import Record
from pcc_assistant.index.server import Location
from pcc_assistant.index.shared_record import ChromaRecord, NewerVersionError
from pcc_assistant.index.store import ChromaStore, collection_name, paragraphing_of
from pcc_assistant.index.token_cache import TokenCache
from pcc_assistant.ingest.paragraphs import PARAGRAPHING_VERSION
from pcc_assistant.types import Paragraph, ParsedDocument, Report

_REPAIR_BATCH = 100

Vectors = list[tuple[int, int, np.ndarray]]  # (ordinal, window, vector)


class PendingUnits:
    """A document's vectors on their way (see :meth:`Index.embed_later`)."""

    def __init__(self, keys: list[tuple[int, int]], pending: Pending) -> None:
        self.keys = keys
        self._pending = pending

    def done(self) -> bool:
        return self._pending.done()

    def cancel(self) -> None:
        self._pending.cancel()

    def result(self) -> Vectors:
        vectors = self._pending.result()
        return [(o, w, vectors[i]) for i, (o, w) in enumerate(self.keys)]


@dataclass(frozen=True)
class Repair:
    """What opening the index for writing had to mend."""

    leftovers_removed: int
    store_rebuilt: bool
    problem: str = ""  # why the store was rebuilt: what the check found


class Index:
    """The index: the record of what is indexed, the vectors, the keywords.

    Embedded (the default): the folder holds ``record.sqlite``, ``chroma/`` and
    ``keyword/``. On a Chroma server (``location.url``): the record is kept in the server
    too (see :mod:`shared_record`), and the keyword index, derived from it, is cached in
    ``cache_dir`` under a name of the server's.
    """

    def __init__(
        self,
        folder: Path,
        embedder: Embedder,
        location: Location | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.folder = folder
        self.embedder = embedder
        self.location = location or Location(folder / "chroma")
        name = collection_name(embedder.name, PARAGRAPHING_VERSION, embedder.dim)
        self.store = ChromaStore(self.location, name)
        self.record: Record | ChromaRecord
        if self.location.is_server:
            import hashlib

            key = hashlib.sha1(f"{self.location.base_url()} {name}".encode()).hexdigest()[:16]
            self.work_dir = (cache_dir or folder) / "servers" / key
            self.record = ChromaRecord(self.location, self.store)
        else:
            self.work_dir = folder
            self.record = Record(folder / "record.sqlite")
        self.keywords = KeywordIndex(self.work_dir / "keyword")
        self._lock: object | None = None

    @property
    def shared(self) -> bool:
        return self.location.is_server

    def describe(self) -> str:
        return self.location.describe() if self.shared else f"embedded index {self.folder}"

    # -- writing ----------------------------------------------------------------------
    def lock(self) -> None:
        """Take the writer's lock at once, or refuse: two writers would corrupt Chroma."""
        from filelock import FileLock, Timeout

        # On a server this lock only keeps one machine's writers apart; writers on
        # several machines are kept consistent by generations (see shared_record).
        self.work_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.work_dir / "write.lock"))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise IndexBusyError(
                f"another pcc process is writing to the {self.describe()}; "
                "wait for it to finish and try again"
            ) from None
        self._lock = lock

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.release()  # type: ignore[attr-defined]
            self._lock = None

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.unlock()
        self.record.close()

    def exists(self) -> bool:
        """Whether there is an index here to read (a server: whether it answers); a
        reader's opening. The first use of Chroma then checks that it holds the record's
        vectors (:mod:`health`) and raises one line naming the fix when it doesn't: a
        reader that never searches Chroma (questions scoped to a few reports are scored
        on the record's vectors) doesn't pay for loading it."""
        if self.shared:
            self.store.client()  # raises one line naming the URL when it doesn't answer
        elif not (self.folder / "record.sqlite").is_file():
            return False
        self.store.on_first_use = self._reader_check
        return True

    def _reader_check(self) -> None:
        problem = self.check_store()
        if problem:
            self.store.on_first_use = self._reader_check  # and at every later use
            self.store._collection = None
            raise PccError(fix(self.describe(), problem, self.shared))

    def check_store(self) -> str:
        """'' when Chroma holds the record's current vectors, else what is wrong."""
        return store_problem(self.record, self.store)

    def repair(self) -> Repair:
        """A writer's opening: rebuild a folder's Chroma that doesn't hold the record's
        vectors (gone, damaged), and finish what a killed writer left: drop vectors the
        record does not name."""
        problem = self.check_store()
        if self.shared:
            if problem:  # the server's vectors are the only copy: re-embedding is the fix
                raise PccError(fix(self.describe(), problem, True))
            return self._repair_shared()
        if problem:
            self.rebuild_store()
        journal = self.record.journal()
        for doc, keep in journal.items():
            self.store.delete_other_generations(doc, keep)
            self.record.settled(doc)
        return Repair(len(journal), bool(problem), problem)

    def _repair_shared(self) -> Repair:
        """Delete generations older than each report's committed one, and uncommitted
        ones old enough that their writer must be dead (a live one may be writing)."""
        assert isinstance(self.record, ChromaRecord)
        gens = self.record.generations()
        cutoff = self.record.stale_cutoff()
        clauses: list[dict[str, object]] = [
            {"$and": [{"doc": doc}, {"gen": {"$ne": gen}}, {"gen": {"$lt": max(gen, cutoff)}}]}
            for doc, gen in gens.items()
        ]
        orphan: dict[str, object] = {"gen": {"$lt": cutoff}}
        if gens:
            orphan = {"$and": [{"doc": {"$nin": sorted(gens)}}, orphan]}
        clauses.append(orphan)
        # A hundred reports per request: Chroma's SQLite refuses an expression deeper
        # than 1,000 (seen at 1,000 reports in one request).
        for i in range(0, len(clauses), _REPAIR_BATCH):
            batch = clauses[i : i + _REPAIR_BATCH]
            where = batch[0] if len(batch) == 1 else {"$or": batch}
            self.store.delete(where)
            self.record.delete_paragraphs(where)
        return Repair(0, False)

    def rebuild_store(self, progress: Callable[[int], None] | None = None) -> int:
        """Recreate the Chroma collection from the vectors kept in the record."""
        self.store.reset()
        gens = self.record.generations()
        reports = {r.report.doc: r.report for r in self.record.reports()}
        labels = {(p.doc, p.ordinal): p for p in self.record.paragraphs()}
        ids: list[str] = []
        vecs: list[np.ndarray] = []
        metas: list[dict[str, str | int]] = []
        total = 0

        def flush() -> None:
            nonlocal total
            if ids:
                self.store.add(ids, np.stack(vecs), metas)
                total += len(ids)
                if progress:
                    progress(len(ids))
                ids.clear()
                vecs.clear()
                metas.clear()

        for row in self.record.vectors():
            para = labels[(row.doc, row.ordinal)]
            ids.append(_vector_id(row.doc, gens[row.doc], row.ordinal, row.window))
            vecs.append(row.vector)
            metas.append(_metadata(para, gens[row.doc], row.window, reports[row.doc]))
            if len(ids) >= 1000:
                flush()
        flush()
        for doc in self.record.journal():
            self.record.settled(doc)
        return total

    def embed(self, parsed: ParsedDocument) -> Vectors:
        """(ordinal, window, vector) for every unit of every paragraph (see embedding_units)."""
        return self.embed_later(parsed).result()

    def embed_later(self, parsed: ParsedDocument) -> PendingUnits:
        """Start embedding ``parsed``; the vectors come from ``result()``."""
        units = embedding_units(self.embedder, parsed.paragraphs)
        pending = self.embedder.embed_later([text for _, _, text in units])
        return PendingUnits([(o, w) for o, w, _ in units], pending)

    def replace(self, parsed: ParsedDocument, vectors: Vectors) -> str:
        """Index ``parsed`` in place of any earlier version of the same document."""
        doc = parsed.report.doc
        old = self.record.generations().get(doc)
        gen = self.record.next_generation()
        self.record.expect(doc, old)  # a crash from here on leaves the old version whole
        by_ordinal = {p.ordinal: p for p in parsed.paragraphs}
        self.store.add(
            [_vector_id(doc, gen, o, w) for o, w, _ in vectors],
            np.stack([v for _, _, v in vectors]) if vectors else np.zeros((0, 1)),
            [_metadata(by_ordinal[o], gen, w, parsed.report) for o, w, _ in vectors],
        )
        try:
            indexed_at = self.record.commit_document(parsed.report, parsed.paragraphs, vectors, gen)
        except NewerVersionError as exc:
            self._drop(doc, {"gen": gen})
            raise DocumentError(parsed.report.path, str(exc).split(": ", 1)[-1]) from None
        if self.shared:
            self._drop(doc, {"gen": {"$lt": gen}})
        else:
            self.store.delete_other_generations(doc, gen)
        self.record.settled(doc)
        return indexed_at

    def _drop(self, doc: str, gen_filter: dict[str, object] | None) -> None:
        """Delete a shared index's vectors and paragraphs of ``doc`` matching the filter."""
        assert isinstance(self.record, ChromaRecord)
        where: dict[str, object] = {"doc": doc}
        if gen_filter is not None:
            where = {"$and": [{"doc": doc}, gen_filter]}
        self.store.delete(where)
        self.record.delete_paragraphs(where)

    def remove(self, doc: str) -> bool:
        if doc not in self.record.generations():
            return False
        self.record.remove_document(doc)
        if self.shared:
            self._drop(doc, None)
            return True
        self.store.delete_other_generations(doc, None)
        self.record.settled(doc)
        return True

    def refresh_keywords(self) -> None:
        version = self.record.version()
        if self.keywords.version() != version or not self.keywords.folder.is_dir():
            self.build_keywords(version)

    def build_keywords(self, version: int, persist: bool = True) -> None:
        """Build the keyword index of the record at ``version``.

        On a server the words of each report generation are kept in the client's cache
        (:mod:`token_cache`): after a change only the changed reports are fetched and cut.
        """
        if not isinstance(self.record, ChromaRecord):
            self.keywords.build(self.record.paragraphs(), version, persist)
            return
        cache = TokenCache(self.work_dir / "tokens")
        committed = {i.report.doc: i for i in self.record.reports()}
        rows = {d: cache.get(d, i.generation) for d, i in committed.items()}
        missing = {d: committed[d] for d, r in rows.items() if r is None}
        for d, ps in self.record.paragraphs_by_report(missing).items():
            got = [(p.ordinal, keyword_tokens(p)) for p in sorted(ps, key=lambda p: p.ordinal)]
            if len(got) == missing[d].paragraphs:  # whole: keep it
                cache.put(d, missing[d].generation, got)
            rows[d] = got
        cache.prune({(d, i.generation) for d, i in committed.items()})
        keys: list[tuple[str, int]] = []
        tokens: list[list[str]] = []
        for d in sorted(rows):
            for ordinal, words in rows[d] or ():
                keys.append((d, ordinal))
                tokens.append(words)
        self.keywords.build_tokens(keys, tokens, version, persist)

    def stale(self) -> str | None:
        """The collection the record names when it isn't this embedder's, else None.

        Then the record's vectors were made by another model, precision or windowing (an
        earlier pcc, or other settings), and mixing them with this embedder's would make
        searches compare unlike vectors: they must be embedded again (:meth:`check_model`).
        """
        known = self.record.get_meta("collection")
        return known if known is not None and known != self.store.name else None

    def check_model(self) -> None:
        """Name this embedder's collection in a new record; refuse what re-embedding can't mend.

        Vectors of another model, precision or windowing are mended by embedding the
        record's paragraphs again (``pcc ingest`` does it; see :meth:`stale`). Paragraphs cut
        by other rules are not: those need the reports parsed again.
        """
        known = self.record.get_meta("collection")
        if known is None:
            self.record.set_meta("collection", self.store.name)
        elif known != self.store.name and paragraphing_of(known) != PARAGRAPHING_VERSION:
            raise PccError(
                f"the index in {self.folder} was built for {known}, not {self.store.name}: "
                "its paragraphs were cut by other rules; ingest the reports into a new "
                "--index folder"
            )

    def stale_message(self, known: str) -> str:
        """What a reader of a stale index is told (see :meth:`stale`)."""
        return (
            f"the {self.describe()} holds vectors of another embedding ({known}; this pcc "
            f"uses {self.store.name}): run `pcc ingest` or `pcc rebuild` once to embed its "
            "paragraphs again (no report is parsed again), then try again"
        )


def _vector_id(doc: str, gen: int, ordinal: int, window: int) -> str:
    return f"{doc}@{gen}#{ordinal}.{window}"


def _metadata(p: Paragraph, gen: int, window: int, report: Report) -> dict[str, str | int]:
    return {
        "doc": p.doc,
        "gen": gen,
        "ordinal": p.ordinal,
        "window": window,
        "label": p.label,
        "organisation": report.organisation,
        "date": int(report.date.strftime("%Y%m%d")) if report.date else 0,
    }
