"""Each report generation's keyword words, kept on disk by a client of a Chroma server.

When the shared record changes (a colleague ingests a report), every client rebuilds its
keyword index. Without this cache that meant fetching and cutting every paragraph the
server holds (about 15 s at 100,000 paragraphs); with it a client fetches and cuts only
the reports whose generation it has not seen, and reads the rest from here.

A committed generation never changes, so an entry holds for as long as its generation is
the committed one; the others are pruned at each build. Entries are written whole (a
temporary file, then a rename), so two clients on one machine can share the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path

from pcc_assistant.index.keyword import FORMAT

Rows = list[tuple[int, list[str]]]  # (paragraph ordinal, its words), in ordinal order


class TokenCache:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, doc: str, generation: int) -> Path:
        name = hashlib.sha1(doc.encode()).hexdigest()[:20]
        return self.folder / f"{name}-{generation}.json"

    def get(self, doc: str, generation: int) -> Rows | None:
        """The words of ``doc`` at ``generation``; None when not kept (or unreadable)."""
        try:
            data = json.loads(self._path(doc, generation).read_text(encoding="utf-8"))
            if data["doc"] != doc or data["format"] != FORMAT:
                return None
            # written by put() in this format: no per-word conversion (millions at 100k)
            return [(int(o), words) for o, words in data["rows"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, doc: str, generation: int, rows: Rows) -> None:
        """Keep ``rows``; a cache that can't be written only costs the next build time."""
        path = self._path(doc, generation)
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            data = {"doc": doc, "format": FORMAT, "rows": rows}
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def prune(self, keep: set[tuple[str, int]]) -> None:
        """Delete the entries of generations no longer committed."""
        wanted = {self._path(d, g).name for d, g in keep}
        try:
            found = list(self.folder.glob("*.json"))
        except OSError:
            return
        for f in found:
            if f.name not in wanted:
                # not ours to delete (a cache shared between users): harmless to keep
                with contextlib.suppress(OSError):
                    f.unlink(missing_ok=True)
