"""The record of what is indexed, kept in the Chroma server itself, for a shared index.

Every client of one server must see the same reports, paragraphs and generations, so
the record lives beside the vectors, in two more collections of the same server:

- ``pcc-record-reports``: one entry per report (its metadata and committed generation);
  writing this entry is the commit. A few ``meta:`` entries hold settings (the vector
  collection in use, so two embedding models are never mixed).
- ``pcc-record-paragraphs``: every paragraph's text and place, one entry per generation.

The vectors' collection is named after the embedding model; the record's are not, so
``pcc rebuild --reembed`` can re-embed what the record holds.

A writer stores a new generation's vectors and paragraphs first, under ids no reader
asks for, then writes the report entry in one request, then deletes older generations.
Readers look up the committed generation first and read only that one, so a report being
ingested is invisible until its entry is written, and a writer that dies leaves only
entries no reader names; the next writer deletes them. Chroma types stay in this module.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from pcc_assistant.errors import PccError
from pcc_assistant.index.record import IndexedReport
from pcc_assistant.index.server import Location
from pcc_assistant.index.store import ChromaStore
from pcc_assistant.types import Paragraph, Report

_PAGE = 5000  # entries fetched per request
_READ_ONE_BY_ONE = 4  # reports read with a request each; more are read in pages of all
_DUMMY = [1.0]  # the record's collections hold no vectors; Chroma wants one per entry
STALE_AFTER_S = 3600.0  # an uncommitted generation this old belongs to a dead writer
FRESH_S = 0.25  # one answer asks for the reports several times; one request serves them


def _paragraph_id(doc: str, gen: int, ordinal: int) -> str:
    return f"{doc}@{gen}#{ordinal}"


class NewerVersionError(PccError):
    """Another writer committed a newer generation of the same report meanwhile."""


class ChromaRecord:
    """The record in Chroma collections beside ``store``'s vectors (no store: the record
    alone, for listing)."""

    def __init__(self, location: Location, store: ChromaStore | None = None) -> None:
        self.store = store
        self.location = location
        self._client: Any = None
        self._reports: Any = None
        self._paragraphs: Any = None
        self._memo: tuple[float, list[IndexedReport]] | None = None

    def client(self) -> Any:
        if self.store is not None:
            return self.store.client()
        if self._client is None:
            self._client = self.location.client()
        return self._client

    # -- collections ------------------------------------------------------------------
    def _collection(self, suffix: str) -> Any:
        with self.location.guard("opening the record"):
            return self.client().get_or_create_collection(
                f"pcc-record-{suffix}", embedding_function=None
            )

    @property
    def _rep(self) -> Any:
        if self._reports is None:
            self._reports = self._collection("reports")
        return self._reports

    @property
    def _par(self) -> Any:
        if self._paragraphs is None:
            self._paragraphs = self._collection("paragraphs")
        return self._paragraphs

    def _get(self, col: Any, doing: str, **kwargs: Any) -> dict[str, Any]:
        """``col.get`` in pages, results joined."""
        out: dict[str, list[Any]] = {"ids": [], "metadatas": [], "documents": []}
        offset = 0
        while True:
            with self.location.guard(doing):
                res = col.get(limit=_PAGE, offset=offset, **kwargs)
            out["ids"] += res["ids"]
            out["metadatas"] += res["metadatas"] or [{}] * len(res["ids"])
            out["documents"] += res["documents"] or [""] * len(res["ids"])
            if len(res["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def close(self) -> None:
        self._reports = self._paragraphs = None

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.location.guard("reading the record"):
            res = self._rep.get(ids=[f"meta:{key}"], include=["metadatas"])
        return str(res["metadatas"][0]["value"]) if res["ids"] else None

    def set_meta(self, key: str, value: str) -> None:
        self._changed()
        with self.location.guard("writing the record"):
            self._rep.upsert(
                ids=[f"meta:{key}"],
                embeddings=[_DUMMY],
                metadatas=[{"kind": "meta", "value": value}],
            )

    def version(self) -> int:
        """Changes whenever any report's committed generation does."""
        gens = sorted(self.generations().items())
        digest = hashlib.sha1(json.dumps(gens).encode()).hexdigest()
        return int(digest[:12], 16)

    # -- reading ----------------------------------------------------------------------
    def reports(self) -> list[IndexedReport]:
        """The committed reports. Read at most every FRESH_S seconds: a reader a moment
        behind sees a whole older version (its vectors and paragraphs are read by the
        generation named here), never part of a newer one."""
        if self._memo is not None and time.monotonic() - self._memo[0] < FRESH_S:
            return list(self._memo[1])
        res = self._get(
            self._rep, "reading the record", where={"kind": "report"}, include=["metadatas"]
        )
        items = [_indexed(m) for m in res["metadatas"]]
        items.sort(key=lambda i: (i.report.date or dt.date.min, i.report.doc))
        self._memo = (time.monotonic(), items)
        return list(items)

    def _changed(self) -> None:
        self._memo = None

    def report(self, doc: str) -> IndexedReport | None:
        with self.location.guard("reading the record"):
            res = self._rep.get(ids=[f"report:{doc}"], include=["metadatas"])
        return _indexed(res["metadatas"][0]) if res["ids"] else None

    def generations(self) -> dict[str, int]:
        return {i.report.doc: i.generation for i in self.reports()}

    def paragraphs(self, doc: str | None = None) -> list[Paragraph]:
        """The committed paragraphs of ``doc``, or of every report."""
        if doc is not None:
            return self._paragraphs_of_committed(doc)
        committed = {i.report.doc: i for i in self.reports()}
        found = [p for ps in self.paragraphs_by_report(committed).values() for p in ps]
        return sorted(found, key=lambda p: (p.doc, p.ordinal))

    def _paragraphs_of_committed(self, doc: str) -> list[Paragraph]:
        """``doc``'s paragraphs at its committed generation. The reports are remembered
        for FRESH_S; if a writer replaced the report (and deleted the remembered
        generation) meanwhile, they are read again."""
        for fresh in (False, True):
            if fresh:  # the remembered generation was replaced (and deleted) since
                self._changed()
            item = next((i for i in self.reports() if i.report.doc == doc), None)
            if item is None:
                return []
            found = self._paragraphs_of(doc, item.generation)
            if len(found) == item.paragraphs:
                break
        return found

    def paragraphs_by_report(
        self, wanted: Mapping[str, IndexedReport]
    ) -> dict[str, list[Paragraph]]:
        """The paragraphs of these committed report generations, by report.

        A few reports are read one request each; more, in pages of the whole collection
        (few requests). A writer adding or deleting meanwhile can shift the pages, so a
        report whose count doesn't match its record entry is read again by itself.
        """
        if len(wanted) <= _READ_ONE_BY_ONE:
            return {d: self._paragraphs_of(d, i.generation) for d, i in wanted.items()}
        res = self._get(self._par, "reading paragraphs")
        by_doc: dict[str, list[Paragraph]] = {}
        for m, text in zip(res["metadatas"], res["documents"], strict=True):
            d = str(m.get("doc"))
            if d in wanted and wanted[d].generation == m.get("gen"):
                by_doc.setdefault(d, []).append(_paragraph(m, text))
        for d, item in wanted.items():
            if len(by_doc.get(d, ())) != item.paragraphs:
                by_doc[d] = self._paragraphs_of(d, item.generation)
        return by_doc

    def _paragraphs_of(self, doc: str, gen: int) -> list[Paragraph]:
        where = {"$and": [{"doc": doc}, {"gen": gen}]}
        res = self._get(self._par, "reading paragraphs", where=where)
        return [_paragraph(m, t) for m, t in zip(res["metadatas"], res["documents"], strict=True)]

    def paragraphs_at(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Paragraph]:
        """The paragraphs at these (doc, ordinal) keys; keys no longer indexed are absent."""
        if not keys:
            return {}
        gens = self.generations()
        ids = [_paragraph_id(d, gens[d], o) for d, o in keys if d in gens]
        if not ids:
            return {}
        with self.location.guard("reading paragraphs"):
            res = self._par.get(ids=ids, include=["metadatas", "documents"])
        found = [_paragraph(m, t) for m, t in zip(res["metadatas"], res["documents"], strict=True)]
        return {(p.doc, p.ordinal): p for p in found}

    def neighbours(self, doc: str, ordinal: int) -> list[Paragraph]:
        got = self.paragraphs_at([(doc, ordinal - 1), (doc, ordinal + 1)])
        return [got[k] for k in sorted(got)]

    def vectors_of(self, doc: str) -> tuple[list[int], np.ndarray]:
        gen = self.generations().get(doc)
        if gen is None or self.store is None:
            return [], np.zeros((0, 0), dtype=np.float32)
        return self.store.vectors_of(doc, gen)

    def vectors_at(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], np.ndarray]:
        """The vectors (a row per window) of the paragraphs at these (doc, ordinal) keys."""
        if self.store is None:
            return {}
        generations = self.generations()
        by_doc: dict[str, list[int]] = {}
        for doc, ordinal in keys:
            if doc in generations:
                by_doc.setdefault(doc, []).append(ordinal)
        out: dict[tuple[str, int], np.ndarray] = {}
        for doc, ordinals in by_doc.items():
            out.update(self.store.vectors_at(doc, generations[doc], ordinals))
        return out

    def vectors(self) -> Iterator[Any]:
        raise PccError(
            "on a Chroma server the vectors are the record: there is nothing to rebuild from "
            "(use `pcc rebuild --reembed` to embed every paragraph again)"
        )

    def journal(self) -> dict[str, int | None]:
        return {}  # no journal: uncommitted generations are found by their age (repair)

    # -- writing ----------------------------------------------------------------------
    def next_generation(self) -> int:
        """Microseconds since 1970, above every committed generation (clocks differ)."""
        newest = max(self.generations().values(), default=0)
        return max(time.time_ns() // 1000, newest + 1)

    def expect(self, doc: str, keep_generation: int | None) -> None:
        pass

    def settled(self, doc: str) -> None:
        pass

    def write_paragraphs(self, paragraphs: Sequence[Paragraph], generation: int) -> None:
        """Store a generation's paragraphs; invisible until its report entry is written."""
        for i in range(0, len(paragraphs), 1000):
            batch = paragraphs[i : i + 1000]
            with self.location.guard("storing paragraphs"):
                self._par.upsert(
                    ids=[_paragraph_id(p.doc, generation, p.ordinal) for p in batch],
                    embeddings=[_DUMMY] * len(batch),
                    documents=[p.text for p in batch],
                    metadatas=[_paragraph_meta(p, generation) for p in batch],
                )

    def commit_document(
        self,
        report: Report,
        paragraphs: tuple[Paragraph, ...],
        vectors: list[tuple[int, int, np.ndarray]],
        generation: int,
    ) -> str:
        """Make ``generation`` of ``report.doc`` the one readers see; its vectors are
        already stored. Refuses if another writer has committed a newer generation."""
        self.write_paragraphs(paragraphs, generation)
        self._changed()
        current = self.report(report.doc)
        if current is not None and current.generation > generation:
            raise NewerVersionError(
                f"{report.path}: another writer indexed a newer version of {report.doc} "
                "while this one ran; theirs is kept"
            )
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._changed()
        with self.location.guard("committing the record"):
            self._rep.upsert(
                ids=[f"report:{report.doc}"],
                embeddings=[_DUMMY],
                metadatas=[_report_meta(report, generation, len(paragraphs), now)],
            )
        return now

    def update_path(self, doc: str, path: str) -> None:
        current = self.report(doc)
        if current is None:
            return
        r = current.report
        moved = Report(r.doc, r.title, r.organisation, r.date, path, r.sha256, r.pages)
        self._changed()
        with self.location.guard("writing the record"):
            self._rep.upsert(
                ids=[f"report:{doc}"],
                embeddings=[_DUMMY],
                metadatas=[
                    _report_meta(moved, current.generation, current.paragraphs, current.indexed_at)
                ],
            )

    def remove_document(self, doc: str) -> None:
        self._changed()
        with self.location.guard("removing from the record"):
            self._rep.delete(ids=[f"report:{doc}"])

    def delete_paragraphs(self, where: dict[str, Any]) -> None:
        with self.location.guard("deleting paragraphs"):
            self._par.delete(where=where)

    def stale_cutoff(self) -> int:
        return time.time_ns() // 1000 - int(STALE_AFTER_S * 1e6)

    def held(self) -> dict[tuple[str, int], int]:
        """Paragraph entries per (doc, generation), committed or not: for checks and tests."""
        res = self._get(self._par, "reading paragraphs", include=["metadatas"])
        held: dict[tuple[str, int], int] = {}
        for m in res["metadatas"]:
            key = (str(m["doc"]), int(m["gen"]))
            held[key] = held.get(key, 0) + 1
        return held


def _report_meta(r: Report, gen: int, paragraphs: int, indexed_at: str) -> dict[str, Any]:
    return {
        "kind": "report",
        "doc": r.doc,
        "title": r.title,
        "organisation": r.organisation,
        "date": r.date.isoformat() if r.date else "",
        "path": r.path,
        "sha256": r.sha256,
        "pages": r.pages,
        "generation": gen,
        "paragraphs": paragraphs,
        "indexed_at": indexed_at,
    }


def _indexed(m: dict[str, Any]) -> IndexedReport:
    report = Report(
        doc=str(m["doc"]),
        title=str(m["title"]),
        organisation=str(m["organisation"]),
        date=dt.date.fromisoformat(str(m["date"])) if m.get("date") else None,
        path=str(m["path"]),
        sha256=str(m["sha256"]),
        pages=int(m["pages"]),
    )
    return IndexedReport(report, int(m["generation"]), int(m["paragraphs"]), str(m["indexed_at"]))


def _paragraph_meta(p: Paragraph, gen: int) -> dict[str, Any]:
    return {
        "doc": p.doc,
        "gen": gen,
        "ordinal": p.ordinal,
        "label": p.label,
        "kind": p.kind,
        "pages": json.dumps(list(p.pages)),
        "section": p.section,
        "start": p.start,
        "end": p.end,
    }


def _paragraph(m: dict[str, Any], text: str) -> Paragraph:
    return Paragraph(
        doc=str(m["doc"]),
        ordinal=int(m["ordinal"]),
        label=str(m["label"]),
        kind=str(m["kind"]),
        pages=tuple(json.loads(str(m["pages"]))),
        section=str(m["section"]),
        text=text,
        start=int(m["start"]),
        end=int(m["end"]),
    )
