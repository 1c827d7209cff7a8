"""A tiny, deterministic embedder for tests that are not about embedding (the index's
bookkeeping: generations, journal, prune, kill -9): a text's vector is a function of its
words, 16 numbers, made in microseconds, with no model to load. Tests of what is found
use the real model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class TinyEmbedder:
    name = "tiny-hash"
    dim = 16
    max_tokens = 256

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.encode(), digest_size=self.dim).digest()
                out[i] += np.frombuffer(digest, dtype=np.uint8).astype(np.float32) - 127.5
            norm = float(np.linalg.norm(out[i]))
            out[i] = out[i] / norm if norm else 1.0 / np.sqrt(self.dim)
        return out

    def embed_later(self, texts: Sequence[str]) -> _Done:
        return _Done(self.embed(list(texts)))

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(t.split()) for t in texts]


class _Done:
    """Vectors already made (the :class:`~pcc_assistant.index.embedder.Pending` protocol)."""

    def __init__(self, vectors: np.ndarray) -> None:
        self._vectors = vectors

    def done(self) -> bool:
        return True

    def cancel(self) -> None:
        pass

    def result(self) -> np.ndarray:
        return self._vectors
