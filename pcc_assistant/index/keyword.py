"""Keyword (BM25) index beside the vectors: figures, acronyms and paragraph numbers are
where embeddings alone fail. Rebuilt from the record whenever the record has changed."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pcc_assistant.types import Paragraph


@dataclass(frozen=True)
class KeywordHit:
    doc: str
    ordinal: int
    score: float


def _stemmer() -> Any:
    try:
        import Stemmer

        return Stemmer.Stemmer("english")
    except ImportError:  # stemming helps recall but is not essential
        return None


def keyword_text(p: Paragraph) -> str:
    return f"{p.label} {p.section} {p.text}"


class KeywordIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._model: Any = None
        self._keys: list[tuple[str, int]] = []
        self._version = -1

    def _stamp(self) -> Path:
        return self.folder / "pcc-keys.json"

    def build(self, paragraphs: Sequence[Paragraph], version: int) -> None:
        import bm25s

        keys = [(p.doc, p.ordinal) for p in paragraphs]
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if paragraphs:
            tokens = bm25s.tokenize(
                [keyword_text(p) for p in paragraphs],
                stopwords="en",
                stemmer=_stemmer(),
                show_progress=False,
            )
            model = bm25s.BM25()
            model.index(tokens, show_progress=False)
            model.save(str(tmp))
        else:
            model = None
        (tmp / "pcc-keys.json").write_text(json.dumps({"version": version, "keys": keys}))
        shutil.rmtree(self.folder, ignore_errors=True)
        tmp.rename(self.folder)  # readers see the old index or the new, never half of one
        self._model, self._keys, self._version = model, keys, version

    def version(self) -> int:
        if self._version < 0 and self._stamp().is_file():
            self._version = int(json.loads(self._stamp().read_text())["version"])
        return self._version

    def _load(self) -> None:
        if self._model is None and self._stamp().is_file():
            import bm25s

            stamp = json.loads(self._stamp().read_text())
            self._keys = [(d, int(o)) for d, o in stamp["keys"]]
            self._version = int(stamp["version"])
            if self._keys:
                self._model = bm25s.BM25.load(str(self.folder))

    def search(self, query: str, k: int) -> list[KeywordHit]:
        import bm25s

        self._load()
        if self._model is None or not self._keys:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", stemmer=_stemmer(), show_progress=False)
        if not tokens.vocab:
            return []
        docs, scores = self._model.retrieve(tokens, k=min(k, len(self._keys)), show_progress=False)
        return [
            KeywordHit(*self._keys[int(i)], float(s))
            for i, s in zip(docs[0], scores[0], strict=True)
            if s > 0
        ]
