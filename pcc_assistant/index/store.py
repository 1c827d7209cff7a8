"""Vectors in Chroma (an embedded folder or a server). Chroma types stay inside this module."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pcc_assistant.errors import PccError
from pcc_assistant.index.server import Location

_BATCH = 1000


def collection_name(model: str, paragraphing_version: int, dim: int) -> str:
    """Named after what would make the vectors stale, so old and new never mix: the model (and
    its precision: an int8 model has a name of its own), the paragraphing, the size.

    Not the windowing (:func:`~pcc_assistant.index.embedder.embedding_units`): a window cut by
    other rules is still a vector of the same model over part of the same paragraph, so
    searches compare like with like; a report re-ingested gets the current windows.
    """
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-._") or "model"
    return f"pcc-{slug}-p{paragraphing_version}-d{dim}"[:200]


def paragraphing_of(name: str) -> int | None:
    """The paragraphing version a collection name records (None when it records none)."""
    m = re.search(r"-p(\d+)-d\d+$", name)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class VectorHit:
    doc: str
    generation: int
    ordinal: int
    distance: float


class ChromaStore:
    def __init__(self, location: Location, name: str) -> None:
        self.location = location
        self.name = name
        self._client: Any = None
        self._collection: Any = None
        # Run once, just after the collection is first opened (a reader's health check:
        # the first touch of a collection loads it, 0.5 s at 100,000 vectors, which the
        # check would otherwise add to a question that never searches Chroma).
        self.on_first_use: Callable[[], None] | None = None

    @property
    def folder(self) -> Path:
        return self.location.folder

    def client(self) -> Any:
        if self._client is None:
            self._client = self.location.client()
        return self._client

    def _open(self) -> Any:
        if self._collection is None:
            with self.location.guard("opening the vector collection"):
                # Vectors are always passed in: Chroma's default embedder would fetch a model.
                self._collection = self.client().get_or_create_collection(
                    self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
                )
            hook, self.on_first_use = self.on_first_use, None
            if hook is not None:
                hook()
        return self._collection

    def reopen(self) -> None:
        """Open the folder afresh at next use: another process may have rebuilt it since
        this one opened it (its files deleted under the system Chroma keeps)."""
        self._client = None
        self._collection = None
        self.location.forget()

    def sample(self, doc: str, gen: int) -> tuple[int, str, np.ndarray | None]:
        """How many vectors one report generation has here, and the first one's id and
        vector (read back, so a damaged segment shows); raises what Chroma raises."""
        col = self._open()
        with self.location.guard("reading vectors"):
            res = col.get(where={"$and": [{"doc": doc}, {"gen": gen}]}, include=[])
        ids = sorted(res["ids"])
        if not ids:
            return 0, "", None
        with self.location.guard("reading vectors"):
            one = col.get(ids=[ids[0]], include=["embeddings"])
        embeddings = one["embeddings"] if one["embeddings"] is not None else []
        vector = np.asarray(embeddings[0], dtype=np.float32) if len(embeddings) else None
        return len(ids), ids[0], vector

    def probe(self, vector: np.ndarray) -> int:
        """Hits of a one-result search (the search index read); raises what Chroma raises."""
        col = self._open()
        with self.location.guard("searching"):
            res = col.query(
                query_embeddings=[vector.astype(np.float32)], n_results=1, include=["distances"]
            )
        return len(res["ids"][0]) if res["ids"] else 0

    def reset(self) -> None:
        """Drop every vector Chroma holds here; the record is untouched."""
        self._collection = None
        if self.location.is_server:
            with self.location.guard("dropping the vector collection"):
                client = self.client()
                if self.name in {c.name for c in client.list_collections()}:
                    client.delete_collection(self.name)
            return
        try:
            if self._client is not None:
                self._client.reset()
        except Exception:
            pass
        try:
            if self._client is not None:
                # Chroma keeps one system per folder for the process; a client opened on
                # the folder after it is deleted would get that system's stale database
                # ("attempt to write a readonly database"). Closing the last client frees it.
                self._client.close()
        except Exception:
            pass
        self._client = None
        self.location.forget()
        shutil.rmtree(self.folder, ignore_errors=True)

    def clear(self) -> None:
        """Delete this collection, keeping Chroma's folder (and any other collection)."""
        self._collection = None
        with self.location.guard("dropping the vector collection"):
            client = self.client()
            if self.name in {c.name for c in client.list_collections()}:
                client.delete_collection(self.name)

    def drop(self, name: str) -> None:
        """Delete another collection of this Chroma: vectors of an earlier embedding."""
        if name == self.name:
            raise ValueError("drop() deletes other collections; reset() empties this one")
        with self.location.guard("dropping an old vector collection"):
            client = self.client()
            if name in {c.name for c in client.list_collections()}:
                client.delete_collection(name)

    def add(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        col = self._open()
        for i in range(0, len(ids), _BATCH):
            with self.location.guard("storing vectors"):
                col.upsert(
                    ids=list(ids[i : i + _BATCH]),
                    embeddings=vectors[i : i + _BATCH].astype(np.float32),
                    metadatas=list(metadatas[i : i + _BATCH]),
                )

    def delete_other_generations(self, doc: str, keep: int | None) -> None:
        where: dict[str, Any] = {"doc": doc}
        if keep is not None:
            where = {"$and": [{"doc": doc}, {"gen": {"$ne": keep}}]}
        self.delete(where)

    def delete(self, where: dict[str, Any]) -> None:
        col = self._open()
        with self.location.guard("deleting vectors"):
            col.delete(where=where)

    def count(self) -> int:
        col = self._open()
        with self.location.guard("counting vectors"):
            return int(col.count())

    def held(self) -> dict[tuple[str, int], int]:
        """Vectors held per (doc, generation), committed or not: for checks and tests."""
        col = self._open()
        held: dict[tuple[str, int], int] = {}
        offset = 0
        while True:
            with self.location.guard("reading vectors"):
                res = col.get(include=["metadatas"], limit=5000, offset=offset)
            for m in res["metadatas"] or []:
                key = (str(m["doc"]), int(m["gen"]))
                held[key] = held.get(key, 0) + 1
            if len(res["ids"]) < 5000:
                return held
            offset += 5000

    def vectors_of(self, doc: str, gen: int) -> tuple[list[int], np.ndarray]:
        """One document generation's vectors (every window) and each one's paragraph."""
        col = self._open()
        with self.location.guard("reading vectors"):
            res = col.get(
                where={"$and": [{"doc": doc}, {"gen": gen}]},
                include=["embeddings", "metadatas"],
            )
        embeddings = res["embeddings"] if res["embeddings"] is not None else []
        rows = sorted(
            zip(res["metadatas"] or [], embeddings, strict=True),
            key=lambda mv: (int(mv[0]["ordinal"]), int(mv[0]["window"])),
        )
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [int(m["ordinal"]) for m, _ in rows], np.stack(
            [np.asarray(v, dtype=np.float32) for _, v in rows]
        )

    def vectors_at(
        self, doc: str, gen: int, ordinals: Sequence[int]
    ) -> dict[tuple[str, int], np.ndarray]:
        """Some paragraphs' vectors (a row per window) of one document generation."""
        col = self._open()
        with self.location.guard("reading vectors"):
            res = col.get(
                where={"$and": [{"doc": doc}, {"gen": gen}, {"ordinal": {"$in": list(ordinals)}}]},
                include=["embeddings", "metadatas"],
            )
        embeddings = res["embeddings"] if res["embeddings"] is not None else []
        rows: dict[int, list[tuple[int, np.ndarray]]] = {}
        for m, v in zip(res["metadatas"] or [], embeddings, strict=True):
            if m:
                rows.setdefault(int(m["ordinal"]), []).append(
                    (int(m["window"]), np.asarray(v, dtype=np.float32))
                )
        return {
            (doc, o): np.stack([v for _, v in sorted(ws, key=lambda w: w[0])])
            for o, ws in rows.items()
        }

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[VectorHit]:
        col = self._open()  # an empty collection answers with no hits; no count() needed
        try:
            with self.location.guard("searching"):
                res = col.query(
                    query_embeddings=[vector.astype(np.float32)],
                    n_results=k,
                    where=where or None,
                    include=["metadatas", "distances"],
                )
        except PccError:
            raise
        except Exception as exc:
            raise PccError(
                f"the vector store in {self.folder} can't be read ({exc}): run `pcc rebuild`"
            ) from exc
        metas = res["metadatas"][0] if res["metadatas"] else []
        dists = res["distances"][0] if res["distances"] else []
        # A vector deleted while the search ran (a writer dropping an older generation on
        # a shared server) can come back with no metadata: it is gone, so it is skipped.
        return [
            VectorHit(str(m["doc"]), int(m["gen"]), int(m["ordinal"]), float(d))
            for m, d in zip(metas, dists, strict=True)
            if m and d is not None and {"doc", "gen", "ordinal"} <= m.keys()
        ]
