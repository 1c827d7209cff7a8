"""Ours against the tutorial pipeline a user would otherwise write, same machine, same run.

    .venv/bin/pip install -e '.[bench]'      # LangChain's loader, splitter, Chroma, HF glue
    .venv/bin/python benchmarks/baseline.py [--repeat 3] [--timings 200] [--no-real]
        [--no-write]

The tutorial pipeline (LangChain 1.x): ``PyPDFLoader`` per file,
``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)``,
``HuggingFaceEmbeddings`` over the same packaged all-MiniLM-L6-v2 folder (offline, its
defaults otherwise), ``langchain_chroma.Chroma`` persisted in a temporary folder with
telemetry off, and ``similarity_search(question, k=5)``.

Measured, with both embedding models loaded before any clock starts (model load excluded
for both):

- ingest time of the sample PDFs (median of ``--repeat``) and of the real PDFs (once;
  ``--no-real`` skips them), each into a fresh index: ours is ``pipeline.ingest`` (parse in
  a worker process, paragraphs, embedding, Chroma, record, BM25); theirs is load, split,
  embed, add. Only the ``.pdf`` files are given to both;
- warm query latency over eval/questions.jsonl on the sample-report index, rounds of ours
  and theirs alternating, at least ``--timings`` each: ours is the full verified extractive
  answer (``Assistant.ask``), theirs the top-5 similarity search only, which is less work;
- evidence hit at 1, 3 and 5 over the answerable questions that have evidence: a retrieved
  paragraph or chunk hits when, folded (NFKC, lower case, no whitespace), it contains each
  evidence snippet of the same document (``pcc_assistant.evaluate.first_hit_rank``); a
  chunk's document is its source file's stem.

Writes the "Against the tutorial pipeline" section of benchmarks/RESULTS.md unless
--no-write.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    QUESTIONS,
    REAL_PDFS,
    SAMPLE_PDFS,
    busy_processes,
    load_average,
    machine_line,
    ms,
    percentile,
    write_section,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
warnings.filterwarnings("ignore", message=".*langchain-community.*is being sunset")

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
K = 5
WARMUP = 3


class Tutorial:
    """The LangChain pipeline, kept as plain as the tutorials write it."""

    def __init__(self) -> None:
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from pcc_assistant.index.embedder import packaged_model_path

        self.embeddings = HuggingFaceEmbeddings(
            model_name=str(packaged_model_path()), model_kwargs={"device": "cpu"}
        )
        self.embeddings.embed_query("warm up")  # model loaded before any clock starts
        self.splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        self.store: Any = None
        self.chunks = 0
        self.failed: list[str] = []

    def ingest(self, pdfs: list[Path], folder: Path) -> float:
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_community.document_loaders import PyPDFLoader

        started = time.perf_counter()
        self.store = Chroma(
            collection_name="tutorial",
            embedding_function=self.embeddings,
            persist_directory=str(folder),
            client_settings=ChromaSettings(anonymized_telemetry=False),
        )
        self.chunks = 0
        self.failed = []
        for pdf in pdfs:
            try:
                pages = PyPDFLoader(str(pdf)).load()
            except Exception as exc:  # the tutorial has no answer for a broken file
                self.failed.append(f"{pdf.name}: {type(exc).__name__}")
                continue
            chunks = self.splitter.split_documents(pages)
            if chunks:
                self.store.add_documents(chunks)
            self.chunks += len(chunks)
        return time.perf_counter() - started

    def search(self, question: str) -> list[tuple[str, str]]:
        docs = self.store.similarity_search(question, k=K)
        return [(Path(d.metadata["source"]).stem, d.page_content) for d in docs]


def ours_ingest(pdfs: list[Path], folder: Path, embedder: Any) -> tuple[float, int, int]:
    from pcc_assistant import pipeline
    from pcc_assistant.config import Settings

    result = pipeline.ingest(pdfs, Settings(index_dir=folder), embedder=embedder)
    return result.seconds, result.paragraphs, len(result.failed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="ingest runs of the sample PDFs")
    parser.add_argument("--timings", type=int, default=200, help="query timings, at least")
    parser.add_argument("--no-real", action="store_true", help="skip ingesting the real PDFs")
    parser.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    args = parser.parse_args()

    from pcc_assistant.ask import Assistant
    from pcc_assistant.config import Settings
    from pcc_assistant.evaluate import first_hit_rank, load_questions
    from pcc_assistant.pipeline import make_embedder

    load_before = load_average()
    busy = busy_processes()
    embedder = make_embedder(Settings())
    embedder.embed(["warm up"])
    tutorial = Tutorial()
    questions = load_questions(QUESTIONS).questions
    corpora = {"sample PDFs": sorted(SAMPLE_PDFS.glob("*.pdf"))}
    if not args.no_real and REAL_PDFS.is_dir():
        corpora["real PDFs"] = sorted(REAL_PDFS.glob("*.pdf"))

    ingest_rows = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pcc-bench-baseline-") as tmp:
        root = Path(tmp)
        for name, pdfs in corpora.items():
            repeat = args.repeat if name == "sample PDFs" else 1
            ours_s: list[float] = []
            theirs_s: list[float] = []
            for r in range(repeat):
                print(f"ingest {name}, run {r + 1}/{repeat} ...", file=sys.stderr)
                seconds, paragraphs, failed = ours_ingest(pdfs, root / f"ours-{name}-{r}", embedder)
                ours_s.append(seconds)
                theirs_s.append(tutorial.ingest(pdfs, root / f"theirs-{name}-{r}"))
            if tutorial.failed:
                notes.append(f"The tutorial pipeline failed on {', '.join(tutorial.failed)}.")
            if failed:
                notes.append(f"Ours failed on {failed} of the {name}.")
            ingest_rows.append(
                (name, len(pdfs), paragraphs, tutorial.chunks, ours_s, theirs_s, repeat)
            )
            print(f"  ours {ours_s}, theirs {theirs_s}", file=sys.stderr)

        # Queries and hits: both over the index of the two sample reports.
        tutorial.ingest(corpora["sample PDFs"], root / "theirs-query")
        ours_ingest(corpora["sample PDFs"], root / "ours-query", embedder)
        assistant = Assistant(Settings(index_dir=root / "ours-query"), embedder=embedder)
        assistant.warm()
        for q in questions[:WARMUP]:
            assistant.ask(q.question)
            tutorial.search(q.question)
        ours_ms: list[float] = []
        theirs_ms: list[float] = []
        ours_ranks: dict[str, int | None] = {}
        theirs_ranks: dict[str, int | None] = {}
        rounds = -(-args.timings // len(questions))
        for r in range(rounds):
            print(f"query round {r + 1}/{rounds} ...", file=sys.stderr)
            for q in questions:
                a = assistant.ask(q.question)
                ours_ms.append(a.timings_ms["total"])
                if r == 0 and q.answerable and q.evidence:
                    got = [(e.paragraph.doc, e.paragraph.text) for e in a.retrieved[:K]]
                    ours_ranks[q.id] = first_hit_rank(q, got)
            for q in questions:
                t = time.perf_counter()
                passages = tutorial.search(q.question)
                theirs_ms.append((time.perf_counter() - t) * 1000)
                if r == 0 and q.answerable and q.evidence:
                    theirs_ranks[q.id] = first_hit_rank(q, passages)
        assistant.close()

    def hit_at(ranks: dict[str, int | None], n: int) -> float:
        return sum(1 for v in ranks.values() if v is not None and v <= n) / max(len(ranks), 1)

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}" if b else "–"

    lines = [
        machine_line(
            [
                "langchain-core",
                "langchain-community",
                "langchain-text-splitters",
                "langchain-chroma",
                "langchain-huggingface",
                "chromadb",
                "sentence-transformers",
                "torch",
            ]
        ),
        f"Our embedder: `{type(embedder).__name__}`; theirs: `HuggingFaceEmbeddings` over the"
        " same packaged all-MiniLM-L6-v2 folder (sentence-transformers, its default batch of"
        " 32; ours embeds 8 at a time).",
        "",
        f"Command: `.venv/bin/python benchmarks/baseline.py --repeat {args.repeat}"
        f" --timings {args.timings}{' --no-real' if args.no_real else ''}`.",
        "",
        "The tutorial pipeline: `PyPDFLoader` per file, `RecursiveCharacterTextSplitter("
        f"chunk_size={CHUNK_SIZE}, chunk_overlap={CHUNK_OVERLAP}, add_start_index=True)`,"
        " `HuggingFaceEmbeddings`, `langchain_chroma.Chroma` persisted in a temporary folder"
        f" (telemetry off), `similarity_search(question, k={K})`. Model load is excluded for"
        " both: both models are loaded before any clock starts.",
        "",
        "Ingest (parse to stored, fresh index; only the `.pdf` files; median of the runs):",
        "",
        "| corpus | files | runs | ours: paragraphs | ours s | theirs: chunks | theirs s |"
        " ours/theirs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, files, paragraphs, chunks, ours_s, theirs_s, repeat in ingest_rows:
        o, t = statistics.median(ours_s), statistics.median(theirs_s)
        lines.append(
            f"| {name} | {files} | {repeat} | {paragraphs:,} | {o:.1f} | {chunks:,} | {t:.1f} |"
            f" {ratio(o, t)} |"
        )
    om, tm = percentile(ours_ms, 50), percentile(theirs_ms, 50)
    op, tp = percentile(ours_ms, 95), percentile(theirs_ms, 95)
    lines += [
        "",
        f"Warm query latency on the sample-report index ({len(ours_ms)} timings each, rounds of"
        " ours and theirs alternating). Ours: question to verified extractive answer (query"
        " embedding, Chroma, BM25, fusion, sentence scoring, verification); theirs: top-5"
        " similarity search only (query embedding and Chroma), which is less work:",
        "",
        "| pipeline | median ms | p95 ms |",
        "|---|---|---|",
        f"| ours (`Assistant.ask`) | {ms(om)} | {ms(op)} |",
        f"| tutorial (`similarity_search`, k={K}) | {ms(tm)} | {ms(tp)} |",
        f"| ours/theirs | {ratio(om, tm)} | {ratio(op, tp)} |",
        "",
        f"Evidence hit over the {len(ours_ranks)} answerable questions with evidence"
        " (retrieved paragraph or chunk, same document, contains every evidence snippet,"
        " folded):",
        "",
        "| pipeline | hit@1 | hit@3 | hit@5 |",
        "|---|---|---|---|",
        "| ours (paragraphs) | "
        + " | ".join(f"{hit_at(ours_ranks, n):.0%}" for n in (1, 3, 5))
        + " |",
        "| tutorial (1,000-character chunks) | "
        + " | ".join(f"{hit_at(theirs_ranks, n):.0%}" for n in (1, 3, 5))
        + " |",
        "| ours/theirs | "
        + " | ".join(ratio(hit_at(ours_ranks, n), hit_at(theirs_ranks, n)) for n in (1, 3, 5))
        + " |",
        "",
        "A 1,000-character chunk holds several of our paragraphs, so a containment hit is"
        " easier for a chunk than for a paragraph; the comparison favours the tutorial there.",
    ]
    lines += ["", *notes] if notes else []
    lines += [
        "",
        f"Load average (1/5/15 min) before: {load_before}; after: {load_average()}."
        + (" Other busy processes at the start: " + "; ".join(f"`{b}`" for b in busy) + "."
           if busy else ""),
    ]  # fmt: skip
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Against the tutorial pipeline (`benchmarks/baseline.py`)", body)


if __name__ == "__main__":
    main()
