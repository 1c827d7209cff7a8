"""What the index's opening check costs: does Chroma hold the record's current vectors?

    .venv/bin/python benchmarks/open_check.py [--sizes 1000,10000,100000] [--runs 7]
        [--base DIR] [--no-write]

A reader (``pcc ask``, the chat, ``eval``, ``compare``) checks at its first use of Chroma
(``index.health.store_problem``: the record's vector count, Chroma's count, one report's
vectors counted and one read back, one search); ``status`` and every writer check at
once. The first touch of a collection loads it (about 0.5 s at 100,000 vectors), which a
question that searches Chroma pays anyway; a question scoped to a few reports is scored
on the record's vectors and never touches Chroma, so it pays nothing. The corpora are made
as ``benchmarks/query.py`` makes them (real text and vectors, copies with a little
noise). Each run is a fresh process:

- first search: Chroma opened and one search made, as the first question does, with the
  check (the reader's opening) and without it (the same, with no check armed); the
  difference is what the check adds to a command;
- a second check in the same process (what checking again would cost; warm questions
  don't: it runs once);
- ``pcc ask`` from process start to answer, for a question that searches Chroma and one
  scoped to a named report (median of the runs).

Writes the "Opening check" section of benchmarks/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PCC, PYTHON, load_average, machine_line, write_section

SCOPED = "What was Durham's solved rate, and how does it compare nationally?"
UNSCOPED = "How is victim satisfaction measured?"


def stage_measure(target: Path, check: bool) -> dict[str, Any]:
    from pcc_assistant.config import Settings
    from pcc_assistant.index.indexer import Index
    from pcc_assistant.pipeline import make_embedder

    index = Index(target, make_embedder(Settings(index_dir=target)))
    vector = index.embedder.embed([UNSCOPED])[0]
    if check:
        index.exists()  # arms the check for the first use of Chroma
    t0 = time.perf_counter()
    index.store.query(vector, 40)
    t1 = time.perf_counter()
    problem = index.check_store()
    t2 = time.perf_counter()
    index.close()
    return {"first_ms": (t1 - t0) * 1000, "again_ms": (t2 - t1) * 1000, "problem": problem}


def _stage(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [str(PYTHON), __file__, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"stage {args[:2]} failed ({proc.returncode})")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _ask_seconds(target: Path, question: str) -> float:
    started = time.perf_counter()
    run = subprocess.run(
        [str(PCC), "--index", str(target), "ask", question], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise SystemExit(f"pcc ask failed: {run.stderr}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--base",
        type=Path,
        help="a base index of real reports to copy from (default: query.py --stage base, "
        "which ingests corpus/ and ../shared/real-pdfs)",
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--stage", choices=["measure"], help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "measure":
        print(json.dumps(stage_measure(args.target, not args.no_check)))
        return

    query = str(Path(__file__).resolve().parent / "query.py")
    load_before = load_average()
    rows = []
    with tempfile.TemporaryDirectory(prefix="pcc-open-check-") as tmp:
        base = args.base
        if base is None:
            base = Path(tmp) / "base"
            subprocess.run(
                [str(PYTHON), query, "--stage", "base", "--target", str(base)], check=True
            )
        for size in (int(s) for s in args.sizes.split(",")):
            target = Path(tmp) / f"size-{size}"
            built = json.loads(
                subprocess.run(
                    [
                        *(str(PYTHON), query, "--stage", "build", "--base", str(base)),
                        *("--target", str(target), "--size", str(size), "--noise", "0.005"),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            _ask_seconds(target, UNSCOPED)  # warms the disk cache and the ONNX export
            measure = ["--stage", "measure", "--target", str(target)]
            checked, plain, unscoped, scoped = [], [], [], []
            for _ in range(args.runs):  # interleaved, so the machine's load falls on both
                checked.append(_stage(measure))
                plain.append(_stage([*measure, "--no-check"]))
                unscoped.append(_ask_seconds(target, UNSCOPED))
                scoped.append(_ask_seconds(target, SCOPED))
            if any(r["problem"] for r in checked + plain):
                raise SystemExit(f"the check found a problem at {size}: {checked[0]['problem']}")
            with_check = statistics.median(r["first_ms"] for r in checked)
            without = statistics.median(r["first_ms"] for r in plain)
            rows.append(
                {
                    "paragraphs": built["paragraphs"],
                    "vectors": built["vectors"],
                    "reports": built["documents"],
                    "first_ms": without,
                    "first_checked_ms": with_check,
                    "added_ms": with_check - without,
                    "again_ms": statistics.median(r["again_ms"] for r in checked),
                    "ask_s": statistics.median(unscoped),
                    "ask_scoped_s": statistics.median(scoped),
                }
            )
            shutil.rmtree(target)
            print(json.dumps(rows[-1]), flush=True)
    lines = [
        machine_line(["chromadb", "onnxruntime"]),
        "",
        f"Command: `.venv/bin/python benchmarks/open_check.py --sizes {args.sizes} "
        f"--runs {args.runs}` (`--base`: `corpus/` and ../shared/real-pdfs ingested). Corpora "
        f"as `benchmarks/query.py` makes them; each figure the median of {args.runs} fresh "
        f"processes. Questions: {UNSCOPED!r} (searches Chroma), {SCOPED!r} (scoped to the "
        "Durham report: scored on the record's vectors).",
        "",
        "| paragraphs | vectors | reports | first search ms, no check | with the check "
        "| added ms | check again ms | `pcc ask` s, searching Chroma | `pcc ask` s, scoped |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['paragraphs']:,} | {r['vectors']:,} | {r['reports']} | {r['first_ms']:.0f} "
            f"| {r['first_checked_ms']:.0f} | {r['added_ms']:.0f} | {r['again_ms']:.1f} "
            f"| {r['ask_s']:.2f} | {r['ask_scoped_s']:.2f} |"
        )
    lines += ["", f"Load average (1/5/15 min) before: {load_before}; after: {load_average()}."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Opening check (`benchmarks/open_check.py`)", body)


if __name__ == "__main__":
    main()
