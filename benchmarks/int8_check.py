"""Is the int8 model good enough to embed with? The checks the int8 choice rests on.

    .venv/bin/python benchmarks/int8_check.py [--speed-passes 3] [--no-write]

1. Closeness: every unit pcc embeds (each paragraph, or its windows) of the sample PDFs and
   of ../shared/real-pdfs, embedded by sentence-transformers (torch, the reference), by the
   fp32 ONNX export and by its int8 model (recipe ``INT8_RECIPE``); the cosine of each to
   torch's vector: the worst, the 1st percentile, the median, and how many fall below 0.99.
2. Speed: the same units through the fp32 and the int8 model, on the embedder's threads
   (median of ``--speed-passes`` passes each, alternating).
3. Retrieval and answers: corpus/ ingested twice, with fp32 and with int8 vectors (questions
   embedded by the same model), and eval/questions.jsonl scored on each.

Writes the "int8 or fp32" section of benchmarks/RESULTS.md unless --no-write. The export is
made in a temporary cache folder, so nothing of the user's cache is touched.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    QUESTIONS,
    REAL_PDFS,
    SAMPLE_PDFS,
    busy_processes,
    load_average,
    machine_line,
    write_section,
)


def units_of(folders: list[Path], embedder: object) -> tuple[list[str], int, int]:
    """(texts of every unit, paragraphs, documents) of the PDFs in ``folders``."""
    from pcc_assistant.index.embedder import embedding_units
    from pcc_assistant.ingest.document import parse_document
    from pcc_assistant.ingest.isolation import ParserWorker

    texts: list[str] = []
    paragraphs = docs = 0
    worker = ParserWorker(120, 2048)
    try:
        for folder in folders:
            for pdf in sorted(folder.glob("*.pdf")):
                try:
                    parsed = parse_document(pdf, worker=worker)
                except Exception as exc:  # a broken file is the parser's business, not this
                    print(f"skip {pdf.name}: {exc}", file=sys.stderr)
                    continue
                units = embedding_units(embedder, parsed.paragraphs)  # type: ignore[arg-type]
                texts += [t for _, _, t in units]
                paragraphs += len(parsed.paragraphs)
                docs += 1
    finally:
        worker.close()
    return texts, paragraphs, docs


def _shown(folder: Path) -> str:
    """corpus/ or ../shared/real-pdfs, as the README names them."""
    return "corpus/" if folder == SAMPLE_PDFS else f"../shared/{folder.name}"


def evaluate(settings: object, corpus: Path) -> dict[str, float]:
    from pcc_assistant import eval_run, pipeline
    from pcc_assistant.ask import Assistant
    from pcc_assistant.evaluate import load_questions

    pipeline.ingest([corpus], settings)  # type: ignore[arg-type]
    assistant = Assistant(settings)  # type: ignore[arg-type]
    try:
        indexed = {(p.doc, p.label): p.text for p in assistant.index.record.paragraphs()}
        run = eval_run.run(assistant.ask, load_questions(QUESTIONS), indexed)
    finally:
        assistant.close()
    s = run.summary
    return {
        **{k: v for k, v in s["retrieval"].items()},
        "right": s["answers"]["answerable_correct"],
        "refused": s["answers"]["answerable_refused"],
        "unanswerable refused": s["answers"]["unanswerable_refused"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed-passes", type=int, default=3, help="passes of each model")
    parser.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    args = parser.parse_args()
    load_before = load_average()
    busy = busy_processes()

    with tempfile.TemporaryDirectory(prefix="pcc-bench-int8-") as tmp:
        os.environ["XDG_CACHE_HOME"] = tmp  # the export goes here, not to the user's cache
        from pcc_assistant import pipeline
        from pcc_assistant.config import Settings
        from pcc_assistant.index.embedder import SentenceTransformerEmbedder
        from pcc_assistant.index.onnx_embedder import INT8_RECIPE, OnnxEmbedder

        base = Settings(cache_dir=Path(tmp) / "cache")
        pipeline.prepare_onnx(base)
        folder = pipeline.onnx_folder(base)
        fp32 = OnnxEmbedder.from_export(folder)
        int8 = OnnxEmbedder.from_export(folder, int8=True)
        torch = SentenceTransformerEmbedder()

        folders = [SAMPLE_PDFS] + ([REAL_PDFS] if REAL_PDFS.is_dir() else [])
        print("parsing ...", file=sys.stderr)
        texts, paragraphs, docs = units_of(folders, fp32)
        tokens = sum(fp32.count_tokens(texts)) + 2 * len(texts)
        print(f"{len(texts)} units; torch ...", file=sys.stderr)
        reference = torch.embed(texts)
        closeness = {}
        for name, emb in (("fp32 ONNX", fp32), (f"int8 ONNX ({INT8_RECIPE})", int8)):
            cos = (emb.embed(texts) * reference).sum(axis=1)
            closeness[name] = cos
        speed: dict[str, list[float]] = {"fp32": [], "int8": []}
        passes = max(1, args.speed_passes)
        for r in range(passes):
            for name, emb in (("fp32", fp32), ("int8", int8)):
                print(f"speed {name} {r + 1}/{passes} ...", file=sys.stderr)
                t = time.perf_counter()
                emb.embed(texts)
                speed[name].append(tokens / (time.perf_counter() - t))

        quality = {}
        for name, int8_on in (("fp32", False), ("int8", True)):
            print(f"eval {name} ...", file=sys.stderr)
            settings = base.model_copy(
                update={"index_dir": Path(tmp) / f"index-{name}", "embed_int8": int8_on}
            )
            quality[name] = evaluate(settings, SAMPLE_PDFS)

    lines = [
        machine_line(["onnxruntime", "sentence-transformers", "torch", "chromadb"]),
        "",
        f"Command: `.venv/bin/python benchmarks/int8_check.py --speed-passes {passes}`.",
        "",
        f"Closeness to sentence-transformers (torch), over every unit pcc embeds of "
        f"{docs} PDFs ({', '.join(_shown(f) for f in folders)}): "
        f"{paragraphs:,} paragraphs, {len(texts):,} units (paragraphs and windows), "
        f"{tokens:,} tokens:",
        "",
        "| model | worst cosine | 1st percentile | median | units below 0.99 |",
        "|---|---|---|---|---|",
    ]
    for name, cos in closeness.items():
        lines.append(
            f"| {name} | {cos.min():.4f} | {np.percentile(cos, 1):.4f} | "
            f"{np.median(cos):.4f} | {int((cos < 0.99).sum())} |"
        )
    f, i = statistics.median(speed["fp32"]), statistics.median(speed["int8"])
    lines += [
        "",
        f"Speed, the same units on the embedder's {fp32.threads} threads (median of {passes}"
        f" passes, alternating): fp32 {f:,.0f} tokens/s, int8 {i:,.0f} tokens/s"
        f" (int8/fp32 {i / f:.2f}).",
        "",
        "Retrieval and answers on eval/questions.jsonl, corpus/ indexed with each model's "
        "vectors (questions embedded by the same model):",
        "",
        "| vectors | " + " | ".join(quality["fp32"]) + " |",
        "|---|" + "---|" * len(quality["fp32"]),
    ]
    for name, q in quality.items():
        lines.append(
            f"| {name} | " + " | ".join("–" if v is None else f"{v:.1%}" if k != "mrr"
                                        else f"{v:.4f}" for k, v in q.items()) + " |"
        )  # fmt: skip
    lines += [
        "",
        f"Load average (1/5/15 min) before: {load_before}; after: {load_average()}."
        + (" Other busy processes at the start: " + "; ".join(f"`{b}`" for b in busy) + "."
           if busy else ""),
    ]  # fmt: skip
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("int8 or fp32 (`benchmarks/int8_check.py`)", body)


if __name__ == "__main__":
    main()
