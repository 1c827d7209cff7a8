"""The shared index on a Chroma server against the embedded folder, same questions.

    .venv/bin/python benchmarks/shared.py [--questions 40] [--rounds 3] [--no-write]

Starts a real ``chroma run`` on 127.0.0.1 (a free port, a temporary folder), then for
each store, embedded and server: ingests the sample reports (one embedder, loaded once,
so ingest times compare the stores, not model loading), opens an Assistant and times
the first answer after opening (the record and the keyword index read from the store),
then the warm latency of ``--questions`` questions from eval/questions.jsonl, asked
``--rounds`` times. Writes the "Shared index" section of benchmarks/RESULTS.md unless
--no-write.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    QUESTIONS,
    SAMPLE_PDFS,
    load_average,
    machine_line,
    ms,
    percentile,
    write_section,
)


def run(settings: object, embedder: object, questions: list[str], rounds: int) -> dict[str, float]:
    from pcc_assistant import pipeline
    from pcc_assistant.ask import Assistant

    t0 = time.perf_counter()
    result = pipeline.ingest([SAMPLE_PDFS], settings, embedder=embedder)  # type: ignore[arg-type]
    ingest_s = time.perf_counter() - t0
    assert not result.failed, result.failed
    t0 = time.perf_counter()
    assistant = Assistant(settings, embedder=embedder)  # type: ignore[arg-type]
    assistant.ask(questions[0])
    first_s = time.perf_counter() - t0
    latencies = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            latencies.append((time.perf_counter() - t) * 1000)
    assistant.close()
    return {
        "ingest_s": ingest_s,
        "paragraphs": result.paragraphs,
        "first_s": first_s,
        "median_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
        "n": len(latencies),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    from pcc_assistant.config import Settings
    from pcc_assistant.index.embedder import SentenceTransformerEmbedder
    from tests.chroma_server import ChromaServer

    questions = [
        json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()
    ][: args.questions]
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["load the model"])
    load = load_average()
    with tempfile.TemporaryDirectory(prefix="pcc-bench-shared-") as tmp:
        base = Path(tmp)
        server = ChromaServer(base / "chroma").start()
        # A first ingest warms what the first of the two would otherwise pay alone (the
        # parser process, the model's first batches, imports); not counted.
        run(Settings(index_dir=base / "warm-up"), embedder, questions[:2], 1)
        try:
            figures = {
                "embedded": run(
                    Settings(index_dir=base / "embedded"), embedder, questions, args.rounds
                ),
                "server": run(
                    Settings(index_dir=base / "client", chroma_url=server.url),
                    embedder,
                    questions,
                    args.rounds,
                ),
            }
        finally:
            server.stop()
    e, s = figures["embedded"], figures["server"]
    rows = [
        ("ingest the sample reports (s)", "ingest_s", lambda x: f"{x:.1f}"),
        ("open, then first answer (s)", "first_s", lambda x: f"{x:.2f}"),
        ("warm answer, median (ms)", "median_ms", ms),
        ("warm answer, p95 (ms)", "p95_ms", ms),
    ]
    table = ["| what | embedded | server | server / embedded |", "|---|---|---|---|"]
    for label, key, fmt in rows:
        table.append(f"| {label} | {fmt(e[key])} | {fmt(s[key])} | {s[key] / e[key]:.2f}× |")
    body = "\n".join(
        [
            machine_line(["chromadb", "bm25s"]),
            f"Load average at start: {load}.",
            "",
            f"Command: `.venv/bin/python benchmarks/shared.py --questions {args.questions} "
            f"--rounds {args.rounds}`. Both stores hold the two sample reports "
            f"({e['paragraphs']:.0f} paragraphs); the server is `chroma run` on 127.0.0.1 "
            f"in the same machine; {e['n']:.0f} answers per store (sentence-transformers "
            "embedder, loaded once).",
            "",
            *table,
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Shared index on a Chroma server (`benchmarks/shared.py`)", body)


if __name__ == "__main__":
    main()
