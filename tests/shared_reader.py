"""A reader process for the concurrency test: asks questions of a shared index in a loop
until a stop file appears, writing one JSON line per answer (or per error).

Usage: python -m tests.shared_reader URL OUT STOP
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

QUESTIONS = [
    "What was Durham's solved rate?",
    "What was victim satisfaction in Northshire?",
    "How many thefts of farm machinery were there?",
    "How many victims did the victims' hub contact?",
    "How many killed or seriously injured casualties were there?",
]


def _whole(record: Any, doc: str) -> bool:
    """The report an answer cites is whole: every paragraph of its committed generation
    can be read (it may be newer than the cited one). If the writer commits a newer
    generation (and deletes this one) while we look, look again."""
    for _ in range(5):
        committed = record.report(doc)
        if committed is None:
            return False
        found = record._paragraphs_of(doc, committed.generation)
        if len(found) == committed.paragraphs:
            return True
        now = record.report(doc)
        if now is not None and now.generation == committed.generation:
            return False  # committed, and yet not all there: half-indexed
    return False


def main() -> None:
    url, out, stop = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    from pcc_assistant.ask import Assistant
    from pcc_assistant.config import Settings

    settings = Settings(index_dir=out.parent / "reader-index", chroma_url=url)
    assistant = Assistant(settings)
    deadline = time.monotonic() + 240
    n = 0
    with out.open("a") as sink:
        while not stop.exists() and time.monotonic() < deadline:
            question = QUESTIONS[n % len(QUESTIONS)]
            n += 1
            row: dict[str, object] = {"question": question, "t": time.time()}
            try:
                answer = assistant.ask(question)
                record = assistant.index.record
                cited = []
                for e in answer.cited():
                    doc = e.paragraph.doc
                    whole = _whole(record, doc)
                    cited.append(
                        {
                            "doc": doc,
                            "label": e.paragraph.label,
                            "text": e.paragraph.text,
                            "whole": whole,
                        }
                    )
                row.update(answerable=answer.answerable, cited=cited)
            except Exception:
                row["error"] = traceback.format_exc()
            sink.write(json.dumps(row) + "\n")
            sink.flush()
    assistant.close()


if __name__ == "__main__":
    main()
