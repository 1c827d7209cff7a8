"""Ingest: `pcc ingest` against the tutorial pipeline, from process start to exit, one run.

    .venv/bin/pip install -e '.[bench]'      # the tutorial pipeline's packages
    .venv/bin/python benchmarks/ingest.py [--repeat 3] [--scale-repeat 1] [--corpus-runs 5]
        [--no-scale] [--no-write]

Corpora, only their .pdf files, given to both commands as a list of files:

- sample PDFs: corpus/*.pdf (2 reports);
- real PDFs: ../shared/real-pdfs/*.pdf;
- about 195 documents: ../shared/real-pdfs-scale/*.pdf with ../shared/real-pdfs/*.pdf.

Each run is a new process into a fresh temporary index: ours is
``.venv/bin/pcc --index TMP ingest --json FILES``, theirs is
``benchmarks/tutorial_ingest.py TMP FILES`` (``baseline.Tutorial``). They alternate, ours
first in odd rounds and theirs first in even ones; figures are medians of the rounds
(``--repeat`` for the sample and real PDFs, ``--scale-repeat`` for the large corpus). The
clock runs from starting the process to its exit, so imports and loading the model count.
Peak memory is the most resident memory the process tree held at once (sampled every 0.1 s:
``pcc ingest`` with its parser worker; the tutorial is one process).

Also ``pcc ingest corpus/`` (the folder as a user types it) on a fresh index,
``--corpus-runs`` times. The model export is made first (``pcc prepare``), outside the clock:
it happens once per machine.

Writes the "Ingest" section of benchmarks/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PCC,
    PYTHON,
    REAL_PDFS,
    ROOT,
    SAMPLE_PDFS,
    SHARED,
    busy_processes,
    load_average,
    machine_line,
    write_section,
)

SCALE_PDFS = SHARED / "real-pdfs-scale"
TUTORIAL = ROOT / "benchmarks" / "tutorial_ingest.py"
# The aims: ours at most a third of the tutorial's time on the two larger corpora,
# `pcc ingest corpus/` under 6 s, peak memory at ~195 documents under 1 GB.
AIM_RATIO = 1 / 3
AIM_CORPUS_S = 6.0
AIM_PEAK_MB = 1024


def _descendants(pid: int) -> list[int]:
    out = [pid]
    i = 0
    while i < len(out):
        try:
            tasks = os.listdir(f"/proc/{out[i]}/task")
        except OSError:
            tasks = []
        for tid in tasks:
            try:
                with open(f"/proc/{out[i]}/task/{tid}/children") as fh:
                    out += [int(c) for c in fh.read().split()]
            except OSError:
                continue
        i += 1
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; wall seconds from start to exit, peak tree memory, its stdout."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, sum(_rss_kb(p) for p in _descendants(proc.pid)))
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    return {
        "seconds": seconds,
        "peak_mb": peak / 1024,
        "code": proc.returncode,
        "stdout": out,
        "stderr": err,
    }


def ours(files: list[Path], folder: Path) -> dict[str, Any]:
    run = timed([str(PCC), "--index", str(folder), "ingest", "--json", *map(str, files)])
    try:
        run["result"] = json.loads(run["stdout"])
    except ValueError:
        raise SystemExit(f"pcc ingest failed ({run['code']}): {run['stderr'][-2000:]}") from None
    return run


def theirs(files: list[Path], folder: Path) -> dict[str, Any]:
    run = timed([str(PYTHON), str(TUTORIAL), str(folder), *map(str, files)])
    lines = [ln for ln in run["stdout"].splitlines() if ln.startswith("{")]
    if run["code"] != 0 or not lines:
        raise SystemExit(f"tutorial failed ({run['code']}): {run['stderr'][-2000:]}")
    run["result"] = json.loads(lines[-1])
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds on the sample and real")
    parser.add_argument("--scale-repeat", type=int, default=1, help="rounds on ~195 documents")
    parser.add_argument("--corpus-runs", type=int, default=5, help="runs of pcc ingest corpus/")
    parser.add_argument("--no-scale", action="store_true", help="skip the ~195 documents")
    parser.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    args = parser.parse_args()

    subprocess.run([str(PCC), "prepare"], check=True)  # the export: once, outside the clock
    corpora: dict[str, list[Path]] = {"sample PDFs": sorted(SAMPLE_PDFS.glob("*.pdf"))}
    if REAL_PDFS.is_dir():
        corpora["real PDFs"] = sorted(REAL_PDFS.glob("*.pdf"))
    if SCALE_PDFS.is_dir() and REAL_PDFS.is_dir() and not args.no_scale:
        corpora["~195 documents (scale + real)"] = sorted(SCALE_PDFS.glob("*.pdf")) + sorted(
            REAL_PDFS.glob("*.pdf")
        )
    load_before = load_average()
    busy = busy_processes()
    rows = []
    loads: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pcc-bench-ingest-") as tmp:
        root = Path(tmp)
        for name, files in corpora.items():
            rounds = args.scale_repeat if name.startswith("~") else args.repeat
            mine: list[dict[str, Any]] = []
            tut: list[dict[str, Any]] = []
            for r in range(rounds):
                loads.append(load_average().split(" / ")[0])
                order = [("ours", ours), ("theirs", theirs)]
                for who, fn in order if r % 2 == 0 else order[::-1]:
                    print(f"{name}, round {r + 1}/{rounds}: {who} ...", file=sys.stderr)
                    run = fn(files, root / f"{who}-{len(rows)}-{r}")
                    (mine if who == "ours" else tut).append(run)
                    print(f"  {run['seconds']:.1f} s, {run['peak_mb']:.0f} MB", file=sys.stderr)
            rows.append((name, files, mine, tut))
        corpus_runs = []
        for r in range(args.corpus_runs):
            print(f"pcc ingest corpus/ {r + 1}/{args.corpus_runs} ...", file=sys.stderr)
            folder = root / f"corpus-{r}"
            run = timed([str(PCC), "--index", str(folder), "ingest", str(SAMPLE_PDFS)])
            if run["code"] != 0:
                raise SystemExit(f"pcc ingest corpus/ failed: {run['stderr'][-2000:]}")
            corpus_runs.append(run)

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    lines = [
        machine_line(
            [
                "onnxruntime",
                "pypdf",
                "chromadb",
                "langchain-community",
                "langchain-huggingface",
                "sentence-transformers",
                "torch",
            ]
        ),
        "",
        f"Command: `.venv/bin/python benchmarks/ingest.py --repeat {args.repeat}"
        f" --scale-repeat {args.scale_repeat} --corpus-runs {args.corpus_runs}"
        f"{' --no-scale' if args.no_scale else ''}`.",
        "",
        "From process start to exit, fresh index, only the `.pdf` files, the two commands"
        " alternating; medians of the rounds. Ours: `pcc ingest --json FILES`; theirs:"
        " `benchmarks/tutorial_ingest.py` (PyPDFLoader, 1,000-character chunks,"
        " HuggingFaceEmbeddings, langchain-chroma). Peak memory: the process tree at its"
        " largest, sampled every 0.1 s.",
        "",
        "| corpus | files | pages | rounds | ours: paragraphs | ours s | theirs: chunks |"
        " theirs s | ours/theirs | ours peak MB | theirs peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, files, mine, tut in rows:
        res, tres = mine[0]["result"], tut[0]["result"]
        o, t = med(mine, "seconds"), med(tut, "seconds")
        lines.append(
            f"| {name} | {len(files)} | {res['pages']:,} | {len(mine)} | {res['paragraphs']:,} |"
            f" {o:.1f} | {tres['chunks']:,} | {t:.1f} | {o / t:.2f} |"
            f" {max(r['peak_mb'] for r in mine):.0f} | {max(r['peak_mb'] for r in tut):.0f} |"
        )
    lines += [
        "",
        "Where our time went (the median run's closing line: what the ingesting thread waited"
        " for, and storing; parsing runs in its worker alongside embedding):",
        "",
        "| corpus | embed s | store s | parse s (waited) | other s | parser busy s | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, _, mine, _ in rows:
        run = sorted(mine, key=lambda r: r["seconds"])[len(mine) // 2]
        t = run["result"]["timings"]
        lines.append(
            f"| {name} | {t['embed']:.1f} | {t['store']:.1f} | {t['parse']:.1f} |"
            f" {t['other']:.1f} | {t['parse_work']:.1f} | {len(run['result']['failed'])} |"
        )
    cs = [r["seconds"] for r in corpus_runs]
    lines += [
        "",
        f"`pcc ingest corpus/` on a fresh index, process start to exit: median"
        f" {statistics.median(cs):.1f} s of {len(cs)} runs ({min(cs):.1f}–{max(cs):.1f} s;"
        f" aim < {AIM_CORPUS_S:.0f} s), peak {max(r['peak_mb'] for r in corpus_runs):.0f} MB.",
    ]
    fails = [
        f"{name}: {', '.join(f['path'].rsplit('/', 1)[-1] for f in mine[0]['result']['failed'])}"
        for name, _, mine, _ in rows
        if mine[0]["result"]["failed"]
    ] + [
        f"{name} (tutorial): {', '.join(tut[0]['result']['failed'])}"
        for name, _, _, tut in rows
        if tut[0]["result"]["failed"]
    ]
    if fails:
        lines += ["", "Files not indexed: " + "; ".join(fails) + "."]
    lines += [
        "",
        f"Load average (1/5/15 min) before: {load_before}; after: {load_average()};"
        f" 1-minute load at the start of each round: {', '.join(loads)}."
        + (" Other busy processes at the start: " + "; ".join(f"`{b}`" for b in busy) + "."
           if busy else ""),
    ]  # fmt: skip
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Ingest (`benchmarks/ingest.py`)", body)


if __name__ == "__main__":
    main()
