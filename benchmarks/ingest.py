"""Ingest throughput: pages and paragraphs a second, parse to stored.

    .venv/bin/python benchmarks/ingest.py [--repeat 3] [--out benchmarks/RESULTS.md]

Corpora: the sample reports (corpus/) and, where present, ../shared/real-pdfs. Each run
ingests into a fresh temporary index with the model already loaded (steady state), and
once more as the real command (`pcc ingest`, process start to exit, model load included).
Figures are medians over the runs; the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import write_section  # noqa: E402

CORPORA = {"sample PDFs": ROOT / "corpus", "real PDFs": ROOT.parent / "shared" / "real-pdfs"}


def steady(folder: Path, repeat: int) -> dict[str, float]:
    from pcc_assistant import pipeline
    from pcc_assistant.config import Settings
    from pcc_assistant.index.embedder import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            result = pipeline.ingest(
                [folder], Settings(index_dir=Path(tmp) / "index"), embedder=embedder
            )
            runs.append(result)
    secs = statistics.median(r.seconds for r in runs)
    return {
        "files": len(runs[0].added),
        "failed": len(runs[0].failed),
        "pages": runs[0].pages,
        "paragraphs": runs[0].paragraphs,
        "seconds": secs,
        "pages/s": runs[0].pages / secs,
        "paragraphs/s": runs[0].paragraphs / secs,
    }


def command(folder: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv/bin/pcc"), "--index", f"{tmp}/index", "ingest", str(folder)],
            check=False,
            capture_output=True,
        )
        secs = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": secs, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    rows = []
    for name, folder in CORPORA.items():
        if not folder.is_dir():
            print(f"skip {name}: {folder} absent", file=sys.stderr)
            continue
        print(f"{name} ...", file=sys.stderr)
        s = steady(folder, args.repeat)
        c = command(folder)
        rows.append((name, s, c))
    lines = [
        f"Run {dt.date.today().isoformat()} on {platform.machine()}, {platform.python_version()},"
        f" 2 cores; pypdf {version('pypdf')}, chromadb {version('chromadb')},"
        f" sentence-transformers {version('sentence-transformers')}, torch {version('torch')}.",
        "",
        f"Steady state: model loaded, fresh index, median of {args.repeat} runs, parse to"
        " stored (parsing in the worker process, embedding, Chroma, record, BM25).",
        "Command: `pcc ingest` from process start to exit, one run, with its peak memory.",
        "",
        "| corpus | files | pages | paragraphs | steady s | pages/s | paragraphs/s |"
        " `pcc ingest` s | peak MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s, c in rows:
        lines.append(
            f"| {name} | {s['files']:.0f} | {s['pages']:.0f} | {s['paragraphs']:.0f} |"
            f" {s['seconds']:.1f} | {s['pages/s']:.1f} | {s['paragraphs/s']:.1f} |"
            f" {c['seconds']:.1f} | {c['peak_mb']:.0f} |"
        )
    # Only this section is replaced; the others, and its own ### notes, are kept.
    write_section("Ingest (`benchmarks/ingest.py`)", "\n".join(lines), args.out)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
