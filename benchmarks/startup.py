"""Start-up: `pcc --help`, and `pcc ask` from process start to printed answer, with its memory.

    .venv/bin/python benchmarks/startup.py [--runs 5] [--question "..."] [--index DIR]
        [--no-write]

Measures, each as the median of ``--runs`` fresh processes:

- ``pcc --help``: process start to exit;
- ``pcc ask QUESTION`` on an index of the sample reports (built once into a temporary
  folder with ``pcc ingest corpus/``, unless ``--index`` names one): process start to the
  first line of the answer on stdout, and to exit; and the peak resident memory of the
  ``pcc`` process, read with ``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process
  started fresh for each run, so one run's peak can't hide another's;
- where the time goes: the same steps in one process with a clock between them (import,
  open the index, load the embedding model, answer), and the modules that cost most to
  import (``python -X importtime``, cumulative, top-level imports only).

Says which embedder ``pipeline.make_embedder`` gave. Writes the "Start-up" section of
benchmarks/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PCC,
    PYTHON,
    SAMPLE_PDFS,
    busy_processes,
    embedder_description,
    load_average,
    machine_line,
    write_section,
)

QUESTION = "What was Durham's solved rate?"

# Runs one command in a fresh process; prints seconds to first stdout line, to exit, and
# the command's peak RSS (this wrapper has no other children).
_WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
first = p.stdout.readline()
t_first = time.perf_counter() - t
rest = p.stdout.read()
p.wait()
t_exit = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"first": t_first, "exit": t_exit, "peak_mb": peak, "rc": p.returncode,
                  "out": (first + rest).decode(errors="replace")[:400]}))
"""

# The steps of `pcc ask` with a clock between them, in one fresh process.
_PHASES = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from pcc_assistant.ask import Assistant
from pcc_assistant.config import Settings
t1 = time.perf_counter()
a = Assistant(Settings(index_dir=Path(sys.argv[1])))
a.retriever.refresh()
a.index.store.count()
t2 = time.perf_counter()
a.index.embedder.embed(["warm up"])
t3 = time.perf_counter()
ans = a.ask(sys.argv[2])
t4 = time.perf_counter()
print(json.dumps({"import pcc_assistant (ask, config)": t1 - t0,
                  "open index (record, BM25, Chroma)": t2 - t1,
                  "load the embedding model (incl. its imports)": t3 - t2,
                  "answer the question": t4 - t3, "total": t4 - t0,
                  "embedder": type(a.index.embedder).__name__}))
"""


def wrapped(cmd: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [str(PYTHON), "-c", _WRAPPER, *cmd], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(out))


def import_times(index: Path, question: str, top: int) -> list[tuple[str, float]]:
    """Top-level imports of `pcc ask` by cumulative import time, in seconds."""
    proc = subprocess.run(
        [str(PYTHON), "-X", "importtime", str(PCC), "--index", str(index), "ask", question],
        capture_output=True,
        text=True,
        check=False,
    )
    totals: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        raw = line.split("|")[2]
        depth = (len(raw) - len(raw.lstrip(" ")) - 1) // 2
        if depth == 0:
            pkg = name.split(".")[0]
            totals[pkg] = totals.get(pkg, 0.0) + int(cumulative) / 1e6
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--index", type=Path, help="an existing index (default: build one)")
    parser.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    args = parser.parse_args()

    load_before = load_average()
    busy = busy_processes()
    embedder = embedder_description()
    print(f"embedder: {embedder}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="pcc-bench-startup-") as tmp:
        index = args.index or Path(tmp) / "index"
        if args.index is None:
            print("ingesting corpus/ ...", file=sys.stderr)
            subprocess.run(
                [str(PCC), "--index", str(index), "ingest", str(SAMPLE_PDFS)],
                check=True,
                capture_output=True,
            )
        helps = [wrapped([str(PCC), "--help"]) for _ in range(args.runs)]
        print(f"--help: {[round(h['exit'], 2) for h in helps]}", file=sys.stderr)
        asks = [
            wrapped([str(PCC), "--index", str(index), "ask", args.question])
            for _ in range(args.runs)
        ]
        print(f"ask: {[round(a['exit'], 2) for a in asks]}", file=sys.stderr)
        bad = [a for a in asks if a["rc"] != 0]
        if bad:
            print(f"pcc ask failed: {bad[0]}", file=sys.stderr)
        phases = json.loads(
            subprocess.run(
                [str(PYTHON), "-c", _PHASES, str(index), args.question],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        imports = import_times(index, args.question, 8)

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    answer = asks[0]["out"].strip().splitlines()[0] if asks[0]["out"].strip() else "(nothing)"
    lines = [
        machine_line(["chromadb", "bm25s", "sentence-transformers", "torch", "onnxruntime"]),
        f"Embedder: `{embedder}`.",
        "",
        f"Command: `.venv/bin/python benchmarks/startup.py --runs {args.runs}`. Index: the two"
        f' sample reports. Question: "{args.question}". First line printed: "{answer[:100]}".',
        "",
        f"| what | median s (of {args.runs}) | min s | max s | peak MB |",
        "|---|---|---|---|---|",
        f"| `pcc --help`, start to exit | {med(helps, 'exit'):.2f} |"
        f" {min(h['exit'] for h in helps):.2f} | {max(h['exit'] for h in helps):.2f} |"
        f" {med(helps, 'peak_mb'):.0f} |",
        f"| `pcc ask`, start to first line of the answer | {med(asks, 'first'):.2f} |"
        f" {min(a['first'] for a in asks):.2f} | {max(a['first'] for a in asks):.2f} | |",
        f"| `pcc ask`, start to exit | {med(asks, 'exit'):.2f} |"
        f" {min(a['exit'] for a in asks):.2f} | {max(a['exit'] for a in asks):.2f} |"
        f" {med(asks, 'peak_mb'):.0f} (max {max(a['peak_mb'] for a in asks):.0f}) |",
        "",
        f"Where the time of `pcc ask` goes (one process, clock between steps; embedder"
        f" {phases.pop('embedder')}):",
        "",
        "| step | s |",
        "|---|---|",
        *[f"| {k} | {v:.2f} |" for k, v in phases.items()],
        "",
        "Costliest top-level imports of `pcc ask` (`python -X importtime`, cumulative, one run;"
        " modules imported lazily while answering are counted where they are first imported):",
        "",
        "| module | s |",
        "|---|---|",
        *[f"| {name} | {secs:.2f} |" for name, secs in imports],
        "",
        f"Load average (1/5/15 min) before: {load_before}; after: {load_average()}."
        + (" Other busy processes: " + "; ".join(f"`{b}`" for b in busy) + "." if busy else ""),
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Start-up (`benchmarks/startup.py`)", body)


if __name__ == "__main__":
    main()
