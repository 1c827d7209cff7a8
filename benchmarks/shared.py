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
import dataclasses
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def grow(settings: Any, embedder: Any, source: Path, size: int, late: bool = False) -> int:
    """Add copies of the sample reports (new ids, dates a quarter earlier per copy, the
    same paragraphs and vectors, read from the ``source`` record) until ``size``
    paragraphs are indexed; returns the paragraphs indexed. ``late``: add one copy of
    one report instead (a colleague's ingest while others ask)."""
    from pcc_assistant import pipeline
    from pcc_assistant.index.record import Record
    from pcc_assistant.types import ParsedDocument

    rec = Record(source / "record.sqlite")
    items = [r.report for r in rec.reports()]
    paragraphs = {r.doc: rec.paragraphs(r.doc) for r in items}
    vectors: dict[str, list[Any]] = {r.doc: [] for r in items}
    for row in rec.vectors():
        vectors[row.doc].append((row.ordinal, row.window, row.vector))
    rec.close()
    total = sum(len(p) for p in paragraphs.values())
    copy = 0
    with pipeline.open_index(settings, embedder) as index:
        index.lock()
        if late:
            items, size, copy = items[:1], 0, 999
        while total < size or late:
            copy += 1
            for r in items:
                doc = f"{r.doc}--copy{copy:03d}"
                report = dataclasses.replace(
                    r,
                    doc=doc,
                    date=r.date - dt.timedelta(days=91 * copy) if r.date else None,
                    sha256=f"{r.sha256[:48]}copy{copy:03d}",
                )
                keep = tuple(dataclasses.replace(p, doc=doc) for p in paragraphs[r.doc])
                index.replace(ParsedDocument(report, keep), vectors[r.doc])
                total += len(keep)
            late = False
        index.refresh_keywords()
    return total


def run(
    settings: Any,
    embedder: Any,
    questions: list[str],
    rounds: int,
    size: int = 0,
    source: Path | None = None,
) -> dict[str, float]:
    from pcc_assistant import pipeline
    from pcc_assistant.ask import Assistant

    t0 = time.perf_counter()
    result = pipeline.ingest([SAMPLE_PDFS], settings, embedder=embedder)
    ingest_s = time.perf_counter() - t0
    assert not result.failed, result.failed
    paragraphs = result.paragraphs
    grow_s = 0.0
    if size and source is not None:
        t0 = time.perf_counter()
        paragraphs = grow(settings, embedder, source, size)
        grow_s = time.perf_counter() - t0
    # The reader is another user's machine: nothing the writer cached (on a server, the
    # keyword index built from the shared paragraphs) is there to load.
    reader = settings.model_copy(update={"cache_dir": settings.index_dir.with_name("reader-cache")})
    t0 = time.perf_counter()
    assistant = Assistant(reader, embedder=embedder)  # type: ignore[arg-type]
    assistant.ask(questions[0])
    first_s = time.perf_counter() - t0
    latencies = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            latencies.append((time.perf_counter() - t) * 1000)
    # A colleague adds a report (vectors already made); the open client's next answer
    # picks it up: the record is read again and the keyword index rebuilt.
    after_s = 0.0
    if source is not None:  # not in the warm-up, whose record is the copies' source
        grow(settings, embedder, source, 0, late=True)
        t0 = time.perf_counter()
        assistant.ask(questions[0])
        after_s = time.perf_counter() - t0
    assistant.close()
    return {
        "ingest_s": ingest_s,
        "grow_s": grow_s,
        "paragraphs": paragraphs,
        "first_s": first_s,
        "after_s": after_s,
        "median_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
        "n": len(latencies),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--sizes", default="0,10000", help="paragraphs; 0 is the two sample reports alone"
    )
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]

    from pcc_assistant.config import Settings
    from pcc_assistant.index.embedder import SentenceTransformerEmbedder
    from tests.chroma_server import ChromaServer

    questions = [
        json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines() if line.strip()
    ][: args.questions]
    embedder = SentenceTransformerEmbedder()
    embedder.embed(["load the model"])
    load = load_average()
    results: list[tuple[int, dict[str, float], dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="pcc-bench-shared-") as tmp:
        base = Path(tmp)
        server = ChromaServer(base / "chroma").start()
        # A first ingest warms what the first of the two would otherwise pay alone (the
        # parser process, the model's first batches, imports); not counted. Its record
        # is where the copies for larger sizes come from.
        source = base / "warm-up"
        run(Settings(index_dir=source), embedder, questions[:2], 1)
        try:
            for n, size in enumerate(sizes):
                url = server.url
                emb = run(
                    Settings(index_dir=base / f"embedded-{n}"),
                    embedder,
                    questions,
                    args.rounds,
                    size,
                    source,
                )
                server.empty()
                srv = run(
                    Settings(index_dir=base / f"client-{n}", chroma_url=url),
                    embedder,
                    questions,
                    args.rounds,
                    size,
                    source,
                )
                results.append((size, emb, srv))
        finally:
            server.stop()
    table = [
        "| paragraphs | what | embedded | server | server / embedded |",
        "|---|---|---|---|---|",
    ]
    rows = [
        ("ingest the sample reports (s)", "ingest_s", lambda x: f"{x:.1f}"),
        ("add copies up to the size (s)", "grow_s", lambda x: f"{x:.1f}"),
        ("open, then first answer (s)", "first_s", lambda x: f"{x:.2f}"),
        ("first answer after another client adds a report (s)", "after_s", lambda x: f"{x:.2f}"),
        ("warm answer, median (ms)", "median_ms", ms),
        ("warm answer, p95 (ms)", "p95_ms", ms),
    ]
    for _, e, s in results:
        for label, key, fmt in rows:
            if key == "grow_s" and not e[key]:
                continue
            ratio = f"{s[key] / e[key]:.2f}×" if e[key] else ""
            table.append(
                f"| {e['paragraphs']:,.0f} | {label} | {fmt(e[key])} | {fmt(s[key])} | {ratio} |"
            )
    body = "\n".join(
        [
            machine_line(["chromadb", "bm25s"]),
            f"Load average at start: {load}.",
            "",
            f"Command: `.venv/bin/python benchmarks/shared.py --questions {args.questions} "
            f"--rounds {args.rounds} --sizes {args.sizes}`. The server is `chroma run` on "
            "127.0.0.1 on the same machine. Each store first ingests the two sample reports; "
            "larger sizes add copies of them (new ids, earlier dates, the same paragraphs "
            "and vectors). "
            f"{results[0][1]['n']:.0f} answers per store and size (sentence-transformers "
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
