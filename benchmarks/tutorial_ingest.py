"""The tutorial pipeline's ingest as a command of its own, for timing from process start to
exit (``benchmarks/ingest.py`` runs it beside ``pcc ingest``).

    .venv/bin/python benchmarks/tutorial_ingest.py INDEX_FOLDER FILE.pdf [FILE.pdf ...]

The pipeline is ``baseline.Tutorial`` (LangChain 1.x: ``PyPDFLoader`` per file, 1,000-character
chunks with 200 of overlap, ``HuggingFaceEmbeddings`` over the packaged all-MiniLM-L6-v2,
``langchain_chroma.Chroma`` persisted in INDEX_FOLDER). Prints one JSON line: files, chunks,
failed files, and the seconds inside the process (model load included).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import Tutorial  # noqa: E402


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    folder, pdfs = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
    tutorial = Tutorial()
    tutorial.ingest(pdfs, folder)
    print(
        json.dumps(
            {
                "files": len(pdfs),
                "chunks": tutorial.chunks,
                "failed": tutorial.failed,
                "seconds": round(time.perf_counter() - STARTED, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
