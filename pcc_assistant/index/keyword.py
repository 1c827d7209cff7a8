"""Keyword (BM25) index beside the vectors: figures, acronyms and paragraph numbers are
where embeddings alone fail. Rebuilt from the record whenever the record has changed.

Words are cut by :func:`pcc_assistant.terms.terms`, the same function the extractive
answerer uses, and the index keeps each word's document frequency so the answerer can
weigh a question's words without reading the corpus again.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pcc_assistant.terms import idf, terms
from pcc_assistant.types import Paragraph

UNSEEN_WEIGHT = 1.0
FORMAT = 3  # bump when what is stored changes: an older index is then rebuilt


@dataclass(frozen=True)
class KeywordHit:
    doc: str
    ordinal: int
    score: float

    @property
    def key(self) -> tuple[str, int]:
        return (self.doc, self.ordinal)


def keyword_text(p: Paragraph) -> str:
    return f"{p.label} {p.section} {p.text}"


def keyword_tokens(p: Paragraph) -> list[str]:
    """The words a paragraph is indexed under."""
    return terms(keyword_text(p))


class KeywordIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model: Any = None
        self._keys: list[tuple[str, int]] = []
        self._codes: np.ndarray = np.zeros(0, dtype=np.int32)  # each paragraph's doc, as a number
        self._code_of: dict[str, int] = {}
        self._row_of: dict[tuple[str, int], int] = {}
        self._rows: Any = None  # each paragraph's word ids (CSR), made on first use
        self._vocab: list[str] = []
        self._df: dict[str, int] = {}
        self._version = -1
        self._loaded = False

    def _stamp(self) -> Path:
        return self.folder / "pcc-keys.json"

    def build(self, paragraphs: Sequence[Paragraph], version: int, persist: bool = True) -> None:
        """Index ``paragraphs``; ``persist=False`` (a reader finding the index stale, with no
        right to write) keeps the result in memory only."""
        keys = [(p.doc, p.ordinal) for p in paragraphs]
        self.build_tokens(keys, [keyword_tokens(p) for p in paragraphs], version, persist)

    def build_tokens(
        self,
        keys: list[tuple[str, int]],
        tokens: list[list[str]],
        version: int,
        persist: bool = True,
    ) -> None:
        """Index paragraphs already cut into words (``keyword_tokens``), one list per key."""
        import bm25s

        df: dict[str, int] = {}
        for toks in tokens:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        model = None
        if keys:
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
        if not persist:
            self._set(model, keys, df, version)
            return
        # A name of this process's own: readers of a shared server may build at once.
        tmp = self.folder.with_name(f"{self.folder.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if model is not None:
            model.save(str(tmp))
        (tmp / "pcc-keys.json").write_text(
            json.dumps({"version": version, "format": FORMAT, "keys": keys})
        )
        (tmp / "pcc-df.json").write_text(json.dumps(df))
        shutil.rmtree(self.folder, ignore_errors=True)
        try:
            tmp.rename(self.folder)  # readers see the old index or the new, never half of one
        except OSError:  # another process put its build there first; it is as good
            shutil.rmtree(tmp, ignore_errors=True)
        self._set(model, keys, df, version)

    def _set(
        self, model: Any, keys: list[tuple[str, int]], df: dict[str, int], version: int
    ) -> None:
        self._model, self._keys, self._df, self._version = model, keys, df, version
        self._code_of = {}
        for d, _ in keys:
            self._code_of.setdefault(d, len(self._code_of))
        self._codes = np.array([self._code_of[d] for d, _ in keys], dtype=np.int32)
        self._row_of = {key: i for i, key in enumerate(keys)}
        self._rows = None
        self._loaded = True

    def version(self) -> int:
        """The record version of the index in use (read from disk if none is loaded yet)."""
        if self._version < 0:
            self._version = self.stored_version()
        return self._version

    def stored_version(self) -> int:
        """The record version of the index on disk now (another process may have rebuilt
        it since this one was loaded); -1 when there is none of this format."""
        try:
            stamp = json.loads(self._stamp().read_text())
            return int(stamp["version"]) if stamp.get("format") == FORMAT else -1
        except (OSError, ValueError, KeyError, TypeError):
            return -1

    def load(self) -> None:
        """Read the index from disk (again, if another process has rebuilt it)."""
        import bm25s

        if not self._stamp().is_file():
            return
        stamp = json.loads(self._stamp().read_text())
        keys = [(d, int(o)) for d, o in stamp["keys"]]
        df_path = self.folder / "pcc-df.json"
        df = json.loads(df_path.read_text()) if df_path.is_file() else {}
        model = bm25s.BM25.load(str(self.folder)) if keys else None
        self._set(model, keys, df, int(stamp["version"]))

    @property
    def loaded(self) -> bool:
        return self._loaded

    @property
    def size(self) -> int:
        if not self._loaded:
            self.load()
        return len(self._keys)

    def weight(self, term: str) -> float:
        """How much a (stemmed) word tells: its inverse document frequency."""
        if not self._loaded:
            self.load()
        n = max(len(self._keys), 1)
        df = self._df.get(term, 0)
        # A word no report uses can't be matched either way; weigh it like a rare word, not
        # as the rarest: a question's "paid" or "alone" shouldn't outweigh its "VCAS".
        return idf(df, n) if df else UNSEEN_WEIGHT * idf(1, n)

    def words_of(self, keys: Collection[tuple[str, int]]) -> dict[tuple[str, int], frozenset[str]]:
        """The words each paragraph is indexed under (its label, section path and text), read
        from the index instead of cut again; keys not in the index are absent."""
        if not self._loaded:
            self.load()
        if self._model is None:
            return {}
        if self._rows is None:
            from scipy.sparse import csc_matrix

            sc = self._model.scores
            shape = (int(sc["num_docs"]), len(sc["indptr"]) - 1)
            self._rows = csc_matrix((sc["data"], sc["indices"], sc["indptr"]), shape=shape).tocsr()
            self._vocab = [""] * shape[1]
            for term, i in self._model.vocab_dict.items():
                if i < shape[1]:
                    self._vocab[i] = term
        rows, vocab = self._rows, self._vocab
        out: dict[tuple[str, int], frozenset[str]] = {}
        for key in keys:
            i = self._row_of.get(key)
            if i is not None:
                ids = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
                out[key] = frozenset(vocab[j] for j in ids.tolist())
        return out

    def search(self, query: str, k: int, docs: Collection[str] | None = None) -> list[KeywordHit]:
        """Best ``k`` paragraphs for ``query``, only from ``docs`` when given."""
        return self.search_scored(query, k, docs)[0]

    def search_scored(
        self,
        query: str,
        k: int,
        docs: Collection[str] | None = None,
        also: Collection[tuple[str, int]] = (),
    ) -> tuple[list[KeywordHit], dict[tuple[str, int], float]]:
        """Best ``k`` paragraphs for ``query`` (only from ``docs`` when given), and the
        scores of the paragraphs at the keys ``also`` (0 for no shared word), from one
        scoring pass."""
        if not self._loaded:
            self.load()
        if self._model is None or not self._keys:
            return [], {}
        vocab = self._model.vocab_dict
        tokens = [t for t in terms(query) if t in vocab]
        if not tokens:
            return [], {}
        mask = None
        if docs is not None:
            wanted = np.zeros(len(self._code_of) + 1, dtype=np.float32)
            wanted[[self._code_of[d] for d in docs if d in self._code_of]] = 1.0
            mask = wanted[self._codes]
        scores = np.asarray(self._model.get_scores(tokens, weight_mask=mask))
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        hits = [KeywordHit(*self._keys[int(i)], float(scores[i])) for i in top if scores[i] > 0]
        extra = {key: float(scores[self._row_of[key]]) for key in also if key in self._row_of}
        return hits, extra
