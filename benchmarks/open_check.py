"""What the index's opening check costs: does Chroma hold the record's current vectors?

    .venv/bin/python benchmarks/open_check.py [--sizes 1000,10000,100000] [--runs 7]
        [--base DIR] [--no-write]

Every opening of the index (``pcc ask``, the chat, ``eval``, ``compare``, ``status``, and
every writer) runs ``index.health.store_problem``: the record's vector count, Chroma's
count, one report's vectors counted and one read back, one search. The corpora are made as
``benchmarks/query.py`` makes them (real text and vectors, copies with a little noise), at
each size. Each run is a fresh process, so the first opening is measured as a command
pays it:

- open: Chroma's client and collection opened (a question pays this anyway);
- check: the check itself, after that (what the check adds to a command);
- a second check in the same process (what a reader that checked again would pay; warm
  questions don't: the check runs once, when the index is opened);
- ``pcc ask`` from process start to answer (median of the runs).

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

QUESTION = "What was Durham's solved rate, and how does it compare nationally?"


def stage_measure(target: Path) -> dict[str, Any]:
    from pcc_assistant.config import Settings
    from pcc_assistant.index.indexer import Index
    from pcc_assistant.pipeline import make_embedder

    index = Index(target, make_embedder(Settings(index_dir=target)))
    t0 = time.perf_counter()
    index.store._open()
    t1 = time.perf_counter()
    problem = index.check_store()
    t2 = time.perf_counter()
    again = index.check_store()
    t3 = time.perf_counter()
    index.close()
    return {
        "open_ms": (t1 - t0) * 1000,
        "check_ms": (t2 - t1) * 1000,
        "again_ms": (t3 - t2) * 1000,
        "problem": problem or again,
    }


def _stage(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [str(PYTHON), __file__, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"stage {args[:2]} failed ({proc.returncode})")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def _ask_seconds(target: Path) -> float:
    started = time.perf_counter()
    run = subprocess.run(
        [str(PCC), "--index", str(target), "ask", QUESTION], capture_output=True, text=True
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
    args = parser.parse_args()
    if args.stage == "measure":
        print(json.dumps(stage_measure(args.target)))
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
            _ask_seconds(target)  # the first run warms the disk cache and the ONNX export
            runs = [
                _stage(["--stage", "measure", "--target", str(target)]) for _ in range(args.runs)
            ]
            if any(r["problem"] for r in runs):
                raise SystemExit(f"the check found a problem at {size}: {runs[0]['problem']}")
            asks = [_ask_seconds(target) for _ in range(args.runs)]
            rows.append(
                {
                    "paragraphs": built["paragraphs"],
                    "vectors": built["vectors"],
                    "reports": built["documents"],
                    "open_ms": statistics.median(r["open_ms"] for r in runs),
                    "check_ms": statistics.median(r["check_ms"] for r in runs),
                    "check_max_ms": max(r["check_ms"] for r in runs),
                    "again_ms": statistics.median(r["again_ms"] for r in runs),
                    "ask_s": statistics.median(asks),
                }
            )
            shutil.rmtree(target)
            print(json.dumps(rows[-1]), flush=True)
    lines = [
        machine_line(["chromadb", "onnxruntime"]),
        "",
        f"Command: `.venv/bin/python benchmarks/open_check.py --sizes {args.sizes} "
        f"--runs {args.runs}`. Corpora as `benchmarks/query.py` makes them; each figure the "
        f"median of {args.runs} fresh processes.",
        "",
        "| paragraphs | vectors | reports | open Chroma ms | check ms (max) | check again ms "
        "| `pcc ask` start to answer s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['paragraphs']:,} | {r['vectors']:,} | {r['reports']} | {r['open_ms']:.0f} "
            f"| {r['check_ms']:.1f} ({r['check_max_ms']:.1f}) | {r['again_ms']:.1f} "
            f"| {r['ask_s']:.2f} |"
        )
    lines += ["", f"Load average (1/5/15 min) before: {load_before}; after: {load_average()}."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Opening check (`benchmarks/open_check.py`)", body)


if __name__ == "__main__":
    main()
