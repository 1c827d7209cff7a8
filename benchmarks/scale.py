"""Retrieval and answers among ~195 real documents: ours against the tutorial pipeline.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/scale.py [--sets dev|test|all] [--ours DIR] [--theirs DIR]
        [--no-write]

The corpus: the two sample reports (corpus/*.pdf), ../shared/real-pdfs (21) and
../shared/real-pdfs-scale (172). Each index is built once and kept (``--ours`` and
``--theirs``, by default under ~/.cache/pcc-bench/); delete the folder to rebuild it. Ours
is ``pcc ingest`` of the three folders; theirs is the tutorial pipeline of
``benchmarks/baseline.py`` (PyPDFLoader, 1,000-character chunks, HuggingFaceEmbeddings,
Chroma, ``similarity_search(k=5)``).

For each question set, ours is ``pcc eval --json`` (the command a user runs; its figures are
the ones printed there) and theirs is scored the same way on its top 5 chunks: a chunk hits
when, folded, it holds every evidence snippet of the same document. The tutorial has no
answerer: its "answer" is its top chunk, right when that chunk holds the expected strings
and the evidence, and it never refuses. That favours it: a 1,000-character chunk quoted
whole is not an answer a panel member can read, and a chunk holds more text than one of
our paragraphs.

Also measured at 195 documents: ``pcc ask`` from process start to printed answer (median of
5) and warm answer latency (``pcc eval``'s median and p95).

``--sets dev`` runs the development sets (eval/dev/*.jsonl, eval/questions.jsonl),
``--sets test`` the sealed test set (eval/test/*.jsonl; score it once, at the end of a piece
of work), ``--sets all`` both. Writes the "At scale" section of benchmarks/RESULTS.md
unless --no-write.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PCC, REAL_PDFS, ROOT, SAMPLE_PDFS, load_average, machine_line, write_section

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
warnings.filterwarnings("ignore", message=".*langchain-community.*is being sunset")

SCALE_PDFS = ROOT.parent / "shared" / "real-pdfs-scale"
CACHE = Path.home() / ".cache" / "pcc-bench"
SETS = {
    "dev": [
        ("dev/real", ROOT / "eval" / "dev" / "real.jsonl"),
        ("dev/police", ROOT / "eval" / "dev" / "police.jsonl"),
        ("questions", ROOT / "eval" / "questions.jsonl"),
    ],
    "test": [
        ("test/real", ROOT / "eval" / "test" / "real.jsonl"),
        ("test/police", ROOT / "eval" / "test" / "police.jsonl"),
    ],
}
STARTUP_QUESTION = "What was Durham's solved rate, and how does it compare nationally?"


def corpus_pdfs() -> list[Path]:
    folders = [SAMPLE_PDFS, REAL_PDFS, SCALE_PDFS]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        sys.exit(f"benchmarks/scale.py needs {', '.join(missing)}")
    return sorted(p for f in folders for p in f.glob("*.pdf"))


def build_ours(folder: Path) -> str:
    if (folder / "record.sqlite").exists():
        return "kept"
    started = time.perf_counter()
    cmd = [str(PCC), "--index", str(folder), "ingest", str(SAMPLE_PDFS), str(REAL_PDFS)]
    subprocess.run([*cmd, str(SCALE_PDFS)], check=False)
    return f"built in {time.perf_counter() - started:.0f} s"


def tutorial(folder: Path) -> tuple[Any, str]:
    from baseline import Tutorial
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma

    t = Tutorial()
    if (folder / "chroma.sqlite3").exists():
        t.store = Chroma(
            collection_name="tutorial",
            embedding_function=t.embeddings,
            persist_directory=str(folder),
            client_settings=ChromaSettings(anonymized_telemetry=False),
        )
        return t, "kept"
    seconds = t.ingest(corpus_pdfs(), folder)
    return t, f"built in {seconds:.0f} s ({t.chunks:,} chunks)"


def ours_eval(index: Path, path: Path, out: Path) -> dict[str, Any]:
    cmd = [str(PCC), "--index", str(index), "eval", str(path), "--json", str(out)]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL)
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def theirs_eval(t: Any, path: Path) -> dict[str, Any]:
    from pcc_assistant.evaluate import answer_matches, first_hit_rank, hits, load_questions

    qs = load_questions(path).questions
    ranks: list[int | None] = []
    right = []
    for q in qs:
        passages = t.search(q.question)
        if not q.answerable:
            continue
        if q.evidence:
            ranks.append(first_hit_rank(q, passages))
        top = passages[:1]
        right.append(
            bool(top) and answer_matches(q, top[0][1]) and (not q.evidence or hits(q, top))
        )
    return {
        "hit": {
            n: sum(1 for r in ranks if r is not None and r <= n) / len(ranks) for n in (1, 3, 5)
        }
        if ranks
        else {},
        "right": sum(right) / len(right) if right else 0.0,
    }


def startup(index: Path, runs: int = 5) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(
            [str(PCC), "--index", str(index), "ask", STARTUP_QUESTION],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        out.append(time.perf_counter() - t)
    return out


def pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.0%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--ours", type=Path, default=CACHE / "scale-ours")
    parser.add_argument("--theirs", type=Path, default=CACHE / "scale-tutorial")
    parser.add_argument("--no-tutorial", action="store_true", help="ours only")
    parser.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    args = parser.parse_args()

    load_before = load_average()
    print(f"our index {args.ours} ...", file=sys.stderr)
    ours_state = build_ours(args.ours)
    theirs_state = "not run"
    t = None
    if not args.no_tutorial:
        print(f"tutorial index {args.theirs} ...", file=sys.stderr)
        t, theirs_state = tutorial(args.theirs)
    sets = SETS["dev"] + SETS["test"] if args.sets == "all" else SETS[args.sets]
    rows = []
    kinds: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="pcc-bench-scale-") as tmp:
        for name, path in sets:
            print(f"{name} ...", file=sys.stderr)
            ours = ours_eval(args.ours, path, Path(tmp) / f"{name.replace('/', '-')}.json")
            s = ours["summary"]
            theirs = theirs_eval(t, path) if t is not None else None
            rows.append((name, s, theirs))
            kinds[name] = s.get("by_kind", {})
    starts = startup(args.ours)

    lines = [
        machine_line(["chromadb", "onnxruntime", "langchain-chroma", "sentence-transformers"]),
        "",
        f"Command: `.venv/bin/python benchmarks/scale.py --sets {args.sets}"
        + (f" --ours {args.ours}" if args.ours != CACHE / "scale-ours" else "")
        + (f" --theirs {args.theirs}" if args.theirs != CACHE / "scale-tutorial" else "")
        + (" --no-tutorial`" if args.no_tutorial else "`")
        + ". Our index:"
        f" {ours_state}; the tutorial's: {theirs_state}. Corpus: corpus/*.pdf,"
        " ../shared/real-pdfs and ../shared/real-pdfs-scale.",
        "",
        "| set | questions (answerable/not) | ours hit@1 | hit@3 | hit@5 | tutorial hit@1 |"
        " hit@3 | hit@5 | ours right | tutorial right (top chunk) | ours: answerable refused"
        " | ours: unanswerable refused | warm median / p95 ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s, theirs in rows:
        r, a, lat = s["retrieval"], s["answers"], s["latency_ms"]
        th = theirs["hit"] if theirs else {}
        lines.append(
            f"| {name} | {s['questions']} ({s['answerable']}/{s['unanswerable']}) |"
            f" {pct(r['hit@1'])} | {pct(r['hit@3'])} | {pct(r['hit@5'])} |"
            f" {pct(th.get(1))} | {pct(th.get(3))} | {pct(th.get(5))} |"
            f" {pct(a['answerable_correct'])} | {pct(theirs['right'] if theirs else None)} |"
            f" {pct(a['answerable_refused'])} | {pct(a['unanswerable_refused'])} |"
            f" {lat['median']:.0f} / {lat['p95']:.0f} |"
        )
    lines += [
        "",
        "Right answers by kind of question (ours):",
        "",
        "| set | kind | questions | right | hit@5 |",
        "|---|---|---|---|---|",
    ]
    for name, by in kinds.items():
        for kind, k in by.items():
            lines.append(
                f"| {name} | {kind} | {k['questions']} | {pct(k['correct'])} | {pct(k['hit@5'])} |"
            )
    lines += [
        "",
        f"`pcc ask` from process start to printed answer over this index: median"
        f" {statistics.median(starts):.2f} s of {len(starts)} (min {min(starts):.2f},"
        f" max {max(starts):.2f}).",
        "",
        f"Load average (1/5/15 min) before: {load_before}; after: {load_average()}.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        title = "At scale: ~195 real documents (`benchmarks/scale.py`)"
        if args.sets != "dev":
            title += f", {args.sets} sets"
        write_section(title, body)


if __name__ == "__main__":
    main()
