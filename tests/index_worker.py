"""A writer process for the index property test: ``pcc ingest`` as the pipeline runs it,
with the tiny embedder (the test kills it with SIGKILL at a random moment).

Usage: python tests/index_worker.py INDEX PRUNE(0/1) REPLACE(0/1) PATH...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_embedder import TinyEmbedder

from pcc_assistant import pipeline
from pcc_assistant.config import Settings


def main() -> None:
    index, prune, replace, *paths = sys.argv[1:]
    settings = Settings(index_dir=Path(index), onnx=False)
    pipeline.ingest(
        [Path(p) for p in paths],
        settings,
        prune=prune == "1",
        replace=replace == "1",
        embedder=TinyEmbedder(),
    )


if __name__ == "__main__":
    main()
