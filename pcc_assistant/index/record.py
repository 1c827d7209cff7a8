"""The record of what is indexed: SQLite, committed last, the source of truth.

Chroma is not safe against a killed writer, so every change follows one order: the
record notes which generation of a document Chroma may keep (the journal), the vectors
are written, the record commits the new generation, then Chroma's leftovers are
deleted. Whatever Chroma holds that the record does not name is invisible to readers
and removed by the next writer; ``pcc rebuild`` recreates Chroma from the vectors kept
here.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pcc_assistant.types import Paragraph, Report

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc TEXT PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, title TEXT NOT NULL,
    organisation TEXT NOT NULL, date TEXT, pages INTEGER NOT NULL,
    generation INTEGER NOT NULL, indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS paragraphs (
    doc TEXT NOT NULL, ordinal INTEGER NOT NULL, label TEXT NOT NULL, kind TEXT NOT NULL,
    pages TEXT NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    PRIMARY KEY (doc, ordinal)
);
CREATE TABLE IF NOT EXISTS vectors (
    doc TEXT NOT NULL, ordinal INTEGER NOT NULL, window INTEGER NOT NULL,
    vector BLOB NOT NULL, PRIMARY KEY (doc, ordinal, window)
);
CREATE TABLE IF NOT EXISTS journal (doc TEXT PRIMARY KEY, keep_generation INTEGER);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class IndexedReport:
    report: Report
    generation: int
    paragraphs: int
    indexed_at: str


@dataclass(frozen=True)
class VectorRow:
    doc: str
    ordinal: int
    window: int
    vector: np.ndarray


def _report(row: sqlite3.Row) -> Report:
    return Report(
        doc=row["doc"],
        title=row["title"],
        organisation=row["organisation"],
        date=dt.date.fromisoformat(row["date"]) if row["date"] else None,
        path=row["path"],
        sha256=row["sha256"],
        pages=row["pages"],
    )


def _paragraph(r: sqlite3.Row) -> Paragraph:
    return Paragraph(
        doc=r["doc"],
        ordinal=r["ordinal"],
        label=r["label"],
        kind=r["kind"],
        pages=tuple(json.loads(r["pages"])),
        section=r["section"],
        text=r["text"],
        start=r["start"],
        end=r["end"],
    )


class Record:
    """SQLite file ``record.sqlite`` in the index folder."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def version(self) -> int:
        """Goes up by one at every committed change; caches compare against it."""
        return int(self.get_meta("version") or 0)

    # -- reading ----------------------------------------------------------------------
    def reports(self) -> list[IndexedReport]:
        rows = self._db.execute(
            "SELECT d.*, (SELECT COUNT(*) FROM paragraphs p WHERE p.doc = d.doc) AS n "
            "FROM documents d ORDER BY d.date, d.doc"
        ).fetchall()
        return [IndexedReport(_report(r), r["generation"], r["n"], r["indexed_at"]) for r in rows]

    def report(self, doc: str) -> IndexedReport | None:
        return next((r for r in self.reports() if r.report.doc == doc), None)

    def generations(self) -> dict[str, int]:
        rows = self._db.execute("SELECT doc, generation FROM documents").fetchall()
        return {r["doc"]: r["generation"] for r in rows}

    def paragraphs(self, doc: str | None = None) -> list[Paragraph]:
        sql = "SELECT * FROM paragraphs"
        args: tuple[str, ...] = ()
        if doc is not None:
            sql += " WHERE doc = ?"
            args = (doc,)
        rows = self._db.execute(sql + " ORDER BY doc, ordinal", args).fetchall()
        return [_paragraph(r) for r in rows]

    def paragraphs_at(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Paragraph]:
        """The paragraphs at these (doc, ordinal) keys; keys no longer indexed are absent."""
        by_doc: dict[str, list[int]] = {}
        for doc, ordinal in keys:
            by_doc.setdefault(doc, []).append(ordinal)
        found: dict[tuple[str, int], Paragraph] = {}
        for doc, ordinals in by_doc.items():
            marks = ",".join("?" * len(ordinals))
            for row in self._db.execute(
                f"SELECT * FROM paragraphs WHERE doc = ? AND ordinal IN ({marks})", (doc, *ordinals)
            ):
                found[(doc, row["ordinal"])] = _paragraph(row)
        return found

    def neighbours(self, doc: str, ordinal: int) -> list[Paragraph]:
        """The paragraph before and after, for context."""
        rows = self._db.execute(
            "SELECT * FROM paragraphs WHERE doc = ? AND ordinal IN (?, ?) ORDER BY ordinal",
            (doc, ordinal - 1, ordinal + 1),
        ).fetchall()
        return [_paragraph(r) for r in rows]

    def vectors(self) -> Iterator[VectorRow]:
        for r in self._db.execute("SELECT * FROM vectors ORDER BY doc, ordinal, window"):
            yield VectorRow(
                r["doc"], r["ordinal"], r["window"], np.frombuffer(r["vector"], dtype=np.float32)
            )

    def vectors_of(self, doc: str) -> tuple[list[int], np.ndarray]:
        """One document's vectors (every window) and the paragraph ordinal of each."""
        rows = self._db.execute(
            "SELECT ordinal, vector FROM vectors WHERE doc = ? ORDER BY ordinal, window", (doc,)
        ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [r["ordinal"] for r in rows], np.stack(
            [np.frombuffer(r["vector"], dtype=np.float32) for r in rows]
        )

    def vectors_at(self, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], np.ndarray]:
        """The vectors (a row per window) of the paragraphs at these (doc, ordinal) keys."""
        by_doc: dict[str, list[int]] = {}
        for doc, ordinal in keys:
            by_doc.setdefault(doc, []).append(ordinal)
        rows: dict[tuple[str, int], list[np.ndarray]] = {}
        for doc, ordinals in by_doc.items():
            marks = ",".join("?" * len(ordinals))
            for r in self._db.execute(
                f"SELECT ordinal, vector FROM vectors WHERE doc = ? AND ordinal IN ({marks}) "
                "ORDER BY ordinal, window",
                (doc, *ordinals),
            ):
                rows.setdefault((doc, r["ordinal"]), []).append(
                    np.frombuffer(r["vector"], dtype=np.float32)
                )
        return {key: np.stack(vs) for key, vs in rows.items()}

    def journal(self) -> dict[str, int | None]:
        rows = self._db.execute("SELECT doc, keep_generation FROM journal").fetchall()
        return {r["doc"]: r["keep_generation"] for r in rows}

    # -- writing ----------------------------------------------------------------------
    def next_generation(self) -> int:
        with self.transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            gen = int(row["value"]) + 1 if row else 1
            db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(gen),))
        return gen

    def expect(self, doc: str, keep_generation: int | None) -> None:
        """Note, before touching Chroma, the generation of ``doc`` it may keep."""
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO journal VALUES (?, ?)", (doc, keep_generation))

    def settled(self, doc: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM journal WHERE doc = ?", (doc,))

    def _bump(self, db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta VALUES ('version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def commit_document(
        self,
        report: Report,
        paragraphs: tuple[Paragraph, ...],
        vectors: list[tuple[int, int, np.ndarray]],
        generation: int,
    ) -> str:
        """Replace ``report.doc`` wholly with this generation; returns the time indexed."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.transaction() as db:
            for table in ("documents", "paragraphs", "vectors"):
                db.execute(f"DELETE FROM {table} WHERE doc = ?", (report.doc,))
            db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    report.doc,
                    report.path,
                    report.sha256,
                    report.title,
                    report.organisation,
                    report.date.isoformat() if report.date else None,
                    report.pages,
                    generation,
                    now,
                ),
            )
            db.executemany(
                "INSERT INTO paragraphs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.doc,
                        p.ordinal,
                        p.label,
                        p.kind,
                        json.dumps(list(p.pages)),
                        p.section,
                        p.text,
                        p.start,
                        p.end,
                    )
                    for p in paragraphs
                ],
            )
            db.executemany(
                "INSERT INTO vectors VALUES (?, ?, ?, ?)",
                [(report.doc, o, w, v.astype(np.float32).tobytes()) for o, w, v in vectors],
            )
            db.execute("INSERT OR REPLACE INTO journal VALUES (?, ?)", (report.doc, generation))
            self._bump(db)
        return now

    def update_path(self, doc: str, path: str) -> None:
        with self.transaction() as db:
            db.execute("UPDATE documents SET path = ? WHERE doc = ?", (path, doc))

    def remove_document(self, doc: str) -> None:
        with self.transaction() as db:
            for table in ("documents", "paragraphs", "vectors"):
                db.execute(f"DELETE FROM {table} WHERE doc = ?", (doc,))
            db.execute("INSERT OR REPLACE INTO journal VALUES (?, NULL)", (doc,))
            self._bump(db)
