"""Does Chroma hold the record's current vectors? Checked at every opening of the index.

The record is the source of truth; Chroma can lose its folder, be damaged by a killed
writer, or be restored from an older backup, and a search of it then quietly finds
nothing, so answers would come from keywords alone. The check is cheap enough for every
opening (two counts, one report's vectors read back, one search of one result) and
says what is wrong in one phrase; writers rebuild a folder's Chroma from the record,
readers name the command that does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pcc_assistant.errors import PccError
from pcc_assistant.index.record import Record
from pcc_assistant.index.store import ChromaStore


def store_problem(record: Any, store: ChromaStore) -> str:
    """'' when Chroma holds what the record says it should, else what is wrong.

    A writer committing meanwhile can make the counts disagree for a moment, so a
    disagreement is looked at again when the record changed while it was looked at.
    A server that stops answering raises its own one-line :class:`PccError`.
    """
    problem = ""
    reopened = False
    for _ in range(3):
        version = record.version()
        try:
            problem = _look(record, store)
        except PccError:
            raise
        except Exception as exc:  # Chroma's own errors: a damaged folder
            if not reopened and not store.location.is_server:
                # maybe only this process's view is stale: a writer rebuilt the folder
                store.reopen()
                reopened = True
                continue
            reason = " ".join(str(exc).split())[:160] or type(exc).__name__
            return f"can't be read ({type(exc).__name__}: {reason})"
        if not problem:
            return ""
        record.reread()
        if record.version() == version:
            return problem
    return problem


def _look(record: Any, store: ChromaStore) -> str:
    expected = record.vector_count()
    held = store.count()
    if expected is not None and held < expected:
        return f"holds {held} vectors where the record has {expected}"
    gens: dict[str, int] = record.generations()
    if not gens:
        return ""
    doc, gen = max(gens.items(), key=lambda item: item[1])  # the newest written
    want = record.vector_count(doc)
    count, vector_id, vector = store.sample(doc, gen)
    if count == 0 or (want is not None and count < want):
        return f"holds {count} of the {want if want is not None else 'expected'} vectors of {doc}"
    if vector is None:
        return f"can't read back the vectors of {doc}"
    if isinstance(record, Record):
        ordinal, window = (int(x) for x in vector_id.rsplit("#", 1)[1].split("."))
        kept = record.vector_of(doc, ordinal, window)
        if kept is None or kept.shape != vector.shape or not np.allclose(kept, vector, atol=1e-5):
            return f"holds other vectors for {doc} than the record"
    if store.probe(vector) < 1:
        return "finds nothing when searched"
    return ""


def fix(where: str, problem: str, shared: bool) -> str:
    """The line a reader shows: what is wrong and the command that mends it."""
    if shared:
        return (
            f"the vectors on the {where} {problem}: run `pcc rebuild --reembed` to embed the "
            "record's paragraphs again"
        )
    return (
        f"the vector store of the {where} {problem}, so answers would come from keywords "
        "alone: run `pcc rebuild` to rebuild it from the record (the next `pcc ingest` "
        "does it too)"
    )
