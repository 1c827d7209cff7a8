"""Vectors in Chroma (embedded folder). Chroma types stay inside this module."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pcc_assistant.errors import PccError

_BATCH = 1000


def collection_name(model: str, paragraphing_version: int, dim: int) -> str:
    """Named after what would make the vectors stale, so old and new never mix."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-._") or "model"
    return f"pcc-{slug}-p{paragraphing_version}-d{dim}"[:200]


@dataclass(frozen=True)
class VectorHit:
    doc: str
    generation: int
    ordinal: int
    distance: float


class ChromaStore:
    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        self._client: Any = None
        self._collection: Any = None

    def _open(self) -> Any:
        if self._collection is None:
            import chromadb
            from chromadb.config import Settings

            self.folder.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.folder),
                settings=Settings(anonymized_telemetry=False, allow_reset=True),
            )
            # Vectors are always passed in: Chroma's default embedder would fetch a model.
            self._collection = self._client.get_or_create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        return self._collection

    def healthy(self) -> bool:
        """False when the collection can't be read (a writer was killed mid-write)."""
        try:
            col = self._open()
            col.count()
            col.get(limit=1, include=["metadatas"])
            col.peek(limit=1)
        except Exception:
            return False
        return True

    def reset(self) -> None:
        """Drop everything Chroma holds here; the record is untouched."""
        self._collection = None
        try:
            if self._client is not None:
                self._client.reset()
        except Exception:
            pass
        self._client = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def add(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        col = self._open()
        for i in range(0, len(ids), _BATCH):
            col.upsert(
                ids=list(ids[i : i + _BATCH]),
                embeddings=vectors[i : i + _BATCH].astype(np.float32),
                metadatas=list(metadatas[i : i + _BATCH]),
            )

    def delete_other_generations(self, doc: str, keep: int | None) -> None:
        where: dict[str, Any] = {"doc": doc}
        if keep is not None:
            where = {"$and": [{"doc": doc}, {"gen": {"$ne": keep}}]}
        self._open().delete(where=where)

    def count(self) -> int:
        return int(self._open().count())

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[VectorHit]:
        col = self._open()  # an empty collection answers with no hits; no count() needed
        try:
            res = col.query(
                query_embeddings=[vector.astype(np.float32)],
                n_results=k,
                where=where or None,
                include=["metadatas", "distances"],
            )
        except Exception as exc:
            raise PccError(
                f"the vector store in {self.folder} can't be read ({exc}): run `pcc rebuild`"
            ) from exc
        metas = res["metadatas"][0] if res["metadatas"] else []
        dists = res["distances"][0] if res["distances"] else []
        return [
            VectorHit(str(m["doc"]), int(m["gen"]), int(m["ordinal"]), float(d))
            for m, d in zip(metas, dists, strict=True)
        ]
